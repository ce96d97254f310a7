//! The saved offset across restarts and kills: nothing posted while the connector is away is
//! lost, nothing is delivered twice, a first start replays no history, and a position older
//! than Telegram's retention is not trusted.

mod common;

use std::sync::Arc;

use common::{ChatShape, World, next};
use connector_core::{OrchestratorConnector, Subscription};

/// Reads what `subscription` still holds after its connector was dropped (the queue is drained
/// before it ends).
async fn drain(mut subscription: Subscription, into: &mut Vec<String>) {
    while let Some(message) = subscription.recv().await {
        into.push(message.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_killed_mid_stream_loses_nothing_and_doubles_nothing() {
    let world = World::start(ChatShape::Private);
    // Room for two messages per subscription: the poller is mid-batch, waiting for room, when
    // the connector is killed.
    let config = world.config_with("  queue_capacity: 2\n");
    let first = world.open_with(&config).await;
    let texts: Vec<String> = (0..80).map(|i| format!("stream {i:02}")).collect();
    for text in &texts {
        world.post(text);
    }
    let mut received: Vec<String> = Vec::new();
    let mut connector: Arc<dyn OrchestratorConnector> = first;
    // Killed (dropped, not closed: its tasks are aborted wherever they are) after 5, 20 and 45
    // messages, each time in the middle of handing a batch over.
    for kill_after in [5usize, 20, 45] {
        let mut subscription = connector.subscribe().await.expect("subscribe");
        while received.len() < kill_after {
            received.push(next(&mut subscription, "a streamed message").await.text);
        }
        drop(connector);
        drain(subscription, &mut received).await;
        connector = world.open_with(&config).await;
    }
    let mut subscription = connector.subscribe().await.expect("subscribe");
    while received.len() < texts.len() {
        received.push(next(&mut subscription, "the rest of the stream").await.text);
    }
    world.post("sentinel");
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    assert_eq!(
        received, texts,
        "every message once, in order, across three kills"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_posted_while_closed_arrive_once_after_reopening() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post("before the restart");
    assert_eq!(
        next(&mut inbox, "the first message").await.text,
        "before the restart"
    );
    connector.close().await.unwrap();
    drop(inbox);
    let texts: Vec<String> = (0..20).map(|i| format!("while closed {i:02}")).collect();
    for text in &texts {
        world.post(text);
    }
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    for text in &texts {
        assert_eq!(&next(&mut inbox, text).await.text, text);
    }
    world.post("sentinel");
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_replays_no_history() {
    let world = World::start(ChatShape::Private);
    world.post("old news");
    world.post("older news still waiting");
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post("fresh");
    assert_eq!(next(&mut inbox, "the fresh message").await.text, "fresh");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_older_than_telegrams_retention_is_not_trusted() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    connector.close().await.unwrap();
    // As if the connector last ran two days ago, and Telegram had restarted its update ids
    // after a week of silence: the saved offset is far above every id it now hands out.
    // Sent as is, it would confirm (drop) everything waiting.
    let two_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 2 * 24 * 60 * 60;
    std::fs::write(
        world.state.path().join("updates.json"),
        format!("{{\"offset\":999999999999,\"saved_at\":{two_days_ago}}}\n"),
    )
    .unwrap();
    world.post("waiting since the restart of ids");
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    assert_eq!(
        next(&mut inbox, "the waiting message").await.text,
        "waiting since the restart of ids"
    );
    connector.close().await.unwrap();
}
