//! Alive is not listening: in console mode the round-trip probe, written to the console's
//! terminal, must come back through the control client as the operator's lines do. It leaves
//! nothing on screen and reaches no subscriber; pane mode has no operator to probe.

mod common;

use std::time::Duration;

use common::{LONG, TestServer};
use connector_core::{OrchestratorConnector, RoundTrip, SenderPolicy};
use connector_tmux::TmuxConnector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_probe_comes_back_unseen() {
    let server = TestServer::new();
    let connector = TmuxConnector::with_settings(
        server.console_settings("orchestrator"),
        SenderPolicy::allow_any(),
        64,
    )
    .await
    .expect("open the console");
    // Nobody subscribed yet: the probe starts the stream it needs.
    let outcome = connector.round_trip(Duration::from_secs(10)).await;
    let RoundTrip::Returned { path, .. } = &outcome else {
        panic!("the probe should come back: {outcome:?}");
    };
    assert_eq!(path, "the console's control client");
    let pane = server.tmux(&[
        "display-message",
        "-p",
        "-t",
        "=orchestrator:",
        "#{pane_id}",
    ]);
    let screen = server.screen(pane.trim());
    assert!(!screen.contains("round-trip"), "the probe shows: {screen}");
    assert!(!screen.contains("5522"), "the probe shows: {screen}");

    let mut subscription = connector.subscribe().await.expect("subscribe");
    assert!(
        connector
            .round_trip(Duration::from_secs(10))
            .await
            .returned()
    );
    server.type_line(pane.trim(), "after the probes");
    let next = tokio::time::timeout(LONG, subscription.recv())
        .await
        .expect("a message")
        .expect("open");
    assert_eq!(
        next.text, "after the probes",
        "a probe reached the subscriber"
    );
    connector.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_mode_has_no_operator_to_probe() {
    let server = TestServer::new();
    server.start_session("agent", &["sh"]);
    let connector = TmuxConnector::with_settings(
        server.pane_settings("agent:0.0"),
        SenderPolicy::allow_any(),
        64,
    )
    .await
    .expect("open the pane");
    let outcome = connector.round_trip(Duration::from_secs(1)).await;
    assert!(
        matches!(outcome, RoundTrip::Unsupported { .. }),
        "{outcome:?}"
    );
    assert!(!outcome.into_probe().failed(), "skipped, not failed");
}
