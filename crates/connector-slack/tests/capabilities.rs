//! The optional capabilities on the emulator: reactions, edits, history, files out by upload v2
//! (into the channel and into a thread), files in with their authenticated URL; typing refused
//! as Unsupported; what `capabilities()` declares.

mod common;

use common::{World, next};
use connector_core::{Attachment, Capability, Error, HistoryQuery, MessageId, OutboundMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_are_declared_honestly_and_typing_is_unsupported() {
    let world = World::start();
    let connector = world.open().await;
    let caps = connector.capabilities();
    for capability in [
        Capability::Threads,
        Capability::Markdown,
        Capability::Reactions,
        Capability::Edits,
        Capability::History,
        Capability::Attachments,
        Capability::Questions,
    ] {
        assert!(caps.supports(capability), "{capability:?}");
    }
    assert!(!caps.supports(Capability::Typing));
    assert_eq!(
        caps.max_message_len(),
        Some(connector_slack::MAX_MESSAGE_CHARS)
    );
    let typing = connector.typing(None).await;
    assert!(
        matches!(
            typing,
            Err(Error::Unsupported {
                capability: Capability::Typing,
                ..
            })
        ),
        "{typing:?}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_edit_and_history() {
    let world = World::start();
    let connector = world.open().await;
    let operator_ts = world.post("please look", None);
    let receipt = connector
        .send(OutboundMessage::new("working on it"))
        .await
        .unwrap();
    let ours = receipt.message_ids[0].clone();
    connector
        .react(&MessageId::new(operator_ts.clone()), None, "👀")
        .await
        .unwrap();
    let reacted = world
        .emulator
        .messages(&world.channel())
        .into_iter()
        .find(|m| m.ts == operator_ts)
        .unwrap();
    assert_eq!(reacted.reactions[0].name, "eyes");
    assert!(
        connector
            .react(&ours, None, "<!channel>")
            .await
            .is_err_and(|e| matches!(e, Error::InvalidInput { field: "emoji", .. }))
    );
    connector
        .edit(&ours, None, "**done** <!here>")
        .await
        .unwrap();
    let edited = world
        .bot_messages()
        .into_iter()
        .find(|m| m.ts == ours.as_str())
        .unwrap();
    assert_eq!(edited.text, "*done* &lt;!here&gt;");
    let history = connector.history(HistoryQuery::latest(10)).await.unwrap();
    let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["please look", "*done* <!here>"]);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_out_by_upload_v2_into_the_channel_and_threads() {
    let world = World::start();
    let connector = world.open().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build.log");
    std::fs::write(&path, b"all green\n").unwrap();
    connector
        .send(OutboundMessage::new("the log:").attach(Attachment::Path(path.clone())))
        .await
        .unwrap();
    let root = world.post("thread for files", None);
    connector
        .send(
            OutboundMessage::new("")
                .in_thread(root.as_str())
                .attach(Attachment::Path(path.clone())),
        )
        .await
        .unwrap();
    let files = world.emulator.uploaded_files();
    assert_eq!(files.len(), 2);
    for file in &files {
        assert!(file.completed);
        assert_eq!(file.name, "build.log");
        assert_eq!(file.bytes.as_deref(), Some(&b"all green\n"[..]));
        assert_eq!(file.channel.as_deref(), Some(world.channel().as_str()));
    }
    assert_eq!(files[0].thread_ts, None);
    assert_eq!(files[1].thread_ts.as_deref(), Some(root.as_str()));
    assert!(world.bot_messages().iter().any(|m| m.text == "the log:"));
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_in_carry_their_metadata_and_authenticated_url() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let ts = world
        .emulator
        .share_file_as(
            &world.operator,
            &world.channel(),
            "screenshot.png",
            b"\x89PNG....",
            "here is what I see",
            None,
        )
        .unwrap();
    let got = next(&mut subscription, "the file share").await;
    assert_eq!(got.message_id.as_str(), ts);
    assert_eq!(got.text, "here is what I see");
    assert_eq!(got.attachments.len(), 1);
    let file = &got.attachments[0];
    assert_eq!(file.filename.as_deref(), Some("screenshot.png"));
    assert_eq!(file.size, Some(8));
    assert!(
        file.url.starts_with(&world.emulator.base_url()) && file.url.contains("/files/"),
        "{}",
        file.url
    );
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}
