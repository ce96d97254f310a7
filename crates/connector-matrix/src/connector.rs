//! [`MatrixConnector`]: matrix-sdk behind connector-core's `OrchestratorConnector`.
//!
//! Outbound, each part of a message is one `PUT /rooms/{room}/send/m.room.message/{txn}` whose
//! transaction id is the message's idempotency key (`key.for_part(i)`), reused on every retry:
//! the homeserver answers a repeated transaction with the event it already created, so a retry
//! never posts twice. Inbound, one sync loop ([`crate::sync_loop`]) feeds the shared [`Inbox`].

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use connector_core::chunking::{Chunker, LengthUnit};
use connector_core::config::ConnectorConfig;
use connector_core::config::secrets::{Environment, MATRIX_ACCESS_TOKEN, SecretString, require};
use connector_core::retry::RetryPolicy;
use connector_core::sending::send_in_parts;
use connector_core::{
    Capabilities, Capability, ConnectorDescriptor, ConnectorFuture, ConnectorHealth, Error,
    HistoryQuery, InboundMessage, Inbox, MessageId, OrchestratorConnector, OutboundMessage, Result,
    SendReceipt, SenderPolicy, Subscription, ThreadId, check_outbound,
};
use matrix_sdk::Client;
#[cfg(not(feature = "e2e-encryption"))]
use matrix_sdk::ruma::api::client::message::send_message_event;
use matrix_sdk::ruma::api::client::typing::create_typing_event::v3::{
    Request as TypingRequest, Typing, TypingInfo,
};
use matrix_sdk::ruma::events::MessageLikeEventContent;
use matrix_sdk::ruma::{OwnedEventId, OwnedTransactionId, TransactionId};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::outbound::{self, ThreadTarget, event_id};
use crate::position::SavedPosition;
use crate::settings::MatrixSettings;
use crate::sync_loop::{SyncLoop, SyncStatus};
use crate::threads::Threads;
use crate::{KIND, client, errors, health, history};

/// How `connector-registry` builds this backend.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    kind: KIND,
    secrets: &[MATRIX_ACCESS_TOKEN],
    create,
};

fn create(config: &ConnectorConfig, env: &dyn Environment) -> ConnectorFuture {
    let prepared = prepare(config, env);
    Box::pin(async move {
        let connector: Arc<dyn OrchestratorConnector> =
            Arc::new(MatrixConnector::start(prepared?).await?);
        Ok(connector)
    })
}

/// The longest part of a message, in UTF-8 bytes of its Markdown.
///
/// A Matrix event may be 65 536 bytes in all; the HTML rendering in `formatted_body` can be
/// about as long again as the text (more for dense Markdown), plus JSON escaping and the
/// event's envelope, so a part stays well under a quarter of that.
pub const MAX_PART_BYTES: usize = 16_000;

/// How long `close` waits for the sync loop to finish its batch before stopping it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a typing notice lasts unless renewed.
const TYPING_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything `open` reads from its arguments before doing any I/O.
struct Prepared {
    settings: MatrixSettings,
    token: SecretString,
    policy: SenderPolicy,
    queue_capacity: usize,
}

fn prepare(config: &ConnectorConfig, env: &dyn Environment) -> Result<Prepared> {
    Ok(Prepared {
        settings: MatrixSettings::from_config(config, env)?,
        token: require(env, MATRIX_ACCESS_TOKEN)?,
        policy: config.sender_policy(),
        queue_capacity: config.queue_capacity(),
    })
}

/// A connector to an operator in one Matrix room.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::config::secrets::ProcessEnv;
/// use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
///
/// let config = ConnectorConfig::from_roster_file("roster.yaml".as_ref())?;
/// let connector = connector_matrix::MatrixConnector::open(&config, &ProcessEnv).await?;
/// let mut replies = connector.subscribe().await?;
/// let receipt = connector.send(OutboundMessage::new("**Build green.** Deploy?")).await?;
/// let reply = replies.recv().await;
/// # Ok(()) }
/// ```
pub struct MatrixConnector {
    client: Client,
    settings: MatrixSettings,
    inbox: Arc<Inbox>,
    threads: Arc<Threads>,
    status: Arc<SyncStatus>,
    subscribed: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    sync_task: Mutex<Option<JoinHandle<()>>>,
    chunker: Chunker,
    retry: RetryPolicy,
    closed: AtomicBool,
}

impl std::fmt::Debug for MatrixConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixConnector")
            .field("settings", &self.settings)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Drop for MatrixConnector {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self
            .sync_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
        self.inbox.close();
    }
}

