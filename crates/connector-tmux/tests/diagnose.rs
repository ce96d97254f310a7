//! `diagnose()` against a real tmux: every probe passing on a live pane, then the fixes when the
//! pane goes away and when the server dies under an open connector.

mod common;

use common::{LONG, TestServer, wait_until};
use connector_core::{OrchestratorConnector, Probe, ProbeOutcome, SenderPolicy};
use connector_tmux::TmuxConnector;

fn outcomes(probes: &[Probe]) -> Vec<(&str, ProbeOutcome)> {
    probes
        .iter()
        .map(|p| (p.name.as_str(), p.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_probes_pass_then_name_the_missing_pane_and_the_dead_server() {
    let server = TestServer::new();
    server.start_session("work", &["cat"]);
    server.tmux(&["new-window", "-d", "-t", "work:1", "cat"]);
    let pane = server
        .tmux(&["display-message", "-p", "-t", "work:1.0", "#{pane_id}"])
        .trim()
        .to_owned();
    let connector =
        TmuxConnector::with_settings(server.pane_settings(&pane), SenderPolicy::allow_any(), 16)
            .await
            .expect("open the pane endpoint");

    let probes = connector.diagnose().await;
    assert!(probes.iter().all(Probe::passed), "{probes:#?}");
    assert_eq!(
        outcomes(&probes),
        [
            ("tmux server", ProbeOutcome::Pass),
            ("socket owner", ProbeOutcome::Pass),
            ("target present", ProbeOutcome::Pass),
            ("mode", ProbeOutcome::Pass),
        ]
    );
    let target = probes[2].detail.as_deref().unwrap_or_default();
    assert!(
        target.contains("work:1.0") && target.contains("`cat`"),
        "{target}"
    );

    // The pane goes away; the server (window 0) stays.
    server.tmux(&["kill-pane", "-t", &pane]);
    let probes = connector.diagnose().await;
    assert_eq!(probes[2].outcome, ProbeOutcome::Fail, "{probes:#?}");
    let fix = probes[2].fix.as_deref().unwrap_or_default();
    assert!(
        fix.starts_with(&format!("check connector.tmux.target: no pane {pane}"))
            && fix.contains(&format!("tmux -L {} list-panes -a", server.name)),
        "{fix}"
    );
    assert_eq!(probes[3].outcome, ProbeOutcome::Skipped);

    // The server dies under the open connector.
    server.kill();
    assert!(
        wait_until(LONG, || !connector.session().is_connected()).await,
        "the control client notices the server is gone"
    );
    let probes = connector.diagnose().await;
    assert_eq!(
        outcomes(&probes),
        [
            ("tmux server", ProbeOutcome::Fail),
            ("socket owner", ProbeOutcome::Skipped),
            ("target present", ProbeOutcome::Skipped),
            ("mode", ProbeOutcome::Skipped),
        ]
    );
    let fix = probes[0].fix.as_deref().unwrap_or_default();
    assert!(
        fix.contains(&format!("`tmux -L {} new-session -d`", server.name)),
        "{fix}"
    );
    connector.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_probes_pass_and_say_how_to_attach() {
    let server = TestServer::new();
    let connector = TmuxConnector::with_settings(
        server.console_settings("orchestrator"),
        SenderPolicy::allow_any(),
        16,
    )
    .await
    .expect("open the console");
    let probes = connector.diagnose().await;
    assert!(probes.iter().all(Probe::passed), "{probes:#?}");
    let mode = probes[3].detail.as_deref().unwrap_or_default();
    assert!(
        mode.contains(&format!("tmux -L {} attach -t orchestrator", server.name)),
        "{mode}"
    );
    connector.close().await.expect("close");
}
