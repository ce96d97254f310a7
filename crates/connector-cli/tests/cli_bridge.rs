//! `connector bridge` end to end: the real binary between an operator on the Discord emulator
//! (or a real Synapse) and a program in a pane of a private tmux server, stopped with SIGTERM and
//! restarted in between. Needs the `discord` and `matrix` features (CI runs `--all-features`).
#![cfg(all(feature = "discord", feature = "matrix", feature = "tmux"))]

mod peers;

use std::time::Duration;

use discord_emulator::{Config, Emulator, Snowflake};
use peers::{ACK_PROGRAM, PATIENCE, Running, Tmux, discord_env, state_file};
use synapse_harness::{Synapse, User};

/// How quickly agent output lines are coalesced in these tests.
const QUIET_MS: &str = "300";

/// The bot's messages in a Discord channel or thread, oldest first.
fn bot_texts(emulator: &Emulator, channel: Snowflake) -> Vec<String> {
    let bot = emulator.bot_user_id();
    emulator
        .messages(channel)
        .into_iter()
        .filter(|m| m.author_id == bot && !m.content.is_empty())
        .map(|m| m.content)
        .collect()
}

/// Waits until the bot posted a message containing `needle` in `channel`; shows the bridge's
/// logs if it does not.
fn wait_for_bot(emulator: &Emulator, channel: Snowflake, needle: &str, bridge: &Running) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !bot_texts(emulator, channel)
        .iter()
        .any(|t| t.contains(needle))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the bot did not post {needle:?} (it posted {:?}); bridge logs:\n{}",
            bot_texts(emulator, channel),
            bridge.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many bot messages in `channel` contain `needle`.
