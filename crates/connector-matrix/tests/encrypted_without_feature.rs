//! A build without `e2e-encryption` never posts in the clear into an encrypted room, against a
//! real Synapse: a room encrypted before `open`, and one encrypted while the connector runs,
//! both make sends fail with the feature to enable, and nothing (no text, no file) is posted.

#![cfg(not(feature = "e2e-encryption"))]

mod common;

use common::{World, recv};
use connector_core::{Attachment, Error, MessageId, OrchestratorConnector, OutboundMessage};

/// Sends refused, naming the feature; nothing of the bot's in the room.
async fn assert_refused(world: &World, connector: &impl OrchestratorConnector, file: &Attachment) {
    let before = world.messages(100).await.len();
    for message in [
        OutboundMessage::new("deploying now"),
        OutboundMessage::new("").attach(file.clone()),
    ] {
        let error = connector.send(message).await.unwrap_err();
        assert!(matches!(error, Error::Rejected { .. }), "{error:?}");
        assert!(error.to_string().contains("e2e-encryption"), "{error}");
    }
    assert_eq!(
        world.messages(100).await.len(),
        before,
        "nothing was posted"
    );
    let question = world.post("ok?").await;
    let error = connector
        .react(&MessageId::new(question.as_str()), None, "👍")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("e2e-encryption"), "{error}");
    let events = world
        .homeserver
        .events(&world.operator, &world.room, 100)
        .await;
    let encrypted_from = events
        .iter()
        .position(|e| e["type"] == "m.room.encryption")
        .expect("the encryption event");
    let posted: Vec<_> = events[encrypted_from..]
        .iter()
        .filter(|e| e["sender"] == world.bot.user_id.as_str())
        .collect();
    assert!(
        posted.is_empty(),
        "the bot posted into the encrypted room: {posted:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_room_gets_nothing_in_the_clear() {
    let world = World::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "secret\n").unwrap();
    let file = Attachment::Path(path);

    // Encrypted while the connector runs: once the sync loop has seen the change (the
    // operator's next message arrived after it), sends are refused.
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    connector
        .send(OutboundMessage::new("before encryption"))
        .await
        .expect("a plain room takes plain messages");
    world.enable_encryption().await;
    world.post("after encryption").await;
    assert_eq!(
        recv(&mut subscription, "the message after the change")
            .await
            .text,
        "after encryption"
    );
    assert_refused(&world, &connector, &file).await;
    connector.close().await.unwrap();
    drop(connector);

    // Encrypted before open: refused from the start.
    let connector = world.open().await;
    assert_refused(&world, &connector, &file).await;
    connector.close().await.unwrap();
}
