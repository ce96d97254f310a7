//! `connector init`, run as the real binary with no terminal: the block written into an empty
//! roster, into one with other keys and comments (kept byte for byte), in place of an existing
//! block, and the refusals (secrets, missing flags).

mod common;

use common::{Dir, stderr, stdout};

const FLEET: &str = "# The fleet's roster: agents first.\nagents:\n  - builder   # builds\n  - reviewer\n\n# Where the orchestrator runs.\nhost: {name: ci-1, cores: 2}\n";

fn init(dir: &Dir, roster: &std::path::Path, args: &[&str]) -> std::process::Output {
    dir.connector()
        .arg("--roster")
        .arg(roster)
        .arg("init")
        .args(args)
        .output()
        .unwrap()
}

fn filters(dir: &Dir) -> Vec<(String, String)> {
    vec![(dir.path().display().to_string(), "[DIR]".to_owned())]
}

#[test]
fn init_on_an_empty_file_writes_the_block() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", "");
    let output = init(
        &dir,
        &roster,
        &[
            "--kind",
            "matrix",
            "--homeserver-url",
            "https://matrix.example.org",
            "--user-id",
            "@orchestrator:example.org",
            "--room-id",
            "!abcdef:example.org",
            "--allow",
            "@alice:example.org",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let written = std::fs::read_to_string(&roster).unwrap();
    insta::assert_snapshot!("empty_file_roster", written);
    insta::with_settings!({ filters => common::pairs(&filters(&dir)) }, {
        insta::assert_snapshot!("empty_file_stdout", stdout(&output));
    });
    #[cfg(feature = "matrix")]
    let check = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .arg("check")
        .env("MATRIX_ACCESS_TOKEN", "syt_x_0123456789")
        .output()
        .unwrap();
    #[cfg(feature = "matrix")]
    assert_eq!(check.status.code(), Some(0), "{check:?}");
}

#[test]
fn init_keeps_other_keys_and_comments_byte_for_byte() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", FLEET);
    let output = init(
        &dir,
        &roster,
        &[
            "--kind",
            "discord",
            "--channel-id",
            "123456789012345678",
            "--allow",
            "80351110224678912",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let written = std::fs::read_to_string(&roster).unwrap();
    assert!(written.starts_with(FLEET), "{written}");
    insta::assert_snapshot!(written);
}

#[test]
fn init_replaces_an_existing_block_in_place() {
    let dir = Dir::new();
    let before = "# roster\nagents: [builder]\n\nconnector:   # chosen by init\n  kind: tmux\n  # the console\n  tmux:\n    socket_name: old\n\n# trailing comment about limits\nlimits:\n  cpu: 2\n";
    let roster = dir.file("roster.yaml", before);
    let output = init(
        &dir,
        &roster,
        &[
            "--kind",
            "tmux",
            "--socket-name",
            "agents",
            "--target",
            "work:1.0",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let written = std::fs::read_to_string(&roster).unwrap();
    assert!(written.starts_with("# roster\nagents: [builder]\n\n"));
    assert!(written.ends_with("\n# trailing comment about limits\nlimits:\n  cpu: 2\n"));
    insta::assert_snapshot!(written);

    // The same kind again keeps what the flags do not say (the allow-list, the socket).
    let output = init(&dir, &roster, &["--kind", "tmux", "--mode", "console"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let again = std::fs::read_to_string(&roster).unwrap();
    assert!(
        again.contains("socket_name: agents\n    mode: console\n"),
        "{again}"
    );
    assert!(!again.contains("target:"), "{again}");
}

#[test]
fn init_json_says_what_it_did() {
    let dir = Dir::new();
    let roster = dir.path().join("new-roster.yaml");
    let output = init(&dir, &roster, &["--kind", "tmux", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    insta::with_settings!({ filters => common::pairs(&filters(&dir)) }, {
        insta::assert_json_snapshot!(report);
    });
    assert_eq!(
        std::fs::read_to_string(&roster).unwrap(),
        report["block"].as_str().unwrap()
    );
}

#[test]
fn init_refuses_secrets_and_writes_nothing() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", FLEET);
    let mut messages = Vec::new();
    for args in [
        &[
            "--kind",
            "discord",
            "--channel-id",
            "123456789012345678",
            "--allow-any-sender",
            "--token",
            "abc",
        ][..],
        &["--kind", "matrix", "--access-token", "syt_abc"][..],
        &[
            "--kind",
            "matrix",
            "--homeserver-url",
            "https://m.example.org",
            "--user-id",
            concat!("syt_", "b3JjaA_FakeFakeFakeFake_0aBcDe"),
            "--room-id",
            "!r:example.org",
            "--allow-any-sender",
        ][..],
        &[
            "--kind",
            "discord",
            "--channel-id",
            concat!(
                "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ",
                ".GaBcDe.",
                "abcdefghijklmnopqrstuvwxyz0123456789AB"
            ),
            "--allow-any-sender",
        ][..],
        &[
            "--kind",
            "telegram",
            "--chat-id",
            concat!("7012345678", ":AAH", "abcdefghijklmnopqrstuvwxyz012345"),
            "--allow-any-sender",
        ][..],
        &[
            "--kind",
            "slack",
            "--channel-id",
            "C0123456789",
            "--allow",
            concat!("xoxb-", "1234-5678-abcdef"),
        ][..],
        &["--kind", "slack", "--app-token", "abc"][..],
    ] {
        let output = init(&dir, &roster, args);
        assert_eq!(output.status.code(), Some(3), "{output:?}");
        let error = stderr(&output);
        assert!(
            !error.contains("syt_b3JjaA") && !error.contains("GaBcDe"),
            "{error}"
        );
        messages.push(error);
    }
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), FLEET);
    insta::assert_snapshot!(messages.join(""));
}

#[test]
fn init_without_a_terminal_names_every_missing_flag() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", FLEET);
    let mut messages = Vec::new();
    for args in [
        &[][..],
        &["--kind", "matrix", "--user-id", "@bot:example.org"][..],
        &["--kind", "discord"][..],
        &["--kind", "tmux", "--mode", "pane"][..],
    ] {
        let output = init(&dir, &roster, args);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        messages.push(stderr(&output));
    }
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), FLEET);
    insta::assert_snapshot!(messages.join(""));
}

#[test]
fn init_refuses_an_invalid_block_and_an_unparsable_roster() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", FLEET);
    let output = init(
        &dir,
        &roster,
        &[
            "--kind",
            "discord",
            "--channel-id",
            "42",
            "--allow-any-sender",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let first = stderr(&output);
    let broken = dir.file("broken.yaml", "agents: [builder\n");
    let output = init(&dir, &broken, &["--kind", "tmux"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "agents: [builder\n"
    );
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), FLEET);
    insta::assert_snapshot!(format!("{first}{}", stderr(&output)));
}

#[test]
fn dry_run_prints_the_roster_and_writes_nothing() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", FLEET);
    let output = init(&dir, &roster, &["--kind", "tmux", "--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), FLEET);
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "{FLEET}connector:\n  kind: tmux\n  tmux:\n    mode: console\n"
        )),
        "{text}"
    );
}
