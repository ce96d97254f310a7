//! Operator console against a real tmux: round trips, threads, session reuse, and proof
//! that outbound text is only ever shown.

mod common;

use common::{LONG, SHORT, Scratch, TestServer, drain, expect_line, wait_until};
use connector_tmux::TmuxSession;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_round_trip_creates_session_and_server() {
    let server = TestServer::new();
    // No server is running yet: opening the console starts it and the session.
    let session = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("open console");
    let mut lines = session.lines().expect("first take");
    assert!(session.lines().is_none(), "lines are handed out once");
    let pane = session.main_pane().expect("console pane");

    let delivered = session
        .send("Build finished. Deploy to prod?", None, true)
        .await
        .expect("show message");
    assert_eq!(delivered.seen, Some(true));
    assert!(
        wait_until(LONG, || server
            .screen(&pane)
            .contains("Build finished. Deploy to prod?"))
        .await
    );

    server.type_line(&pane, "yes, ship it");
    let (first, _) = expect_line(&mut lines, "yes, ship it", LONG).await;
    assert_eq!(first.thread, None);
    assert_eq!(first.pane, pane);

    server.type_line(&pane, "  and tag it  ");
    let (second, _) = expect_line(&mut lines, "  and tag it  ", LONG).await;
    assert!(second.seq > first.seq);
    assert_eq!(second.id.number, first.id.number + 1);

    // The echo of typed text and our own output are not inbound.
    assert!(drain(&mut lines, SHORT).await.is_empty());

    let probe = session.health().await;
    assert!(probe.reachable && probe.authenticated, "{probe:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_session_is_reused_and_a_foreign_session_gets_a_console_window() {
    let server = TestServer::new();
    let first = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("open");
    let pane = first.main_pane().expect("pane");
    drop(first);

    let again = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("reopen");
    assert_eq!(again.main_pane().as_deref(), Some(pane.as_str()));
    let windows = server.tmux(&["list-windows", "-t", "orchestrator", "-F", "#{window_id}"]);
    assert_eq!(windows.lines().count(), 1, "{windows}");

    // A session of that name created by someone else, running a plain shell: the shell is
    // left alone and a console window is added.
    server.start_session("ops", &["sh"]);
    let shell_pane = server.tmux(&["display-message", "-p", "-t", "ops", "#{pane_id}"]);
    let ops = TmuxSession::open(server.console_settings("ops"))
        .await
        .expect("open over foreign session");
    let console_pane = ops.main_pane().expect("pane");
    assert_ne!(console_pane, shell_pane.trim());
    let mut lines = ops.lines().expect("lines");
    server.type_line(&console_pane, "hello from ops");
    expect_line(&mut lines, "hello from ops", LONG).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_threads_round_trip() {
    let server = TestServer::new();
    let session = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("open");
    let mut lines = session.lines().expect("lines");

    let thread_id = "deploy/42 #{x}";
    let window = session
        .ensure_thread_window(thread_id)
        .await
        .expect("thread window");
    assert_eq!(window.name, "deploy_42___x_");
    assert_eq!(
        session
            .ensure_thread_window(thread_id)
            .await
            .expect("again"),
        window,
        "found again, not created twice"
    );
    let name = server.tmux(&[
        "display-message",
        "-p",
        "-t",
        &window.window_id,
        "#{window_name}",
    ]);
    assert_eq!(name.trim(), "deploy_42___x_");

    let delivered = session
        .send("thread message", Some(thread_id), true)
        .await
        .expect("send to thread");
    assert_eq!(delivered.pane, window.pane_id);
    assert_eq!(delivered.seen, Some(true));
    assert!(
        wait_until(LONG, || server
            .screen(&window.pane_id)
            .contains("thread message"))
        .await
    );

    server.type_line(&window.pane_id, "reply in thread");
    let (line, _) = expect_line(&mut lines, "reply in thread", LONG).await;
    assert_eq!(line.thread.as_deref(), Some(thread_id));

    let main = session.main_pane().expect("main");
    server.type_line(&main, "reply in main");
    let (line, _) = expect_line(&mut lines, "reply in main", LONG).await;
    assert_eq!(line.thread, None);

    // A new connection finds the thread window by its marker, not by creating another.
    drop(session);
    let reopened = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("reopen");
    let mut lines = reopened.lines().expect("lines");
    let found = reopened
        .ensure_thread_window(thread_id)
        .await
        .expect("find thread");
    assert_eq!(found.window_id, window.window_id);
    server.type_line(&found.pane_id, "still threaded");
    let (line, _) = expect_line(&mut lines, "still threaded", LONG).await;
    assert_eq!(line.thread.as_deref(), Some(thread_id));
}

/// Outbound text in console mode is shown and never executed, never typed, never taken by
/// tmux as a command: no marker file appears, the console loop reports no line (nothing
/// reached its input), the server survives `kill-server` text, and the screen shows the
/// neutralised text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_outbound_cannot_execute_or_type() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    let session = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("open");
    let mut lines = session.lines().expect("lines");
    let pane = session.main_pane().expect("pane");

    let payloads = [
        "ctrl-c \x03 after".to_owned(),
        "ctrl-d \x04 after".to_owned(),
        format!("end paste \x1b[201~touch {marker}\r"),
        format!("osc \x1b]2;touch {marker}\x07 after"),
        "delete \x7f after".to_owned(),
        format!("c1 csi \u{9b}201~touch {marker}"),
        format!("two\nlines\rtouch {marker}"),
        format!("; run-shell \"touch {marker}\""),
        format!("#{{pane_id}} #(touch {marker})"),
        format!("$(touch {marker}) `touch {marker}`"),
        "-n \\; kill-server".to_owned(),
        "'single' \"double\" ~ $HOME ${HOME}".to_owned(),
    ];
    for payload in &payloads {
        session
            .send_console(payload, None)
            .await
            .unwrap_or_else(|e| panic!("send {payload:?}: {e}"));
    }
    session
        .send("LAST PAYLOAD SHOWN", None, true)
        .await
        .expect("final");

    assert!(
        !common::appears(&scratch.file("MARKER"), SHORT).await,
        "marker created"
    );
    let inbound = drain(&mut lines, SHORT).await;
    assert!(
        inbound.is_empty(),
        "outbound text reached the console's input: {inbound:?}"
    );
    let probe = session.health().await;
    assert!(probe.reachable && probe.authenticated, "{probe:?}");

    let history = server.tmux(&["capture-pane", "-p", "-J", "-S", "-200", "-t", &pane]);
    for shown in [
        "ctrl-c ^C after",
        "ctrl-d ^D after",
        "end paste ^[[201~touch",
        "delete ^? after",
        "c1 csi M-^[201~touch",
        "#{pane_id} #(touch",
        "$(touch",
        "-n \\; kill-server",
        "'single' \"double\" ~ $HOME ${HOME}",
        "LAST PAYLOAD SHOWN",
    ] {
        assert!(
            history.contains(shown),
            "{shown:?} not on screen:\n{history}"
        );
    }
}

/// What the operator types is delivered literally and the console loop executes none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_typed_lines_are_literal() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    let session = TmuxSession::open(server.console_settings("orchestrator"))
        .await
        .expect("open");
    let mut lines = session.lines().expect("lines");
    let pane = session.main_pane().expect("pane");

    for typed in [
        format!("$(touch {marker})"),
        format!("`touch {marker}`; touch {marker}"),
        "'quotes' \"and\" \\backslash\\ %s %n ünïcödé".to_owned(),
        "-n".to_owned(),
    ] {
        server.type_line(&pane, &typed);
        expect_line(&mut lines, &typed, LONG).await;
    }
    // C-c discards the line being typed; the loop survives it and C-d.
    server.tmux(&["send-keys", "-t", &pane, "-l", "discarded"]);
    server.tmux(&["send-keys", "-t", &pane, "C-c"]);
    server.tmux(&["send-keys", "-t", &pane, "C-d"]);
    server.type_line(&pane, "after interrupt");
    let (_, skipped) = expect_line(&mut lines, "after interrupt", LONG).await;
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(!scratch.file("MARKER").exists());
}

/// Dropping a session after its runtime is gone neither panics nor leaves the client
/// running.
#[test]
fn dropping_after_the_runtime_is_safe() {
    let server = TestServer::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let session = runtime
        .block_on(TmuxSession::open(server.console_settings("orchestrator")))
        .expect("open");
    drop(runtime);
    drop(session);
    let clients = server.tmux(&["list-clients", "-F", "#{client_name}"]);
    let deadline = std::time::Instant::now() + LONG;
    let mut clients = clients;
    while !clients.trim().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        clients = server.tmux(&["list-clients", "-F", "#{client_name}"]);
    }
    assert!(
        clients.trim().is_empty(),
        "control client still attached: {clients}"
    );
}
