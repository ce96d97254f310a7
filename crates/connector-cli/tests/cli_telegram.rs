//! The `connector` command on Telegram, against the project's Bot API emulator
//! (`TELEGRAM_API_BASE_URL`): `send` (and a lost answer: exit 6, one message, no resend),
//! `listen`, `ask`, and `doctor` passing on good setups and failing, probe by probe, with each
//! failure's fix.
#![cfg(feature = "telegram")]

mod common;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use common::{ASK_MERGE_OR_HOLD, Dir, spawn, stderr, stdout, wait_until};
use telegram_emulator::{Config, Emulator, UserHandle};

/// An emulator, its operator and the chat the roster names.
struct Setup {
    emulator: Emulator,
    operator: UserHandle,
    chat: i64,
    dir: Dir,
}

impl Setup {
    /// The operator's private chat with the bot.
    fn private() -> Setup {
        let emulator = Emulator::start(Config::default()).expect("start the emulator");
        let operator = emulator.add_user("operator");
        let chat = emulator.private_chat(&operator);
        Setup {
            emulator,
            operator,
            chat,
            dir: Dir::new(),
        }
    }

    /// A forum supergroup with the operator; the bot an administrator.
    fn forum() -> Setup {
        let mut setup = Setup::private();
        setup.chat = setup.emulator.add_forum("ops", &[&setup.operator]);
        setup
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The roster: this chat, the operator allowed.
    fn roster(&self) -> PathBuf {
        self.dir.file(
            "roster.yaml",
            &format!(
                "connector:\n  kind: telegram\n  allowed_senders: ['{}']\n  telegram:\n    \
                 chat_id: {}\n    state_dir: '{}'\n",
                self.operator.id,
                self.chat,
                self.state_dir().display()
            ),
        )
    }

    /// `connector --roster … ARGS` with the emulator's token and address.
    fn connector(&self, args: &[&str]) -> Command {
        self.connector_with_token(self.emulator.token(), args)
    }

    fn connector_with_token(&self, token: &str, args: &[&str]) -> Command {
        let mut command = self.dir.connector();
        command
            .arg("--roster")
            .arg(self.roster())
            .args(args)
            .env("TELEGRAM_BOT_TOKEN", token)
            .env("TELEGRAM_API_BASE_URL", self.emulator.base_url());
        command
    }

    fn bot_texts(&self) -> Vec<String> {
        self.emulator
            .messages(self.chat)
            .into_iter()
            .filter(|m| m.from == self.emulator.bot_id())
            .filter_map(|m| m.content.text)
            .collect()
    }

    /// Doctor's output with the run's ids, ports and timings replaced.
    fn stable(&self, output: &Output) -> String {
        let text = stdout(output)
            .replace(&self.dir.path().display().to_string(), "[DIR]")
            .replace(&self.emulator.base_url(), "[EMULATOR]")
            .replace(&self.chat.to_string(), "[CHAT]")
            .replace(&self.emulator.bot_id().to_string(), "[BOT]")
            .replace(&self.operator.id.to_string(), "[OPERATOR]");
        regex_free_ms(&text)
    }
}

/// `in 12 ms` → `in [MS] ms`, without a regex dependency.
fn regex_free_ms(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("in ") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(" ms") {
            out.push_str("[MS]");
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn send_renders_markdown_and_listen_prints_the_operators_message() {
    let setup = Setup::private();
    let output = setup
        .connector(&["send", "**PR #12** is green <script>"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(setup.bot_texts(), ["PR #12 is green <script>"]);

    let listen = spawn(setup.connector(&["listen", "--count", "1", "--timeout", "60"]));
    // The first position saved: the connector skipped what waited and is listening.
    let position = setup.state_dir().join("updates.json");
    wait_until("the first saved position", &listen, || position.exists());
    setup
        .emulator
        .post_as(&setup.operator, setup.chat, "ship it")
        .unwrap();
    let output = listen.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("ship it"), "{output:?}");
    assert!(
        stderr(&output).contains("listening on telegram"),
        "{output:?}"
    );
}

/// Telegram has no idempotency key: a send whose answer was lost is not resent. `send` exits 6
/// saying the message may have been delivered, and the chat holds it once.
#[test]
fn a_lost_answer_exits_6_and_the_message_is_posted_once() {
    let setup = Setup::private();
    setup
        .emulator
        .faults()
        .lose_next_response("sendMessage")
        .unwrap();
    let output = setup
        .connector(&["send", "deploy finished"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6), "{output:?}");
    let error = stderr(&output);
    assert!(error.contains("may have delivered the message"), "{error}");
    assert!(error.contains("look at the conversation"), "{error}");
    assert_eq!(setup.bot_texts(), ["deploy finished"]);
}

#[test]
fn ask_prints_the_operators_choice() {
    let setup = Setup::forum();
    let ask = spawn(setup.connector(&ASK_MERGE_OR_HOLD));
    let mut question = None;
    wait_until("the question", &ask, || {
        question = setup.emulator.messages(setup.chat).into_iter().find(|m| {
            m.content
                .text
                .as_deref()
                .is_some_and(|t| t.contains("Merge PR #12?"))
        });
        question.is_some()
    });
    let question = question.unwrap();
    // The button labelled Hold, as the operator's client shows it.
    let hold = question
        .content
        .reply_markup
        .as_ref()
        .and_then(|markup| markup["inline_keyboard"].as_array())
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .find(|button| button["text"].as_str().is_some_and(|t| t.contains("Hold")))
        .and_then(|button| button["callback_data"].as_str())
        .expect("a Hold button")
        .to_owned();
    setup
        .emulator
        .click(&setup.operator, setup.chat, question.message_id, &hold)
        .expect("press Hold");
    let output = ask.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("Hold"), "{output:?}");
}

/// `connector doctor` on two good setups, then one failure at a time: each probe names what is
/// wrong and the fix, and the token is never echoed.
#[test]
fn doctor_names_each_failure_with_its_fix() {
    let mut outputs = Vec::new();

    let private = Setup::private();
    let output = private.connector(&["doctor"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!("# a private chat\n{}", private.stable(&output)));

    let forum = Setup::forum();
    let output = forum.connector(&["doctor"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!("# a forum\n{}", forum.stable(&output)));

    let wrong = format!(
        "{}:AAwrongwrongwrongwrongwrongwrongwrong",
        private.emulator.bot_id()
    );
    let output = private
        .connector_with_token(&wrong, &["doctor"])
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    assert!(!stdout(&output).contains(&wrong), "the token is echoed");
    outputs.push(format!("# a wrong token\n{}", private.stable(&output)));

    // A chat id the bot was never added to (Telegram answers "chat not found").
    let mut unseen = Setup::private();
    unseen.chat = -1_009_999_999_999;
    let output = unseen.connector(&["doctor"]).output().unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!(
        "# a chat the bot is not in\n{}",
        unseen.stable(&output)
    ));

    let mut group = Setup::private();
    group.chat = group.emulator.add_group("ops group", &[&group.operator]);
    let output = group.connector(&["doctor"]).output().unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!(
        "# a group with privacy mode on\n{}",
        group.stable(&output)
    ));

    let forum = Setup::forum();
    forum.emulator.set_bot_admin(forum.chat, false).unwrap();
    forum.emulator.set_privacy_mode(false);
    let output = forum.connector(&["doctor"]).output().unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!(
        "# a forum where the bot is no administrator\n{}",
        forum.stable(&output)
    ));

    let hooked = Setup::private();
    let url = format!("{}/setWebhook", hooked.emulator.bot_url());
    let set = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .post(url)
            .json(&serde_json::json!({ "url": "https://example.org/hook" }))
            .send()
            .await
            .unwrap()
    });
    assert!(set.status().is_success(), "{set:?}");
    let output = hooked.connector(&["doctor"]).output().unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!("# a webhook still set\n{}", hooked.stable(&output)));

    let stopped = Setup::private();
    stopped.emulator.stop();
    let output = stopped.connector(&["doctor"]).output().unwrap();
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    outputs.push(format!(
        "# Telegram unreachable\n{}",
        stopped.stable(&output)
    ));

    insta::assert_snapshot!(outputs.join("\n"));
}
