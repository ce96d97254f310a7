//! Shared by the integration tests: a Slack emulator with an operator and a stranger, and the
//! connector's config and environment pointing at it.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use connector_core::{ConnectorConfig, InboundMessage, OrchestratorConnector, Subscription};
use slack_emulator::{Config, Emulator, Message, UserHandle};

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
    /// A fresh emulator with the default config (no rate limits).
    pub fn start() -> World {
        World::with_config(Config::default())
    }

    /// A fresh emulator with `config`.
    pub fn with_config(config: Config) -> World {
        let emulator = Emulator::start(config).expect("start the Slack emulator");
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
    pub fn channel(&self) -> String {
        self.emulator.channel_id().to_owned()
    }

    /// The roster block: the operator is the only allowed sender.
    pub fn config(&self) -> ConnectorConfig {
        self.config_with("")
    }

    /// The roster block with more top-level keys of the `connector` block (YAML lines indented
    /// by two spaces, e.g. `"  pairing:\n    enabled: true\n"`).
    pub fn config_with(&self, connector_keys: &str) -> ConnectorConfig {
        ConnectorConfig::from_roster_str(&format!(
            "connector:\n  kind: slack\n  allowed_senders: ['{}']\n  slack:\n    \
             channel_id: '{}'\n    state_dir: '{}'\n{connector_keys}",
            self.operator.id,
            self.channel(),
            self.state.path().display()
        ))
        .expect("a valid roster")
    }

    /// The tokens and the emulator's address.
    pub fn env(&self) -> HashMap<String, String> {
        HashMap::from([
            (
                "SLACK_BOT_TOKEN".to_owned(),
                self.emulator.bot_token().to_owned(),
            ),
            (
                "SLACK_APP_TOKEN".to_owned(),
                self.emulator.app_token().to_owned(),
            ),
            (
                connector_slack::SLACK_API_BASE_URL.to_owned(),
                self.emulator.api_url(),
            ),
        ])
    }

    /// Opens the connector the way connector-registry does, through its descriptor.
    pub async fn open(&self) -> Arc<dyn OrchestratorConnector> {
        self.open_with(&self.config()).await
    }

    /// Opens the connector with `config`, through the descriptor.
    pub async fn open_with(&self, config: &ConnectorConfig) -> Arc<dyn OrchestratorConnector> {
        (connector_slack::DESCRIPTOR.create)(config, &self.env())
            .await
            .expect("open the Slack connector")
    }

    /// Posts as the operator in the channel (in the thread `thread_ts` if given); its ts.
    pub fn post(&self, text: &str, thread_ts: Option<&str>) -> String {
        self.emulator
            .post_as(&self.operator, &self.channel(), text, thread_ts)
            .expect("operator post")
    }

    /// The bot's messages in the channel and its threads, oldest first.
    pub fn bot_messages(&self) -> Vec<Message> {
        let channel = self.channel();
        let mut all = Vec::new();
        for m in self.emulator.messages(&channel) {
            if m.thread_ts.as_deref() == Some(m.ts.as_str()) {
                all.extend(self.emulator.replies(&channel, &m.ts));
            }
            all.push(m);
        }
        let bot = self.emulator.bot_user_id().to_owned();
        all.retain(|m| m.user == bot);
        all.sort_by_key(|m| ts_key(&m.ts));
        all.dedup_by(|a, b| a.ts == b.ts);
        all
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

/// A ts as a sortable pair.
pub fn ts_key(ts: &str) -> (u64, u64) {
    let (a, b) = ts.split_once('.').unwrap_or((ts, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
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
