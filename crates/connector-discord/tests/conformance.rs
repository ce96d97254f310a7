//! The conformance suite on the Discord emulator: the operator is an emulator user on the
//! allow-list, the stranger another user who is not.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use common::World;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{Error, MessageId, QuestionReceipt, Result, ThreadId};
use discord_emulator::{Message, Seen, Snowflake, UserHandle};

/// The operator's side: posts through the emulator, reads the bot's messages from its state.
struct DiscordPeer {
    world: World,
    /// Bot messages already handed out by `next_posted`.
    seen: Mutex<HashSet<Snowflake>>,
}

impl DiscordPeer {
    /// The bot's messages in the channel and its threads, oldest first, with their thread.
    fn bot_messages(&self) -> Vec<(Message, Option<Snowflake>)> {
        let channel = self.world.channel();
        let mut all: Vec<(Message, Option<Snowflake>)> = self
            .world
            .bot_messages(channel)
            .into_iter()
            .map(|m| (m, None))
            .collect();
        for thread in self.world.emulator.threads(channel) {
            all.extend(
                self.world
                    .bot_messages(thread.id)
                    .into_iter()
                    .map(|m| (m, Some(thread.id))),
            );
        }
        all.sort_by_key(|(m, _)| m.id);
        all
    }
}

fn emulator_error(e: discord_emulator::Error) -> Error {
    Error::backend_message("discord-emulator", e.to_string())
}

#[async_trait]
impl Peer for DiscordPeer {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        let target = match thread {
            Some(thread) => thread.as_str().parse().map_err(|_| Error::InvalidInput {
                field: "thread",
                message: "not a snowflake".into(),
            })?,
            None => self.world.channel(),
        };
        self.world
            .emulator
            .post_as(&self.world.operator, target, text)
            .map(drop)
            .map_err(emulator_error)
    }

    async fn post_as_stranger(&self, text: &str) -> Result<()> {
        self.world
            .emulator
            .post_as(&self.world.stranger, self.world.channel(), text)
            .map(drop)
            .map_err(emulator_error)
    }

    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let mut seen = self.seen.lock().unwrap();
                let next = self
                    .bot_messages()
                    .into_iter()
                    .find(|(m, _)| !seen.contains(&m.id));
                if let Some((message, thread)) = next {
                    seen.insert(message.id);
                    return Ok(Some(Posted {
                        text: message.content,
                        thread_id: thread.map(|t| ThreadId::new(t.to_string())),
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
        let id: Snowflake = message.as_str().parse().map_err(|_| Error::InvalidInput {
            field: "message",
            message: "not a snowflake".into(),
        })?;
        Ok(self
            .bot_messages()
            .into_iter()
            .find(|(m, _)| m.id == id)
            .map(|(m, _)| m.content)
            .unwrap_or_default())
    }
}

impl DiscordPeer {
    /// Clicks the button of choice `choice` on the question's message as `user`; answers the
    /// ephemeral message they then saw, if any.
    async fn click(
        &self,
        user: &UserHandle,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let id: Snowflake = receipt.message_ids[0].as_str().parse().unwrap();
        let (message, thread) = self
            .bot_messages()
            .into_iter()
            .find(|(m, _)| m.id == id)
            .expect("the question's message");
        let custom_id = message
            .components
            .iter()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|button| button["custom_id"].as_str().map(str::to_owned))
            .nth(choice);
        let channel = thread.unwrap_or_else(|| self.world.channel());
        let Some(custom_id) = custom_id else {
            // The buttons are gone (the question is settled): answer by typing instead, and
            // read the bot's reply to that message.
            let typed = format!("{} {}", choice + 1, receipt.question_id);
            let posted = self
                .world
                .emulator
                .post_as(user, channel, &typed)
                .map_err(emulator_error)?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while tokio::time::Instant::now() < deadline {
                let reply = self.world.bot_messages(channel).into_iter().find(|m| {
                    m.reference
                        .as_ref()
                        .is_some_and(|r| r.message_id == Some(posted.id))
                });
                if let Some(reply) = reply {
                    self.seen.lock().unwrap().insert(reply.id);
                    return Ok(Some(reply.content));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return Ok(None);
        };
        let click = self
            .world
            .emulator
            .click_as(user, channel, id, &custom_id)
            .map_err(emulator_error)?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            for seen in self.world.emulator.seen_by(user, click.id) {
                match seen {
                    Seen::Message(message) => return Ok(Some(message.content)),
                    Seen::Edited(_) => return Ok(None),
                    Seen::Failed => panic!("the user saw \"This interaction failed\""),
                    _ => {}
                }
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("the click was not answered");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn setup() -> Fixture {
    let world = World::start();
    let connector = world.open().await;
    let peer = DiscordPeer {
        world,
        seen: Mutex::new(HashSet::new()),
    };
    Fixture::new(connector, peer)
}

connector_conformance::suite!(setup);
