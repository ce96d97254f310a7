//! `connector listen --count 1` against the project's Discord emulator: the operator's message
//! is printed, and closing the connector logs the gateway off cleanly — no warning on stderr
//! (serenity warns when the server does not answer its close frame).
#![cfg(feature = "discord")]

mod common;

use std::time::{Duration, Instant};

use common::{Dir, stderr, stdout};
use discord_emulator::{Config, Emulator};

#[test]
fn listen_count_one_prints_the_message_and_closes_without_a_warning() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let operator = emulator.add_user("operator");
    let dir = Dir::new();
    let roster = dir.file(
        "roster.yaml",
        &format!(
            "connector:\n  kind: discord\n  allow_any_sender: true\n  discord:\n    channel_id: '{}'\n",
            emulator.channel_id()
        ),
    );
    let listen = std::thread::spawn({
        let mut command = dir.connector();
        command
            .arg("--roster")
            .arg(&roster)
            .args(["listen", "--count", "1", "--timeout", "60"])
            .env("DISCORD_BOT_TOKEN", emulator.bot_token())
            .env("DISCORD_API_BASE_URL", emulator.base_url());
        move || command.output().expect("run connector listen")
    });
    // Once the gateway is up the message is the connector's to deliver: it holds it until
    // `listen` subscribes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while emulator.connected_sessions() == 0 {
        assert!(Instant::now() < deadline, "the connector never connected");
        assert!(
            !listen.is_finished(),
            "connector listen ended before connecting"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    emulator
        .post_as(&operator, emulator.channel_id(), "ship it")
        .expect("post as the operator");
    let output = listen.join().expect("the listen thread");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("ship it"), "{output:?}");
    let stderr = stderr(&output);
    assert!(stderr.contains("listening on discord"), "{stderr}");
    assert!(
        !stderr.lines().any(|line| line.contains("WARN")),
        "a normal close logs no warning:\n{stderr}"
    );
}
