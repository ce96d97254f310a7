//! One meaning for a line break, whatever delivers the message: a one-shot `connector send`, a
//! long-running `connector mcp`, or `connector bridge` relaying an operator's Discord message
//! (Discord emulator). With the default rule a message is one line of input to the pane's
//! program: `\n`, `\r\n` and a lone `\r` hidden after a comment never run the command behind
//! them in bash (bracketed paste on) nor in dash (none), while the same payload pasted raw does
//! (the control experiment). With `line_breaks: paste`, an agent-like program gets each message
//! as one bracketed paste with its line breaks, on every path.
#![cfg(all(feature = "discord", feature = "tmux"))]

mod peers;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use discord_emulator::{Config, Emulator, Snowflake, UserHandle};
use peers::{Running, Tmux, discord_env, eventually, state_file};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

/// bash with bracketed paste on (its default at an interactive prompt), after the line the
/// harness waits for.
const BASH: &str = "printf 'agent ready\\n'; \
    exec env PS1='$ ' INPUTRC=/dev/null bash --norc --noprofile -i";

/// The ways a line break is written.
const BREAKS: [(&str, &str); 3] = [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")];

fn pane_roster(tmux: &Tmux, name: &str, target: &str, extra: &str) -> PathBuf {
    tmux.write_roster(
        name,
        &format!(
            "connector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n    mode: pane\n    \
             target: \"{target}\"\n    submit_delay_ms: 0\n{extra}",
            tmux.socket
        ),
    )
}

fn one_shot_send(roster: &Path, text: &str) {
    let output = Command::new(assert_cmd::cargo::cargo_bin("connector"))
        .env_remove("RUST_LOG")
        .env_remove("CONNECTOR_ROSTER")
        .arg("--roster")
        .arg(roster)
        .args(["send", "--", text])
        .stdin(Stdio::null())
        .output()
        .expect("run connector send");
    assert!(
        output.status.success(),
        "send {text:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Sends each text through one `connector mcp` session's `send` tool.
async fn mcp_sends(roster: &Path, texts: &[String]) {
    let mut command = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("connector"));
    command
        .arg("--roster")
        .arg(roster)
        .arg("mcp")
        .env_remove("RUST_LOG")
        .env_remove("CONNECTOR_ROSTER");
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn connector mcp");
    let client = ().serve(transport).await.expect("initialize the MCP session");
    for text in texts {
        let Value::Object(arguments) = json!({ "text": text }) else {
            unreachable!()
        };
        let result = client
            .call_tool(CallToolRequestParams::new("send").with_arguments(arguments))
            .await
            .expect("call send");
        assert_ne!(result.is_error, Some(true), "send {text:?}: {result:?}");
    }
    let _ = client.cancel().await;
}

/// An operator on the Discord emulator, bridged by `connector bridge` to the pane `pane` names.
struct Bridged {
    emulator: Emulator,
    operator: UserHandle,
    channel: Snowflake,
    bridge: Running,
}

impl Bridged {
    fn start(tmux: &Tmux, pane: &Path) -> Bridged {
        let emulator = Emulator::start(Config::default()).expect("start the Discord emulator");
        let operator = emulator.add_user("operator");
        let channel = emulator.channel_id();
        let discord = tmux.discord_roster("", operator.id, channel);
        let env = discord_env(&emulator);
        let state = state_file(tmux.dir.path());
        let args = [
            "bridge",
            "--from",
            discord.to_str().unwrap(),
            "--to",
            pane.to_str().unwrap(),
            "--state",
            &state,
        ];
        let bridge = Running::start(&args, &env, "bridging discord (operator) <-> tmux (agent)");
        Bridged {
            emulator,
            operator,
            channel,
            bridge,
        }
    }

    /// The operator posts `text` in the channel.
    fn post(&self, text: &str) {
        self.emulator
            .post_as(&self.operator, self.channel, text)
            .expect("post as the operator");
    }
}

/// Relays each text as an operator's Discord message through `connector bridge` into `pane`.
fn bridge_sends(tmux: &Tmux, pane: &Path, texts: &[String], done: &Path) {
    let bridged = Bridged::start(tmux, pane);
    for text in texts {
        bridged.post(text);
    }
    // A sentinel after them: once it ran, every message before it has been handled.
    bridged.post(&format!("touch {}", done.display()));
    eventually("the bridge to deliver the sentinel", || {
        done.exists().then_some(())
    });
    drop(bridged.bridge);
    let _ = std::fs::remove_file(done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_break_means_one_line_on_every_path() {
    let tmux = Tmux::start(BASH);
    let dash = "printf 'dash ready\\n'; exec env PS1='$ ' dash -i";
    assert!(tmux.run(&["new-session", "-d", "-s", "dash", "sh", "-c", dash]));
    let dir = tmux.dir.path().to_owned();
    for (shell, target) in [("bash", "agent:0.0"), ("dash", "dash:0.0")] {
        let roster = pane_roster(&tmux, &format!("{shell}.yaml"), target, "");
        let marker = |path: &str, name: &str| dir.join(format!("{shell}-{path}-{name}"));
        let payloads = |path: &str| -> Vec<String> {
            BREAKS
                .iter()
                .map(|(name, line_break)| {
                    format!("# x{line_break}touch {}", marker(path, name).display())
                })
                .collect()
        };
        for text in payloads("send") {
            one_shot_send(&roster, &text);
        }
        mcp_sends(&roster, &payloads("mcp")).await;
        let done = dir.join(format!("{shell}-done"));
        bridge_sends(&tmux, &roster, &payloads("bridge"), &done);
        // Everything above has been read by the shell: a last command runs after it.
        one_shot_send(&roster, &format!("touch {}", done.display()));
        eventually("the shell to run the last command", || {
            done.exists().then_some(())
        });
        for path in ["send", "mcp", "bridge"] {
            for (name, _) in BREAKS {
                assert!(
                    !marker(path, name).exists(),
                    "{shell} through {path}: a {name} line break ran a second command"
                );
            }
        }
        // Control experiment: each payload pasted raw does run the command behind the break.
        for text in payloads("control") {
            assert!(tmux.run(&["set-buffer", "-b", "raw", "--", &text]));
            assert!(tmux.run(&["paste-buffer", "-p", "-d", "-b", "raw", "-t", target]));
            assert!(tmux.run(&["send-keys", "-t", target, "Enter"]));
        }
        for (name, _) in BREAKS {
            let ran = marker("control", name);
            eventually(&format!("the raw {name} payload to run in {shell}"), || {
                ran.exists().then_some(())
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_line_breaks_reach_an_agent_as_one_prompt_on_every_path() {
    let tmux = Tmux::start("printf 'agent ready\\n'; exec sleep 600");
    let dir = tmux.dir.path().to_owned();
    let prompts = dir.join("prompts");
    // An agent-like program: raw terminal, bracketed paste on, everything it reads recorded.
    let agent = format!(
        "stty raw -echo; printf '\\033[?2004h'; printf 'agent2 ready'; exec cat > '{}'",
        prompts.display()
    );
    assert!(tmux.run(&["new-session", "-d", "-s", "agent2", "sh", "-c", &agent]));
    eventually("the agent-like program to start", || {
        let output = Command::new("tmux")
            .args(["-L", &tmux.socket, "capture-pane", "-p", "-t", "agent2:0.0"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stdout)
            .contains("agent2 ready")
            .then_some(())
    });
    let roster = pane_roster(
        &tmux,
        "agent2.yaml",
        "agent2:0.0",
        "    line_breaks: paste\n",
    );
    let text = |path: &str| format!("{path}: first\nsecond\r\nthird");
    let prompt = |path: &str| format!("\x1b[200~{path}: first\rsecond\rthird\x1b[201~\r");

    one_shot_send(&roster, &text("send"));
    mcp_sends(&roster, &[text("mcp")]).await;
    let expected = format!("{}{}{}", prompt("send"), prompt("mcp"), prompt("bridge"));
    let bridged = Bridged::start(&tmux, &roster);
    bridged.post(&text("bridge"));
    let got = eventually("the three prompts to be recorded", || {
        let got = std::fs::read(&prompts).unwrap_or_default();
        (got.len() >= expected.len()).then_some(got)
    });
    drop(bridged.bridge);
    assert_eq!(
        String::from_utf8_lossy(&got),
        expected,
        "each path delivers one bracketed paste with its line breaks, then one Enter"
    );
}
