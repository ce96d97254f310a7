//! End-to-end encryption (feature `e2e-encryption`) against a real Synapse: in a room with
//! `m.room.encryption`, the operator — a second matrix-sdk client that encrypts, with its own
//! SQLite store — and the connector read each other's messages, and what either sends is
//! `m.room.encrypted` on the homeserver; files the connector sends are uploaded encrypted, and
//! files the operator sends reach the subscriber decrypted, as private `file://` files in the
//! state directory (or, when a file cannot be decrypted, as the message with the problem
//! stated).

#![cfg(feature = "e2e-encryption")]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{PATIENCE, World, recv};
use connector_core::{Attachment, OrchestratorConnector, OutboundMessage};
use matrix_sdk::Client;
use matrix_sdk::Room;
use matrix_sdk::attachment::AttachmentConfig;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::room::message::{
    FileMessageEventContent, MessageType, RoomMessageEventContent,
};
use matrix_sdk::ruma::events::room::{EncryptedFile, MediaSource};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_and_the_connector_read_each_others_encrypted_messages() {
    let world = World::start().await;
    world.enable_encryption().await;

    // Opening syncs once, which uploads the bot device's keys.
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    // The operator: logs in with a password (a new device), syncs once to learn the room and
    // upload its own keys.
    let (operator, room, _store) = world
        .encrypting_operator(&world.homeserver.base_url(), "operator (encrypted test)")
        .await;
    assert!(
        room.latest_encryption_state().await.unwrap().is_encrypted(),
        "the room is encrypted"
    );

    // (1) The operator's encrypted message reaches the connector's subscriber as text.
    let question = "deploy v1.2 to staging?";
    let sent = room
        .send(RoomMessageEventContent::text_plain(question))
        .await
        .expect("the operator sends an encrypted message");
    assert!(
        sent.encryption_info.is_some(),
        "matrix-sdk encrypted the operator's message"
    );
    let posted = sent.response.event_id.to_string();
    assert_encrypted_on_the_server(&world, &posted, question).await;
    let message = recv(&mut subscription, "the operator's encrypted message").await;
    assert_eq!(message.text, question);
    assert_eq!(message.message_id.as_str(), posted);
    assert_eq!(message.sender.as_str(), world.operator.user_id);

    // (2) The connector's reply is encrypted, and the operator's client decrypts it.
    let reply = "**yes**, deploying `v1.2`";
    let receipt = connector.send(OutboundMessage::new(reply)).await.unwrap();
    let reply_id = receipt
        .message_id()
        .expect("an event id")
        .as_str()
        .to_owned();
    assert_encrypted_on_the_server(&world, &reply_id, "deploying").await;
    let decrypted = decrypted_by(&operator, &room, &reply_id).await;
    assert_eq!(decrypted["type"], "m.room.message", "{decrypted}");
    assert_eq!(decrypted["sender"], world.bot.user_id.as_str());
    assert_eq!(decrypted["content"]["body"], reply);
    assert_eq!(
        decrypted["content"]["formatted_body"],
        "<strong>yes</strong>, deploying <code>v1.2</code>"
    );

    // (3) A file is encrypted before it is uploaded: the event is encrypted, carries the
    // file's key (`file`, no plain `url`), the media repository holds ciphertext, and the
    // operator's client decrypts the bytes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.txt");
    let plaintext = b"the staging password is hunter2\n";
    std::fs::write(&path, plaintext).unwrap();
    let receipt = connector
        .send(OutboundMessage::new("").attach(Attachment::Path(path)))
        .await
        .unwrap();
    let file_id = receipt.message_id().unwrap().as_str().to_owned();
    assert_encrypted_on_the_server(&world, &file_id, "secrets.txt").await;
    let decrypted = decrypted_by(&operator, &room, &file_id).await;
    let content = &decrypted["content"];
    assert_eq!(content["msgtype"], "m.file", "{decrypted}");
    assert_eq!(content["body"], "secrets.txt");
    assert!(content.get("url").is_none(), "no plain URL: {decrypted}");
    let file: EncryptedFile =
        serde_json::from_value(content["file"].clone()).expect("an encrypted file");
    let stored = world
        .homeserver
        .request(
            Some(&world.operator),
            "GET",
            &format!(
                "/_matrix/client/v1/media/download/{}",
                file.url.as_str().strip_prefix("mxc://").unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(stored.0, 200);
    assert!(
        !stored.1.to_string().contains("hunter2"),
        "the media repository holds the file in the clear"
    );
    let bytes = operator
        .media()
        .get_media_content(
            &MediaRequestParameters {
                source: MediaSource::Encrypted(Box::new(file)),
                format: MediaFormat::File,
            },
            false,
        )
        .await
        .expect("the operator downloads and decrypts the file");
    assert_eq!(bytes, plaintext);

    // (4) The operator's encrypted file reaches the subscriber decrypted: a private file in the
    // state directory, named safely whatever the operator called it. Synapse holds only
    // ciphertext.
    let secret = b"operator notes: the rollback code is correct-horse-battery\n".to_vec();
    let hostile_name = "../../escape attempt.txt";
    let sent = room
        .send_attachment(
            hostile_name,
            &mime_guess::mime::TEXT_PLAIN,
            secret.clone(),
            AttachmentConfig::new(),
        )
        .await
        .expect("the operator sends an encrypted file");
    let file_event = sent.event_id.to_string();
    assert_encrypted_on_the_server(&world, &file_event, "escape attempt").await;
    let message = recv(&mut subscription, "the operator's encrypted file").await;
    assert_eq!(message.message_id.as_str(), file_event);
    assert_eq!(message.text, hostile_name, "no problem is stated");
    let [attachment] = message.attachments.as_slice() else {
        panic!("one attachment: {message:?}")
    };
    assert_eq!(attachment.filename.as_deref(), Some(hostile_name));
    assert_eq!(attachment.content_type.as_deref(), Some("text/plain"));
    assert_eq!(attachment.size, Some(secret.len() as u64));
    let path = local_path(&attachment.url);
    let media_dir = std::fs::canonicalize(world.state.path())
        .unwrap()
        .join("media");
    assert_eq!(
        path.parent(),
        Some(media_dir.as_path()),
        "the file is in <state_dir>/media: {}",
        attachment.url
    );
    assert_eq!(std::fs::read(&path).unwrap(), secret, "the plaintext");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the bot's user may read it");
    }
    let stored = media_store_files(&world);
    assert!(
        stored.iter().any(|bytes| bytes.len() == secret.len()),
        "the operator's ciphertext is in Synapse's media store"
    );
    assert!(
        !stored
            .iter()
            .any(|bytes| contains(bytes, b"correct-horse-battery")),
        "Synapse's media store holds the operator's file in the clear"
    );

    // (5) A file that does not decrypt (its hash does not match the ciphertext): the message is
    // delivered anyway, without the attachment and with the problem stated.
    let mut reader = std::io::Cursor::new(b"tampered in transit".to_vec());
    let uploaded = operator
        .upload_encrypted_file(&mut reader)
        .await
        .expect("the operator uploads an encrypted file");
    let mut tampered = serde_json::to_value(&uploaded).unwrap();
    tampered["hashes"]["sha256"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let tampered: EncryptedFile = serde_json::from_value(tampered).unwrap();
    let content = RoomMessageEventContent::new(MessageType::File(FileMessageEventContent::new(
        "tampered.bin".to_owned(),
        MediaSource::Encrypted(Box::new(tampered)),
    )));
    let sent = room
        .send(content)
        .await
        .expect("the operator sends the tampered file");
    let message = recv(&mut subscription, "the message of the tampered file").await;
    assert_eq!(message.message_id.as_str(), sent.response.event_id.as_str());
    assert!(message.attachments.is_empty(), "{message:?}");
    assert!(
        message.text.starts_with(
            "tampered.bin\n\n[attachment \"tampered.bin\" could not be downloaded and decrypted:"
        ),
        "{}",
        message.text
    );
    assert!(
        message.text.to_lowercase().contains("hash"),
        "the reason is named: {}",
        message.text
    );

    // Nothing else came in: our own encrypted echoes are not delivered back.
    assert!(subscription.try_recv().is_none());
    connector.close().await.unwrap();
}

/// In an encrypted room the question, its keycaps and its outcome are encrypted, the
/// operator's encrypted keycap reaction answers it, an encrypted typed line answers another,
/// and the keycaps are taken back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_asked_and_answered_encrypted() {
    use connector_core::question::{Choice, Question};
    use connector_core::questions::render::KEYCAPS;
    use matrix_sdk::ruma::events::reaction::ReactionEventContent;
    use matrix_sdk::ruma::events::relation::Annotation;

    let world = World::start().await;
    world.enable_encryption().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let (operator, room, _store) = world
        .encrypting_operator(
            &world.homeserver.base_url(),
            "operator (encrypted questions)",
        )
        .await;
    let choices = || vec![Choice::new("merge", "Merge"), Choice::new("close", "Close")];

    let tapped = Question::new("Merge the secret PR?", choices()).unwrap();
    let receipt = connector.ask(tapped.clone()).await.unwrap();
    let at = receipt.message_ids[0].as_str().to_owned();
    assert_encrypted_on_the_server(&world, &at, "secret").await;
    let shown = decrypted_by(&operator, &room, &at).await;
    assert!(
        shown["content"]["body"]
            .as_str()
            .unwrap()
            .contains("2️⃣ Close"),
        "{shown}"
    );
    let bot_annotations = || async {
        let (status, relations) = world
            .homeserver
            .request(
                Some(&world.operator),
                "GET",
                &format!(
                    "/_matrix/client/v1/rooms/{}/relations/{at}/m.annotation",
                    world.room
                ),
                None,
            )
            .await;
        assert_eq!(status, 200, "{relations}");
        let chunk = relations["chunk"].as_array().cloned().unwrap_or_default();
        chunk
            .iter()
            .filter(|e| e["sender"] == world.bot.user_id.as_str())
            .count()
    };
    assert_eq!(bot_annotations().await, 2, "one keycap a choice");
    let question_id = OwnedEventId::try_from(at.as_str()).unwrap();
    room.send(ReactionEventContent::new(Annotation::new(
        question_id,
        KEYCAPS[1].to_owned(),
    )))
    .await
    .expect("the operator reacts, encrypted");
    let answer = recv(&mut subscription, "the encrypted keycap's answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("close"));
    common::eventually(PATIENCE, "the keycaps taken back", || async {
        (bot_annotations().await == 0).then_some(())
    })
    .await;

    let typed = Question::new("Close the other one?", choices()).unwrap();
    connector.ask(typed.clone()).await.unwrap();
    room.send(RoomMessageEventContent::text_plain(format!(
        "merge {}",
        typed.id
    )))
    .await
    .expect("the operator types, encrypted");
    let answer = recv(&mut subscription, "the encrypted typed answer").await;
    let carried = answer.answer.unwrap();
    assert_eq!(carried.question_id, typed.id);
    assert_eq!(carried.choice_id(), Some("merge"));
    connector.close().await.unwrap();
    drop(operator);
}

/// The homeserver holds `event_id` as `m.room.encrypted`, and `plaintext` appears nowhere in it.
async fn assert_encrypted_on_the_server(world: &World, event_id: &str, plaintext: &str) {
    let events = world
        .homeserver
        .events(&world.operator, &world.room, 50)
        .await;
    let event = events
        .iter()
        .find(|e| e["event_id"] == event_id)
        .unwrap_or_else(|| panic!("{event_id} is not among the room's latest events"));
    assert_eq!(event["type"], "m.room.encrypted", "{event}");
    assert_eq!(
        event["content"]["algorithm"], "m.megolm.v1.aes-sha2",
        "{event}"
    );
    assert!(!event.to_string().contains(plaintext), "{event}");
}

/// `event_id` as the operator's client decrypts it: syncs (which brings the room key to the
/// device) and asks for the event until it decrypts, failing after [`PATIENCE`].
async fn decrypted_by(operator: &Client, room: &Room, event_id: &str) -> Value {
    let event_id = OwnedEventId::try_from(event_id).unwrap();
    let room_id = room.room_id();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let response = operator
            .sync_once(SyncSettings::default().timeout(Duration::from_secs(1)))
            .await
            .expect("the operator syncs");
        let in_sync = response.rooms.joined.get(room_id).and_then(|room| {
            room.timeline
                .events
                .iter()
                .find(|e| e.event_id().as_ref() == Some(&event_id))
                .cloned()
        });
        let event = match in_sync {
            Some(event) => Some(event),
            None => room.event(&event_id, None).await.ok(),
        };
        if let Some(json) = event.as_ref().and_then(decrypted_json) {
            return json;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the operator's client could not decrypt {event_id} within {PATIENCE:?}"
        );
    }
}

/// The local path of a `file://` URL (percent-decoded).
fn local_path(url: &str) -> PathBuf {
    let encoded = url
        .strip_prefix("file://")
        .unwrap_or_else(|| panic!("a file:// URL: {url}"));
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    PathBuf::from(String::from_utf8(bytes).unwrap())
}

/// The contents of every file in Synapse's media store.
fn media_store_files(world: &World) -> Vec<Vec<u8>> {
    fn walk(dir: &Path, found: &mut Vec<Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else {
                found.push(std::fs::read(&path).unwrap());
            }
        }
    }
    let mut found = Vec::new();
    walk(&world.homeserver.dir().join("media_store"), &mut found);
    found
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The event's cleartext JSON if it was decrypted.
fn decrypted_json(event: &TimelineEvent) -> Option<Value> {
    event.encryption_info()?;
    serde_json::from_str(event.raw().json().get()).ok()
}
