//! Shared by the integration tests: a Discord emulator with an operator and a stranger, and the
//! connector's config and environment pointing at it.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use connector_core::{ConnectorConfig, InboundMessage, OrchestratorConnector, Subscription};
use discord_emulator::{Config, Emulator, Message, Snowflake, UserHandle, message_type};

/// How long a test waits for something to arrive.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// An emulator, its two humans and a state directory for the connector.
pub struct World {
    pub emulator: Emulator,
    pub operator: UserHandle,
    pub stranger: UserHandle,
    pub state: tempfile::TempDir,
}

impl World {
    /// A fresh emulator with Discord-like rate limits.
    pub fn start() -> World {
        World::with_config(Config::default())
    }

    /// A fresh emulator with `config`.
    pub fn with_config(config: Config) -> World {
        let emulator = Emulator::start(config).expect("start the Discord emulator");
        let operator = emulator.add_user("operator");
        let stranger = emulator.add_user("stranger");
        World {
            emulator,
            operator,
            stranger,
            state: tempfile::tempdir().expect("a state directory"),
        }
    }

    /// The channel the connector talks in.
    pub fn channel(&self) -> Snowflake {
        self.emulator.channel_id()
    }

    /// The roster block: the operator is the only allowed sender.
    pub fn config(&self) -> ConnectorConfig {
        self.config_for(self.channel())
    }

    /// The roster block for another channel.
    pub fn config_for(&self, channel: Snowflake) -> ConnectorConfig {
        self.config_with(channel, "")
    }

    /// The roster block for `channel` with more keys of the `discord` block (YAML lines
    /// indented by four spaces, e.g. `"    require_mention: true\n"`).
    pub fn config_with(&self, channel: Snowflake, discord_keys: &str) -> ConnectorConfig {
        ConnectorConfig::from_roster_str(&format!(
            "connector:\n  kind: discord\n  allowed_senders: ['{}']\n  discord:\n    \
             channel_id: '{}'\n    state_dir: '{}'\n{discord_keys}",
            self.operator.id,
            channel,
            self.state.path().display()
        ))
        .expect("a valid roster")
    }

    /// Opens the connector with `config`, through the descriptor.
    pub async fn open_with(&self, config: &ConnectorConfig) -> Arc<dyn OrchestratorConnector> {
        (connector_discord::DESCRIPTOR.create)(config, &self.env())
            .await
            .expect("open the Discord connector")
    }

    /// The bot token and the emulator's address.
    pub fn env(&self) -> HashMap<String, String> {
        HashMap::from([
            (
                "DISCORD_BOT_TOKEN".to_owned(),
                self.emulator.bot_token().to_owned(),
            ),
            (
                connector_discord::DISCORD_API_BASE_URL.to_owned(),
                self.emulator.base_url(),
            ),
        ])
    }

    /// Opens the connector the way connector-registry does, through its descriptor.
    pub async fn open(&self) -> Arc<dyn OrchestratorConnector> {
        (connector_discord::DESCRIPTOR.create)(&self.config(), &self.env())
            .await
            .expect("open the Discord connector")
    }

    /// Posts as the operator in `channel`.
    pub fn post(&self, channel: Snowflake, text: &str) -> Message {
        self.emulator
            .post_as(&self.operator, channel, text)
            .expect("operator post")
    }

    /// The bot's messages in `channel`, oldest first, without system notices (THREAD_CREATED).
    pub fn bot_messages(&self, channel: Snowflake) -> Vec<Message> {
        let bot = self.emulator.bot_user_id();
        self.emulator
            .messages(channel)
            .into_iter()
            .filter(|m| m.author_id == bot)
            .filter(|m| m.kind == message_type::DEFAULT || m.kind == message_type::REPLY)
            .collect()
    }

    /// Starts a thread from `message` with the operator's token (as the Discord client does).
    pub async fn start_thread_as_operator(&self, message: Snowflake, name: &str) {
        let url = format!(
            "{}/api/v10/channels/{}/messages/{message}/threads",
            self.emulator.base_url(),
            self.channel()
        );
        let response = serenity_reqwest::Client::new()
            .post(url)
            .header("Authorization", self.operator.token.clone())
            .header("Content-Type", "application/json")
            .body(serde_json::json!({ "name": name }).to_string())
            .send()
            .await
            .expect("start a thread as the operator");
        assert_eq!(response.status().as_u16(), 201);
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
