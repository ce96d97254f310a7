//! No loss across restarts: the connector killed mid-stream and opened again delivers exactly
//! what it missed, once, in order — from the backfill and the socket together.

mod common;

use common::{World, next};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connector_backfills_exactly_what_it_missed() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let all: Vec<String> = (0..60).map(|i| format!("note {i:02}")).collect();
    for text in &all[..20] {
        world.post(text, None);
    }
    let mut got = Vec::new();
    for _ in 0..10 {
        got.push(next(&mut subscription, "a message").await.text);
    }
    // Killed: dropped without close, mid-stream.
    drop(connector);
    while let Ok(Some(message)) =
        tokio::time::timeout(std::time::Duration::from_secs(2), subscription.recv()).await
    {
        got.push(message.text);
    }
    // Posted while it is away, in the channel and in a thread it follows.
    for text in &all[20..50] {
        world.post(text, None);
    }
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    for text in &all[50..] {
        world.post(text, None);
    }
    while got.len() < all.len() {
        got.push(next(&mut subscription, "a missed message").await.text);
    }
    assert_eq!(got, all, "every message exactly once, in order");
    // The backfill read what was missed (the socket redelivered it too: both were needed to
    // be deduplicated for the above to hold).
    let backfilled = backfilled_texts(&world, "conversations.history");
    for text in &all[20..50] {
        assert!(backfilled.contains(text), "{text} was not backfilled");
    }
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_connector_catches_up_threads_it_follows() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let root = world.post("root", None);
    next(&mut subscription, "the root").await;
    world.post("first reply", Some(&root));
    next(&mut subscription, "the first reply").await;
    connector.close().await.unwrap();
    world.post("missed reply", Some(&root));
    world.post("missed in channel", None);
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let mut got = [
        next(&mut subscription, "missed 1").await,
        next(&mut subscription, "missed 2").await,
    ];
    got.sort_by(|a, b| a.text.cmp(&b.text));
    assert_eq!(got[0].text, "missed in channel");
    assert_eq!(got[1].text, "missed reply");
    assert_eq!(got[1].thread_id.as_ref().unwrap().as_str(), root);
    assert!(backfilled_texts(&world, "conversations.replies").contains(&"missed reply".to_owned()));
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

/// The texts of every message `method` answered to the connector.
fn backfilled_texts(world: &World, method: &str) -> Vec<String> {
    world
        .emulator
        .api_calls()
        .into_iter()
        .filter(|c| c.method == method)
        .flat_map(|c| c.body["messages"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect()
}
