//! The homeserver going away: a SIGKILL while the operator posts loses and repeats nothing, and
//! health says what is wrong while it is down and recovers when it is back.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{World, eventually, recv};
use connector_core::{Error, OrchestratorConnector, OutboundMessage};
use serde_json::json;

/// Posts `texts` in order as `token`'s user, each retried (with the same transaction id, as a
/// client does) until the homeserver accepts it; counts the accepted ones in `accepted`.
async fn post_until_accepted(
    base_url: String,
    token: String,
    room: String,
    texts: Vec<String>,
    accepted: Arc<AtomicUsize>,
) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for (i, text) in texts.iter().enumerate() {
        let url =
            format!("{base_url}/_matrix/client/v3/rooms/{room}/send/m.room.message/crash-test-{i}");
        let body = json!({ "msgtype": "m.text", "body": text });
        let started = Instant::now();
        loop {
            let answer = http.put(&url).bearer_auth(&token).json(&body).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{text:?} was never accepted"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        accepted.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_homeserver_crash_loses_and_repeats_nothing() {
    let mut world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    let texts: Vec<String> = (0..200).map(|i| format!("crash test {i:03}")).collect();
    let accepted = Arc::new(AtomicUsize::new(0));
    let poster = tokio::spawn(post_until_accepted(
        world.homeserver.base_url(),
        world.operator.access_token.clone(),
        world.room.clone(),
        texts.clone(),
        Arc::clone(&accepted),
    ));

    // Receive while the operator posts; SIGKILL Synapse part-way, restart it on the same
    // database a little later.
    let mut received = Vec::new();
    while accepted.load(Ordering::SeqCst) < 60 {
        received.push(
            recv(&mut subscription, "a message before the crash")
                .await
                .text,
        );
    }
    world.homeserver.kill().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    world.homeserver.restart().await;

    while received.len() < texts.len() {
        received.push(
            recv(&mut subscription, "a message around the crash")
                .await
                .text,
        );
    }
    poster.await.unwrap();
    assert_eq!(received, texts, "every message once, in order");
    world.post("sentinel").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel",
        "a message was delivered twice"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_why_while_the_homeserver_is_down_and_recovers() {
    let mut world = World::start().await;
    let connector = world.open().await;
    let health = connector.health().await;
    assert!(health.is_healthy(), "{health:?}");
    assert!(health.last_seen.is_some());

    world.homeserver.stop().await;
    let started = Instant::now();
    let down = connector.health().await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "health is bounded"
    );
    assert!(!down.reachable && !down.is_healthy(), "{down:?}");
    let detail = down.detail.unwrap_or_default();
    assert!(detail.contains("unreachable"), "{detail}");

    let started = Instant::now();
    let send = connector.send(OutboundMessage::new("while down")).await;
    assert!(
        matches!(send, Err(Error::Unreachable { .. })),
        "a send while down fails as unreachable: {send:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "and gives up in bounded time"
    );

    world.homeserver.restart().await;
    eventually(Duration::from_secs(30), "health recovering", || async {
        connector.health().await.is_healthy().then_some(())
    })
    .await;
    // The sync loop resumes too: a message posted now arrives.
    let mut subscription = connector.subscribe().await.unwrap();
    world.post("back").await;
    assert_eq!(
        recv(&mut subscription, "a message after the restart")
            .await
            .text,
        "back"
    );
    connector
        .send(OutboundMessage::new("me too"))
        .await
        .unwrap();
    connector.close().await.unwrap();
}
