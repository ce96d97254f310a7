//! Attachments both ways against the Discord emulator: files uploaded as multipart with the
//! first part, links in the text, refusals before anything is sent, and the operator's files.

mod common;

use common::{World, next};
use connector_core::{Attachment, Capability, Error, IdempotencyKey, OutboundMessage};

/// Downloads `url` (the emulator serves uploads without authentication, like Discord's CDN).
async fn download(url: &str) -> Vec<u8> {
    let response = serenity_reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("download the attachment");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response
        .bytes()
        .await
        .expect("the attachment's bytes")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_with_the_first_part_and_links_in_the_text() {
    let world = World::start();
    let connector = world.open().await;
    assert!(connector.capabilities().supports(Capability::Attachments));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build-log.txt");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(&path, &bytes).unwrap();
    // Long enough for two parts: the file goes with the first, the link ends the last.
    let text = (0..150)
        .map(|i| format!("line {i:03} of the report"))
        .collect::<Vec<_>>()
        .join("\n");
    let receipt = connector
        .send(
            OutboundMessage::new(&text)
                .attach(Attachment::Path(path.clone()))
                .attach(Attachment::Url("https://ci.example/run/42".into())),
        )
        .await
        .expect("send with attachments");

    let sent = world.bot_messages(world.channel());
    assert!(sent.len() >= 2, "{} parts", sent.len());
    assert_eq!(receipt.message_ids.len(), sent.len());
    assert_eq!(sent[0].attachments.len(), 1);
    for later in &sent[1..] {
        assert!(later.attachments.is_empty(), "later parts are text only");
    }
    let file = &sent[0].attachments[0];
    assert_eq!(file.filename, "build-log.txt");
    assert_eq!(file.size, 3000);
    assert_eq!(download(&file.url).await, bytes);
    assert!(
        sent.last()
            .unwrap()
            .content
            .ends_with("https://ci.example/run/42"),
        "the link ends the text"
    );

    // A file alone, without text.
    connector
        .send(OutboundMessage::new("").attach(Attachment::Path(path)))
        .await
        .expect("send a file alone");
    let alone = world.bot_messages(world.channel()).pop().unwrap();
    assert_eq!(alone.content, "");
    assert_eq!(alone.attachments[0].size, 3000);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_upload_posts_once() {
    let world = World::start();
    let connector = world.open().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.bin");
    std::fs::write(&path, b"\x00\x01report\xff").unwrap();
    world
        .emulator
        .faults()
        .lose_next_response("POST /channels/{channel_id}/messages")
        .unwrap();
    let receipt = connector
        .send(
            OutboundMessage::new("the report")
                .attach(Attachment::Path(path))
                .with_idempotency_key(IdempotencyKey::parse("upload-1").unwrap()),
        )
        .await
        .expect("send despite the lost answer");
    let posts = world
        .emulator
        .requests()
        .iter()
        .filter(|r| r.by_bot && r.method == "POST" && r.path.ends_with("/messages"))
        .count();
    assert_eq!(posts, 2, "the upload was retried");
    let sent = world.bot_messages(world.channel());
    assert_eq!(sent.len(), 1, "posted once");
    assert_eq!(receipt.message_ids[0].as_str(), sent[0].id.to_string());
    assert_eq!(sent[0].attachments.len(), 1);
    assert_eq!(sent[0].attachments[0].filename, "report.bin");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_before_sending() {
    let world = World::start();
    let connector = world.open().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("fine.txt");
    std::fs::write(&good, "fine").unwrap();

    let missing = dir.path().join("missing.txt");
    let error = connector
        .send(
            OutboundMessage::new("two files")
                .attach(Attachment::Path(good.clone()))
                .attach(Attachment::Path(missing.clone())),
        )
        .await
        .expect_err("a missing file");
    match &error {
        Error::InvalidInput { field, message } => {
            assert_eq!(*field, "attachments");
            assert!(
                message.contains(&missing.display().to_string()),
                "{message}"
            );
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }

    // Over Discord's 25 MiB per message (a sparse file: nothing is written).
    let big = dir.path().join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(25 * 1024 * 1024 + 1)
        .unwrap();
    let error = connector
        .send(OutboundMessage::new("too big").attach(Attachment::Path(big)))
        .await
        .expect_err("a file over 25 MiB");
    assert!(
        matches!(
            error,
            Error::InvalidInput {
                field: "attachments",
                ..
            }
        ),
        "{error:?}"
    );

    assert!(
        world.bot_messages(world.channel()).is_empty(),
        "nothing was sent"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_files_arrive_with_url_and_metadata() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    // The operator uploads a file as the Discord client does: multipart with payload_json.
    let url = format!(
        "{}/api/v10/channels/{}/messages",
        world.emulator.base_url(),
        world.channel()
    );
    let form = serenity_reqwest::multipart::Form::new()
        .text(
            "payload_json",
            serde_json::json!({
                "content": "here is the log",
                "attachments": [{"id": 0, "filename": "app.log"}],
            })
            .to_string(),
        )
        .part(
            "files[0]",
            serenity_reqwest::multipart::Part::bytes(b"log line\n".to_vec())
                .file_name("app.log")
                .mime_str("text/plain")
                .unwrap(),
        );
    let response = serenity_reqwest::Client::new()
        .post(url)
        .header("Authorization", world.operator.token.clone())
        .multipart(form)
        .send()
        .await
        .expect("the operator's upload");
    assert_eq!(response.status().as_u16(), 200);

    let message = next(&mut inbox, "the operator's file").await;
    assert_eq!(message.text, "here is the log");
    assert_eq!(message.attachments.len(), 1);
    let file = &message.attachments[0];
    assert_eq!(file.filename.as_deref(), Some("app.log"));
    assert_eq!(file.size, Some(9));
    assert_eq!(file.content_type.as_deref(), Some("text/plain"));
    assert_eq!(download(&file.url).await, b"log line\n");
    connector.close().await.unwrap();
}
