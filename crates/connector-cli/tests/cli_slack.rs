//! The `connector` command on Slack, against the project's Slack emulator
//! (`SLACK_API_BASE_URL`): `send` (hostile text posts no mention; a lost answer posts once),
//! `listen`, `ask` with Block Kit buttons, and `doctor` passing on a good setup and failing,
//! probe by probe, with each failure's fix.
#![cfg(feature = "slack")]

mod common;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use common::{ASK_MERGE_OR_HOLD, Dir, spawn, stderr, stdout, wait_until};
use slack_emulator::{Config, Emulator, UserHandle};

/// An emulator, its operator and the channel the roster names.
struct Setup {
    emulator: Emulator,
    operator: UserHandle,
    channel: String,
    dir: Dir,
}

impl Setup {
    fn start() -> Setup {
        Setup::with_config(Config::default())
    }

    fn with_config(config: Config) -> Setup {
        let emulator = Emulator::start(config).expect("start the emulator");
        let operator = emulator.add_user("operator");
        let channel = emulator.channel_id().to_owned();
        Setup {
            emulator,
            operator,
            channel,
            dir: Dir::new(),
        }
    }

    /// The roster: this channel, the operator allowed.
    fn roster(&self) -> PathBuf {
        self.dir.file(
            "roster.yaml",
            &format!(
                "connector:\n  kind: slack\n  allowed_senders: ['{}']\n  slack:\n    \
                 channel_id: {}\n    state_dir: '{}'\n",
                self.operator.id,
                self.channel,
                self.dir.path().join("state").display()
            ),
        )
    }

    /// `connector --roster … ARGS` with the emulator's tokens and address.
    fn connector(&self, args: &[&str]) -> Command {
        self.connector_with(self.emulator.bot_token(), self.emulator.app_token(), args)
    }

    fn connector_with(&self, bot_token: &str, app_token: &str, args: &[&str]) -> Command {
        let mut command = self.dir.connector();
        command
            .arg("--roster")
            .arg(self.roster())
            .args(args)
            .env("SLACK_BOT_TOKEN", bot_token)
            .env("SLACK_APP_TOKEN", app_token)
            .env("SLACK_API_BASE_URL", self.emulator.api_url());
        command
    }

    /// The texts of the bot's messages in the channel, oldest first.
    fn bot_texts(&self) -> Vec<String> {
        self.emulator
            .messages(&self.channel)
            .into_iter()
            .filter(|m| m.user == self.emulator.bot_user_id())
            .map(|m| m.text)
            .collect()
    }

    /// Doctor's output with the run's ids, ports and timings replaced.
    fn stable(&self, output: &Output) -> String {
        let mut text = stdout(output)
            .replace(&self.dir.path().display().to_string(), "[DIR]")
            .replace(&self.emulator.api_url(), "[EMULATOR]")
            .replace(&self.channel, "[CHANNEL]")
            .replace(self.emulator.bot_user_id(), "[BOT]")
            .replace(self.emulator.team_id(), "[TEAM]");
        // `in 12 ms` / `1.2 s` timings.
        let mut out = String::with_capacity(text.len());
        while let Some(at) = text.find(" in ") {
            let (head, tail) = text.split_at(at + 4);
            out.push_str(head);
            let digits = tail
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            if digits > 0 && (tail[digits..].starts_with(" ms") || tail[digits..].starts_with(" s"))
            {
                out.push_str("[T]");
                text = tail[digits..].to_owned();
            } else {
                text = tail.to_owned();
            }
        }
        out.push_str(&text);
        out
    }
}

#[test]
fn send_escapes_mentions_and_listen_prints_the_operators_message() {
    let setup = Setup::start();
    let output = setup
        .connector(&["send", "**PR #12** is green <!channel> & <@U024BE7LH>"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let texts = setup.bot_texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        !texts[0].contains("<!channel>") && !texts[0].contains("<@U024BE7LH>"),
        "a mention got through: {texts:?}"
    );
    assert!(texts[0].contains("&lt;!channel&gt;"), "{texts:?}");

    let listen = spawn(setup.connector(&["listen", "--count", "1", "--timeout", "60"]));
    wait_until("the socket connection", &listen, || {
        setup.emulator.socket_connections() > 0
    });
    setup
        .emulator
        .post_as(&setup.operator, &setup.channel, "ship it", None)
        .unwrap();
    let output = listen.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("ship it"), "{output:?}");
    assert!(stderr(&output).contains("listening on slack"), "{output:?}");
}

