//! Shared by the integration tests: a Telegram emulator with an operator and a stranger, the
//! chat the connector talks in (the operator's private chat, or a forum), and the connector's
//! config and environment pointing at it.

#![allow(dead_code, unreachable_pub)]

pub mod peer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use connector_core::{ConnectorConfig, InboundMessage, OrchestratorConnector, Subscription};
use telegram_emulator::{Config, Emulator, Media, Message, Post, UserHandle};

/// How long a test waits for something to arrive.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Which kind of chat the connector talks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatShape {
    /// The operator's private chat with the bot: threads are reply chains.
    Private,
    /// A forum supergroup with both humans, the bot an administrator: threads are topics.
    Forum,
}

/// An emulator, its two humans, the chat and a state directory for the connector.
pub struct World {
    pub emulator: Emulator,
    pub operator: UserHandle,
    pub stranger: UserHandle,
    pub chat: i64,
    pub shape: ChatShape,
    pub state: tempfile::TempDir,
}

impl World {
    /// A fresh emulator with the connector's chat of `shape`.
    pub fn start(shape: ChatShape) -> World {
        World::with_config(shape, Config::default())
    }

    /// A fresh emulator with `config`.
    pub fn with_config(shape: ChatShape, config: Config) -> World {
        let emulator = Emulator::start(config).expect("start the Telegram emulator");
        let operator = emulator.add_user("operator");
        let stranger = emulator.add_user("stranger");
        let chat = match shape {
            ChatShape::Private => emulator.private_chat(&operator),
            ChatShape::Forum => emulator.add_forum("ops", &[&operator, &stranger]),
        };
        World {
            emulator,
            operator,
            stranger,
            chat,
            shape,
            state: tempfile::tempdir().expect("a state directory"),
        }
    }

    /// The roster block: the operator is the only allowed sender.
    pub fn config(&self) -> ConnectorConfig {
        self.config_with("")
    }

    /// The roster block with more top-level `connector` keys (YAML lines indented by two
    /// spaces, e.g. `"  pairing:\n    enabled: true\n"`).
    pub fn config_with(&self, connector_keys: &str) -> ConnectorConfig {
        ConnectorConfig::from_roster_str(&format!(
            "connector:\n  kind: telegram\n  allowed_senders: ['{}']\n  telegram:\n    \
             chat_id: {}\n    state_dir: '{}'\n{connector_keys}",
            self.operator.id,
            self.chat,
            self.state.path().display()
        ))
        .expect("a valid roster")
    }

    /// The bot token and the emulator's address.
    pub fn env(&self) -> HashMap<String, String> {
        HashMap::from([
            (
                "TELEGRAM_BOT_TOKEN".to_owned(),
                self.emulator.token().to_owned(),
            ),
            (
                connector_telegram::TELEGRAM_API_BASE_URL.to_owned(),
                self.emulator.base_url(),
            ),
        ])
    }

    /// Opens the connector the way connector-registry does, through its descriptor.
    pub async fn open(&self) -> Arc<dyn OrchestratorConnector> {
        self.open_with(&self.config()).await
    }

    /// Opens the connector with `config`, through the descriptor.
    pub async fn open_with(&self, config: &ConnectorConfig) -> Arc<dyn OrchestratorConnector> {
        (connector_telegram::DESCRIPTOR.create)(config, &self.env())
            .await
            .expect("open the Telegram connector")
    }

    /// Posts `text` as the operator in the chat (General in a forum); answers its id.
    pub fn post(&self, text: &str) -> i64 {
        self.emulator
            .post_as(&self.operator, self.chat, text)
            .expect("operator post")
    }

    /// Posts as the operator with options.
    pub fn post_with(&self, post: Post) -> i64 {
        self.emulator
            .post(&self.operator, self.chat, post)
            .expect("operator post")
    }

    /// The bot's messages in the chat, oldest first, without service messages (topics).
    pub fn bot_messages(&self) -> Vec<Message> {
        let bot = self.emulator.bot_id();
        self.emulator
            .messages(self.chat)
            .into_iter()
            .filter(|m| m.from == bot && !matches!(m.media, Media::TopicCreated(_)))
            .collect()
    }

    /// The texts of the bot's messages, oldest first.
    pub fn bot_texts(&self) -> Vec<String> {
        self.bot_messages()
            .into_iter()
            .map(|m| m.content.text.unwrap_or_default())
            .collect()
    }

    /// Stops the emulator (blocking briefly, so off the async workers).
    pub async fn stop(&self) {
        tokio::task::block_in_place(|| self.emulator.stop());
    }

    /// Restarts the emulator on the same port.
    pub async fn restart(&self) {
        tokio::task::block_in_place(|| self.emulator.restart()).expect("restart the emulator");
    }
}

/// The next message of `subscription`, failing the test after [`PATIENCE`].
pub async fn next(subscription: &mut Subscription, what: &str) -> InboundMessage {
    match tokio::time::timeout(PATIENCE, subscription.recv()).await {
        Ok(Some(message)) => message,
        Ok(None) => panic!("subscription closed while waiting for {what}"),
        Err(_) => panic!("{what} did not arrive within {PATIENCE:?}"),
    }
}

/// Polls `probe` every 50 ms until it answers `Some`, failing after [`PATIENCE`].
pub async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
