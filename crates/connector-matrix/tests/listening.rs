//! Alive is not listening: the round-trip probe posts a marked `m.notice` that must come back
//! through `/sync`. Against Synapse it comes back, never reaches a subscriber, and is redacted.

mod common;

use std::time::Duration;

use common::{World, recv};
use connector_core::{OrchestratorConnector, RoundTrip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_comes_back_through_sync_and_is_redacted() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    let outcome = connector.round_trip(Duration::from_secs(20)).await;
    let RoundTrip::Returned {
        path,
        cleanup_problem,
        ..
    } = &outcome
    else {
        panic!("the probe should come back: {outcome:?}");
    };
    assert_eq!(path, "/sync");
    assert_eq!(cleanup_problem, &None);

    let messages = world.messages(20).await;
    let probes: Vec<_> = messages
        .iter()
        .filter(|m| m["unsigned"]["redacted_because"].is_object())
        .collect();
    assert_eq!(probes.len(), 1, "one redacted probe: {messages:#?}");
    assert!(
        messages.iter().all(|m| !m["content"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("round-trip probe")),
        "no probe text is left: {messages:#?}"
    );

    // The subscriber never saw it: the operator's next message is the next one it gets.
    world.post("after the probe").await;
    assert_eq!(
        recv(&mut subscription, "the operator").await.text,
        "after the probe"
    );
    let probe = connector
        .round_trip(Duration::from_secs(20))
        .await
        .into_probe();
    assert!(probe.passed(), "{probe:?}");
    connector.close().await.unwrap();
}
