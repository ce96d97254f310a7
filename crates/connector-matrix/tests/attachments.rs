//! Attachments against a real Synapse: files uploaded to the media repository and posted as
//! `m.image` / `m.file` events in the message's thread, downloadable byte for byte; retries
//! that post and upload nothing twice; a bad file refused before anything is posted; and the
//! operator's files arriving with their metadata.

mod common;

use std::path::{Path, PathBuf};

use common::{World, recv};
use connector_core::{Attachment, Error, OrchestratorConnector, OutboundMessage, ThreadId};
use serde_json::{Value, json};

/// A valid 1×1 PNG.
const PNG: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

const LOG: &str = "step 1 ok\nstep 2 FAILED: exit 101\n";

/// The files the media repository holds (uploads only, not thumbnails).
fn stored_media(world: &World) -> usize {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() { count(&path) } else { 1 }
                })
                .sum()
        })
    }
    count(
        &world
            .homeserver
            .dir()
            .join("media_store")
            .join("local_content"),
    )
}

/// The bytes behind `mxc` on the homeserver, fetched as `token`'s owner from the
/// authenticated media endpoint.
async fn download(world: &World, url: &str, token: &str) -> Vec<u8> {
    let url = if let Some(rest) = url.strip_prefix("mxc://") {
        format!(
            "{}/_matrix/client/v1/media/download/{rest}",
            world.homeserver.base_url()
        )
    } else {
        url.to_owned()
    };
    let answer = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(answer.status().as_u16(), 200, "GET {url}");
    answer.bytes().await.unwrap().to_vec()
}

