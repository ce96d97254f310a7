//! What the poller delivers and what it does not: edits, service messages, strangers (counted,
//! and answered with a pairing code when pairing is on), files with a download URL, reactions
//! on the bot's messages.

mod common;

use common::{ChatShape, World, eventually, next};
use connector_core::OutboundMessage;
use telegram_emulator::Post;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_service_messages_are_not_delivered() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let first = world.post("first words");
    assert_eq!(next(&mut inbox, "the message").await.text, "first words");
    world
        .emulator
        .edit_as(&world.operator, world.chat, first, "second thoughts")
        .unwrap();
    let topic = world
        .emulator
        .create_topic_as(&world.operator, world.chat, "incident")
        .unwrap();
    world.post_with(Post::text("in the new topic").in_topic(topic));
    let message = next(&mut inbox, "the message in the topic").await;
    assert_eq!(
        message.text, "in the new topic",
        "neither the edit nor the topic's service message was delivered"
    );
    assert_eq!(
        message.thread_id.map(|t| t.as_str().to_owned()),
        Some(topic.to_string())
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_gets_a_pairing_code_when_pairing_is_on() {
    let world = World::start(ChatShape::Private);
    let config = world.config_with("  pairing:\n    enabled: true\n");
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let stranger_chat = world.emulator.private_chat(&world.stranger);
    world
        .emulator
        .post_as(&world.stranger, stranger_chat, "hello bot")
        .unwrap();
    let bot = world.emulator.bot_id();
    let code = eventually("the pairing code reply", || {
        world
            .emulator
            .messages(stranger_chat)
            .into_iter()
            .find(|m| m.from == bot)
            .and_then(|m| m.content.text)
    })
    .await;
    assert!(code.contains("connector pair approve"), "{code}");
    world.post("sentinel");
    assert_eq!(
        next(&mut inbox, "the sentinel").await.text,
        "sentinel",
        "the stranger's message is not delivered"
    );
    assert_eq!(connector.health().await.rejected_senders, 1);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_arrives_with_a_download_url() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post_with(Post::text("the log").document("build.log", b"line 1\n".to_vec()));
    let message = next(&mut inbox, "the document").await;
    assert_eq!(message.text, "the log");
    let file = &message.attachments[0];
    assert_eq!(file.filename.as_deref(), Some("build.log"));
    assert_eq!(file.size, Some(7));
    let body = reqwest::get(&file.url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"line 1\n");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_on_the_bots_messages_arrive_as_reaction_events() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let receipt = connector
        .send(OutboundMessage::new("PR #12 merged"))
        .await
        .unwrap();
    let id: i64 = receipt.message_ids[0].as_str().parse().unwrap();
    world
        .emulator
        .react_as(&world.operator, world.chat, id, "👍")
        .unwrap();
    let reaction = next(&mut inbox, "the reaction").await;
    let carried = reaction.reaction.expect("a reaction event");
    assert_eq!(
        (
            carried.message_id.as_str(),
            carried.emoji.as_str(),
            carried.removed
        ),
        (receipt.message_ids[0].as_str(), "👍", false)
    );
    world
        .emulator
        .react_as(&world.operator, world.chat, id, "")
        .unwrap();
    let removed = next(&mut inbox, "the reaction taken back").await;
    assert!(removed.reaction.expect("a reaction event").removed);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_on_a_message_sent_before_a_restart_still_arrives() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let receipt = connector
        .send(OutboundMessage::new("before the restart"))
        .await
        .unwrap();
    connector.close().await.unwrap();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let id: i64 = receipt.message_ids[0].as_str().parse().unwrap();
    world
        .emulator
        .react_as(&world.operator, world.chat, id, "🎉")
        .unwrap();
    let reaction = next(&mut inbox, "the reaction").await.reaction.unwrap();
    assert_eq!(reaction.message_id, receipt.message_ids[0]);
    connector.close().await.unwrap();
}
