//! `connector doctor` and `health --round-trip` against the project's Discord emulator (connector-discord's test seam,
//! `DISCORD_API_BASE_URL`): passing on a good setup, failing with the right fix on a wrong
//! token, a channel the bot cannot see, and a missing Message Content intent.
#![cfg(feature = "discord")]

mod common;

use common::{Dir, stdout};
use discord_emulator::{Config, Emulator, Intents};

fn roster(dir: &Dir, channel: impl std::fmt::Display) -> std::path::PathBuf {
    dir.file(
        "roster.yaml",
        &format!(
            "connector:\n  kind: discord\n  allow_any_sender: true\n  discord:\n    channel_id: '{channel}'\n"
        ),
    )
}

fn doctor(
    dir: &Dir,
    emulator: &Emulator,
    roster: &std::path::Path,
    token: &str,
) -> std::process::Output {
    dir.connector()
        .arg("--roster")
        .arg(roster)
        .arg("doctor")
        .env("DISCORD_BOT_TOKEN", token)
        .env("DISCORD_API_BASE_URL", emulator.base_url())
        .output()
        .unwrap()
}

fn filters(dir: &Dir, emulator: &Emulator) -> Vec<(String, String)> {
    vec![
        (r"in \d+ ms".to_owned(), "in [MS] ms".to_owned()),
        (dir.path().display().to_string(), "[DIR]".to_owned()),
        (emulator.base_url(), "[EMULATOR]".to_owned()),
        (emulator.channel_id().to_string(), "[CHANNEL]".to_owned()),
        (
            emulator.hidden_channel_id().to_string(),
            "[HIDDEN]".to_owned(),
        ),
        (r"\b\d{17,20}\b".to_owned(), "[ID]".to_owned()),
    ]
}

#[test]
fn good_setup_passes() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let dir = Dir::new();
    let roster = roster(&dir, emulator.channel_id());
    let output = doctor(&dir, &emulator, &roster, emulator.bot_token());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &emulator)) }, {
        insta::assert_snapshot!(stdout(&output));
    });
}

#[test]
fn wrong_token_fails_with_reset_token_fix() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let dir = Dir::new();
    let roster = roster(&dir, emulator.channel_id());
    let output = doctor(&dir, &emulator, &roster, "MTAx.wrong.token");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("✗ token accepted"), "{text}");
    assert!(text.contains("Reset Token"), "{text}");
    assert!(
        !text.contains("MTAx.wrong.token"),
        "the token must not be echoed: {text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &emulator)) }, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn hidden_channel_fails_naming_view_channel() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let dir = Dir::new();
    let roster = roster(&dir, emulator.hidden_channel_id());
    let output = doctor(&dir, &emulator, &roster, emulator.bot_token());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("View Channel"), "{text}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &emulator)) }, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn missing_message_content_intent_names_the_portal_switch() {
    let emulator = Emulator::start(Config::default().granted_privileged_intents(Intents::empty()))
        .expect("start the emulator");
    let dir = Dir::new();
    let roster = roster(&dir, emulator.channel_id());
    let output = doctor(&dir, &emulator, &roster, emulator.bot_token());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("Message Content Intent"), "{text}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &emulator)) }, {
        insta::assert_snapshot!(text);
    });
}

fn health_round_trip(
    dir: &Dir,
    emulator: &Emulator,
    roster: &std::path::Path,
) -> std::process::Output {
    dir.connector()
        .arg("--roster")
        .arg(roster)
        .args(["health", "--round-trip", "--timeout", "3"])
        .env("DISCORD_BOT_TOKEN", emulator.bot_token())
        .env("DISCORD_API_BASE_URL", emulator.base_url())
        .output()
        .unwrap()
}

/// `connector health --round-trip`: a probe message must come back on the gateway. A session
/// that is connected but receives nothing (the emulator withholding every dispatch) is healthy
/// without the option, and exit 8 with the stage that did not answer with it.
#[test]
fn health_round_trip_tells_listening_from_connected() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let dir = Dir::new();
    let roster = roster(&dir, emulator.channel_id());
    let output = health_round_trip(&dir, &emulator, &roster);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.contains("round trip: ✓ a probe message came back through the gateway in"),
        "{text}"
    );

    emulator.faults().withhold_dispatches(true);
    let plain = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .arg("health")
        .env("DISCORD_BOT_TOKEN", emulator.bot_token())
        .env("DISCORD_API_BASE_URL", emulator.base_url())
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(0), "looks healthy: {plain:?}");
    let output = health_round_trip(&dir, &emulator, &roster);
    assert_eq!(output.status.code(), Some(8), "{output:?}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &emulator)) }, {
        insta::assert_snapshot!(stdout(&output));
    });
    assert!(
        emulator.messages(emulator.channel_id()).is_empty(),
        "the probes were deleted"
    );
}