impl MatrixConnector {
    /// Opens the connector the config's `matrix` block names, with the access token from
    /// `MATRIX_ACCESS_TOKEN` (or `MATRIX_ACCESS_TOKEN_FILE`) in `env`.
    ///
    /// Checks the token with the homeserver (its user must be `user_id`), establishes the sync
    /// position (on the very first start: now, without replaying history) and starts the sync
    /// loop. Fails with [`Error::Unauthorized`] if the token is refused, [`Error::Config`] if
    /// it belongs to another user, [`Error::Unreachable`] if the homeserver does not answer.
    pub async fn open(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        let prepared = prepare(config, env)?;
        Self::start(prepared).await
    }

    async fn start(prepared: Prepared) -> Result<Self> {
        let Prepared {
            settings,
            token,
            policy,
            queue_capacity,
        } = prepared;
        let client = client::connect(&settings, &token).await?;
        let inbox = Arc::new(Inbox::with_capacities(
            policy,
            queue_capacity,
            connector_core::dedupe::DEFAULT_DEDUPE_CAPACITY,
        ));
        inbox.add_own_identity(settings.user_id.as_str());
        let threads = Arc::new(Threads::default());
        let status = Arc::new(SyncStatus::default());
        let subscribed = Arc::new(Notify::new());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let sync = SyncLoop {
            client: client.clone(),
            room_id: settings.room_id.clone(),
            own_user: settings.user_id.clone(),
            inbox: Arc::clone(&inbox),
            position: SavedPosition::new(settings.sync_token_path()),
            threads: Arc::clone(&threads),
            status: Arc::clone(&status),
            subscribed: Arc::clone(&subscribed),
            shutdown: shutdown_rx,
        };
        let since = sync.start_position().await?;
        let task = tokio::spawn(sync.run(since));
        Ok(Self {
            client,
            settings,
            inbox,
            threads,
            status,
            subscribed,
            shutdown,
            sync_task: Mutex::new(Some(task)),
            chunker: Chunker::new(MAX_PART_BYTES, LengthUnit::Bytes)?,
            retry: RetryPolicy::default(),
            closed: AtomicBool::new(false),
        })
    }

    /// The bot's user id (the token's owner).
    pub fn user_id(&self) -> &str {
        self.settings.user_id.as_str()
    }

    /// The room the connector talks in.
    pub fn room_id(&self) -> &str {
        self.settings.room_id.as_str()
    }

    /// Where the sync position is kept.
    pub fn state_dir(&self) -> &Path {
        &self.settings.state_dir
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed { kind: KIND.into() })
        } else {
            Ok(())
        }
    }

    /// Sends one event with transaction id `txn`, retrying under the connector's policy with
    /// the same transaction id every time.
    async fn send_event<C>(&self, content: &C, txn: &TransactionId) -> Result<OwnedEventId>
    where
        C: MessageLikeEventContent + Clone,
    {
        self.retry
            .run(|attempt| async move {
                if attempt > 1 {
                    tracing::debug!(attempt, %txn, "retrying a send with the same transaction id");
                }
                self.send_event_once(content, txn).await
            })
            .await
    }

    #[cfg(not(feature = "e2e-encryption"))]
    async fn send_event_once<C>(&self, content: &C, txn: &TransactionId) -> Result<OwnedEventId>
    where
        C: MessageLikeEventContent + Clone,
    {
        let request = send_message_event::v3::Request::new(
            self.settings.room_id.clone(),
            txn.to_owned(),
            content,
        )
        .map_err(|e| Error::Backend {
            kind: KIND.into(),
            message: "cannot serialise the event".into(),
            source: Some(Box::new(e)),
        })?;
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| errors::from_http("send", e))?;
        Ok(response.event_id)
    }

    /// With end-to-end encryption, matrix-sdk's room sender encrypts when the room asks for it.
    #[cfg(feature = "e2e-encryption")]
    async fn send_event_once<C>(&self, content: &C, txn: &TransactionId) -> Result<OwnedEventId>
    where
        C: MessageLikeEventContent + Clone,
    {
        let Some(room) = self.client.get_room(&self.settings.room_id) else {
            // Never fall back to a plain PUT here: in an encrypted room that would post the
            // message in the clear. A joined room is in the store after open()'s first sync.
            return Err(Error::Rejected {
                kind: KIND.into(),
                reason: format!(
                    "room {} is not known to this client (not joined?); not sending unencrypted",
                    self.settings.room_id
                ),
            });
        };
        let response = room
            .send(content.clone())
            .with_transaction_id(txn.to_owned())
            .await
            .map_err(|e| errors::from_sdk("send", e))?;
        Ok(response.response.event_id)
    }

    /// The thread to post into for a caller's `thread_id`: the root of the thread that event is
    /// in, or the event itself (which starts a thread).
    fn thread_root(&self, thread: &ThreadId) -> Result<OwnedEventId> {
        let asked = event_id("thread_id", thread.as_str())?;
        event_id("thread_id", &self.threads.root_for(asked.as_str()))
    }

    async fn send_part(
        &self,
        text: String,
        txn: OwnedTransactionId,
        root: Option<&OwnedEventId>,
    ) -> Result<MessageId> {
        let target = match root {
            Some(root) => Some(ThreadTarget {
                root: root.clone(),
                latest: event_id("thread_id", &self.threads.latest_in(root.as_str()))?,
            }),
            None => None,
        };
        let content = outbound::message(&text, target.as_ref());
        let id = self.send_event(&content, &txn).await?;
        let id = MessageId::new(id.as_str());
        self.inbox.note_own_message(&id);
        if let Some(root) = root {
            self.threads.note(id.as_str(), root.as_str());
        }
        Ok(id)
    }
}

