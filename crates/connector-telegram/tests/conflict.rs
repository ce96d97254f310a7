//! 409 Conflict: another process polling with the same token, or a webhook set, makes the
//! connector deaf; health says so (never "connected") until it is gone, and delivery resumes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{ChatShape, World, next};
use connector_core::OrchestratorConnector;
use serde_json::json;

/// Health turns false, then true, as `probe` sees it.
async fn health_until(connector: &Arc<dyn OrchestratorConnector>, healthy: bool) -> String {
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        let health = connector.health().await;
        if health.is_healthy() == healthy {
            return health.detail.unwrap_or_default();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never became {healthy}: {health:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_poller_makes_health_false_with_the_reason() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    assert!(connector.health().await.is_healthy());

    // Another bot instance with the same token, long-polling without pause.
    let stop = Arc::new(AtomicBool::new(false));
    let rival = tokio::spawn({
        let url = format!("{}/getUpdates", world.emulator.bot_url());
        let stop = Arc::clone(&stop);
        async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let _ = client
                    .post(&url)
                    .json(&json!({ "timeout": 1, "limit": 1, "offset": -1 }))
                    .send()
                    .await;
            }
        }
    });
    let detail = health_until(&connector, false).await;
    assert!(
        detail.contains("409") && detail.contains("only one process may read"),
        "the reason and its fix: {detail}"
    );
    let probes = connector.diagnose().await;
    let polling = probes
        .iter()
        .find(|p| p.name == "update polling")
        .expect("a polling probe");
    assert!(polling.failed(), "{polling:?}");
    insta::assert_snapshot!(
        format!(
            "{}\nfix: {}",
            polling.detail.as_deref().unwrap_or(""),
            polling.fix.as_deref().unwrap_or("")
        ),
        @r"
    getUpdates is refused with 409 Conflict: Conflict: terminated by other getUpdates request; make sure that only one bot instance is running
    fix: only one process may read a bot's updates: stop the other poller using this token (another connector, `connector listen`, a bot framework), or delete the webhook (`deleteWebhook`) if one is set
    "
    );

    stop.store(true, Ordering::Relaxed);
    rival.await.unwrap();
    health_until(&connector, true).await;
    world.post("after the rival left");
    assert_eq!(
        next(&mut inbox, "a message after the conflict").await.text,
        "after the rival left"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_makes_health_false_until_it_is_deleted() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let client = reqwest::Client::new();
    let call = |method: &str, body: serde_json::Value| {
        client
            .post(format!("{}/{method}", world.emulator.bot_url()))
            .json(&body)
            .send()
    };
    call("setWebhook", json!({ "url": "https://example.org/hook" }))
        .await
        .unwrap();
    world.post("while the webhook is set");
    let detail = health_until(&connector, false).await;
    assert!(detail.contains("webhook"), "{detail}");
    let webhook = connector
        .diagnose()
        .await
        .into_iter()
        .find(|p| p.name == "webhook")
        .unwrap();
    assert!(webhook.failed(), "{webhook:?}");
    call("deleteWebhook", json!({})).await.unwrap();
    health_until(&connector, true).await;
    assert_eq!(
        next(&mut inbox, "the message posted meanwhile").await.text,
        "while the webhook is set"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_with_a_webhook_set_fails_with_the_fix() {
    let world = World::start(ChatShape::Private);
    reqwest::Client::new()
        .post(format!("{}/setWebhook", world.emulator.bot_url()))
        .json(&json!({ "url": "https://example.org/hook" }))
        .send()
        .await
        .unwrap();
    let opened = (connector_telegram::DESCRIPTOR.create)(&world.config(), &world.env()).await;
    let Err(error) = opened else {
        panic!("opened while a webhook is set")
    };
    let error = error.to_string();
    assert!(
        error.contains("webhook is active") && error.contains("deleteWebhook"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_that_only_sends_never_polls() {
    let world = World::start(ChatShape::Private);
    let sender = world.open().await;
    sender
        .send(connector_core::OutboundMessage::new("build green"))
        .await
        .unwrap();
    assert!(sender.health().await.is_healthy());
    // Another process reads the updates undisturbed: no 409 from a poller it never started.
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let answer: serde_json::Value = client
            .post(format!("{}/getUpdates", world.emulator.bot_url()))
            .json(&json!({ "timeout": 1 }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["ok"], true, "{answer}");
    }
    let polling = sender
        .diagnose()
        .await
        .into_iter()
        .find(|p| p.name == "update polling")
        .unwrap();
    assert_eq!(
        polling.outcome,
        connector_core::ProbeOutcome::Skipped,
        "{polling:?}"
    );
    sender.close().await.unwrap();
}