fn bot_count(emulator: &Emulator, channel: Snowflake, needle: &str) -> usize {
    bot_texts(emulator, channel)
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

/// Starts a thread from `message` with the operator's token, as the Discord client does.
fn start_thread_as_operator(emulator: &Emulator, token: &str, message: Snowflake) {
    let url = format!(
        "{}/api/v10/channels/{}/messages/{message}/threads",
        emulator.base_url(),
        emulator.channel_id()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("Authorization", token)
            .header("Content-Type", "application/json")
            .body(r#"{"name":"tests"}"#)
            .send()
            .await
            .expect("start a thread")
            .status()
    });
    assert_eq!(status.as_u16(), 201);
}

#[test]
fn discord_operator_and_tmux_agent_in_a_thread_across_restarts() {
    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let channel = emulator.channel_id();
    let tmux = Tmux::start(ACK_PROGRAM);
    let discord = tmux.discord_roster("agents: [builder]\n", operator.id, channel);
    let pane = tmux.pane_roster();
    let state = state_file(tmux.dir.path());
    let env = discord_env(&emulator);
    let args = [
        "bridge",
        "--from",
        discord.to_str().unwrap(),
        "--to",
        pane.to_str().unwrap(),
        "--state",
        &state,
        "--quiet-ms",
        QUIET_MS,
    ];
    let start = || Running::start(&args, &env, "bridging discord (operator) <-> tmux (agent)");

    // A message in the channel is answered in the channel.
    let bridge = start();
    let root = emulator
        .post_as(&operator, channel, "status?")
        .expect("post");
    wait_for_bot(&emulator, channel, "ack: status?", &bridge);

    // The operator opens a thread from it: the agent's reply goes into that thread.
    start_thread_as_operator(&emulator, &operator.token, root.id);
    emulator
        .post_as(&operator, root.id, "run the tests")
        .expect("post in the thread");
    wait_for_bot(&emulator, root.id, "ack: run the tests", &bridge);
    assert_eq!(tmux.count_lines("run the tests"), 1, "{}", tmux.screen());
    assert_eq!(
        bot_count(&emulator, channel, "run the tests"),
        0,
        "the reply went to the thread, not the channel"
    );
    // The paste's echo did not bounce back to the operator.
    assert_eq!(
        bot_texts(&emulator, root.id),
        ["ack: run the tests"],
        "{}",
        bridge.stderr()
    );

    // Restarted with no new operator message: the agent's own output still goes to the thread
    // the last operator message came from (the mapping is persisted).
    let status = bridge.terminate();
    assert_eq!(status.code(), Some(0));
    let bridge = start();
    tmux.type_line("local note");
    wait_for_bot(&emulator, root.id, "ack: local note", &bridge);

    // A message posted while the bridge is down reaches the agent exactly once after a restart,
    // and the agent's reply comes back into the thread.
    assert_eq!(bridge.terminate().code(), Some(0));
    emulator
        .post_as(&operator, root.id, "posted while down")
        .expect("post while down");
    let bridge = start();
    wait_for_bot(&emulator, root.id, "ack: posted while down", &bridge);
    emulator
        .post_as(&operator, root.id, "sentinel")
        .expect("post the sentinel");
    wait_for_bot(&emulator, root.id, "ack: sentinel", &bridge);
    assert_eq!(
        tmux.count_lines("posted while down"),
        1,
        "{}",
        tmux.screen()
    );
    assert_eq!(tmux.count_lines("ack: posted while down"), 1);
    assert_eq!(bot_count(&emulator, root.id, "ack: posted while down"), 1);
    assert_eq!(bridge.terminate().code(), Some(0));
}

#[test]
fn agent_output_lines_are_coalesced_into_one_message() {
    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let channel = emulator.channel_id();
    // Three lines printed at once for each line read.
    let tmux = Tmux::start(
        "printf 'agent ready\\n'; while IFS= read -r l; do printf 'one %s\\ntwo\\nthree\\n' \"$l\"; done",
    );
    let discord = tmux.discord_roster("", operator.id, channel);
    let pane = tmux.pane_roster();
    let state = state_file(tmux.dir.path());
    let env = discord_env(&emulator);
    let bridge = Running::start(
        &[
            "bridge",
            "--from",
            discord.to_str().unwrap(),
            "--to",
            pane.to_str().unwrap(),
            "--state",
            &state,
            "--quiet-ms",
            "1000",
        ],
        &env,
        "bridging",
    );
    emulator.post_as(&operator, channel, "go").expect("post");
    wait_for_bot(&emulator, channel, "three", &bridge);
    assert_eq!(bot_texts(&emulator, channel), ["one go\ntwo\nthree"]);
    assert_eq!(bridge.terminate().code(), Some(0));
}

/// A Matrix message of `user` in `room` whose body contains `needle`, once one exists.
async fn matrix_message(
    synapse: &Synapse,
    reader: &User,
    room: &str,
    sender: &str,
    needle: &str,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = synapse
            .messages(reader, room, 100)
            .await
            .into_iter()
            .find(|m| {
                m["sender"] == sender
                    && m["content"]["body"]
                        .as_str()
                        .is_some_and(|b| b.contains(needle))
            });
        if let Some(found) = found {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{needle:?} did not arrive in the room"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_operator_and_tmux_agent_in_a_thread_across_a_restart() {
    let synapse = Synapse::start().await;
    let bot = synapse.register("bot").await;
    let operator = synapse.register("operator").await;
    let room = synapse.create_room(&operator, &[&bot]).await;
    let tmux = tokio::task::block_in_place(|| Tmux::start(ACK_PROGRAM));
    let matrix = tmux.write_roster(
        "matrix.yaml",
        &format!(
            "connector:\n  kind: matrix\n  allowed_senders: ['{}']\n  matrix:\n    homeserver_url: {}\n    user_id: '{}'\n    room_id: '{room}'\n    state_dir: '{}'\n",
            operator.user_id,
            synapse.base_url(),
            bot.user_id,
            tmux.dir.path().join("matrix-state").display()
        ),
    );
    let pane = tmux.pane_roster();
    let state = state_file(tmux.dir.path());
    let env = [("MATRIX_ACCESS_TOKEN".to_owned(), bot.access_token.clone())];
    let args = [
        "bridge",
        "--from",
        matrix.to_str().unwrap(),
        "--to",
        pane.to_str().unwrap(),
        "--state",
        &state,
        "--quiet-ms",
        QUIET_MS,
    ];
    let start = || {
        tokio::task::block_in_place(|| {
            Running::start(&args, &env, "bridging matrix (operator) <-> tmux (agent)")
        })
    };

    let bridge = start();
    let root = synapse.send_text(&operator, &room, "new task", None).await;
    let answer = matrix_message(&synapse, &operator, &room, &bot.user_id, "ack: new task").await;
    assert!(
        answer["content"]["m.relates_to"].is_null(),
        "a main-timeline message is answered in the main timeline: {answer}"
    );
    synapse
        .send_text(&operator, &room, "details", Some(&root))
        .await;
    let answer = matrix_message(&synapse, &operator, &room, &bot.user_id, "ack: details").await;
    assert_eq!(answer["content"]["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(answer["content"]["m.relates_to"]["event_id"], root.as_str());

    let status = tokio::task::block_in_place(|| bridge.terminate());
    assert_eq!(status.code(), Some(0));
    synapse
        .send_text(&operator, &room, "posted while down", Some(&root))
        .await;
    let bridge = start();
    let answer = matrix_message(
        &synapse,
        &operator,
        &room,
        &bot.user_id,
        "ack: posted while down",
    )
    .await;
    assert_eq!(answer["content"]["m.relates_to"]["event_id"], root.as_str());
    synapse
        .send_text(&operator, &room, "sentinel", Some(&root))
        .await;
    matrix_message(&synapse, &operator, &room, &bot.user_id, "ack: sentinel").await;
    let screen = tmux.screen();
    assert_eq!(
        screen
            .lines()
            .filter(|l| l.trim_end() == "posted while down")
            .count(),
        1,
        "{screen}"
    );
    let replies = synapse
        .messages(&operator, &room, 100)
        .await
        .into_iter()
        .filter(|m| {
            m["sender"] == bot.user_id.as_str()
                && m["content"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("ack: posted while down"))
        })
        .count();
    assert_eq!(replies, 1);
    let status = tokio::task::block_in_place(|| bridge.terminate());
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_message_for_a_missing_agent_is_held_reported_and_delivered() {
    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let channel = emulator.channel_id();
    let tmux = Tmux::start(ACK_PROGRAM);
    assert!(tmux.run(&["new-session", "-d", "-s", "keep"]));
    let discord = tmux.discord_roster("", operator.id, channel);
    let pane = tmux.pane_roster();
    let state = state_file(tmux.dir.path());
    let env = discord_env(&emulator);
    let bridge = Running::start(
        &[
            "bridge",
            "--from",
            discord.to_str().unwrap(),
            "--to",
            pane.to_str().unwrap(),
            "--state",
            &state,
            "--quiet-ms",
            QUIET_MS,
        ],
        &env,
        "bridging",
    );

    // The agent's pane is gone (its session killed; the server lives on): the operator's
    // message is held, the operator is told so, and it is delivered once the agent is back.
    assert!(tmux.run(&["kill-session", "-t", "=agent"]));
    emulator
        .post_as(&operator, channel, "hold this")
        .expect("post while the agent is down");
    wait_for_bot(&emulator, channel, "your message is held", &bridge);
    tmux.restart_agent(ACK_PROGRAM);
    wait_for_bot(&emulator, channel, "ack: hold this", &bridge);
    assert_eq!(tmux.count_lines("hold this"), 1, "{}", tmux.screen());
    assert!(
        bridge.stderr().contains("holding the message; will retry"),
        "{}",
        bridge.stderr()
    );
    assert_eq!(bridge.terminate().code(), Some(0));
}

#[test]
fn mirrored_threads_map_both_ways() {
    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let channel = emulator.channel_id();
    let tmux = Tmux::start(ACK_PROGRAM);
    // Thread windows run the agent program too, without its banner: the first message is pasted
    // as soon as the window exists, and a banner printed meanwhile would share a line with the
    // paste's echo (which the tmux connector then cannot recognise).
    assert!(tmux.run(&[
        "set-option",
        "-g",
        "default-command",
        "while IFS= read -r l; do printf 'ack: %s\\n' \"$l\"; done",
    ]));
    let discord = tmux.discord_roster("", operator.id, channel);
    let pane = tmux.pane_roster();
    let state = state_file(tmux.dir.path());
    let env = discord_env(&emulator);
    let bridge = Running::start(
        &[
            "bridge",
            "--from",
            discord.to_str().unwrap(),
            "--to",
            pane.to_str().unwrap(),
            "--state",
            &state,
            "--quiet-ms",
            QUIET_MS,
            "--mirror-threads",
        ],
        &env,
        "bridging",
    );

    let root = emulator
        .post_as(&operator, channel, "main question")
        .expect("post");
    wait_for_bot(&emulator, channel, "ack: main question", &bridge);
    start_thread_as_operator(&emulator, &operator.token, root.id);
    emulator
        .post_as(&operator, root.id, "in the thread")
        .expect("post in the thread");
    wait_for_bot(&emulator, root.id, "ack: in the thread", &bridge);
    assert_eq!(tmux.count_lines("in the thread"), 0, "not in the main pane");

    // The latest operator message is in the channel now; output of the thread's window still
    // goes to the thread, output of the main pane to the channel.
    emulator
        .post_as(&operator, channel, "back in main")
        .expect("post");
    wait_for_bot(&emulator, channel, "ack: back in main", &bridge);
    tmux.type_line_into("=agent:1", "window note");
    wait_for_bot(&emulator, root.id, "ack: window note", &bridge);
    assert_eq!(bot_count(&emulator, channel, "window note"), 0);
    assert_eq!(bridge.terminate().code(), Some(0));
}

#[test]
fn a_missing_agent_pane_fails_at_start_with_status_5() {
    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let tmux = Tmux::start(ACK_PROGRAM);
    let discord = tmux.discord_roster("", operator.id, emulator.channel_id());
    let missing = tmux.write_roster(
        "missing.yaml",
        &format!(
            "connector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n    mode: pane\n    target: \"nosuch:0.0\"\n",
            tmux.socket
        ),
    );
    let output = assert_cmd::Command::cargo_bin("connector")
        .unwrap()
        .env_remove("RUST_LOG")
        .env("DISCORD_BOT_TOKEN", emulator.bot_token())
        .env("DISCORD_API_BASE_URL", emulator.base_url())
        .args(["bridge", "--from"])
        .arg(&discord)
        .arg("--to")
        .arg(&missing)
        .arg("--state")
        .arg(state_file(tmux.dir.path()))
        .timeout(PATIENCE)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("nosuch:0.0"), "{stderr}");
}

#[test]
fn a_missing_roster_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-roster.yaml");
    let output = assert_cmd::Command::cargo_bin("connector")
        .unwrap()
        .env_remove("RUST_LOG")
        .args(["bridge", "--from"])
        .arg(&missing)
        .args(["--to", "tmux", "--state"])
        .arg(state_file(dir.path()))
        .timeout(PATIENCE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8(output.stderr)
        .unwrap()
        .replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!(stderr, @"error: cannot read roster [DIR]/no-such-roster.yaml: No such file or directory (os error 2)");
}
