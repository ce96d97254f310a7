//! The conformance kit's `Peer` on the Telegram emulator: the operator posts and presses
//! buttons through the emulator, and the bot's messages are read from its state.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{Error, MessageId, QuestionReceipt, Result, ThreadId};
use telegram_emulator::{Message, Post, UserHandle};

use super::{ChatShape, World};

/// The operator's side of the chat.
pub struct TelegramPeer {
    pub world: World,
    /// Bot messages already handed out by `next_posted`.
    seen: Mutex<HashSet<i64>>,
}

fn emulator_error(e: telegram_emulator::Error) -> Error {
    Error::backend_message("telegram-emulator", e.to_string())
}

fn number(id: &str, field: &'static str) -> Result<i64> {
    id.parse().map_err(|_| Error::InvalidInput {
        field,
        message: format!("{id:?} is not a Telegram id"),
    })
}

impl TelegramPeer {
    pub fn new(world: World) -> Self {
        Self {
            world,
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// The thread a message is in, as the connector names threads: its topic in a forum, the
    /// first message of its reply chain elsewhere.
    fn thread_of(&self, message: &Message, all: &BTreeMap<i64, Message>) -> Option<i64> {
        match self.world.shape {
            ChatShape::Forum => message.thread_id,
            ChatShape::Private => {
                let mut root = message.reply_to?;
                while let Some(up) = all.get(&root).and_then(|m| m.reply_to) {
                    root = up;
                }
                Some(root)
            }
        }
    }

    /// Presses the button of choice `choice` on the question's message as `user`; answers
    /// what the press showed them. Once the buttons are gone, types the answer instead and
    /// answers the bot's reply to it.
    async fn press(
        &self,
        user: &UserHandle,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let id = number(receipt.message_ids[0].as_str(), "message")?;
        let world = &self.world;
        let message = world
            .emulator
            .message(world.chat, id)
            .expect("the question's message");
        let data = message
            .content
            .reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|button| button["callback_data"].as_str().map(str::to_owned))
            .nth(choice);
        let Some(data) = data else {
            let typed = format!("{} {}", choice + 1, receipt.question_id);
            let mut post = Post::text(typed);
            if let Some(topic) = message.thread_id {
                post = post.in_topic(topic);
            }
            let posted = world
                .emulator
                .post(user, world.chat, post)
                .map_err(emulator_error)?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while tokio::time::Instant::now() < deadline {
                if let Some(reply) = world
                    .bot_messages()
                    .into_iter()
                    .find(|m| m.reply_to == Some(posted))
                {
                    self.seen.lock().unwrap().insert(reply.message_id);
                    return Ok(reply.content.text);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return Ok(None);
        };
        let query = world
            .emulator
            .click(user, world.chat, id, &data)
            .map_err(emulator_error)?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(answer) = world.emulator.callback_answer(&query) {
                return Ok(answer.text);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the button press was not answered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[async_trait]
impl Peer for TelegramPeer {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        let mut post = Post::text(text);
        if let Some(thread) = thread {
            let thread = number(thread.as_str(), "thread")?;
            post = match self.world.shape {
                ChatShape::Forum => post.in_topic(thread),
                ChatShape::Private => post.reply_to(thread),
            };
        }
        self.world
            .emulator
            .post(&self.world.operator, self.world.chat, post)
            .map(drop)
            .map_err(emulator_error)
    }

    /// In a forum the stranger is a member and posts there; in a private chat they can only
    /// write to the bot in their own private chat.
    async fn post_as_stranger(&self, text: &str) -> Result<()> {
        let world = &self.world;
        let chat = match world.shape {
            ChatShape::Forum => world.chat,
            ChatShape::Private => world.emulator.private_chat(&world.stranger),
        };
        world
            .emulator
            .post_as(&world.stranger, chat, text)
            .map(drop)
            .map_err(emulator_error)
    }

    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let all: BTreeMap<i64, Message> = self
                    .world
                    .emulator
                    .messages(self.world.chat)
                    .into_iter()
                    .map(|m| (m.message_id, m))
                    .collect();
                let mut seen = self.seen.lock().unwrap();
                let next = self
                    .world
                    .bot_messages()
                    .into_iter()
                    .find(|m| !seen.contains(&m.message_id));
                if let Some(message) = next {
                    seen.insert(message.message_id);
                    return Ok(Some(Posted {
                        thread_id: self
                            .thread_of(&message, &all)
                            .map(|t| ThreadId::new(t.to_string())),
                        text: message.content.text.unwrap_or_default(),
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
        self.press(&self.world.operator, receipt, choice).await
    }

    /// In a forum the stranger presses the button; in a private chat, where they cannot see
    /// the question, they type the answer to the bot in their own chat.
    async fn answer_as_stranger(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        match self.world.shape {
            ChatShape::Forum => self.press(&self.world.stranger, receipt, choice).await,
            ChatShape::Private => {
                let text = format!("{} {}", choice + 1, receipt.question_id);
                self.post_as_stranger(&text).await?;
                Ok(None)
            }
        }
    }

    async fn shown_text(&self, message: &MessageId) -> Result<String> {
        let id = number(message.as_str(), "message")?;
        Ok(self
            .world
            .emulator
            .message(self.world.chat, id)
            .and_then(|m| m.content.text)
            .unwrap_or_default())
    }
}

/// A fresh emulator with a chat of `shape`, the connector opened on it, and the peer.
pub async fn fixture(shape: ChatShape) -> Fixture {
    let world = World::start(shape);
    let connector = world.open().await;
    Fixture::new(connector, TelegramPeer::new(world))
}
