//! Inbound over Socket Mode under faults: dropped sockets, missed acks, `disconnect` frames,
//! and the pairs and edits Slack sends that must not become doubles.

mod common;

use common::{World, next};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_sockets_lose_nothing_and_double_nothing() {
    let world = std::sync::Arc::new(World::start());
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let poster = {
        let world = std::sync::Arc::clone(&world);
        std::thread::spawn(move || {
            for i in 0..200 {
                world.post(&format!("message {i:03}"), None);
                if i % 50 == 25 {
                    world.emulator.faults().drop_sockets();
                }
            }
        })
    };
    let mut texts = Vec::new();
    while texts.len() < 200 {
        texts.push(next(&mut subscription, "the next message").await.text);
    }
    poster.join().unwrap();
    let expected: Vec<String> = (0..200).map(|i| format!("message {i:03}")).collect();
    assert_eq!(texts, expected, "all 200, once, in order");
    assert!(
        world
            .emulator
            .socket_frames()
            .iter()
            .filter(|f| f["type"] == "hello")
            .count()
            >= 2,
        "the socket was dropped and reopened"
    );
    // Nothing more: the sentinel is next.
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_envelope_is_delivered_once() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    world.emulator.faults().ignore_acks(1);
    world.post("only once", None);
    assert_eq!(
        next(&mut subscription, "the message").await.text,
        "only once"
    );
    // Wait for the redelivery (retry_attempt 1) and its ack.
    common::eventually("the redelivery", || {
        world
            .emulator
            .socket_frames()
            .iter()
            .any(|f| f["retry_attempt"] == 1 && f["retry_reason"] == "timeout")
            .then_some(())
    })
    .await;
    common::eventually("the redelivery acked", || {
        (world.emulator.unacked() == 0).then_some(())
    })
    .await;
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_frames_reconnect_without_a_gap() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    world.post("before", None);
    assert_eq!(next(&mut subscription, "before").await.text, "before");
    world.emulator.faults().disconnect_warning();
    world.emulator.faults().disconnect_refresh_requested();
    world.post("during", None);
    world.emulator.faults().disconnect_link_disabled();
    world.post("after", None);
    assert_eq!(next(&mut subscription, "during").await.text, "during");
    assert_eq!(next(&mut subscription, "after").await.text, "after");
    common::eventually("a socket again", || {
        (world.emulator.socket_connections() == 1).then_some(())
    })
    .await;
    assert!(connector.health().await.is_healthy());
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_edits_deletions_threads_and_files() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    // A mention comes as `message` and `app_mention`: one delivery.
    let mention = format!("<@{}> look at this", world.emulator.bot_user_id());
    let ts = world.post(&mention, None);
    let got = next(&mut subscription, "the mention").await;
    assert_eq!(got.text, mention);
    assert_eq!(got.message_id.as_str(), ts);
    // An edit and a deletion are not new messages.
    world
        .emulator
        .edit_as(&world.operator, &world.channel(), &ts, "edited")
        .unwrap();
    world
        .emulator
        .delete_as(&world.operator, &world.channel(), &ts)
        .unwrap();
    // A thread reply carries its thread.
    let reply = world.post("in the thread", Some(&ts));
    let got = next(&mut subscription, "the reply").await;
    assert_eq!(got.text, "in the thread");
    assert_eq!(got.message_id.as_str(), reply);
    assert_eq!(got.thread_id.unwrap().as_str(), ts);
    // Hostile-looking text from the operator arrives as they wrote it.
    world.post("a < b && c > d", None);
    assert_eq!(
        next(&mut subscription, "escaped").await.text,
        "a < b && c > d"
    );
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_on_our_messages_arrive_and_strangers_get_pairing_codes() {
    let world = World::start();
    let config = world.config_with("  pairing:\n    enabled: true\n");
    let connector = world.open_with(&config).await;
    let mut subscription = connector.subscribe().await.unwrap();
    let receipt = connector
        .send(connector_core::OutboundMessage::new("react to me"))
        .await
        .unwrap();
    let ours = receipt.message_ids[0].as_str().to_owned();
    world
        .emulator
        .react_as(&world.operator, &world.channel(), &ours, "eyes")
        .unwrap();
    let got = next(&mut subscription, "the reaction").await;
    let reaction = got.reaction.expect("a reaction event");
    assert_eq!(reaction.emoji, "eyes");
    assert_eq!(reaction.message_id.as_str(), ours);
    world
        .emulator
        .unreact_as(&world.operator, &world.channel(), &ours, "eyes")
        .unwrap();
    let got = next(&mut subscription, "the removal").await;
    assert!(got.reaction.expect("a reaction event").removed);

    // A stranger is not delivered; they are answered in a thread with a pairing code.
    let asked = world
        .emulator
        .post_as(&world.stranger, &world.channel(), "let me in", None)
        .unwrap();
    let code = common::eventually("the pairing code", || {
        world
            .emulator
            .replies(&world.channel(), &asked)
            .into_iter()
            .find(|m| m.user == world.emulator.bot_user_id())
    })
    .await;
    assert!(
        code.text.contains("connector pair approve"),
        "{}",
        code.text
    );
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    assert_eq!(connector.health().await.rejected_senders, 1);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_is_acked_only_once_its_message_was_handed_over() {
    let world = World::start();
    let connector = world.open().await;
    // Nobody subscribed: the message waits, unacked, and Slack redelivers it.
    world.post("early", None);
    common::eventually("a redelivery of the unacked envelope", || {
        world
            .emulator
            .socket_frames()
            .iter()
            .any(|f| f["retry_attempt"] == 1 && f["payload"]["event"]["text"] == "early")
            .then_some(())
    })
    .await;
    assert!(world.emulator.unacked() > 0);
    let mut subscription = connector.subscribe().await.unwrap();
    assert_eq!(
        next(&mut subscription, "the early message").await.text,
        "early"
    );
    common::eventually("acked once handed over", || {
        (world.emulator.unacked() == 0).then_some(())
    })
    .await;
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}