/// Writes `chart.png` and `build.log` into `dir`.
fn files(dir: &Path) -> (PathBuf, PathBuf) {
    let png = dir.join("chart.png");
    std::fs::write(&png, PNG).unwrap();
    let log = dir.join("build.log");
    std::fs::write(&log, LOG).unwrap();
    (png, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_uploaded_and_posted_in_the_thread_and_a_retry_repeats_nothing() {
    let world = World::start().await;
    let connector = world.open().await;
    let dir = tempfile::tempdir().unwrap();
    let (png, log) = files(dir.path());
    let root = world.post("why did the build fail?").await;

    let message = OutboundMessage::new("The build **failed**; the chart and the log:")
        .in_thread(root.as_str())
        .attach(Attachment::Path(png.clone()))
        .attach(Attachment::Path(log.clone()))
        .attach(Attachment::Url("https://ci.example/runs/42".into()));
    let receipt = connector.send(message.clone()).await.unwrap();
    assert_eq!(receipt.thread_id, Some(ThreadId::new(root.as_str())));
    assert_eq!(receipt.message_ids.len(), 3, "text, image, file");

    let text = world.message(receipt.message_ids[0].as_str()).await;
    assert_eq!(
        text["content"]["body"],
        "The build **failed**; the chart and the log:\n\nhttps://ci.example/runs/42",
        "links go into the text"
    );
    let image = world.message(receipt.message_ids[1].as_str()).await;
    let file = world.message(receipt.message_ids[2].as_str()).await;
    for event in [&text, &image, &file] {
        assert_eq!(event["sender"], world.bot.user_id.as_str());
        let relation = &event["content"]["m.relates_to"];
        assert_eq!(relation["rel_type"], "m.thread", "{event}");
        assert_eq!(relation["event_id"], root.as_str(), "{event}");
    }
    let content = &image["content"];
    assert_eq!(content["msgtype"], "m.image", "{image}");
    assert_eq!(content["body"], "chart.png");
    assert_eq!(content["info"]["mimetype"], "image/png");
    assert_eq!(content["info"]["size"], PNG.len());
    assert_eq!(
        (&content["info"]["w"], &content["info"]["h"]),
        (&json!(1), &json!(1))
    );
    let image_url = content["url"].as_str().expect("an mxc URL").to_owned();
    assert!(image_url.starts_with("mxc://"), "{image_url}");
    let content = &file["content"];
    assert_eq!(content["msgtype"], "m.file", "{file}");
    assert_eq!(content["body"], "build.log");
    assert_eq!(content["info"]["size"], LOG.len());
    let file_url = content["url"].as_str().expect("an mxc URL").to_owned();

    // What the operator downloads is what was on disk.
    let token = &world.operator.access_token;
    assert_eq!(download(&world, &image_url, token).await, PNG);
    assert_eq!(download(&world, &file_url, token).await, LOG.as_bytes());

    // A retry of the same message (same idempotency key): the same events, no new event,
    // no second upload.
    let events = world.messages(100).await.len();
    let uploads = stored_media(&world);
    assert_eq!(uploads, 2, "two files in the media repository");
    let again = connector.send(message).await.unwrap();
    assert_eq!(again.message_ids, receipt.message_ids);
    assert_eq!(
        world.messages(100).await.len(),
        events,
        "nothing posted twice"
    );
    assert_eq!(stored_media(&world), uploads, "nothing uploaded twice");

    // A file alone: one event, no text.
    let alone = connector
        .send(OutboundMessage::new("").attach(Attachment::Path(log)))
        .await
        .unwrap();
    assert_eq!(alone.message_ids.len(), 1);
    let event = world.message(alone.message_ids[0].as_str()).await;
    assert_eq!(event["content"]["msgtype"], "m.file");
    assert!(event["content"].get("m.relates_to").is_none(), "{event}");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_refused_before_anything_is_posted_or_uploaded() {
    let world = World::start().await;
    let connector = world.open().await;
    let dir = tempfile::tempdir().unwrap();
    let (png, _) = files(dir.path());
    let missing = dir.path().join("no-such-report.pdf");
    let before = world.messages(100).await.len();

    let error = connector
        .send(
            OutboundMessage::new("report attached")
                .attach(Attachment::Path(png))
                .attach(Attachment::Path(missing.clone())),
        )
        .await
        .unwrap_err();
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
        error.to_string().contains(&missing.display().to_string()),
        "the error names the path: {error}"
    );
    assert_eq!(
        world.messages(100).await.len(),
        before,
        "nothing was posted"
    );
    assert_eq!(stored_media(&world), 0, "nothing was uploaded");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_file_arrives_with_its_metadata_and_downloads() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    // The operator uploads notes.txt and posts it as m.file, as Element does.
    let notes = b"deploy after 18:00 only\n";
    let upload_url = format!(
        "{}/_matrix/media/v3/upload?filename=notes.txt",
        world.homeserver.base_url()
    );
    let uploaded: Value = reqwest::Client::new()
        .post(&upload_url)
        .bearer_auth(&world.operator.access_token)
        .header("content-type", "text/plain")
        .body(notes.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mxc = uploaded["content_uri"].as_str().expect("an mxc URI");
    let content = json!({
        "msgtype": "m.file",
        "body": "notes.txt",
        "url": mxc,
        "info": { "mimetype": "text/plain", "size": notes.len() },
    });
    let (status, answer) = world
        .homeserver
        .request(
            Some(&world.operator),
            "PUT",
            &format!(
                "/_matrix/client/v3/rooms/{}/send/m.room.message/file-1",
                world.room
            ),
            Some(&content),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let message = recv(&mut subscription, "the operator's file").await;
    assert_eq!(message.text, "notes.txt");
    assert_eq!(
        message.message_id.as_str(),
        answer["event_id"].as_str().unwrap()
    );
    let [attachment] = message.attachments.as_slice() else {
        panic!("one attachment: {message:?}")
    };
    assert_eq!(attachment.filename.as_deref(), Some("notes.txt"));
    assert_eq!(attachment.content_type.as_deref(), Some("text/plain"));
    assert_eq!(attachment.size, Some(notes.len() as u64));
    let (server, id) = mxc.strip_prefix("mxc://").unwrap().split_once('/').unwrap();
    assert_eq!(
        attachment.url,
        format!(
            "{}/_matrix/client/v1/media/download/{server}/{id}",
            world.homeserver.base_url()
        )
    );
    // The URL serves the file to the bot's token.
    assert_eq!(
        download(&world, &attachment.url, &world.bot.access_token).await,
        notes
    );
    connector.close().await.unwrap();
}
