//! `connector send --live KEY` against the project's Discord emulator: lines read from stdin
//! replace one message's text, `--finish` marks it final, a later process edits the same message
//! (the ledger in the state directory), and a bad key is a usage error.
#![cfg(feature = "discord")]

mod common;

use common::{Dir, stderr, stdout};
use discord_emulator::{Config, Emulator};

fn send_live(dir: &Dir, emulator: &Emulator, args: &[&str], stdin: &str) -> std::process::Output {
    let roster = dir.file(
        "roster.yaml",
        &format!(
            "connector:\n  kind: discord\n  allow_any_sender: true\n  discord:\n    channel_id: '{}'\n",
            emulator.channel_id()
        ),
    );
    dir.connector()
        .arg("--roster")
        .arg(&roster)
        .arg("send")
        .args(args)
        .env("DISCORD_BOT_TOKEN", emulator.bot_token())
        .env("DISCORD_API_BASE_URL", emulator.base_url())
        .write_stdin(stdin)
        .output()
        .expect("run connector send")
}

fn bot_texts(emulator: &Emulator) -> Vec<String> {
    emulator
        .messages(emulator.channel_id())
        .into_iter()
        .map(|m| m.content)
        .collect()
}

#[test]
fn lines_replace_one_message_and_later_processes_edit_it() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let dir = Dir::new();
    let lines: String = (1..=30).map(|n| format!("build: step {n}/30\n")).collect();
    let output = send_live(&dir, &emulator, &["--live", "build", "-"], &lines);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stdout(&output).contains("discord: live `build` shown in"),
        "{output:?}"
    );
    assert_eq!(bot_texts(&emulator), ["build: step 30/30"]);

    // Another process, the same key: the same message, edited; then finished.
    let output = send_live(
        &dir,
        &emulator,
        &["--live", "build", "--finish", "build: done"],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).ends_with(", finished\n"), "{output:?}");
    assert_eq!(bot_texts(&emulator), ["build: done"]);

    // Finished: the key's next use posts a new message.
    let output = send_live(
        &dir,
        &emulator,
        &["--json", "--live", "build", "tomorrow"],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["live"], "build");
    assert_eq!(json["finished"], false);
    assert_eq!(bot_texts(&emulator), ["build: done", "tomorrow"]);
}

#[test]
fn a_bad_live_key_is_a_usage_error_before_connecting() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let dir = Dir::new();
    let output = send_live(&dir, &emulator, &["--live", "two words", "x"], "");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr(&output).contains("--live: invalid live: \"two words\" is not a live key"),
        "{output:?}"
    );
    let output = send_live(&dir, &emulator, &["--live", "k", "--key", "abc", "x"], "");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(bot_texts(&emulator).is_empty());
}
