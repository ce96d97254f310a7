//! Pane endpoint against a real tmux: round trips, threads, literal delivery (the only key
//! pressed is the final Enter), multi-line policy, verification, and escape injection into
//! a real bash.

mod common;

use std::time::Duration;

use common::{LONG, READY, SHORT, Scratch, TestServer, appears, expect_line, wait_until};
use connector_tmux::sanitize::{Newlines, neutralize};
use connector_tmux::{LineBreaks, TmuxError, TmuxSession};

/// A program that answers each line it reads with `got:<line>` (no tty echo).
const ECHO_LOOP: &str = "stty -echo; printf '\\033]2;ready\\007'; \
    while IFS= read -r l; do printf 'got:%s\\n' \"$l\"; done";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_round_trip_and_verification() {
    let server = TestServer::new();
    server.start_ready("work", ECHO_LOOP).await;
    let session = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open pane");
    let mut lines = session.lines().expect("lines");

    let delivered = session
        .send_to_pane("hello agent", None, true)
        .await
        .expect("send");
    assert_eq!(delivered.seen, Some(true), "the program printed it back");
    assert!(!delivered.folded);
    let (line, _) = expect_line(&mut lines, "got:hello agent", LONG).await;
    assert_eq!(line.thread, None);
    assert_eq!(Some(line.pane.clone()), session.main_pane());

    // The same pane addressed by its id works too.
    let by_id = TmuxSession::open(server.pane_settings(&line.pane))
        .await
        .expect("open by pane id");
    by_id.send("second", None, false).await.expect("send");
    expect_line(&mut lines, "got:second", LONG).await;

    let probe = session.health().await;
    assert!(probe.reachable && probe.authenticated, "{probe:?}");

    // Console operations are refused in pane mode.
    assert!(matches!(
        session.send_console("x", None).await,
        Err(TmuxError::WrongMode { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_target_is_reported() {
    let server = TestServer::new();
    server.start_ready("work", ECHO_LOOP).await;
    let error = TmuxSession::open(server.pane_settings("nosuch:0.0"))
        .await
        .expect_err("no such session");
    assert!(matches!(error, TmuxError::TargetNotFound { .. }), "{error}");
}

/// Attaching must not change which window the operator looks at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaching_leaves_the_current_window_alone() {
    let server = TestServer::new();
    server.start_ready("work", ECHO_LOOP).await;
    server.tmux(&["new-window", "-t", "work:", "sh"]);
    let before = server.tmux(&["display-message", "-p", "-t", "work", "#{window_index}"]);
    assert_eq!(before.trim(), "1");
    let session = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open");
    session.send("x", None, false).await.expect("send");
    let after = server.tmux(&["display-message", "-p", "-t", "work", "#{window_index}"]);
    assert_eq!(after.trim(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_threads_round_trip() {
    let server = TestServer::new();
    server.start_ready("work", ECHO_LOOP).await;
    let mut settings = server.pane_settings("work:0.0");
    settings.thread_command = Some(vec!["sh".into(), "-c".into(), ECHO_LOOP.into()]);
    let session = TmuxSession::open(settings).await.expect("open");
    let mut lines = session.lines().expect("lines");

    let thread = "th/1; \"q\" $(x)";
    let window = session.ensure_thread_window(thread).await.expect("window");
    assert_eq!(
        server
            .tmux(&[
                "display-message",
                "-p",
                "-t",
                &window.window_id,
                "#{session_name}"
            ])
            .trim(),
        "work"
    );
    server.wait_ready(&window.pane_id).await;
    session
        .send("in thread", Some(thread), false)
        .await
        .expect("send to thread");
    let (line, _) = expect_line(&mut lines, "got:in thread", LONG).await;
    assert_eq!(line.thread.as_deref(), Some(thread));
    assert_eq!(line.pane, window.pane_id);

    session
        .send("in main", None, false)
        .await
        .expect("send main");
    let (line, _) = expect_line(&mut lines, "got:in main", LONG).await;
    assert_eq!(line.thread, None);
}

/// Every payload reaches a shell's `read` as literal text: no key but the final Enter is
/// pressed, nothing is executed by tmux or the shell, and the bytes read are exactly the
/// neutralised text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_payloads_arrive_literally() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    let out = scratch.path_str("out");
    let reader = format!("while IFS= read -r x; do printf '%s\\n' \"$x\" >> '{out}'; done");
    server.start_session("work", &["sh", "-c", &reader]);
    let session = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open");

    let payloads = [
        format!("ctrl-c \x03touch {marker}"),
        format!("ctrl-d \x04touch {marker}"),
        format!("paste end \x1b[201~touch {marker}"),
        format!("osc \x1b]2;touch {marker}\x07"),
        format!("delete \x7f c1 \u{9b}201~ touch {marker}"),
        format!("two\nlines\rtouch {marker}"),
        format!("; run-shell \"touch {marker}\""),
        format!("\\; run-shell 'touch {marker}'"),
        format!("#{{pane_id}} #(touch {marker}) #{{l:x}}"),
        format!("$(touch {marker}) `touch {marker}` ${{HOME}} $HOME ~"),
        "-n".to_owned(),
        "-- -t %0".to_owned(),
        "tab\there 'single' \"double\" \\backslash".to_owned(),
        "ünïcödé ✓".to_owned(),
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let delivered = session
            .send_to_pane(payload, None, false)
            .await
            .unwrap_or_else(|e| panic!("send {payload:?}: {e}"));
        let expected = neutralize(payload, Newlines::Join);
        assert_eq!(delivered.folded, payload.contains(['\n', '\r']));
        let got = wait_until(LONG, || {
            std::fs::read_to_string(&out)
                .map(|s| s.lines().count() > i)
                .unwrap_or(false)
        })
        .await;
        assert!(got, "payload {payload:?} never arrived");
        let text = std::fs::read_to_string(&out).expect("out");
        assert_eq!(
            text.lines().nth(i),
            Some(expected.as_str()),
            "payload {payload:?}"
        );
    }
    let text = std::fs::read_to_string(&out).expect("out");
    assert_eq!(
        text.lines().count(),
        payloads.len(),
        "one line per send:\n{text}"
    );
    assert!(
        !appears(&scratch.file("MARKER"), SHORT).await,
        "marker created"
    );
    assert!(session.health().await.authenticated, "server survived");
}

/// The exact bytes a raw-mode program receives. With `line_breaks: paste`, a program that asked
/// for bracketed paste gets one paste holding all lines and then one Enter; with the default
/// rule every program gets one folded line (bracketed if it asked) and one Enter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_line_is_one_paste_and_one_enter() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    let bracketed_out = scratch.path_str("bracketed");
    let plain_out = scratch.path_str("plain");
    // Asks for bracketed paste (repeatedly, so we see it after attaching), records stdin.
    let bracketed = format!(
        "stty raw -echo; {READY}; while :; do printf '\\033[?2004h'; sleep 0.2; done & exec cat > '{bracketed_out}'"
    );
    let plain = format!("stty raw -echo; {READY}; exec cat > '{plain_out}'");
    server.start_ready("work", &bracketed).await;
    server.tmux(&["new-window", "-d", "-t", "work:1", "sh", "-c", &plain]);
    server.wait_ready("work:1.0").await;

    let text = format!("echo a\ntouch {marker}\x1b[201~\ntouch {marker}");
    let mut literal = server.pane_settings("work:0.0");
    literal.line_breaks = LineBreaks::Paste;
    let session = TmuxSession::open(literal).await.expect("open");
    let pane = session.main_pane().expect("pane");
    assert!(wait_until(LONG, || session.bracketed_paste(&pane) == Some(true)).await);
    let delivered = session
        .send_to_pane(&text, None, false)
        .await
        .expect("send");
    assert!(!delivered.folded);
    let expected = format!("\x1b[200~echo a\rtouch {marker}^[[201~\rtouch {marker}\x1b[201~\r");
    assert!(
        wait_until(LONG, || std::fs::read(&bracketed_out).unwrap_or_default()
            == expected.as_bytes())
        .await,
        "got {:?}",
        String::from_utf8_lossy(&std::fs::read(&bracketed_out).unwrap_or_default())
    );

    // The default rule folds, for a program with bracketed paste too.
    let folding = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open folding");
    assert!(
        folding
            .send_to_pane(&text, None, false)
            .await
            .expect("send")
            .folded
    );
    let expected =
        format!("{expected}\x1b[200~echo a ⏎ touch {marker}^[[201~ ⏎ touch {marker}\x1b[201~\r");
    assert!(
        wait_until(LONG, || std::fs::read(&bracketed_out).unwrap_or_default()
            == expected.as_bytes())
        .await,
        "got {:?}",
        String::from_utf8_lossy(&std::fs::read(&bracketed_out).unwrap_or_default())
    );

    let plain_session = TmuxSession::open(server.pane_settings("work:1.0"))
        .await
        .expect("open plain");
    let delivered = plain_session
        .send_to_pane(&text, None, false)
        .await
        .expect("send");
    assert!(delivered.folded);
    let expected = format!("echo a ⏎ touch {marker}^[[201~ ⏎ touch {marker}\r");
    assert!(
        wait_until(LONG, || std::fs::read(&plain_out).unwrap_or_default()
            == expected.as_bytes())
        .await,
        "got {:?}",
        String::from_utf8_lossy(&std::fs::read(&plain_out).unwrap_or_default())
    );
    assert!(!scratch.file("MARKER").exists());
}

/// A real interactive shell without bracketed paste (dash) gets a multi-line message as
/// one line, so it runs one (harmless) command and never the hidden second line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_shell_never_runs_a_second_line() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    server.start_session("work", &["sh", "-i"]);
    let session = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open");
    let mut lines = session.lines().expect("lines");
    let delivered = session
        .send_to_pane(&format!("echo first\ntouch {marker}"), None, true)
        .await
        .expect("send");
    assert!(delivered.folded);
    assert_eq!(delivered.seen, Some(true), "the shell echoed the line");
    expect_line(&mut lines, &format!("first ⏎ touch {marker}"), LONG).await;
    assert!(!appears(&scratch.file("MARKER"), SHORT).await);
}

/// bash enables bracketed paste at its prompt. A bracketed-paste end marker hidden in the
/// text would end the paste early and let the rest run as typed input; neutralised, bash
/// only sees a harmless (unknown) command word. The control experiment shows that the same
/// bytes pasted raw do run the command, so the check is meaningful.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bash_does_not_run_a_command_hidden_after_an_escape() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    let control = scratch.path_str("CONTROL");
    server.start_session(
        "work",
        &[
            "env",
            "PS1=$ ",
            "INPUTRC=/dev/null",
            "bash",
            "--norc",
            "--noprofile",
            "-i",
        ],
    );
    let session = TmuxSession::open(server.pane_settings("work:0.0"))
        .await
        .expect("open");
    let pane = session.main_pane().expect("pane");
    // A fresh prompt after we attached tells us bash wants bracketed paste.
    session.send_to_pane("", None, false).await.expect("enter");
    assert!(wait_until(LONG, || session.bracketed_paste(&pane) == Some(true)).await);

    session
        .send_to_pane(&format!("\x1b[201~touch {marker} #"), None, false)
        .await
        .expect("send");
    session
        .send_to_pane(&format!("y\u{9b}201~touch {marker}\x03"), None, true)
        .await
        .expect("send");
    assert!(
        !appears(&scratch.file("MARKER"), Duration::from_secs(1)).await,
        "injection ran"
    );

    // Control experiment: the raw bytes, pasted without neutralisation, do run it.
    server.tmux(&[
        "set-buffer",
        "-b",
        "raw",
        "--",
        &format!("\x1b[201~touch {control} #"),
    ]);
    server.tmux(&["paste-buffer", "-p", "-d", "-b", "raw", "-t", &pane]);
    server.tmux(&["send-keys", "-t", &pane, "Enter"]);
    assert!(
        appears(&scratch.file("CONTROL"), LONG).await,
        "control experiment: raw paste end should have run the command"
    );
}

/// `verify` reports what it saw: a program with echo off that prints nothing leaves the
/// text unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_reports_unseen_text() {
    let server = TestServer::new();
    server.start_session(
        "work",
        &[
            "sh",
            "-c",
            "stty -echo; printf echo-off; exec cat > /dev/null",
        ],
    );
    // Echo must be off before we type, or the tty itself shows the text.
    assert!(wait_until(LONG, || server.screen("work:0.0").contains("echo-off")).await);
    let mut settings = server.pane_settings("work:0.0");
    settings.verify_timeout = Duration::from_millis(500);
    let session = TmuxSession::open(settings).await.expect("open");
    let delivered = session
        .send_to_pane("silent", None, true)
        .await
        .expect("send");
    assert_eq!(delivered.seen, Some(false));
}

/// One meaning for a line break, on every path: by default a message is one line of input,
/// whether a long-running connector (control client, bracketed paste seen) or a one-shot one
/// (plain clients, nothing seen) delivers it. `\n`, `\r\n` and a lone `\r` hidden after a
/// comment never run the command behind them, in bash (bracketed paste on) nor in dash (no
/// bracketed paste). The control experiment types each payload raw and the command runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_break_never_runs_a_second_command_by_default() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let bash = [
        "env",
        "PS1=$ ",
        "INPUTRC=/dev/null",
        "bash",
        "--norc",
        "--noprofile",
        "-i",
    ];
    server.start_session("bash", &bash);
    server.start_session("dash", &["env", "PS1=$ ", "dash", "-i"]);
    let breaks = [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")];
    for shell in ["bash", "dash"] {
        let target = format!("{shell}:0.0");
        let streaming = TmuxSession::open(server.pane_settings(&target))
            .await
            .expect("open streaming");
        let one_shot = TmuxSession::open_without_output(server.pane_settings(&target))
            .await
            .expect("open one-shot");
        if shell == "bash" {
            // A fresh prompt after we attached: the long-running path has seen bracketed paste.
            streaming
                .send_to_pane("", None, false)
                .await
                .expect("enter");
            let pane = streaming.main_pane().expect("pane");
            assert!(wait_until(LONG, || streaming.bracketed_paste(&pane) == Some(true)).await);
        }
        for (path, session) in [("streaming", &streaming), ("one-shot", &one_shot)] {
            for (name, line_break) in breaks {
                let marker = scratch.path_str(&format!("{shell}-{path}-{name}"));
                let delivered = session
                    .send_to_pane(&format!("# x{line_break}touch {marker}"), None, false)
                    .await
                    .expect("send");
                assert!(delivered.folded, "{shell} {path} {name}");
            }
        }
        // Let the shell work through every line it was given.
        let done = scratch.path_str(&format!("{shell}-done"));
        one_shot
            .send_to_pane(&format!("touch {done}"), None, false)
            .await
            .expect("send");
        assert!(appears(&scratch.file(&format!("{shell}-done")), LONG).await);
        for path in ["streaming", "one-shot"] {
            for (name, _) in breaks {
                let marker = format!("{shell}-{path}-{name}");
                assert!(
                    !scratch.file(&marker).exists(),
                    "{marker}: a line break ran a second command"
                );
            }
        }
        // Control experiment: the same payloads pasted raw run the hidden command.
        for (name, line_break) in breaks {
            let control = scratch.path_str(&format!("{shell}-control-{name}"));
            server.tmux(&[
                "set-buffer",
                "-b",
                "raw",
                "--",
                &format!("# x{line_break}touch {control}"),
            ]);
            server.tmux(&["paste-buffer", "-p", "-d", "-b", "raw", "-t", &target]);
            server.tmux(&["send-keys", "-t", &target, "Enter"]);
            assert!(
                appears(&scratch.file(&format!("{shell}-control-{name}")), LONG).await,
                "control experiment ({shell}, {name}): the raw payload should have run"
            );
        }
    }
}

/// With `line_breaks: paste`, a multi-line message reaches an agent-like program (raw mode,
/// bracketed paste on) as one bracketed paste with its line breaks, then one Enter — from a
/// one-shot connector too, which never saw the program ask for bracketed paste (tmux did).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_line_breaks_reach_an_agent_as_one_prompt_on_every_path() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let out = scratch.path_str("prompt");
    let agent = format!("stty raw -echo; printf '\\033[?2004h'; {READY}; exec cat > '{out}'");
    server.start_ready("agent", &agent).await;
    let mut settings = server.pane_settings("agent:0.0");
    settings.line_breaks = LineBreaks::Paste;
    let one_shot = TmuxSession::open_without_output(settings.clone())
        .await
        .expect("open one-shot");
    let streaming = TmuxSession::open(settings).await.expect("open streaming");
    let text = "first line\nsecond line\r\nthird";
    let one = "\x1b[200~first line\rsecond line\rthird\x1b[201~\r";
    for (i, session) in [&one_shot, &streaming].into_iter().enumerate() {
        let delivered = session.send_to_pane(text, None, false).await.expect("send");
        assert!(!delivered.folded);
        let expected = one.repeat(i + 1);
        assert!(
            wait_until(LONG, || std::fs::read(&out).unwrap_or_default()
                == expected.as_bytes())
            .await,
            "got {:?}",
            String::from_utf8_lossy(&std::fs::read(&out).unwrap_or_default())
        );
    }
}
