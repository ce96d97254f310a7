//! The conformance suite on the Discord emulator: the operator is an emulator user on the
//! allow-list, the stranger another user who is not.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use common::World;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{Error, Result, ThreadId};
use discord_emulator::{Message, Snowflake};

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
