//! `connector mcp` end to end: a real MCP client (rmcp) spawns the real binary over stdio and
//! drives it against the tmux console on a private server, and against the Discord emulator
//! (with the `discord` feature; CI runs `--all-features`), the Telegram and the Slack emulators.
#![cfg(feature = "tmux")]

mod peers;

use std::process::Stdio;

use peers::{ACK_PROGRAM, PATIENCE, Tmux, eventually};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, CustomNotification, ProtocolVersion,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A client that records every notification as (method, params).
struct Recorder {
    notifications: mpsc::UnboundedSender<(String, Value)>,
}

impl ClientHandler for Recorder {
    fn get_info(&self) -> ClientConfig {
        // What Claude Code and other current clients speak: the initialize handshake.
        ClientConfig::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.notifications.send((
            notification.method,
            notification.params.unwrap_or(Value::Null),
        ));
    }

    #[allow(
        deprecated,
        reason = "logging notifications are what 2025 clients receive"
    )]
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.notifications.send((
            "notifications/message".to_owned(),
            serde_json::to_value(params).unwrap(),
        ));
    }
}

type Client = RunningService<RoleClient, Recorder>;

/// A roster naming the tmux console (session `orchestrator`) on `tmux`'s server.
fn console_roster(tmux: &Tmux) -> std::path::PathBuf {
    tmux.write_roster(
        "console.yaml",
        &format!(
            "connector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n    session: orchestrator\n",
            tmux.socket
        ),
    )
}

