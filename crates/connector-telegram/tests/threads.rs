//! Threads beyond the conformance kit's round trip: in a forum, a message of a topic names its
//! topic, a topic is started once per message (across restarts, and for a message the
//! connector never saw), and nothing meant for a thread lands in General; in a private chat,
//! replies to replies stay in the chain's thread.

mod common;

use common::{ChatShape, World, next};
use connector_core::OutboundMessage;
use telegram_emulator::Post;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_forum_threads_are_topics_started_once_and_never_general() {
    let world = World::start(ChatShape::Forum);
    world.post("posted before the first start");
    let unseen = world
        .emulator
        .messages(world.chat)
        .last()
        .unwrap()
        .message_id;
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    // A message the connector never saw: a topic is started for it.
    let receipt = connector
        .send(OutboundMessage::new("into the unseen one").in_thread(unseen.to_string()))
        .await
        .expect("send");
    let first_topic: i64 = receipt.thread_id.unwrap().as_str().parse().unwrap();
    assert!(world.emulator.topics(world.chat).contains_key(&first_topic));

    // A message of an existing topic names that topic.
    let topic = world
        .emulator
        .create_topic_as(&world.operator, world.chat, "incident")
        .unwrap();
    world.post_with(Post::text("in the incident topic").in_topic(topic));
    let inside = next(&mut inbox, "the message in the topic").await;
    let receipt = connector
        .send(OutboundMessage::new("answer in the topic").in_thread(inside.message_id.as_str()))
        .await
        .expect("send");
    assert_eq!(
        receipt.thread_id.map(|t| t.as_str().to_owned()),
        Some(topic.to_string())
    );

    // A message of General: one topic, kept across a restart.
    world.post("root in General");
    let root = next(&mut inbox, "the root").await;
    let started = connector
        .send(OutboundMessage::new("first reply").in_thread(root.message_id.as_str()))
        .await
        .expect("send")
        .thread_id
        .unwrap();
    connector.close().await.unwrap();
    let connector = world.open().await;
    let again = connector
        .send(OutboundMessage::new("after the restart").in_thread(root.message_id.as_str()))
        .await
        .expect("send")
        .thread_id
        .unwrap();
    assert_eq!(again, started, "the same topic after a restart");
    assert_eq!(
        world.emulator.topics(world.chat).len(),
        3,
        "one topic each: {:?}",
        world.emulator.topics(world.chat)
    );
    assert!(
        world.bot_messages().iter().all(|m| m.thread_id.is_some()),
        "nothing meant for a thread landed in General"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_private_chat_replies_to_replies_stay_in_the_thread() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let root = world.post("the build broke");
    next(&mut inbox, "the root").await;
    let receipt = connector
        .send(OutboundMessage::new("looking").in_thread(root.to_string()))
        .await
        .expect("send");
    let reply: i64 = receipt.message_ids[0].as_str().parse().unwrap();
    world.post_with(Post::text("thanks").reply_to(reply));
    let message = next(&mut inbox, "the answer to the bot's reply").await;
    assert_eq!(
        message.thread_id.map(|t| t.as_str().to_owned()),
        Some(root.to_string()),
        "the thread is named by the chain's first message"
    );
    connector.close().await.unwrap();
}
