//! `connector check`, run as the real binary: the resolved block, where each secret comes from
//! (never its value), and every problem at once with exit status 3.

mod common;

use common::{Dir, stdout};

#[cfg(feature = "matrix")]
const MATRIX: &str = "# the fleet's roster\nagents: [builder, reviewer]\nconnector:\n  kind: matrix\n  allowed_senders: ['@alice:example.org']\n  matrix:\n    homeserver_url: https://matrix.example.org\n    user_id: '@orchestrator:example.org'\n    room_id: '!abcdef:example.org'\n";

#[cfg(feature = "matrix")]
fn filters(dir: &Dir) -> Vec<(String, String)> {
    vec![(dir.path().display().to_string(), "[DIR]".to_owned())]
}

// The problem list would also say the backend is not compiled in.
#[cfg(feature = "matrix")]
#[test]
fn valid_roster_prints_the_resolved_block_and_the_secret_source() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", MATRIX);
    let output = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .arg("check")
        .env(
            "MATRIX_ACCESS_TOKEN",
            concat!("syt_", "never_printed_0123456789"),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(!text.contains("syt_never_printed"), "{text}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir)) }, {
        insta::assert_snapshot!(text);
    });
}

// The problem list would also say the backend is not compiled in.
#[cfg(feature = "matrix")]
#[test]
fn secret_sources_file_and_credential_are_named() {
    let dir = Dir::new();
    let roster = dir.file("roster.yaml", MATRIX);
    let token = dir.file("token", concat!("syt_", "from_a_file_0123456789\n"));
    let output = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .args(["check", "--json"])
        .env("MATRIX_ACCESS_TOKEN_FILE", &token)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["secrets"][0]["source"], "file");
    assert_eq!(report["secrets"][0]["path"], token.display().to_string());
    assert!(!stdout(&output).contains("syt_from_a_file"));

    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(
        credentials.join("MATRIX_ACCESS_TOKEN"),
        concat!("syt_", "credential_0123456789"),
    )
    .unwrap();
    let output = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .args(["check", "--json"])
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(!text.contains("syt_credential"), "{text}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir)) }, {
        insta::assert_json_snapshot!(serde_json::from_str::<serde_json::Value>(&text).unwrap());
    });
}

// The problem list would also say the backend is not compiled in.
#[cfg(feature = "matrix")]
#[test]
fn every_problem_is_listed_with_exit_status_3() {
    let dir = Dir::new();
    let roster = dir.file(
        "roster.yaml",
        "connector:\n  kind: matrix\n  matrix:\n    homeserver_url: x\n    user_id: y\n    room_id: z\n",
    );
    let output = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .arg("check")
        .env("MATRIX_ACCESS_TOKEN", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir)) }, {
        insta::assert_snapshot!(stdout(&output));
    });
}

// The problem list would also say the backend is not compiled in.
#[cfg(feature = "discord")]
#[test]
fn a_secret_in_the_roster_and_a_missing_token_are_both_reported() {
    let dir = Dir::new();
    let roster = dir.file(
        "roster.yaml",
        "connector:\n  kind: discord\n  allow_any_sender: true\n  discord:\n    channel_id: '123456789012345678'\n    bot_token: not-a-real-token\n",
    );
    let output = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .args(["check", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let text = stdout(&output);
    assert!(!text.contains("not-a-real-token"), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let paths: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["connector.discord.bot_token", "DISCORD_BOT_TOKEN"],
        "{text}"
    );
    assert_eq!(report["kind"], "discord");
    assert_eq!(report["ok"], false);
}

#[test]
fn no_roster_means_the_tmux_console() {
    let dir = Dir::new();
    let output = dir.connector().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    insta::assert_snapshot!(stdout(&output));
}
