//! Messages both ways against the Discord emulator: sends, operator posts, own messages,
//! threads, long text and nonce idempotency.

mod common;

use common::{World, eventually, next};
use connector_core::{IdempotencyKey, OutboundMessage, ThreadId};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_receive() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    let receipt = connector
        .send(OutboundMessage::new("Tests pass. Merge?"))
        .await
        .expect("send");
    assert_eq!(receipt.thread_id, None);
    let sent = world.bot_messages(world.channel());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].content, "Tests pass. Merge?");
    assert_eq!(receipt.message_ids[0].as_str(), sent[0].id.to_string());

    world
        .emulator
        .post_as(&world.stranger, world.channel(), "I am not the operator")
        .unwrap();
    let posted = world.post(world.channel(), "yes, merge");
    let reply = next(&mut inbox, "the operator's reply").await;
    assert_eq!(reply.text, "yes, merge");
    assert_eq!(reply.message_id.as_str(), posted.id.to_string());
    assert_eq!(reply.sender.as_str(), world.operator.id.to_string());
    assert_eq!(reply.thread_id, None);

    // Our own message and the stranger's never came; the next one is the next post.
    world.post(world.channel(), "sentinel");
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    assert!(inbox.try_recv().is_none());
    let health = connector.health().await;
    assert!(health.is_healthy(), "{health:?}");
    assert_eq!(health.rejected_senders, 1);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_both_ways() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    // A reply to an operator's message starts a thread from it, named after its text.
    let root = world.post(world.channel(), "Deploy to staging?\nDetails follow");
    next(&mut inbox, "the root").await;
    let receipt = connector
        .send(OutboundMessage::new("Deploying now").in_thread(root.id.to_string()))
        .await
        .expect("send into a new thread");
    let thread = receipt.thread_id.clone().expect("a thread");
    assert_eq!(
        thread.as_str(),
        root.id.to_string(),
        "a thread from a message has its id"
    );
    let info = world.emulator.thread(root.id).expect("the thread exists");
    assert_eq!(info.name, "Deploy to staging?");
    assert_eq!(world.bot_messages(root.id)[0].content, "Deploying now");

    // Later sends reuse it; the operator's answer in it comes back with its id.
    let again = connector
        .send(OutboundMessage::new("Done").in_thread(thread.clone()))
        .await
        .expect("send into the thread");
    assert_eq!(again.thread_id.as_ref(), Some(&thread));
    world.post(root.id, "thanks");
    let answer = next(&mut inbox, "the answer in the thread").await;
    assert_eq!(answer.text, "thanks");
    assert_eq!(answer.thread_id.as_ref(), Some(&thread));

    // A thread the operator starts is joined, and its messages arrive.
    let other = world.post(world.channel(), "another question");
    next(&mut inbox, "the other root").await;
    world.start_thread_as_operator(other.id, "side topic").await;
    eventually("the bot joins the operator's thread", || {
        world
            .emulator
            .thread(other.id)
            .filter(|t| t.members.contains(&world.emulator.bot_user_id()))
    })
    .await;
    world.post(other.id, "in the operator's thread");
    let message = next(&mut inbox, "the message in the operator's thread").await;
    assert_eq!(message.text, "in the operator's thread");
    assert_eq!(message.thread_id, Some(ThreadId::new(other.id.to_string())));
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_text_is_chunked_in_order() {
    let world = World::start();
    let connector = world.open().await;
    let lines: Vec<String> = (0..400)
        .map(|i| format!("line {i:04} of the report"))
        .collect();
    let text = lines.join("\n");
    let receipt = connector
        .send(OutboundMessage::new(&text))
        .await
        .expect("send");
    let sent = world.bot_messages(world.channel());
    assert!(sent.len() >= 5, "{} parts", sent.len());
    assert_eq!(receipt.message_ids.len(), sent.len());
    for part in &sent {
        assert!(part.content.chars().count() <= 2000);
    }
    let joined: Vec<String> = sent
        .iter()
        .flat_map(|m| {
            m.content
                .lines()
                .map(str::trim)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(joined, lines);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_message_twice_is_posted_once() {
    let world = World::start();
    let connector = world.open().await;
    let message = OutboundMessage::new("only once, please")
        .with_idempotency_key(IdempotencyKey::parse("retry-key-1").unwrap());
    let first = connector.send(message.clone()).await.expect("send");
    let second = connector.send(message).await.expect("send again");
    assert_eq!(first.message_ids, second.message_ids);
    assert_eq!(world.bot_messages(world.channel()).len(), 1);
    connector.close().await.unwrap();
}

/// Text the orchestrator sends (often someone else's words) pings nobody: a `<@id>` shows as
/// written but the emulator, which resolves mentions as `allowed_mentions` lets it, records
/// none — on a send and on an edit alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_in_sent_or_edited_text_ping_nobody() {
    let world = World::start();
    let connector = world.open().await;
    let text = format!("<@{}> @everyone the deploy failed", world.operator.id);
    let receipt = connector
        .send(OutboundMessage::new(text.as_str()))
        .await
        .expect("send");
    let sent = &world.bot_messages(world.channel())[0];
    assert_eq!(sent.content, text);
    assert!(sent.mentions.is_empty(), "pinged: {:?}", sent.mentions);

    let edited = format!("<@{}> fixed", world.operator.id);
    connector
        .edit(&receipt.message_ids[0], None, &edited)
        .await
        .expect("edit");
    let shown = &world.bot_messages(world.channel())[0];
    assert_eq!(shown.content, edited);
    assert!(shown.mentions.is_empty(), "pinged: {:?}", shown.mentions);
}
