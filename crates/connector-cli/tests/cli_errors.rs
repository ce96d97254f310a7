//! The `connector` command's help, errors and exit statuses, run as a real binary.

use assert_cmd::Command;

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
    error: connector.allowed_senders: required for kind matrix: list the operators who may talk to the orchestrator (e.g. ["@alice:example.org"]) or set allow_any_sender: true
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
