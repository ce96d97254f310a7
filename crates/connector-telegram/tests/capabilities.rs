//! The optional capabilities, as declared: reactions, edits, typing, files out (documents in
//! the message's thread); history is `Unsupported` (the Bot API cannot read past messages).

mod common;

use common::{ChatShape, World, next};
use connector_core::{Attachment, Capability, Error, HistoryQuery, MessageId, OutboundMessage};
use telegram_emulator::Media;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_are_declared_honestly_and_history_is_unsupported() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let capabilities = connector.capabilities();
    for capability in [
        Capability::Threads,
        Capability::Markdown,
        Capability::Reactions,
        Capability::Edits,
        Capability::Typing,
        Capability::Attachments,
        Capability::Questions,
    ] {
        assert!(capabilities.supports(capability), "{capability:?}");
    }
    assert!(!capabilities.supports(Capability::History));
    assert_eq!(capabilities.max_message_len(), Some(4096));
    let history = connector.history(HistoryQuery::latest(10)).await;
    assert!(
        matches!(
            history,
            Err(Error::Unsupported {
                capability: Capability::History,
                ..
            })
        ),
        "{history:?}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_edit_and_typing_reach_telegram() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let root = world.post("deploy?");
    let received = next(&mut inbox, "the operator's message").await;
    connector
        .react(&received.message_id, None, "👍")
        .await
        .expect("react");
    assert_eq!(
        world
            .emulator
            .message(world.chat, root)
            .unwrap()
            .bot_reaction,
        ["👍"]
    );

    let receipt = connector
        .send(OutboundMessage::new("deploying…").in_thread(received.message_id.as_str()))
        .await
        .expect("send into a new topic");
    let topic: i64 = receipt
        .thread_id
        .as_ref()
        .unwrap()
        .as_str()
        .parse()
        .unwrap();
    assert!(world.emulator.topics(world.chat).contains_key(&topic));
    let sent = &receipt.message_ids[0];
    connector
        .edit(sent, receipt.thread_id.as_ref(), "**deployed**")
        .await
        .expect("edit");
    connector
        .edit(sent, receipt.thread_id.as_ref(), "**deployed**")
        .await
        .expect("an edit to the same text is not an error");
    let id: i64 = sent.as_str().parse().unwrap();
    let edited = world.emulator.message(world.chat, id).unwrap();
    assert_eq!(edited.content.text.as_deref(), Some("deployed"));
    assert_eq!(edited.content.entities[0]["type"], "bold");
    assert_eq!(edited.history.len(), 1);

    connector
        .typing(receipt.thread_id.as_ref())
        .await
        .expect("typing");
    assert_eq!(
        world.emulator.chat_actions(world.chat),
        [(Some(topic), "typing".to_owned())],
        "typing shows in the topic"
    );
    let wrong = connector
        .react(&MessageId::new("not a number"), None, "👍")
        .await;
    assert!(
        matches!(wrong, Err(Error::InvalidInput { .. })),
        "{wrong:?}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_out_as_documents_in_the_messages_thread() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post("send me the log");
    let root = next(&mut inbox, "the request").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build.log");
    std::fs::write(&path, "ok\n").unwrap();
    let receipt = connector
        .send(
            OutboundMessage::new("here it is")
                .in_thread(root.message_id.as_str())
                .attach(Attachment::Path(path))
                .attach(Attachment::Url("https://ci.example/1".into())),
        )
        .await
        .expect("send with files");
    assert_eq!(receipt.message_ids.len(), 2, "the text, then the file");
    let messages = world.bot_messages();
    assert_eq!(
        messages[0].content.text.as_deref(),
        Some("here it is\nhttps://ci.example/1")
    );
    assert!(matches!(messages[1].media, Media::Document(_)));
    let root_id: i64 = root.message_id.as_str().parse().unwrap();
    assert!(
        messages.iter().all(|m| m.reply_to == Some(root_id)),
        "both in the thread (replies to its first message)"
    );
    let missing = connector
        .send(OutboundMessage::new("x").attach(Attachment::Path("/no/such/file".into())))
        .await;
    assert!(
        matches!(missing, Err(Error::InvalidInput { .. })),
        "{missing:?}"
    );
    assert_eq!(
        world.bot_messages().len(),
        2,
        "nothing posted for a bad file"
    );

    // An image goes as a photo; a file named like one that is not goes as a document.
    let png = dir.path().join("chart.png");
    std::fs::write(&png, PNG_1X1).unwrap();
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, "not an image").unwrap();
    connector
        .send(
            OutboundMessage::new("")
                .attach(Attachment::Path(png))
                .attach(Attachment::Path(fake)),
        )
        .await
        .expect("send images");
    let messages = world.bot_messages();
    assert!(
        matches!(messages[2].media, Media::Photo(_, 1, 1)),
        "{:?}",
        messages[2].media
    );
    assert!(matches!(messages[3].media, Media::Document(_)));
    connector.close().await.unwrap();
}

/// A 1×1 PNG.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];