/// Slack has no idempotency key, but the message carries its key in `metadata`: after a lost
/// answer the connector finds it in the channel instead of posting again.
#[test]
fn a_lost_answer_posts_the_message_once() {
    let setup = Setup::start();
    setup.emulator.faults().lose_response("chat.postMessage", 1);
    let output = setup
        .connector(&["send", "deploy finished"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(setup.bot_texts(), ["deploy finished"]);
}

#[test]
fn ask_prints_the_operators_choice() {
    let setup = Setup::start();
    let ask = spawn(setup.connector(&ASK_MERGE_OR_HOLD));
    let mut question = None;
    wait_until("the question", &ask, || {
        question = setup
            .emulator
            .messages(&setup.channel)
            .into_iter()
            .find(|m| m.text.contains("Merge PR #12?") && m.blocks.is_some());
        question.is_some()
    });
    let question = question.unwrap();
    // The button labelled Hold, as the operator's client shows it.
    let blocks = question.blocks.clone().unwrap_or_default();
    let hold = blocks
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|block| block["elements"].as_array().into_iter().flatten())
        .find(|element| element["text"]["text"] == "Hold")
        .and_then(|element| element["action_id"].as_str())
        .expect("a Hold button")
        .to_owned();
    setup
        .emulator
        .click(&setup.operator, &setup.channel, &question.ts, &hold, None)
        .expect("press Hold");
    let output = ask.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("Hold"), "{output:?}");
}

/// `connector doctor` on a good setup, then one failure at a time: each probe names what is
/// wrong and the fix, and no token is echoed.
#[test]
fn doctor_names_each_failure_with_its_fix() {
    let mut outputs = Vec::new();
    let mut run = |title: &str, setup: &Setup, output: Output, ok: bool| {
        assert_eq!(output.status.success(), ok, "{title}: {output:?}");
        let text = stdout(&output);
        for token in [setup.emulator.bot_token(), setup.emulator.app_token()] {
            assert!(!text.contains(token), "{title}: a token is echoed");
        }
        outputs.push(format!("# {title}\n{}", setup.stable(&output)));
    };

    let good = Setup::start();
    let output = good.connector(&["doctor"]).output().unwrap();
    run("a good setup", &good, output, true);

    let output = good
        .connector_with("xoxb-wrong", good.emulator.app_token(), &["doctor"])
        .output()
        .unwrap();
    run("a wrong bot token", &good, output, false);

    let output = good
        .connector_with(
            good.emulator.bot_token(),
            good.emulator.bot_token(),
            &["doctor"],
        )
        .output()
        .unwrap();
    run(
        "the bot token in place of the app token",
        &good,
        output,
        false,
    );

    let scopes = Setup::start();
    scopes
        .emulator
        .set_scopes(&["chat:write", "channels:read", "connections:write"]);
    let output = scopes.connector(&["doctor"]).output().unwrap();
    run("missing scopes", &scopes, output, false);

    let mut outside = Setup::start();
    outside.channel = outside.emulator.add_channel("elsewhere", false);
    let output = outside.connector(&["doctor"]).output().unwrap();
    run("a channel without the bot", &outside, output, false);

    let mut unknown = Setup::start();
    unknown.channel = "C0NOSUCH99".to_owned();
    let output = unknown.connector(&["doctor"]).output().unwrap();
    run("an unknown channel", &unknown, output, false);

    // Its round trip waits for --timeout at most.
    let deaf = Setup::with_config(Config::default().echo_own_messages(false));
    let output = deaf
        .connector(&["doctor", "--timeout", "3"])
        .output()
        .unwrap();
    run("no message events subscribed", &deaf, output, false);

    let stopped = Setup::start();
    stopped.emulator.stop();
    let output = stopped.connector(&["doctor"]).output().unwrap();
    run("Slack unreachable", &stopped, output, false);

    insta::assert_snapshot!(outputs.join("\n"));
}