#[async_trait]
impl OrchestratorConnector for MatrixConnector {
    fn kind(&self) -> &str {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
            .with(Capability::Threads)
            .with(Capability::Markdown)
            .with(Capability::History)
            .with(Capability::Reactions)
            .with(Capability::Edits)
            .with(Capability::Typing)
            .with_max_message_len(MAX_PART_BYTES)
    }

    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(KIND, self.capabilities(), &message)?;
        self.ensure_open()?;
        let root = message
            .thread_id
            .as_ref()
            .map(|thread| self.thread_root(thread))
            .transpose()?;
        let ids = send_in_parts(
            &self.chunker,
            &message.text,
            &message.idempotency_key,
            |_, part, key| {
                self.send_part(part, OwnedTransactionId::from(key.as_str()), root.as_ref())
            },
        )
        .await?;
        Ok(SendReceipt::new(
            ids,
            root.map(|root| ThreadId::new(root.as_str())),
            true,
        ))
    }

    async fn subscribe(&self) -> Result<Subscription> {
        self.ensure_open()?;
        let subscription = self.inbox.subscribe();
        self.subscribed.notify_one();
        Ok(subscription)
    }

    async fn health(&self) -> ConnectorHealth {
        if self.closed.load(Ordering::Acquire) {
            return ConnectorHealth::unreachable("the connector is closed");
        }
        let mut health = health::probe(
            &self.client,
            &self.settings.homeserver_url,
            &self.settings.user_id,
            &self.settings.room_id,
        )
        .await;
        if health.is_healthy()
            && let Some(problem) = self.status.problem()
        {
            health = health.with_detail(problem);
        }
        health.with_rejected_senders(self.inbox.stats().rejected_senders)
    }

    async fn react(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        emoji: &str,
    ) -> Result<()> {
        self.ensure_open()?;
        if emoji.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "emoji",
                message: "must not be empty".into(),
            });
        }
        let content = outbound::reaction(event_id("message", message.as_str())?, emoji);
        match self.send_event(&content, &TransactionId::new()).await {
            // Reacting twice with the same emoji is refused by Synapse; the reaction is there.
            Err(Error::Rejected { reason, .. }) if reason.contains("M_DUPLICATE_ANNOTATION") => {
                Ok(())
            }
            other => other.map(drop),
        }
    }

    async fn edit(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        text: &str,
    ) -> Result<()> {
        self.ensure_open()?;
        if text.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "text",
                message: "an edit needs text".into(),
            });
        }
        if text.len() > MAX_PART_BYTES {
            return Err(Error::InvalidInput {
                field: "text",
                message: format!("an edit must fit one message ({MAX_PART_BYTES} bytes)"),
            });
        }
        let content = outbound::edit(event_id("message", message.as_str())?, text);
        self.send_event(&content, &TransactionId::new())
            .await
            .map(drop)
    }

    async fn typing(&self, _thread: Option<&ThreadId>) -> Result<()> {
        self.ensure_open()?;
        let request = TypingRequest::new(
            self.settings.user_id.clone(),
            self.settings.room_id.clone(),
            Typing::Yes(TypingInfo::new(TYPING_TIMEOUT)),
        );
        self.retry
            .run(|_| async {
                self.client
                    .send(request.clone())
                    .await
                    .map(drop)
                    .map_err(|e| errors::from_http("typing", e))
            })
            .await
    }

    async fn history(&self, query: HistoryQuery) -> Result<Vec<InboundMessage>> {
        self.ensure_open()?;
        history::fetch(&self.client, &self.settings.room_id, &self.retry, &query).await
    }

    async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.shutdown.send_replace(true);
        let task = self
            .sync_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut task) = task
            && tokio::time::timeout(CLOSE_TIMEOUT, &mut task)
                .await
                .is_err()
        {
            tracing::warn!("the sync loop did not stop within {CLOSE_TIMEOUT:?}; aborting it");
            task.abort();
        }
        self.inbox.close();
        Ok(())
    }
}
