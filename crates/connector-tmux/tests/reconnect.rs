//! Losing the server or the client mid-session: bounded errors, honest health, reconnect,
//! and no inbound line delivered twice.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{LONG, SHORT, Scratch, TestServer, drain, expect_line, wait_until};
use connector_core::{OrchestratorConnector, SenderPolicy};
use connector_tmux::{PaneLine, TmuxConnector, TmuxError, TmuxSession};

/// Answers each line with `got:<line>`, then leaves `pending` as an unfinished line; sets the pane title to `ready` once echo is off, so a test
/// can wait for that before typing (or the tty would echo what is typed).
const PROGRAM: &str = "stty -echo; printf '\\033]2;ready\\007'; \
    while IFS= read -r l; do printf 'got:%s\\n' \"$l\"; printf pending; done";

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn texts(lines: &[PaneLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

fn assert_bounded(started: Instant, limit: Duration) {
    assert!(
        started.elapsed() < limit + Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_survives_kill_server_and_reconnects() {
    let server = TestServer::new();
    let settings = server.console_settings("orchestrator");
    let limit = settings.op_timeout;
    let session = TmuxSession::open(settings).await.expect("open");
    let mut lines = session.lines().expect("lines");
    let pane = session.main_pane().expect("pane");
    server.type_line(&pane, "before kill");
    let (before, _) = expect_line(&mut lines, "before kill", LONG).await;

    server.kill();
    assert!(wait_until(LONG, || !session.is_connected()).await);
    let started = Instant::now();
    let error = session
        .send_console("anyone there?", None)
        .await
        .expect_err("server is gone");
    assert!(matches!(error, TmuxError::Disconnected { .. }), "{error}");
    assert!(error.is_connection_error());
    assert!(session.ensure_thread_window("t").await.is_err());
    let probe = session.health().await;
    assert_bounded(started, limit);
    assert!(!probe.reachable && !probe.authenticated, "{probe:?}");
    let detail = probe.detail.unwrap_or_default();
    assert!(detail.contains("control client down"), "{detail}");

    // The server is back (someone else's session in it); reconnecting recreates the console.
    server.start_session("other", &["sh"]);
    session.reconnect().await.expect("reconnect");
    assert!(session.is_connected());
    let pane = session.main_pane().expect("new console pane");
    server.type_line(&pane, "after restart");
    let (after, skipped) = expect_line(&mut lines, "after restart", LONG).await;
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(after.seq > before.seq);
    assert_ne!(
        after.id.source, before.id.source,
        "new server instance, new source"
    );
    assert!(
        drain(&mut lines, SHORT).await.is_empty(),
        "nothing repeated"
    );
    let probe = session.health().await;
    assert!(probe.reachable && probe.authenticated, "{probe:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_survives_a_crashed_server_without_duplicates() {
    let server = TestServer::new();
    server.start_ready("work", PROGRAM).await;
    let settings = server.pane_settings("work:0.0");
    let limit = settings.op_timeout;
    let session = TmuxSession::open(settings).await.expect("open");
    let mut lines = session.lines().expect("lines");
    let mut all = Vec::new();

    session.send("one", None, false).await.expect("send");
    let (one, _) = expect_line(&mut lines, "got:one", LONG).await;
    all.push(one);

    signal(server.pid(), "-KILL");
    assert!(wait_until(LONG, || !session.is_connected()).await);
    let started = Instant::now();
    let error = session
        .send("lost", None, false)
        .await
        .expect_err("server crashed");
    assert!(error.is_connection_error(), "{error}");
    let probe = session.health().await;
    assert!(!probe.reachable, "{probe:?}");
    // Reconnecting while the server is down fails, promptly.
    assert!(session.reconnect().await.is_err());
    assert_bounded(started, limit * 2);

    server.start_ready("work", PROGRAM).await;
    session.reconnect().await.expect("reconnect");
    session
        .send("two", None, false)
        .await
        .expect("send after reconnect");
    let (two, before_two) = expect_line(&mut lines, "got:two", LONG).await;
    all.extend(before_two);
    all.push(two);
    all.extend(drain(&mut lines, SHORT).await);

    // The unfinished `pending` of the crashed pane was delivered exactly once.
    assert_eq!(texts(&all), ["got:one", "pending", "got:two"]);
    let seqs: Vec<u64> = all.iter().map(|l| l.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_client_reconnects_to_the_same_panes() {
    let server = TestServer::new();
    let session = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("open");
    let mut lines = session.lines().expect("lines");
    let pane = session.main_pane().expect("pane");
    server.type_line(&pane, "first");
    let (first, _) = expect_line(&mut lines, "first", LONG).await;

    // Only our client goes away; the server and the console loop keep running.
    server.tmux(&["detach-client", "-s", "orchestrator"]);
    assert!(wait_until(LONG, || !session.is_connected()).await);
    let probe = session.health().await;
    assert!(probe.reachable && !probe.authenticated, "{probe:?}");
    assert!(probe.detail.unwrap_or_default().contains("reconnect"));

    session.reconnect().await.expect("reconnect");
    assert_eq!(session.main_pane(), Some(pane.clone()), "same console pane");
    server.type_line(&pane, "second");
    let (second, skipped) = expect_line(&mut lines, "second", LONG).await;
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(second.id.source, first.id.source, "same loop, same source");
    assert_eq!(second.id.number, first.id.number + 1);
    assert!(drain(&mut lines, SHORT).await.is_empty());
}

/// A server that stops answering (SIGSTOP) makes operations time out instead of hanging;
/// once it continues, late answers are discarded and later commands get their own answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_server_times_out_and_recovers() {
    let server = TestServer::new();
    server.start_ready("work", PROGRAM).await;
    let mut settings = server.pane_settings("work:0.0");
    settings.op_timeout = Duration::from_millis(1500);
    let limit = settings.op_timeout;
    let session = TmuxSession::open(settings).await.expect("open");
    let mut lines = session.lines().expect("lines");
    let pid = server.pid();

    signal(pid, "-STOP");
    let started = Instant::now();
    let error = session
        .send("during stop", None, false)
        .await
        .expect_err("no answer");
    assert!(matches!(error, TmuxError::Timeout { .. }), "{error}");
    assert_bounded(started, limit);
    let started = Instant::now();
    let probe = session.health().await;
    assert_bounded(started, limit);
    assert!(!probe.reachable, "{probe:?}");
    signal(pid, "-CONT");

    let delivered = session
        .send("after stop", None, true)
        .await
        .expect("answers line up again");
    assert_eq!(delivered.seen, Some(true));
    expect_line(&mut lines, "got:after stop", LONG).await;
    let probe = session.health().await;
    assert!(probe.reachable && probe.authenticated, "{probe:?}");
}

/// A reconnect ends the old control client while the pane prints bursts; done 100 times, the
/// server and the bystander session live on (tmux 3.3a died when a client holding queued
/// output was told to exit; ours are killed instead — see `control`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_during_bursts_never_takes_the_server_down() {
    let server = TestServer::new();
    server.start_session("bystander", &["sh"]);
    server.start_session(
        "work",
        &["sh", "-c", "while :; do seq 1 200; sleep 0.005; done"],
    );
    let session = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open");
    let pid = server.tmux(&["display-message", "-p", "-t", "bystander:", "#{pid}"]);
    for round in 0..100 {
        session
            .reconnect()
            .await
            .unwrap_or_else(|e| panic!("reconnect {round}: {e}"));
    }
    session.close();
    let after = server.tmux(&["display-message", "-p", "-t", "bystander:", "#{pid}"]);
    assert_eq!(after, pid, "the server was restarted");
    assert!(!pid.trim().is_empty());
}

/// A `tmux` that notes every control client it starts (`-C`) in `log`, then runs tmux.
fn logging_tmux(dir: &std::path::Path, log: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let wrapper = dir.join("tmux");
    let script = format!(
        "#!/bin/sh\ncase \" $* \" in *\" -C \"*) echo control >> '{}';; esac\nexec tmux \"$@\"\n",
        log.display()
    );
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    wrapper
}

/// While a pane-mode target is gone (an agent's session being restarted), the connector waits
/// for it through plain clients: it sets up no control client, so sessions created and closed
/// meanwhile — which tmux 3.3a announces to every control client, and crashes on when one is
/// being set up — never meet one. Once the target is back, its output streams again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_target_is_awaited_without_setting_up_control_clients() {
    let server = TestServer::new();
    server.start_session("bystander", &["sh"]);
    server.start_session("agent", &["sh", "-c", "sleep 1000"]);
    let dir = Scratch::new();
    let log = dir.file("control-clients");
    let mut settings = server.pane_settings("agent:0.0");
    settings.tmux_binary = logging_tmux(&dir.path, &log);
    let connector = TmuxConnector::with_settings(settings, SenderPolicy::allow_any(), 64)
        .await
        .expect("open");
    let mut inbound = connector.subscribe().await.expect("subscribe");
    let pid = server.pid();
    let control_clients = || {
        server
            .tmux(&["list-clients", "-F", "#{client_control_mode}"])
            .lines()
            .filter(|mode| mode.trim() == "1")
            .count()
    };
    assert!(
        wait_until(LONG, || control_clients() == 1).await,
        "the subscription streams through a control client"
    );

    server.tmux(&["kill-session", "-t", "=agent"]);
    assert!(
        wait_until(LONG, || control_clients() == 0).await,
        "the old control client is gone with its session"
    );
    let until = Instant::now() + Duration::from_secs(3);
    let mut rounds = 0;
    while Instant::now() < until {
        server.tmux(&["new-session", "-d", "-s", "churn"]);
        assert_eq!(
            control_clients(),
            0,
            "round {rounds}: a control client set up while the target is gone"
        );
        server.tmux(&["kill-session", "-t", "=churn"]);
        rounds += 1;
    }
    assert!(rounds > 10, "only {rounds} rounds");
    let started = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        started.lines().count(),
        1,
        "control clients were set up while the target was gone: {started}"
    );

    server.start_session(
        "agent",
        &["sh", "-c", "while :; do echo back; sleep 0.2; done"],
    );
    let line = tokio::time::timeout(LONG, async {
        loop {
            let message = inbound.recv().await.expect("the subscription stays open");
            if message.text.contains("back") {
                return message;
            }
        }
    })
    .await
    .expect("the returned target's output arrives");
    assert!(line.text.contains("back"));
    assert_eq!(server.pid(), pid, "the server was restarted");
    connector.close().await.expect("close");
}
