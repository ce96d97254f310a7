//! The `connector` binary end to end against a real tmux server of the test's own.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A private tmux server and a roster pointing at it; the server is killed on drop.
struct Server {
    socket: String,
    roster: PathBuf,
}

impl Server {
    fn new(block: &str) -> Self {
        let socket = format!(
            "ccli-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let roster = std::env::temp_dir().join(format!("{socket}.yaml"));
        let text = format!(
            "agents: [builder]\nconnector:\n  kind: tmux\n  tmux:\n    socket_name: {socket}\n{block}"
        );
        std::fs::write(&roster, text).unwrap();
        Self { socket, roster }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        StdCommand::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8(
            self.tmux(&["capture-pane", "-p", "-J", "-t", "=orchestrator:"])
                .stdout,
        )
        .unwrap()
    }

    /// Types `line` and Enter into the console, as the operator would.
    fn type_line(&self, line: &str) {
        for keys in [&["-l", "--", line][..], &["Enter"]] {
            let mut args = vec!["send-keys", "-t", "=orchestrator:"];
            args.extend_from_slice(keys);
            assert!(self.tmux(&args).status.success());
        }
    }

    fn connector(&self) -> Command {
        let mut command = Command::cargo_bin("connector").unwrap();
        command
            .env_remove("RUST_LOG")
            .env_remove("CONNECTOR_ROSTER")
            .arg("--roster")
            .arg(&self.roster);
        command
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.roster);
    }
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn demo_shows_a_real_round_trip() {
    let socket = format!("ccli-demo-{}", std::process::id());
    let output = Command::cargo_bin("connector")
        .unwrap()
        .args(["demo", "--socket", &socket, "--wait", "0"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let _ = StdCommand::new("tmux")
        .args(["-L", &socket, "kill-server"])
        .output();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    insta::with_settings!({ filters => vec![
        (socket.as_str(), "[SOCKET]"),
        (r"pid \d+", "pid [PID]"),
        (r"%\d+", "%[PANE]"),
    ]}, {
        insta::assert_snapshot!(stdout);
    });
}

#[test]
fn send_prints_the_receipt_and_the_operator_sees_the_text() {
    let server = Server::new("");
    let output = server
        .connector()
        .args(["send", "--json", "deploy finished: 42 tests green"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let receipt: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(receipt["kind"], "tmux");
    assert_eq!(receipt["confirmed"], true);
    assert_eq!(receipt["message_ids"].as_array().unwrap().len(), 1);
    assert!(server.screen().contains("deploy finished: 42 tests green"));

    let output = server
        .connector()
        .args(["send", "--key", "fixed-key-1", "shown once"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap(), @"sent 1 part(s): tmux-out:fixed-key-1 over tmux (confirmed)");
}

/// tmux shows text only: a file to attach is refused (exit 6) naming the capability, and
/// nothing reaches the console; a send with neither text nor a file is a usage error.
#[test]
fn attachments_are_refused_where_the_platform_takes_no_files() {
    let server = Server::new("");
    let file = tempfile::NamedTempFile::new().unwrap();
    let output = server
        .connector()
        .args(["send", "--attach"])
        .arg(file.path())
        .arg("see the attached log")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("attachments"), "{stderr}");
    assert!(!server.screen().contains("see the attached log"));

    let output = server.connector().arg("send").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "neither TEXT nor --attach");
}

#[test]
fn listen_prints_one_json_object_a_line() {
    let server = Server::new("");
    let mut child = StdCommand::new(cargo_bin("connector"))
        .args(["--roster"])
        .arg(&server.roster)
        .args(["listen", "--json", "--count", "2", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut notice = String::new();
    stderr.read_line(&mut notice).unwrap();
    assert_eq!(notice.trim(), "listening on tmux (Ctrl-C to stop)");
    for line in [
        "first reply",
        "second: $(touch /tmp/never) `and` ; kill-server",
    ] {
        server.type_line(line);
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "first reply");
    assert_eq!(
        lines[1]["text"],
        "second: $(touch /tmp/never) `and` ; kill-server"
    );
    assert_eq!(lines[0]["sender"], "tmux:operator");
    assert!(
        lines[0]["ts"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 timestamps"
    );
    assert!(
        server.tmux(&["has-session"]).status.success(),
        "the typed `kill-server` was text, not a command"
    );
}

#[test]
fn listen_times_out_with_status_7() {
    let server = Server::new("");
    let output = server
        .connector()
        .args(["listen", "--timeout", "0.5"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7));
}

#[test]
fn health_statuses() {
    let server = Server::new("");
    let output = server.connector().arg("health").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("tmux: reachable ✓ authenticated ✓"),
        "{stdout}"
    );

    // A pane endpoint whose pane does not exist: reachable, not ours to use.
    let pane = Server::new("    mode: pane\n    target: \"nosuch:0.0\"\n");
    assert!(
        pane.tmux(&["new-session", "-d", "-s", "other"])
            .status
            .success()
    );
    wait_for("the server", || {
        pane.tmux(&["has-session"]).status.success()
    });
    let output = pane.connector().arg("health").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // No server at all for a pane endpoint: unreachable.
    let down = Server::new("    mode: pane\n    target: \"agents:0.0\"\n");
    let output = down.connector().arg("health").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The question as the console shows it, with its random id and the clock redacted.
fn redacted(screen: &str, id: &str) -> String {
    let clock = redact_clock(&screen.replace(id, "[id]"));
    clock
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `HH:MM UTC` → `[time] UTC`.
fn redact_clock(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" UTC") {
        let (before, after) = rest.split_at(at);
        let keep = before.len().saturating_sub(5);
        if before.len() >= 5 && before.as_bytes()[keep + 2] == b':' {
            out.push_str(&before[..keep]);
            out.push_str("[time]");
        } else {
            out.push_str(before);
        }
        out.push_str(" UTC");
        rest = &after[4..];
    }
    out.push_str(rest);
    out
}

#[test]
fn ask_prints_the_typed_choice_and_the_console_shows_the_outcome() {
    let server = Server::new("");
    let child = StdCommand::new(cargo_bin("connector"))
        .arg("--roster")
        .arg(&server.roster)
        .args([
            "ask",
            "Deploy **v2** to prod?",
            "--choice",
            "Deploy now",
            "--choice",
            "Wait",
        ])
        .args(["--id", "deploy-v2", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the question on the console", || {
        server.screen().contains("deploy-v2")
    });
    server.type_line("2");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["text"], "Wait");
    assert_eq!(answer["sender"], "tmux:operator");
    assert_eq!(answer["message_id"], "answer:deploy-v2");
    assert_eq!(answer["answer"]["question_id"], "deploy-v2");
    assert_eq!(answer["answer"]["outcome"], "chosen");
    assert_eq!(answer["answer"]["choice_id"], "wait");
    wait_for("the outcome on the console", || {
        server.screen().contains("✅ Wait")
    });
    insta::assert_snapshot!(redacted(&server.screen(), "deploy-v2"), @r#"
>
Deploy **v2** to prod?
1. Deploy now
2. Wait
Type its number (1–2) or its label, or `<choice> [id]` from anywhere.
> 2
>
✅ Wait — tmux:operator, [time] UTC (question [id])
>
"#);
}

#[test]
fn ask_expires_with_status_7_and_bad_questions_are_usage_errors() {
    let server = Server::new("");
    let output = server
        .connector()
        .args([
            "ask",
            "Merge?",
            "--choice",
            "Yes",
            "--choice",
            "No",
            "--timeout",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("expired without an answer"), "{stderr}");
    wait_for("the expiry on the console", || {
        server.screen().contains("⌛ Expired")
    });

    let mut refusals = Vec::new();
    for args in [
        &["ask", "Merge?", "--choice", "Yes"][..],
        &["ask", "Merge?", "--choice", "Yes", "--choice", "yes"],
        &[
            "ask", "Merge?", "--choice", "Yes", "--choice", "No", "--id", "Bad Id",
        ],
        &[
            "ask",
            "Merge?",
            "--choice",
            "Yes",
            "--choice",
            "No",
            "--timeout",
            "0",
        ],
    ] {
        let output = server.connector().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        refusals.push(String::from_utf8(output.stderr).unwrap());
    }
    insta::assert_snapshot!(refusals.concat(), @r#"
error: invalid choices: a question offers 2 to 10 choices, not 1
error: invalid choices: two choices are labelled "yes"
error: invalid question_id: "Bad Id" is not a question id: use 1 to 32 lowercase ASCII letters, digits, '-' or '_'
error: --timeout 0: give a number of seconds above 0
"#);
}
