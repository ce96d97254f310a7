//! The conformance suite on the Slack emulator: the operator is an emulator user on the
//! allow-list, the stranger another user who is not.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use common::World;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{Error, MessageId, QuestionReceipt, Result, ThreadId};
use slack_emulator::UserHandle;

/// The operator's side: posts through the emulator, reads the bot's messages from its state.
struct SlackPeer {
    world: World,
    /// Bot messages already handed out by `next_posted`.
    seen: Mutex<HashSet<String>>,
}

fn emulator_error(e: slack_emulator::Error) -> Error {
    Error::backend_message("slack-emulator", e.to_string())
}

/// What the operator reads: Slack's escapes undone.
fn shown(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[async_trait]
impl Peer for SlackPeer {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        self.world
            .emulator
            .post_as(
                &self.world.operator,
                &self.world.channel(),
                text,
                thread.map(ThreadId::as_str),
            )
            .map(drop)
            .map_err(emulator_error)
    }

    async fn post_as_stranger(&self, text: &str) -> Result<()> {
        self.world
            .emulator
            .post_as(&self.world.stranger, &self.world.channel(), text, None)
            .map(drop)
            .map_err(emulator_error)
    }

    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let mut seen = self.seen.lock().unwrap();
                let next = self
                    .world
                    .bot_messages()
                    .into_iter()
                    .find(|m| !seen.contains(&m.ts));
                if let Some(message) = next {
                    seen.insert(message.ts.clone());
                    let thread = message.thread_ts.filter(|t| *t != message.ts);
                    return Ok(Some(Posted {
                        text: shown(&message.text),
                        thread_id: thread.map(ThreadId::new),
                    }));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn take_down(&self) -> Result<()> {
        self.world.stop().await;
        Ok(())
    }

    async fn bring_up(&self) -> Result<()> {
        self.world.restart().await;
        Ok(())
    }

    async fn answer_as_operator(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        self.click(&self.world.operator, receipt, choice).await
    }

    async fn answer_as_stranger(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        self.click(&self.world.stranger, receipt, choice).await
    }

    async fn shown_text(&self, message: &MessageId) -> Result<String> {
        Ok(self
            .world
            .bot_messages()
            .into_iter()
            .find(|m| m.ts == message.as_str())
            .map(|m| shown(&m.text))
            .unwrap_or_default())
    }
}

impl SlackPeer {
    /// Clicks the button of choice `choice` on the question's message as `user`; answers the
    /// ephemeral message they then saw, if any (`None` once the question shows an outcome
    /// without one).
    async fn click(
        &self,
        user: &UserHandle,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let ts = receipt.message_ids[0].as_str().to_owned();
        let message = self
            .world
            .bot_messages()
            .into_iter()
            .find(|m| m.ts == ts)
            .expect("the question's message");
        let action = message
            .blocks
            .as_ref()
            .and_then(|b| b.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["action_id"].as_str().map(str::to_owned))
            .nth(choice);
        let before = self.world.emulator.ephemeral_seen_by(user).len();
        let thread = message.thread_ts.clone().filter(|t| *t != message.ts);
        match action {
            Some(action) => {
                self.world
                    .emulator
                    .click(user, &self.world.channel(), &ts, &action, None)
                    .map_err(emulator_error)?;
            }
            None => {
                // The buttons are gone (the question is settled): answer by typing instead.
                let typed = format!("{} {}", choice + 1, receipt.question_id);
                self.world
                    .emulator
                    .post_as(user, &self.world.channel(), &typed, thread.as_deref())
                    .map_err(emulator_error)?;
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let told = self.world.emulator.ephemeral_seen_by(user);
            if let Some(last) = told.get(before) {
                return Ok(Some(shown(&last.text)));
            }
            let settled = self
                .world
                .bot_messages()
                .into_iter()
                .find(|m| m.ts == ts)
                .is_some_and(|m| m.text.contains('✅'));
            if settled && self.world.emulator.unacked() == 0 {
                return Ok(None);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn setup() -> Fixture {
    let world = World::start();
    let connector = world.open().await;
    let peer = SlackPeer {
        world,
        seen: Mutex::new(HashSet::new()),
    };
    Fixture::new(connector, peer)
}

connector_conformance::suite!(setup);
