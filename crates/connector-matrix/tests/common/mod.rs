//! Shared set-up of the integration tests: a real homeserver (Synapse, or Conduit for the tests
//! that run on both), a bot, its operator, a stranger and their room, and connectors configured
//! the way a roster would configure them.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses part of this module"
)]

mod homeserver;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use connector_core::config::secrets::MATRIX_ACCESS_TOKEN;
use connector_core::{ConnectorConfig, InboundMessage, Subscription};
use connector_matrix::MatrixConnector;
pub use homeserver::Homeserver;
use synapse_harness::{Synapse, User};
use tempfile::TempDir;

/// How long a test waits for one expected arrival: longer than the connector's 10 s `/sync`
/// long-poll, because Conduit can miss the wake-up of a long-poll and answer it only when it
/// times out (see docs/deploy-matrix.md, "Where Conduit and Synapse differ").
pub const PATIENCE: Duration = Duration::from_secs(45);

/// A homeserver with a room where `bot` (the connector) and `operator` talk, and `stranger`
/// is a member who is not on the allow-list.
pub struct World {
    pub homeserver: Homeserver,
    pub bot: User,
    pub operator: User,
    pub stranger: User,
    pub room: String,
    /// The connector's state directory.
    pub state: TempDir,
}

impl World {
    /// Starts Synapse (relaxed rate limits) and sets up the users and the room.
    pub async fn start() -> World {
        Self::on(Synapse::start().await).await
    }

    /// Starts Conduit and sets up the users and the room; the operator registers first, so
    /// (as on a real Conduit, see docs/deploy-matrix.md) the operator is the server's admin.
    pub async fn start_conduit() -> World {
        Self::on(conduit_harness::Conduit::start().await).await
    }

    /// Sets up the users and the room on `homeserver`.
    pub async fn on(homeserver: impl Into<Homeserver>) -> World {
        init_logging();
        let homeserver = homeserver.into();
        let operator = homeserver.register("operator").await;
        let bot = homeserver.register("bot").await;
        let stranger = homeserver.register("stranger").await;
        let room = homeserver.create_room(&operator, &[&bot, &stranger]).await;
        World {
            homeserver,
            bot,
            operator,
            stranger,
            room,
            state: tempfile::tempdir().expect("a temporary state directory"),
        }
    }

    /// The roster a deployment would write for the bot.
    pub fn config(&self) -> ConnectorConfig {
        roster(
            &self.homeserver.base_url(),
            &self.bot.user_id,
            &self.room,
            &self.operator.user_id,
            self.state.path(),
        )
    }

    /// The environment holding the bot's token.
    pub fn env(&self) -> HashMap<String, String> {
        token_env(&self.bot.access_token)
    }

    /// Opens the bot's connector.
    pub async fn open(&self) -> MatrixConnector {
        MatrixConnector::open(&self.config(), &self.env())
            .await
            .expect("open the Matrix connector")
    }

    /// The operator turns encryption on in the room (`m.megolm.v1.aes-sha2`).
    pub async fn enable_encryption(&self) {
        let (status, answer) = self
            .homeserver
            .request(
                Some(&self.operator),
                "PUT",
                &format!(
                    "/_matrix/client/v3/rooms/{}/state/m.room.encryption/",
                    self.room
                ),
                Some(&serde_json::json!({ "algorithm": "m.megolm.v1.aes-sha2" })),
            )
            .await;
        assert_eq!(status, 200, "enabling encryption: {answer}");
    }

    /// The operator as an encrypting matrix-sdk client (feature `e2e-encryption`): a new
    /// device logged in with the password through `homeserver_url` (the homeserver, or a proxy
    /// in front of it), synced once to learn the room and upload its keys. Answers the client, its
    /// view of the room and the store it keeps (drop it last).
    #[cfg(feature = "e2e-encryption")]
    pub async fn encrypting_operator(
        &self,
        homeserver_url: &str,
        device_name: &str,
    ) -> (matrix_sdk::Client, matrix_sdk::Room, TempDir) {
        let store = tempfile::tempdir().unwrap();
        let operator = matrix_sdk::Client::builder()
            .homeserver_url(homeserver_url)
            .sqlite_store(store.path(), None)
            .build()
            .await
            .expect("the operator's client");
        operator
            .matrix_auth()
            .login_username(&self.operator.user_id, &self.operator.password)
            .initial_device_display_name(device_name)
            .await
            .expect("the operator logs in");
        operator
            .sync_once(matrix_sdk::config::SyncSettings::default().timeout(Duration::ZERO))
            .await
            .expect("the operator's first sync");
        let room_id = matrix_sdk::ruma::OwnedRoomId::try_from(self.room.as_str()).unwrap();
        let room = operator
            .get_room(&room_id)
            .expect("the operator sees the room");
        (operator, room, store)
    }

    /// Posts `text` as the operator; answers the event id.
    pub async fn post(&self, text: &str) -> String {
        self.homeserver
            .send_text(&self.operator, &self.room, text, None)
            .await
    }

    /// The room's latest `m.room.message` events (oldest first), as the operator sees them.
    pub async fn messages(&self, limit: u32) -> Vec<serde_json::Value> {
        self.homeserver
            .messages(&self.operator, &self.room, limit)
            .await
    }

    /// `user` sends an event of type `kind` with `content` into the room; answers its id.
    pub async fn send_event(&self, user: &User, kind: &str, content: serde_json::Value) -> String {
        let txn = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let (status, answer) = self
            .homeserver
            .request(
                Some(user),
                "PUT",
                &format!("/_matrix/client/v3/rooms/{}/send/{kind}/t{txn}", self.room),
                Some(&content),
            )
            .await;
        assert_eq!(status, 200, "sending {kind}: {answer}");
        answer["event_id"].as_str().unwrap().to_owned()
    }

