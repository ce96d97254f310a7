//! Messages both ways against a real Synapse: Markdown out, operator messages in once each, own
//! messages filtered, threads in both directions, and transaction ids that make retries
//! idempotent.

mod common;

use common::{World, recv};
use connector_core::{OrchestratorConnector, OutboundMessage, ThreadId};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_goes_out_and_operator_messages_come_in_once() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    let text = "**Build green.** Deploy `v1.2` to *staging*?";
    let receipt = connector.send(OutboundMessage::new(text)).await.unwrap();
    assert!(receipt.confirmed);
    assert_eq!(receipt.thread_id, None);
    let event_id = receipt.message_id().expect("an event id").as_str();
    let seen = world.message(event_id).await;
    assert_eq!(seen["sender"], world.bot.user_id.as_str());
    assert_eq!(
        seen["content"]["body"], text,
        "plain body keeps the Markdown"
    );
    assert_eq!(seen["content"]["format"], "org.matrix.custom.html");
    assert_eq!(
        seen["content"]["formatted_body"],
        "<strong>Build green.</strong> Deploy <code>v1.2</code> to <em>staging</em>?"
    );

    let posted = world.post("yes, deploy").await;
    let message = recv(&mut subscription, "the operator's reply").await;
    assert_eq!(message.text, "yes, deploy");
    assert_eq!(message.sender.as_str(), world.operator.user_id);
    assert_eq!(message.message_id.as_str(), posted);
    assert_eq!(message.thread_id, None);

    // Our own message is not delivered back, and nothing comes twice: the next message is the
    // operator's sentinel.
    connector
        .send(OutboundMessage::new("own words"))
        .await
        .unwrap();
    world.post("sentinel").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    assert!(subscription.try_recv().is_none());
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_both_ways() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    // The operator asks; the bot answers in a thread started from the question.
    let root = world.post("which branch?").await;
    assert_eq!(
        recv(&mut subscription, "the root")
            .await
            .message_id
            .as_str(),
        root
    );
    let receipt = connector
        .send(OutboundMessage::new("`main`, I think").in_thread(root.as_str()))
        .await
        .unwrap();
    assert_eq!(receipt.thread_id, Some(ThreadId::new(root.as_str())));
    let reply = world.message(receipt.message_id().unwrap().as_str()).await;
    let relation = &reply["content"]["m.relates_to"];
    assert_eq!(relation["rel_type"], "m.thread", "{reply}");
    assert_eq!(relation["event_id"], root.as_str());

    // The operator answers in the thread: it arrives with the thread's id.
    let answer = world
        .homeserver
        .send_text(&world.operator, &world.room, "ok, main", Some(&root))
        .await;
    let message = recv(&mut subscription, "the answer in the thread").await;
    assert_eq!(
        (message.text.as_str(), message.thread_id.as_ref()),
        ("ok, main", Some(&ThreadId::new(root.as_str())))
    );

    // "Reply in the thread of the operator's answer" posts into the same thread (Matrix has
    // no threads of thread replies).
    let receipt = connector
        .send(OutboundMessage::new("merging").in_thread(answer.as_str()))
        .await
        .unwrap();
    assert_eq!(receipt.thread_id, Some(ThreadId::new(root.as_str())));
    let merged = world.message(receipt.message_id().unwrap().as_str()).await;
    assert_eq!(merged["content"]["m.relates_to"]["event_id"], root.as_str());

    // The bot can start a thread from its own message.
    let own = connector
        .send(OutboundMessage::new("status report"))
        .await
        .unwrap();
    let own_id = own.message_id().unwrap().as_str().to_owned();
    let detail = connector
        .send(OutboundMessage::new("details").in_thread(own_id.as_str()))
        .await
        .unwrap();
    assert_eq!(detail.thread_id, Some(ThreadId::new(own_id.as_str())));
    let detail = world.message(detail.message_id().unwrap().as_str()).await;
    assert_eq!(detail["content"]["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(
        detail["content"]["m.relates_to"]["event_id"],
        own_id.as_str()
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_the_same_message_twice_posts_it_once() {
    let world = World::start().await;
    let connector = world.open().await;

    let message = OutboundMessage::new("deploy started");
    let first = connector.send(message.clone()).await.unwrap();
    let again = connector.send(message).await.unwrap();
    assert_eq!(
        first.message_ids, again.message_ids,
        "the same event both times"
    );

    // A long message: every part keeps its own transaction id across the retry.
    let long: String = (0..3000)
        .map(|i| format!("line {i:04} of a long log\n"))
        .collect();
    let long = OutboundMessage::new(long);
    let first_long = connector.send(long.clone()).await.unwrap();
    assert!(first_long.message_ids.len() >= 3, "{first_long:?}");
    let again_long = connector.send(long).await.unwrap();
    assert_eq!(first_long.message_ids, again_long.message_ids);

    let bodies: Vec<String> = world
        .messages(50)
        .await
        .iter()
        .map(|m| m["content"]["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        bodies.iter().filter(|b| *b == "deploy started").count(),
        1,
        "{bodies:?}"
    );
    assert_eq!(
        bodies
            .iter()
            .filter(|b| b.starts_with("line 0000 "))
            .count(),
        1,
        "the first part once"
    );
    assert_eq!(bodies.len(), 1 + first_long.message_ids.len());
    connector.close().await.unwrap();
}
