//! The `connector` command's help, errors and exit statuses, run as a real binary.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use assert_cmd::Command;
use common::{Dir, Tmux};

fn connector() -> Command {
    let mut command = Command::cargo_bin("connector").expect("the connector binary is built");
    command
        .env_remove("CONNECTOR_ROSTER")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

fn examples(name: &str) -> String {
    format!(
        "{}/../../examples/rosters/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn help_lists_the_commands() {
    let output = connector().arg("--help").output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn invalid_roster_exits_3_with_every_problem() {
    let roster =
        std::env::temp_dir().join(format!("connector-cli-bad-{}.yaml", std::process::id()));
    std::fs::write(&roster, "connector:\n  kind: matrix\n  matrix:\n    homeserver_url: x\n    user_id: y\n    room_id: z\n").unwrap();
    let output = connector()
        .args(["health", "--roster"])
        .arg(&roster)
        .output()
        .unwrap();
    std::fs::remove_file(&roster).unwrap();
    assert_eq!(output.status.code(), Some(3));
    insta::assert_snapshot!(String::from_utf8(output.stderr).unwrap(), @r#"
    error: connector.allowed_senders: required for kind matrix: list the operators who may talk to the orchestrator (e.g. ["@alice:example.org"]), turn on pairing (pairing: {enabled: true}) or set allow_any_sender: true
    connector.matrix.homeserver_url: "x" is not a homeserver URL: use http(s)://host[:port][/path], no query or fragment
    connector.matrix.user_id: "y" is not a Matrix user id like @orchestrator:example.org
    connector.matrix.room_id: "z": a room id starts with '!' (e.g. !abcdef:example.org)
    "#);
}

#[test]
fn secret_in_roster_names_the_variable() {
    let output = connector()
        .args([
            "send",
            "--roster",
            &examples("invalid/discord-bot-token.yaml"),
            "hi",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("DISCORD_BOT_TOKEN"), "{stderr}");
    assert!(
        !stderr.contains("not-a-real-token"),
        "the secret must not be echoed: {stderr}"
    );
}

#[test]
fn missing_roster_file_exits_3() {
    let output = connector()
        .args(["health", "--roster", "/nonexistent/roster.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    insta::assert_snapshot!(String::from_utf8(output.stderr).unwrap(), @"error: cannot read roster /nonexistent/roster.yaml: No such file or directory (os error 2)");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        connector()
            .arg("frobnicate")
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        connector().args(["send"]).output().unwrap().status.code(),
        Some(2)
    );
}

#[test]
fn bad_idempotency_key_exits_3() {
    let output = connector()
        .args(["send", "--key", "has space", "hi"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("idempotency_key"), "{stderr}");
}

/// A roster for a tmux pane endpoint on a server that is not running. A `send` that got as far
/// as opening the connector would fail there with exit status 4 and touch no tmux server, so
/// status 2 proves the text was refused first.
fn unreachable_roster(dir: &Dir, tmux: &Tmux) -> PathBuf {
    dir.file(
        "unreachable.yaml",
        &format!(
            "connector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n    mode: pane\n    target: \"nosuch:0.0\"\n",
            tmux.socket
        ),
    )
}

/// `connector --roster ROSTER send ARGS` with `stdin`; answers the exit status and stderr.
fn send(dir: &Dir, roster: &PathBuf, args: &[&OsStr], stdin: &[u8]) -> (Option<i32>, String) {
    let output = dir
        .connector()
        .arg("--roster")
        .arg(roster)
        .arg("send")
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// No text — an empty or blank TEXT, `-` with an empty or blank stdin, an empty `--text` — is
/// a usage error (status 2) checked before any connector is opened; with a file attached, an
/// empty text is allowed (the send goes on, here to an unreachable server: status 4).
#[test]
fn send_without_text_exits_2_before_connecting() {
    let dir = Dir::new();
    let tmux = Tmux::named();
    let roster = unreachable_roster(&dir, &tmux);
    let arg = |text: &'static str| OsStr::new(text);

    let (status, stderr) = send(&dir, &roster, &[arg("")], b"");
    assert_eq!(status, Some(2), "{stderr}");
    insta::assert_snapshot!(stderr, @"error: the message from the TEXT argument is empty (or only whitespace): give TEXT, --text TEXT, `-` with the text on stdin, or --attach PATH|URL");

    let (status, blank) = send(&dir, &roster, &[arg(" \n\t")], b"");
    assert_eq!(status, Some(2), "{blank}");
    assert_eq!(blank, stderr);

    let (status, stderr) = send(&dir, &roster, &[arg("-")], b"");
    assert_eq!(status, Some(2), "{stderr}");
    insta::assert_snapshot!(stderr, @"error: the message from stdin is empty (or only whitespace): give TEXT, --text TEXT, `-` with the text on stdin, or --attach PATH|URL");

    let (status, blank) = send(&dir, &roster, &[arg("-")], b"  \n\n");
    assert_eq!(status, Some(2), "{blank}");
    assert_eq!(blank, stderr);

    let (status, stderr) = send(&dir, &roster, &[arg("--text"), arg("")], b"");
    assert_eq!(status, Some(2), "{stderr}");
    insta::assert_snapshot!(stderr, @"error: the message from --text is empty (or only whitespace): give TEXT, --text TEXT, `-` with the text on stdin, or --attach PATH|URL");

    let (status, stderr) = send(
        &dir,
        &roster,
        &[
            arg("--attach"),
            arg("https://ci.example.org/run/7"),
            arg(""),
        ],
        b"",
    );
    assert_eq!(status, Some(4), "an attachment needs no text: {stderr}");
}

/// Text that is not UTF-8 is a usage error (status 2) naming where it came from and the offset
/// of the first invalid byte, the same way for stdin, TEXT and `--text`.
#[test]
fn send_text_that_is_not_utf8_exits_2() {
    let dir = Dir::new();
    let tmux = Tmux::named();
    let roster = unreachable_roster(&dir, &tmux);

    let (status, stderr) = send(&dir, &roster, &[OsStr::new("-")], b"ok \xff\xfe");
    assert_eq!(status, Some(2), "{stderr}");
    insta::assert_snapshot!(stderr, @"error: the message from stdin is not valid UTF-8 (invalid byte at offset 3)");

    let (status, stderr) = send(&dir, &roster, &[OsStr::from_bytes(b"caf\xe9")], b"");
    assert_eq!(status, Some(2), "{stderr}");
    insta::assert_snapshot!(stderr, @"error: the message from the TEXT argument is not valid UTF-8 (invalid byte at offset 3)");

    let (status, stderr) = send(
        &dir,
        &roster,
        &[OsStr::new("--text"), OsStr::from_bytes(b"\x80")],
        b"",
    );
    assert_eq!(status, Some(2), "{stderr}");
    insta::assert_snapshot!(stderr, @"error: the message from --text is not valid UTF-8 (invalid byte at offset 0)");
}

/// `--text` is taken as it is: `--text -` sends a lone `-` (stdin is not read) and `--text -v`
/// sends `-v`; the TEXT argument `-` still reads stdin, after `--` too; `--text` and TEXT
/// together are a usage error. Against the operator console on a private tmux server.
#[test]
fn send_text_option_sends_a_literal_dash() {
    let dir = Dir::new();
    let tmux = Tmux::named();
    let roster = dir.file(
        "console.yaml",
        &format!(
            "connector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n",
            tmux.socket
        ),
    );
    let lines = || -> Vec<String> {
        let output = tmux.run(&[
            "capture-pane",
            "-p",
            "-J",
            "-S",
            "-",
            "-t",
            "=orchestrator:",
        ]);
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect()
    };
    for (args, stdin, line) in [
        (&["--text", "-"][..], &b"not this\n"[..], "-"),
        (&["--text", "-v"][..], &b""[..], "-v"),
        (&["-"][..], &b"read from stdin\n"[..], "read from stdin"),
        (
            &["--", "-"][..],
            &b"after a double dash\n"[..],
            "after a double dash",
        ),
    ] {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let (status, stderr) = send(&dir, &roster, &args, stdin);
        assert_eq!(status, Some(0), "{args:?}: {stderr}");
        let screen = lines();
        assert!(
            screen.iter().any(|l| l == line),
            "{args:?}: no line `{line}` in the console:\n{}",
            screen.join("\n")
        );
    }
    assert!(
        !lines().iter().any(|l| l.contains("not this")),
        "`--text -` does not read stdin"
    );

    let args = [OsStr::new("--text"), OsStr::new("a"), OsStr::new("b")];
    let (status, stderr) = send(&dir, &roster, &args, b"");
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