    /// `user` reacts to `event_id` with `key`; answers the reaction's event id.
    pub async fn react(&self, user: &User, event_id: &str, key: &str) -> String {
        let relation =
            serde_json::json!({"rel_type": "m.annotation", "event_id": event_id, "key": key});
        self.send_event(
            user,
            "m.reaction",
            serde_json::json!({ "m.relates_to": relation }),
        )
        .await
    }

    /// `user` replies to `event_id` with `text` (`m.in_reply_to`, in the main timeline);
    /// answers the reply's event id.
    pub async fn reply(&self, user: &User, event_id: &str, text: &str) -> String {
        let content = serde_json::json!({
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}
        });
        self.send_event(user, "m.room.message", content).await
    }

    /// The keys of `user`'s reactions on `event_id` that are not taken back.
    pub async fn reactions_by(&self, user: &str, event_id: &str) -> Vec<String> {
        self.homeserver
            .events(&self.operator, &self.room, 200)
            .await
            .iter()
            .filter(|e| {
                e["type"] == "m.reaction"
                    && e["sender"] == user
                    && e["content"]["m.relates_to"]["event_id"] == event_id
            })
            .filter_map(|e| {
                e["content"]["m.relates_to"]["key"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    /// The text of message `event_id` as a client shows it: its newest edit's, else its own.
    pub async fn shown_text(&self, event_id: &str) -> String {
        let messages = self.messages(100).await;
        let edited = messages.iter().rev().find(|m| {
            m["content"]["m.relates_to"]["rel_type"] == "m.replace"
                && m["content"]["m.relates_to"]["event_id"] == event_id
                && m["sender"] == sender_of(&messages, event_id)
        });
        match edited {
            Some(edit) => edit["content"]["m.new_content"]["body"].as_str(),
            None => messages
                .iter()
                .find(|m| m["event_id"] == event_id)
                .and_then(|m| m["content"]["body"].as_str()),
        }
        .unwrap_or_default()
        .to_owned()
    }

    /// The body of the first notice by the bot in the thread of `root` posted after the event
    /// `after`, waiting up to `patience`.
    pub async fn notice_after(
        &self,
        after: &str,
        root: &str,
        patience: Duration,
    ) -> Option<String> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let events = self
                .homeserver
                .events(&self.operator, &self.room, 100)
                .await;
            let notice = events
                .iter()
                .skip_while(|e| e["event_id"] != after)
                .find(|e| {
                    e["sender"] == self.bot.user_id.as_str()
                        && e["content"]["msgtype"] == "m.notice"
                        && e["content"]["m.relates_to"]["rel_type"] == "m.thread"
                        && e["content"]["m.relates_to"]["event_id"] == root
                });
            if let Some(notice) = notice {
                return notice["content"]["body"].as_str().map(str::to_owned);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The operator's view of the event `event_id` (among the latest 100 messages).
    pub async fn message(&self, event_id: &str) -> serde_json::Value {
        self.messages(100)
            .await
            .into_iter()
            .find(|m| m["event_id"] == event_id)
            .unwrap_or_else(|| panic!("{event_id} is not among the room's latest messages"))
    }
}

/// The sender of `event_id` among `messages` (only its own edits count).
fn sender_of(messages: &[serde_json::Value], event_id: &str) -> serde_json::Value {
    messages
        .iter()
        .find(|m| m["event_id"] == event_id)
        .map_or(serde_json::Value::Null, |m| m["sender"].clone())
}

/// A `connector` block for the bot, as YAML a roster holds.
pub fn roster(
    homeserver: &str,
    user_id: &str,
    room: &str,
    operator: &str,
    state_dir: &Path,
) -> ConnectorConfig {
    let yaml = format!(
        "fleet: ignored\nconnector:\n  kind: matrix\n  allowed_senders: ['{operator}']\n  matrix:\n    \
         homeserver_url: {homeserver}\n    user_id: '{user_id}'\n    room_id: '{room}'\n    \
         state_dir: '{}'\n",
        state_dir.display()
    );
    ConnectorConfig::from_roster_str(&yaml).unwrap_or_else(|e| panic!("roster {yaml}: {e}"))
}

/// An environment with `MATRIX_ACCESS_TOKEN` set to `token`.
pub fn token_env(token: &str) -> HashMap<String, String> {
    HashMap::from([(MATRIX_ACCESS_TOKEN.to_owned(), token.to_owned())])
}

/// The next message, failing the test after [`PATIENCE`].
pub async fn recv(subscription: &mut Subscription, what: &str) -> InboundMessage {
    match tokio::time::timeout(PATIENCE, subscription.recv()).await {
        Ok(Some(message)) => message,
        Ok(None) => panic!("the subscription ended while waiting for {what}"),
        Err(_) => panic!("{what} did not arrive within {PATIENCE:?}"),
    }
}

/// The texts of the next `count` messages.
pub async fn recv_texts(subscription: &mut Subscription, count: usize, what: &str) -> Vec<String> {
    let mut texts = Vec::with_capacity(count);
    for i in 0..count {
        texts.push(recv(subscription, &format!("{what} #{i}")).await.text);
    }
    texts
}

/// Polls `probe` every 200 ms until it answers `Some`, failing after `patience`.
pub async fn eventually<T, F, Fut>(patience: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {patience:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Shows the connector's logs when `RUST_LOG` is set (e.g. `RUST_LOG=connector_matrix=debug`).
pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
