//! Outbound on the emulator: hostile text stays text, long text is split where Slack never
//! truncates, threads by `thread_ts`, and no message is posted twice or lost — not on a lost
//! `chat.postMessage` answer, not in a 429 storm.

mod common;

use common::World;
use connector_core::OutboundMessage;
use slack_emulator::Failure;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_mentions_nobody_and_links_nowhere() {
    let world = World::start();
    let connector = world.open().await;
    let hostile = "Note: <!channel> <!here> <@U0123ABCD> <https://evil.example|click> & **bold**\n\n\
                   <!everyone> starts a line **as is**";
    connector
        .send(OutboundMessage::new(hostile))
        .await
        .expect("send");
    let posted = world.bot_messages();
    assert_eq!(posted.len(), 1);
    assert_eq!(
        posted[0].text,
        "Note: &lt;!channel&gt; &lt;!here&gt; &lt;@U0123ABCD&gt; \
         <https://evil.example%7Cclick|https://evil.example|click> &amp; *bold*\n\n\
         &lt;!everyone&gt; starts a line **as is**"
    );
    // The autolink stays a link to where it says (its `|` encoded so it cannot rename it); the
    // mentions are text. Slack's own parsing is off: no `@channel` becomes a mention either.
    let call = world
        .emulator
        .api_calls()
        .into_iter()
        .rfind(|c| c.method == "chat.postMessage")
        .expect("the post");
    assert_eq!(call.status, 200);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_never_posts_twice() {
    let world = World::start();
    let connector = world.open().await;
    world.emulator.faults().lose_response("chat.postMessage", 1);
    let receipt = connector
        .send(OutboundMessage::new("deploy finished"))
        .await
        .expect("the send succeeds: the lookup finds the message");
    let posted = world.bot_messages();
    assert_eq!(
        posted
            .iter()
            .filter(|m| m.text == "deploy finished")
            .count(),
        1,
        "exactly one message: {posted:?}"
    );
    assert_eq!(receipt.message_ids[0].as_str(), posted[0].ts);
    let lost = world
        .emulator
        .api_calls()
        .into_iter()
        .filter(|c| c.method == "chat.postMessage")
        .filter(|c| c.lost)
        .count();
    assert_eq!(lost, 1, "the fault was armed and taken");

    // In a thread too: the lookup reads the thread's replies.
    let root = world.post("a root", None);
    world.emulator.faults().lose_response("chat.postMessage", 1);
    connector
        .send(OutboundMessage::new("in the thread").in_thread(root.as_str()))
        .await
        .expect("send in thread");
    let replies = world.emulator.replies(&world.channel(), &root);
    assert_eq!(
        replies.iter().filter(|m| m.text == "in the thread").count(),
        1
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_delivers_every_message_once_in_order() {
    let world = World::start();
    let connector = world.open().await;
    world.emulator.faults().fail_next(
        "chat.postMessage",
        4,
        Failure::RateLimited { retry_after: 1 },
    );
    let started = std::time::Instant::now();
    let texts: Vec<String> = (0..5).map(|i| format!("update {i}")).collect();
    for text in &texts {
        connector
            .send(OutboundMessage::new(text))
            .await
            .expect("send through the storm");
    }
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "each 429's Retry-After was waited out"
    );
    let posted: Vec<String> = world.bot_messages().into_iter().map(|m| m.text).collect();
    assert_eq!(posted, texts);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_text_is_split_under_the_limit_and_threads_by_ts() {
    let world = World::start();
    let connector = world.open().await;
    let line = "& < > this line is escaped, so it grows on the way\n";
    let text = line.repeat(300);
    let root = world.post("start here", None);
    let receipt = connector
        .send(OutboundMessage::new(&text).in_thread(root.as_str()))
        .await
        .expect("send");
    let replies = world.emulator.replies(&world.channel(), &root);
    assert!(replies.len() >= 4, "{} parts", replies.len());
    assert_eq!(receipt.message_ids.len(), replies.len());
    for reply in &replies {
        assert!(reply.text.chars().count() < 40_000);
        assert!(!reply.text.contains('<'));
    }
    let joined: String = replies
        .iter()
        .map(|m| {
            m.text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(joined.lines().count(), 300);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_the_same_message_again_posts_nothing_twice_even_after_a_restart() {
    let world = World::start();
    let connector = world.open().await;
    let message = OutboundMessage::new("release notes ready");
    let first = connector.send(message.clone()).await.unwrap();
    let again = connector.send(message.clone()).await.unwrap();
    assert_eq!(first.message_ids, again.message_ids);
    connector.close().await.unwrap();
    let connector = world.open().await;
    let after_restart = connector.send(message).await.unwrap();
    assert_eq!(first.message_ids, after_restart.message_ids);
    assert_eq!(world.bot_messages().len(), 1);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverifiable_lost_answer_is_maybe_delivered_and_a_resend_checks_first() {
    let world = World::start();
    let connector = world.open().await;
    // The start's own reads (the first position, the backfill after hello) done first.
    common::eventually("the start's history reads", || {
        let reads = world
            .emulator
            .api_calls()
            .iter()
            .filter(|c| c.method == "conversations.history")
            .count();
        (reads >= 2).then_some(())
    })
    .await;
    world.emulator.faults().lose_response("chat.postMessage", 1);
    // The read-back fails too, every attempt.
    world
        .emulator
        .faults()
        .fail_next("conversations.history", 6, Failure::Status(503));
    let message = OutboundMessage::new("migration started");
    let outcome = connector.send(message.clone()).await;
    assert!(
        matches!(outcome, Err(connector_core::Error::MaybeDelivered { .. })),
        "{outcome:?}"
    );
    assert_eq!(world.bot_messages().len(), 1, "it was posted");
    // Sent again with the same key: found in the channel, not posted again.
    let receipt = connector.send(message).await.expect("the resend");
    let posted = world.bot_messages();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(receipt.message_ids[0].as_str(), posted[0].ts);
    connector.close().await.unwrap();
}