/// The console's screen (joined wrapped lines).
fn console_screen(tmux: &Tmux) -> String {
    let output = std::process::Command::new("tmux")
        .args([
            "-L",
            &tmux.socket,
            "capture-pane",
            "-p",
            "-J",
            "-t",
            "=orchestrator:",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A roster naming the Discord `channel`, `operator` its only allowed sender, its state in
/// `dir`.
#[cfg(feature = "discord")]
fn discord_roster(
    dir: &std::path::Path,
    operator: discord_emulator::Snowflake,
    channel: discord_emulator::Snowflake,
) -> std::path::PathBuf {
    let roster = dir.join("discord.yaml");
    std::fs::write(
        &roster,
        format!(
            "connector:\n  kind: discord\n  allowed_senders: ['{operator}']\n  discord:\n    channel_id: '{channel}'\n    state_dir: '{}'\n",
            dir.join("discord-state").display()
        ),
    )
    .unwrap();
    roster
}

/// The bot token and address of `emulator`, as `connect` takes them.
#[cfg(feature = "discord")]
fn discord_env(emulator: &discord_emulator::Emulator) -> [(&'static str, String); 2] {
    [
        ("DISCORD_BOT_TOKEN", emulator.bot_token().to_owned()),
        ("DISCORD_API_BASE_URL", emulator.base_url()),
    ]
}

/// Spawns `connector --roster ROSTER mcp` with `env` and connects to it.
async fn connect(roster: &std::path::Path, env: &[(&str, String)]) -> (Client, Notifications) {
    let mut command = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("connector"));
    command
        .arg("--roster")
        .arg(roster)
        .arg("mcp")
        .env_remove("RUST_LOG")
        .env_remove("CONNECTOR_ROSTER");
    for (key, value) in env {
        command.env(key, value);
    }
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn connector mcp");
    let (sender, notifications) = mpsc::unbounded_channel();
    let client = Recorder {
        notifications: sender,
    }
    .serve(transport)
    .await
    .expect("initialize the MCP session");
    (
        client,
        Notifications {
            receiver: notifications,
            kept: Vec::new(),
        },
    )
}

/// Calls tool `name` with `arguments`.
async fn call(
    client: &rmcp::service::Peer<RoleClient>,
    name: &'static str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The text of a tool result.
fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

/// The JSON of a successful tool result.
fn ok_json(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "tool error: {}", text(result));
    serde_json::from_str(&text(result)).expect("a JSON result")
}

/// The operator's next message, through `wait_for_message` (answered whole), after checking
/// that it reads `text` and that the channel notification carried it from `sender`.
#[cfg(any(feature = "discord", feature = "telegram", feature = "slack"))]
async fn next_message(
    client: &Client,
    notifications: &mut Notifications,
    text: &str,
    sender: &str,
) -> Value {
    let waited = ok_json(&call(client, "wait_for_message", json!({ "timeout_seconds": 30 })).await);
    assert_eq!(waited["message"]["text"], text);
    let notified = notifications.next("notifications/claude/channel").await;
    assert_eq!(notified["content"], text);
    assert_eq!(notified["meta"]["sender"], sender);
    waited
}

/// The notifications the client received, in arrival order.
///
/// The client handles each notification in a task of its own, so two notifications sent one
/// after the other may be recorded in either order: those not asked for yet are kept.
struct Notifications {
    receiver: mpsc::UnboundedReceiver<(String, Value)>,
    kept: Vec<(String, Value)>,
}

impl Notifications {
    /// The first notification with `method` (kept or arriving within [`PATIENCE`]).
    async fn next(&mut self, method: &str) -> Value {
        if let Some(index) = self.kept.iter().position(|(m, _)| m == method) {
            return self.kept.remove(index).1;
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                Ok(Some((m, params))) if m == method => return params,
                Ok(Some(other)) => self.kept.push(other),
                Ok(None) => panic!("the client stopped before {method} arrived"),
                Err(_) => panic!(
                    "{method} did not arrive within {PATIENCE:?}; received {:?}",
                    self.kept
                ),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmux_console_tools_and_notifications() {
    let tmux = tokio::task::block_in_place(|| Tmux::start(ACK_PROGRAM));
    let roster = console_roster(&tmux);
    let (client, mut notifications) = connect(&roster, &[]).await;

    let info = client.peer_info().expect("the server's initialize answer");
    let experimental = info.capabilities.experimental.clone().unwrap_or_default();
    assert!(
        experimental.contains_key("claude/channel"),
        "Claude Code channel capability: {experimental:?}"
    );
    assert!(info.capabilities.tools.is_some());
    assert!(info.capabilities.logging.is_some());
    insta::assert_snapshot!(
        "mcp_instructions",
        info.instructions.clone().unwrap_or_default()
    );

    let mut tools = client.list_all_tools().await.expect("list tools");
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    let listed: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "description": t.description,
                "input_schema": t.input_schema.as_ref(),
            })
        })
        .collect();
    insta::assert_json_snapshot!("mcp_tools", listed);

    // send: the text appears in the operator's console.
    let receipt = ok_json(&call(&client, "send", json!({ "text": "hello operator" })).await);
    assert_eq!(receipt["confirmed"], true);
    tokio::task::block_in_place(|| {
        eventually("the message in the console", || {
            console_screen(&tmux)
                .contains("hello operator")
                .then_some(())
        })
    });

    // The operator types a line: wait_for_message returns it, and notifications carry it.
    tmux.type_line_into("=orchestrator:", "yes, merge it");
    let waited = ok_json(
        &call(
            &client,
            "wait_for_message",
            json!({ "timeout_seconds": 30 }),
        )
        .await,
    );
    let message = &waited["message"];
    assert_eq!(message["text"], "yes, merge it");
    assert_eq!(message["sender"], "tmux:operator");
    let channel = notifications.next("notifications/claude/channel").await;
    assert_eq!(channel["content"], "yes, merge it");
    assert_eq!(channel["meta"]["message_id"], message["message_id"]);
    assert_eq!(channel["meta"]["sender"], "tmux:operator");
    let log = notifications.next("notifications/message").await;
    assert_eq!(log["level"], "info");
    assert_eq!(log["data"]["text"], "yes, merge it");

    // Nothing queued: a zero timeout answers at once with no message.
    let empty = ok_json(&call(&client, "wait_for_message", json!({ "timeout_seconds": 0 })).await);
    assert_eq!(empty["message"], Value::Null);
    assert_eq!(empty["pending"], 0);

    // reply goes to the message's thread (the console's main conversation here).
    let id = message["message_id"].as_str().unwrap();
    let reply = ok_json(
        &call(
            &client,
            "reply",
            json!({ "message_id": id, "text": "merging now" }),
        )
        .await,
    );
    assert_eq!(reply["thread_id"], Value::Null);
    tokio::task::block_in_place(|| {
        eventually("the reply in the console", || {
            console_screen(&tmux).contains("merging now").then_some(())
        })
    });

    // An unsupported capability is a tool error naming it, and the server keeps serving.
    let react = call(&client, "react", json!({ "message_id": id, "emoji": "👍" })).await;
    assert_eq!(react.is_error, Some(true));
    insta::assert_snapshot!(text(&react), @"unsupported capability `reactions`: the tmux connector does not support reactions");
    let unknown = call(
        &client,
        "reply",
        json!({ "message_id": "nope", "text": "x" }),
    )
    .await;
    assert_eq!(unknown.is_error, Some(true));

    // Bad arguments are protocol errors.
    let error = client
        .call_tool(
            CallToolRequestParams::new("wait_for_message").with_arguments(
                json!({ "timeout_seconds": -1 })
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .expect_err("a negative timeout is refused");
    assert!(error.to_string().contains("timeout_seconds"), "{error}");

    // ask: the question is on the console, the operator types a choice, the tool answers it.
    let asking = tokio::spawn({
        let client = client.clone();
        async move {
            call(
                &client,
                "ask",
                json!({ "question": "Deploy to prod?", "choices": ["Deploy", "Hold off"] }),
            )
            .await
        }
    });
    tokio::task::block_in_place(|| {
        eventually("the question in the console", || {
            console_screen(&tmux).contains("2. Hold off").then_some(())
        })
    });
    tmux.type_line_into("=orchestrator:", "hold off");
    let answer = ok_json(&asking.await.unwrap());
    assert_eq!(answer["outcome"], "chosen");
    assert_eq!(answer["choice_id"], "hold-off");
    assert_eq!(answer["label"], "Hold off");
    assert_eq!(answer["sender"], "tmux:operator");
    assert!(
        answer["question_id"]
            .as_str()
            .is_some_and(|id| id.starts_with('q'))
    );
    let invalid = call(
        &client,
        "ask",
        json!({ "question": "Deploy?", "choices": ["Only one"] }),
    )
    .await;
    assert_eq!(invalid.is_error, Some(true));
    insta::assert_snapshot!(text(&invalid), @"error: invalid choices: a question offers 2 to 10 choices, not 1");

    let health = ok_json(&call(&client, "health", json!({})).await);
    assert_eq!(health["kind"], "tmux");
    assert_eq!(health["reachable"], true);
    assert_eq!(
        health["capabilities"],
        json!(["threads", "edits", "questions"])
    );

    client.cancel().await.expect("close the session");
}

/// Calls tool `name` with `arguments` that must be refused as a protocol error; answers the
/// JSON-RPC error.
async fn refused(client: &Client, name: &'static str, arguments: Value) -> rmcp::ErrorData {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    match client
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
        .await
    {
        Err(rmcp::ServiceError::McpError(error)) => error,
        Err(other) => panic!("{name}: not a JSON-RPC error: {other}"),
        Ok(result) => panic!("{name}: accepted, or a tool error: {result:?}"),
    }
}

/// Arguments that do not fit a tool's input schema are JSON-RPC `invalid_params` errors
/// (-32602) whose message and `data.argument` name the argument, for every tool that takes
/// arguments; nothing is sent, and the server keeps serving (and ignores unknown arguments).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_arguments_are_invalid_params_naming_the_argument() {
    let tmux = tokio::task::block_in_place(|| Tmux::start(ACK_PROGRAM));
    let roster = console_roster(&tmux);
    let (client, _notifications) = connect(&roster, &[]).await;

    let cases = [
        ("send", json!({}), "text"),
        ("send", json!({ "text": 42 }), "text"),
        (
            "send",
            json!({ "text": "never sent", "attachments": "a.log" }),
            "attachments",
        ),
        (
            "send",
            json!({ "text": "never sent", "thread_id": false }),
            "thread_id",
        ),
        ("reply", json!({ "text": "never sent" }), "message_id"),
        (
            "react",
            json!({ "message_id": "1", "emoji": ["👍"] }),
            "emoji",
        ),
        ("edit", json!({ "message_id": "1", "text": null }), "text"),
        ("history", json!({ "limit": "ten" }), "limit"),
        ("history", json!({ "limit": -1 }), "limit"),
        (
            "wait_for_message",
            json!({ "timeout_seconds": "soon" }),
            "timeout_seconds",
        ),
        (
            "wait_for_message",
            json!({ "timeout_seconds": 601 }),
            "timeout_seconds",
        ),
    ];
    let mut messages = Vec::new();
    for (tool, arguments, argument) in cases {
        let error = refused(&client, tool, arguments.clone()).await;
        assert_eq!(error.code.0, -32602, "{tool} {arguments}: {error:?}");
        assert!(
            error.message.contains(&format!("`{argument}`")),
            "{tool} {arguments}: {}",
            error.message
        );
        assert_eq!(
            error.data,
            Some(json!({ "tool": tool, "argument": argument })),
            "{tool} {arguments}"
        );
        messages.push(format!("{tool} {arguments}\n  -> {}", error.message));
    }
    insta::assert_snapshot!("mcp_invalid_arguments", messages.join("\n"));

    // Arguments a tool does not take are ignored (the input schemas do not forbid them), and the
    // server still serves after the refusals.
    let receipt = ok_json(
        &call(
            &client,
            "send",
            json!({ "text": "still serving", "colour": "blue" }),
        )
        .await,
    );
    assert_eq!(receipt["confirmed"], true);
    let output = std::process::Command::new("tmux")
        .args(["-L", &tmux.socket, "capture-pane", "-p", "-J", "-S", "-"])
        .args(["-t", "=orchestrator:"])
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    assert!(console.contains("still serving"), "{console}");
    assert!(
        !console.contains("never sent"),
        "refused calls send nothing: {console}"
    );

    client.cancel().await.expect("close the session");
}

#[cfg(feature = "discord")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_threads_reactions_and_edits() {
    use discord_emulator::{Config, Emulator};

    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let channel = emulator.channel_id();
    let state = tempfile::tempdir().unwrap();
    let roster = discord_roster(state.path(), operator.id, channel);
    let env = discord_env(&emulator);
    let (client, mut notifications) = connect(&roster, &env).await;

    // The operator asks in the channel.
    let question = emulator
        .post_as(&operator, channel, "which branch?")
        .expect("post");
    let waited = next_message(
        &client,
        &mut notifications,
        "which branch?",
        &operator.id.to_string(),
    )
    .await;
    assert_eq!(waited["message"]["message_id"], question.id.to_string());

    // send with thread_id starts a thread from that message and posts there.
    let receipt = ok_json(
        &call(
            &client,
            "send",
            json!({ "text": "main, after the tests", "thread_id": question.id.to_string() }),
        )
        .await,
    );
    assert_eq!(receipt["thread_id"], question.id.to_string());
    let sent_id = receipt["message_ids"][0].as_str().unwrap().to_owned();
    let thread = question.id;
    tokio::task::block_in_place(|| {
        eventually("the answer in the thread", || {
            emulator
                .messages(thread)
                .iter()
                .any(|m| m.content == "main, after the tests")
                .then_some(())
        })
    });

    // The operator answers in the thread; wait_for_message and the notification carry its id.
    let follow_up = emulator
        .post_as(&operator, thread, "ok, go")
        .expect("post in the thread");
    let waited = ok_json(
        &call(
            &client,
            "wait_for_message",
            json!({ "timeout_seconds": 30 }),
        )
        .await,
    );
    assert_eq!(waited["message"]["text"], "ok, go");
    assert_eq!(waited["message"]["thread_id"], thread.to_string());
    let notified = notifications.next("notifications/claude/channel").await;
    assert_eq!(notified["meta"]["thread_id"], thread.to_string());

    // react finds the thread of a message it has seen; reply answers in it; edit changes ours.
    let react = call(
        &client,
        "react",
        json!({ "message_id": follow_up.id.to_string(), "emoji": "👍" }),
    )
    .await;
    ok_json(&react);
    let reactions = emulator
        .message(thread, follow_up.id)
        .expect("the follow-up")
        .reactions;
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0].emoji, "👍");
    assert_eq!(reactions[0].users, [emulator.bot_user_id()]);

    let reply = ok_json(
        &call(
            &client,
            "reply",
            json!({ "message_id": follow_up.id.to_string(), "text": "deploying" }),
        )
        .await,
    );
    assert_eq!(reply["thread_id"], thread.to_string());
    ok_json(
        &call(
            &client,
            "edit",
            json!({ "message_id": sent_id, "text": "main (edited)" }),
        )
        .await,
    );
    let edited = emulator
        .messages(thread)
        .into_iter()
        .find(|m| m.id.to_string() == sent_id)
        .expect("the sent message");
    assert_eq!(edited.content, "main (edited)");

    // live: one message under a key, its text replaced in place; finish marks it final.
    let first = ok_json(
        &call(
            &client,
            "live",
            json!({ "key": "deploy", "text": "deploy: 1/2" }),
        )
        .await,
    );
    let done = ok_json(
        &call(
            &client,
            "live",
            json!({ "key": "deploy", "text": "deploy: done", "finish": true }),
        )
        .await,
    );
    assert_eq!(done["message_ids"], first["message_ids"]);
    assert_eq!(done["finished"], true);
    let live_id = first["message_ids"][0].as_str().unwrap().to_owned();
    let shown = emulator
        .messages(channel)
        .into_iter()
        .find(|m| m.id.to_string() == live_id)
        .expect("the live message");
    assert_eq!(shown.content, "deploy: done");
    let refused = call(&client, "live", json!({ "key": "no spaces", "text": "x" })).await;
    assert_eq!(refused.is_error, Some(true));

    // Files: a path is uploaded, a URL goes in as a link; reply takes them too.
    let files = tempfile::tempdir().unwrap();
    let log = files.path().join("build.log");
    std::fs::write(&log, b"step 1 ok\nstep 2 failed\n").unwrap();
    let with_file = ok_json(
        &call(
            &client,
            "reply",
            json!({
                "message_id": follow_up.id.to_string(),
                "text": "the log",
                "attachments": [log.display().to_string(), "https://ci.example.org/run/7"],
            }),
        )
        .await,
    );
    let posted = emulator
        .messages(thread)
        .into_iter()
        .find(|m| m.id.to_string() == with_file["message_ids"][0].as_str().unwrap())
        .expect("the reply with the file");
    assert!(
        posted.content.contains("https://ci.example.org/run/7"),
        "{}",
        posted.content
    );
    assert_eq!(posted.attachments.len(), 1);
    assert_eq!(posted.attachments[0].filename, "build.log");
    let bytes = reqwest::get(&posted.attachments[0].url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"step 1 ok\nstep 2 failed\n");
    let missing = call(
        &client,
        "send",
        json!({ "text": "x", "attachments": [files.path().join("nope.png").display().to_string()] }),
    )
    .await;
    assert_eq!(missing.is_error, Some(true));
    assert!(text(&missing).contains("nope.png"), "{}", text(&missing));

    // The command line's `send --attach` uploads the same way (a connector of its own, with
    // its own state directory).
    let cli_roster = files.path().join("cli.yaml");
    std::fs::write(
        &cli_roster,
        std::fs::read_to_string(&roster)
            .unwrap()
            .replace("discord-state", "cli-state"),
    )
    .unwrap();
    let output = assert_cmd::Command::cargo_bin("connector")
        .unwrap()
        .env_remove("RUST_LOG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["--roster"])
        .arg(&cli_roster)
        .args([
            "send",
            "--json",
            "--thread",
            &thread.to_string(),
            "--attach",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let receipt: Value = serde_json::from_slice(&output.stdout).unwrap();
    let posted = emulator
        .messages(thread)
        .into_iter()
        .find(|m| m.id.to_string() == receipt["message_ids"][0].as_str().unwrap())
        .expect("the file sent from the command line");
    assert_eq!(posted.attachments.len(), 1);
    assert_eq!(posted.attachments[0].size, 24);

    let history = ok_json(
        &call(
            &client,
            "history",
            json!({ "limit": 10, "thread_id": thread.to_string() }),
        )
        .await,
    );
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(texts.contains(&"ok, go"), "{texts:?}");
    assert!(texts.contains(&"deploying"), "{texts:?}");

    client.cancel().await.expect("close the session");
}

#[test]
fn bridge_and_mcp_help() {
    for command in ["bridge", "mcp"] {
        let output = assert_cmd::Command::cargo_bin("connector")
            .unwrap()
            .env_remove("CONNECTOR_ROSTER")
            .env_remove("CONNECTOR_BRIDGE_FROM")
            .env_remove("CONNECTOR_BRIDGE_TO")
            .env_remove("CONNECTOR_BRIDGE_STATE")
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(output.status.success());
        insta::assert_snapshot!(
            format!("{command}_help"),
            String::from_utf8(output.stdout).unwrap()
        );
    }
}

/// Plays Claude Code's side of the permission relay: sends a permission prompt.
async fn permission_request(client: &Client, request_id: &str, tool: &str, preview: &str) {
    use rmcp::model::{ClientNotification, CustomNotification};
    let params = json!({
        "request_id": request_id,
        "tool_name": tool,
        "description": format!("{tool} wants to run"),
        "input_preview": preview,
    });
    client
        .send_notification(ClientNotification::CustomNotification(
            CustomNotification::new(
                "notifications/claude/channel/permission_request",
                Some(params),
            ),
        ))
        .await
        .expect("send the permission request");
}

impl Notifications {
    /// Every permission verdict received until the one for `request_id`, which must come; the
    /// others are answered for checking (e.g. that no second verdict came for another id).
    async fn verdicts_until(&mut self, request_id: &str) -> Vec<Value> {
        let mut verdicts = Vec::new();
        loop {
            let verdict = self.next("notifications/claude/channel/permission").await;
            let done = verdict["request_id"] == request_id;
            verdicts.push(verdict);
            if done {
                return verdicts;
            }
        }
    }
}

/// Claude Code's permission relay on the tmux console: the prompt is shown (its preview
/// neutralised), a typed `no <id>` denies it with exactly one verdict, a later `yes <id>` is
/// told it was answered and sends nothing, and a repeated prompt is not asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_relay_on_the_tmux_console() {
    let tmux = tokio::task::block_in_place(|| Tmux::start(ACK_PROGRAM));
    let roster = console_roster(&tmux);
    let (client, mut notifications) = connect(&roster, &[]).await;
    let experimental = client
        .peer_info()
        .and_then(|i| i.capabilities.experimental.clone())
        .unwrap_or_default();
    assert!(
        experimental.contains_key("claude/channel/permission"),
        "the relay is declared: {experimental:?}"
    );
    let type_line = |tmux: &Tmux, line: &str| {
        tmux.type_line_into("=orchestrator:", line);
    };

    permission_request(
        &client,
        "hoztn",
        "Bash",
        r#"{"command":"rm -rf build/ ```"}"#,
    )
    .await;
    tokio::task::block_in_place(|| {
        eventually("the prompt on the console", || {
            console_screen(&tmux).contains("2. Deny").then_some(())
        })
    });
    assert!(console_screen(&tmux).contains("input: {\"command\":\"rm -rf build/ ˋˋˋ\"}"));
    type_line(&tmux, "no hoztn");
    let verdicts = notifications.verdicts_until("hoztn").await;
    assert_eq!(
        verdicts,
        [json!({ "request_id": "hoztn", "behavior": "deny" })]
    );

    // A second answer is told, and sends nothing; a repeated prompt is not asked again.
    type_line(&tmux, "yes hoztn");
    tokio::task::block_in_place(|| {
        eventually("the refusal on the console", || {
            console_screen(&tmux)
                .contains("already answered")
                .then_some(())
        })
    });
    permission_request(&client, "hoztn", "Bash", "{}").await;
    permission_request(&client, "kqmvx", "Write", r#"{"path":"notes.md"}"#).await;
    tokio::task::block_in_place(|| {
        eventually("the second prompt", || {
            console_screen(&tmux).contains("kqmvx").then_some(())
        })
    });
    type_line(&tmux, "yes kqmvx");
    let verdicts = notifications.verdicts_until("kqmvx").await;
    assert_eq!(
        verdicts,
        [json!({ "request_id": "kqmvx", "behavior": "allow" })],
        "one verdict per request, ever"
    );
    client.cancel().await.expect("close the session");
}

/// Claude Code's permission relay on Discord: a stranger's click is refused (ephemerally)
/// and sends no verdict; the operator's click on Allow sends exactly one.
#[cfg(feature = "discord")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_relay_on_discord() {
    use discord_emulator::{Config, Emulator, Seen};

    let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
    let operator = emulator.add_user("operator");
    let stranger = emulator.add_user("stranger");
    let channel = emulator.channel_id();
    let state = tempfile::tempdir().unwrap();
    let roster = discord_roster(state.path(), operator.id, channel);
    let env = discord_env(&emulator);
    let (client, mut notifications) = connect(&roster, &env).await;

    permission_request(&client, "tbxkq", "Bash", r#"{"command":"cargo publish"}"#).await;
    let prompt = tokio::task::block_in_place(|| {
        eventually("the prompt in the channel", || {
            emulator
                .messages(channel)
                .into_iter()
                .find(|m| m.content.contains("tbxkq") && !m.components.is_empty())
        })
    });
    let allow = prompt.components[0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let click = emulator
        .click_as(&stranger, channel, prompt.id, &allow)
        .unwrap();
    let told = tokio::task::block_in_place(|| {
        eventually("the stranger's ephemeral answer", || {
            emulator
                .seen_by(&stranger, click.id)
                .into_iter()
                .find_map(|seen| match seen {
                    Seen::Message(message) => Some(message.content),
                    _ => None,
                })
        })
    });
    assert!(told.contains("allow-list"), "{told}");
    emulator
        .click_as(&operator, channel, prompt.id, &allow)
        .unwrap();
    let verdicts = notifications.verdicts_until("tbxkq").await;
    assert_eq!(
        verdicts,
        [json!({ "request_id": "tbxkq", "behavior": "allow" })],
        "the stranger's click sent no verdict"
    );
    let settled = emulator.message(channel, prompt.id).unwrap();
    assert!(settled.components.is_empty() && settled.content.contains("✅ Allow"));
    client.cancel().await.expect("close the session");
}

/// Claude Code's permission relay on Matrix (Synapse): the operator approves by tapping the
/// Allow keycap the bot offers; a stranger's tap before it sends no verdict.
#[cfg(feature = "matrix")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_relay_on_matrix() {
    use synapse_harness::Synapse;

    let synapse = Synapse::start().await;
    let bot = synapse.register("bot").await;
    let operator = synapse.register("operator").await;
    let stranger = synapse.register("stranger").await;
    let room = synapse.create_room(&operator, &[&bot, &stranger]).await;
    let state = tempfile::tempdir().unwrap();
    let roster = state.path().join("matrix.yaml");
    std::fs::write(
        &roster,
        format!(
            "connector:\n  kind: matrix\n  allowed_senders: ['{}']\n  matrix:\n    homeserver_url: {}\n    \
             user_id: '{}'\n    room_id: '{room}'\n    state_dir: '{}'\n",
            operator.user_id,
            synapse.base_url(),
            bot.user_id,
            state.path().join("matrix-state").display()
        ),
    )
    .unwrap();
    let (client, mut notifications) = connect(
        &roster,
        &[("MATRIX_ACCESS_TOKEN", bot.access_token.clone())],
    )
    .await;

    permission_request(&client, "mxprq", "Bash", r#"{"command":"make deploy"}"#).await;
    // The prompt, once the bot has offered both keycaps on it.
    let prompt = eventually_async("the prompt with its keycaps", || async {
        let events = synapse.events(&operator, &room, 50).await;
        let prompt = events.iter().find(|e| {
            e["sender"] == bot.user_id.as_str()
                && e["content"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("mxprq"))
        })?;
        let id = prompt["event_id"].as_str()?.to_owned();
        let keycaps = events
            .iter()
            .filter(|e| {
                e["type"] == "m.reaction" && e["content"]["m.relates_to"]["event_id"] == id.as_str()
            })
            .count();
        (keycaps == 2).then_some(id)
    })
    .await;
    let react = |user: &synapse_harness::User, key: &str| {
        let body = json!({ "m.relates_to": { "rel_type": "m.annotation", "event_id": prompt, "key": key } });
        let path = format!(
            "/_matrix/client/v3/rooms/{room}/send/m.reaction/r{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let synapse = &synapse;
        let user = user.clone();
        async move {
            let (status, answer) = synapse
                .request(Some(&user), "PUT", &path, Some(&body))
                .await;
            assert_eq!(status, 200, "{answer}");
        }
    };
    // The stranger taps Allow first: refused, no verdict; then the operator.
    react(&stranger, "1\u{fe0f}\u{20e3}").await;
    react(&operator, "1\u{fe0f}\u{20e3}").await;
    let verdicts = notifications.verdicts_until("mxprq").await;
    assert_eq!(
        verdicts,
        [json!({ "request_id": "mxprq", "behavior": "allow" })],
        "exactly one verdict, from the operator's tap"
    );
    client.cancel().await.expect("close the session");
}

/// Polls `probe` every 200 ms until it answers `Some`, for at most [`PATIENCE`].
#[cfg(feature = "matrix")]
async fn eventually_async<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {PATIENCE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// `connector mcp` on Telegram: the operator's message in a forum's General arrives through
/// `wait_for_message` and the channel notification, and an answer sent into its thread starts
/// a topic of its own instead of landing in General.
#[cfg(feature = "telegram")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_messages_in_and_an_answer_in_a_topic() {
    use telegram_emulator::{Config, Emulator};

    let emulator = Emulator::start(Config::default()).expect("start the Telegram emulator");
    let operator = emulator.add_user("operator");
    let forum = emulator.add_forum("ops", &[&operator]);
    let state = tempfile::tempdir().unwrap();
    let roster = state.path().join("telegram.yaml");
    std::fs::write(
        &roster,
        format!(
            "connector:\n  kind: telegram\n  allowed_senders: ['{}']\n  telegram:\n    chat_id: {forum}\n    state_dir: '{}'\n",
            operator.id,
            state.path().join("telegram-state").display()
        ),
    )
    .unwrap();
    let env = [
        ("TELEGRAM_BOT_TOKEN", emulator.token().to_owned()),
        ("TELEGRAM_API_BASE_URL", emulator.base_url()),
    ];
    let (client, mut notifications) = connect(&roster, &env).await;

    let posted = emulator
        .post_as(&operator, forum, "which branch?")
        .expect("post");
    let waited = next_message(
        &client,
        &mut notifications,
        "which branch?",
        &operator.id.to_string(),
    )
    .await;
    assert_eq!(waited["message"]["message_id"], posted.to_string());

    // send with thread_id: a thread named by a message of General is a topic of its own.
    let id = waited["message"]["message_id"].as_str().unwrap();
    let receipt = ok_json(
        &call(
            &client,
            "send",
            json!({ "text": "main, after the tests", "thread_id": id }),
        )
        .await,
    );
    assert_eq!(receipt["confirmed"], true, "{receipt}");
    let topics: Vec<i64> = emulator.topics(forum).into_keys().collect();
    let [topic] = topics[..] else {
        panic!("one topic started: {topics:?}")
    };
    let in_topic = emulator
        .messages(forum)
        .into_iter()
        .filter(|m| m.content.text.as_deref() == Some("main, after the tests"))
        .map(|m| m.thread_id)
        .collect::<Vec<_>>();
    assert_eq!(
        in_topic,
        [Some(topic)],
        "once, in the topic, not in General"
    );
    client.cancel().await.unwrap();
}

/// `connector mcp` on Slack: the operator's message arrives through `wait_for_message` and the
/// channel notification, and an answer sent into its thread lands in that message's thread.
#[cfg(feature = "slack")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_messages_in_and_an_answer_in_the_thread() {
    use slack_emulator::{Config, Emulator};

    let emulator = Emulator::start(Config::default()).expect("start the Slack emulator");
    let operator = emulator.add_user("operator");
    let channel = emulator.channel_id().to_owned();
    let state = tempfile::tempdir().unwrap();
    let roster = state.path().join("slack.yaml");
    std::fs::write(
        &roster,
        format!(
            "connector:\n  kind: slack\n  allowed_senders: ['{}']\n  slack:\n    channel_id: {channel}\n    state_dir: '{}'\n",
            operator.id,
            state.path().join("slack-state").display()
        ),
    )
    .unwrap();
    let env = [
        ("SLACK_BOT_TOKEN", emulator.bot_token().to_owned()),
        ("SLACK_APP_TOKEN", emulator.app_token().to_owned()),
        ("SLACK_API_BASE_URL", emulator.api_url()),
    ];
    let (client, mut notifications) = connect(&roster, &env).await;

    let ts = emulator
        .post_as(&operator, &channel, "which branch?", None)
        .expect("post");
    let waited = next_message(&client, &mut notifications, "which branch?", &operator.id).await;

    let id = waited["message"]["message_id"].as_str().unwrap();
    let receipt = ok_json(
        &call(
            &client,
            "send",
            json!({ "text": "main, after the tests", "thread_id": id }),
        )
        .await,
    );
    assert_eq!(receipt["thread_id"], ts.as_str(), "{receipt}");
    let replies: Vec<String> = emulator
        .replies(&channel, &ts)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(
        replies.iter().any(|t| t == "main, after the tests"),
        "the reply in the thread: {replies:?}"
    );
    client.cancel().await.unwrap();
}
