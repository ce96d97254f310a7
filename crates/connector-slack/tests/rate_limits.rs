//! Backfill under Slack's 2025 history limits for non-Marketplace apps: pages of 15 messages
//! and a rate limit on `conversations.history` (one call a minute on Slack; one per 2 s here so
//! the test stays short) — every missed message once, in order, each 429 waited out.

mod common;

use std::time::Duration;

use common::{World, next};
use slack_emulator::{Config, Limit, RESTRICTED_HISTORY_PAGE, RateLimits};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_pages_through_the_restricted_history_limits() {
    let every_2s = Limit {
        calls: 1,
        per: Duration::from_secs(2),
    };
    let limits = RateLimits::none()
        .restricted_history()
        .with("conversations.history", every_2s)
        .with("conversations.replies", every_2s)
        // Tier 1 (one a minute) on Slack: lifted so the restart need not wait a minute.
        .with("apps.connections.open", Limit::per_minute(100));
    let world = World::with_config(Config::default().rate_limits(limits));
    let connector = world.open().await;
    connector.close().await.unwrap();
    let missed: Vec<String> = (0..40).map(|i| format!("while away {i:02}")).collect();
    for text in &missed {
        world.post(text, None);
    }
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let mut got = Vec::new();
    while got.len() < missed.len() {
        got.push(next(&mut subscription, "a missed message").await.text);
    }
    assert_eq!(got, missed, "every missed message once, in order");
    let calls: Vec<_> = world
        .emulator
        .api_calls()
        .into_iter()
        .filter(|c| c.method == "conversations.history")
        .collect();
    assert!(
        calls.iter().any(|c| c.status == 429),
        "the limit was hit and waited out"
    );
    assert!(
        calls
            .iter()
            .filter(|c| c.status == 200)
            .all(|c| c.body["messages"].as_array().unwrap().len() <= RESTRICTED_HISTORY_PAGE),
        "pages of at most {RESTRICTED_HISTORY_PAGE}"
    );
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}
