//! [`MatrixConnector`]: matrix-sdk behind connector-core's `OrchestratorConnector`.
//!
//! Outbound, each part of a message is one `PUT /rooms/{room}/send/m.room.message/{txn}` whose
//! transaction id is the message's idempotency key (`key.for_part(i)`), reused on every retry:
//! the homeserver answers a repeated transaction with the event it already created, so a retry
//! never posts twice. Inbound, one sync loop ([`crate::sync_loop`]) feeds the shared [`Inbox`].

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use connector_core::chunking::{Chunker, LengthUnit};
use connector_core::config::ConnectorConfig;
use connector_core::config::secrets::{Environment, MATRIX_ACCESS_TOKEN, SecretString, require};
use connector_core::lifecycle::{DEFAULT_CLOSE_TIMEOUT, Lifecycle};
use connector_core::pairing::Pairing;
use connector_core::question::{Question, QuestionReceipt};
use connector_core::questions::{QuestionBook, Questions, render};
use connector_core::retry::RetryPolicy;
use connector_core::sending::send_in_parts;
use connector_core::{
    Capabilities, Capability, ConnectorDescriptor, ConnectorFuture, ConnectorHealth,
    DiagnosisFuture, Error, HistoryQuery, IdempotencyKey, InboundMessage, Inbox, MessageId,
    OrchestratorConnector, OutboundMessage, Probe, Result, RoundTrip, SendReceipt, SenderPolicy,
    Subscription, ThreadId, check_outbound,
};
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::typing::create_typing_event::v3::{
    Request as TypingRequest, Typing, TypingInfo,
};
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::{OwnedEventId, OwnedTransactionId, TransactionId};

use crate::answers::Answers;
use crate::attachments::{self, LocalFile, Uploads};
use crate::inbound_files::InboundFiles;
use crate::outbound::{self, event_id};
use crate::own_events::OwnEvents;
use crate::position::SavedPosition;
use crate::question_surface::{self, EditedQuestion};
use crate::room_sender::RoomSender;
use crate::settings::MatrixSettings;
use crate::state_lock::StateLock;
use crate::sync_loop::{SyncLoop, SyncStatus};
use crate::threads::Threads;
use crate::{KIND, client, diagnosis, error, health, history, round_trip};

/// How `connector-registry` builds this backend.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    kind: KIND,
    secrets: connector_core::config::kinds::BuiltInKind::MATRIX.secrets,
    create,
    diagnose_setup: Some(diagnose_setup),
};

fn diagnose_setup(config: &ConnectorConfig, env: &dyn Environment) -> DiagnosisFuture {
    let prepared = prepare(config, env);
    Box::pin(async move {
        match prepared {
            Ok(prepared) => {
                let mut probes = diagnosis::run(&prepared.settings, &prepared.token).await;
                probes.push(diagnosis::state_dir_free(&prepared.settings));
                probes
            }
            Err(e) => vec![Probe::fail("configuration", e.to_string())],
        }
    })
}

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
    let settings = MatrixSettings::from_config(config, env)?;
    // Senders paired with `connector pair approve` are admitted beside the roster's.
    let pairing = Pairing::from_config(config, &settings.state_dir)?;
    Ok(Prepared {
        token: require(env, MATRIX_ACCESS_TOKEN)?,
        policy: config.sender_policy().with_pairing(pairing),
        queue_capacity: config.queue_capacity(),
        settings,
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
    /// For `diagnose`, which probes on a client of its own.
    token: SecretString,
    inbox: Arc<Inbox>,
    /// Posts into the room (text, files, reactions, edits, questions).
    sender: RoomSender,
    /// The questions asked in the room, and their answers.
    questions: Questions,
    status: Arc<SyncStatus>,
    /// The shutdown signal, the sync loop and the subscriptions.
    lifecycle: Lifecycle,
    chunker: Chunker,
    retry: RetryPolicy,
    /// Downloads and decrypts inbound encrypted files (for `history`; the sync loop has its own).
    inbound_files: InboundFiles,
    /// How many encrypted events wait for their room keys (for health).
    #[cfg(feature = "e2e-encryption")]
    waiting_for_keys: Arc<std::sync::atomic::AtomicUsize>,
    /// Files already uploaded, by the transaction id of their event: a retried send re-posts
    /// with the same media instead of uploading again.
    uploads: Mutex<Uploads>,
    /// The lock on the state directory, shared with the sync loop: released once both the
    /// connector is closed (or dropped) and the loop has stopped.
    state_lock: Mutex<Option<Arc<StateLock>>>,
}

impl std::fmt::Debug for MatrixConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixConnector")
            .field("settings", &self.settings)
            .field("closed", &self.lifecycle.is_closed())
            .finish_non_exhaustive()
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
        // Before anything else touches the state directory (the crypto store, the position).
        let state_lock = Arc::new(StateLock::acquire_waiting(&settings.state_dir).await?);
        tracing::debug!(lock = %state_lock.path().display(), "state directory locked");
        let client = client::connect(&settings, &token).await?;
        let token_for_probes = token.clone();
        let mut file_policy = policy.clone();
        file_policy.add_own_identity(settings.user_id.as_str());
        let inbound_files = InboundFiles::new(client.clone(), &settings.state_dir, file_policy);
        let inbox = Arc::new(Inbox::with_capacities(
            policy,
            queue_capacity,
            connector_core::dedupe::DEFAULT_DEDUPE_CAPACITY,
        ));
        inbox.add_own_identity(settings.user_id.as_str());
        let threads = Arc::new(Threads::default());
        let own_events = Arc::new(OwnEvents::default());
        let encrypted = Arc::new(std::sync::atomic::AtomicBool::new(false));
        #[cfg(not(feature = "e2e-encryption"))]
        if room_is_encrypted(&client, &settings.room_id).await {
            tracing::warn!(
                room = %settings.room_id,
                "the room is encrypted and this build lacks e2e-encryption: sends are refused"
            );
            encrypted.store(true, Ordering::Release);
        }
        let retry = RetryPolicy::default();
        // Whether the room is encrypted is checked now and watched by the sync loop: the
        // build without `e2e-encryption` then refuses to send rather than post in the clear.
        let sender = RoomSender {
            client: client.clone(),
            room_id: settings.room_id.clone(),
            retry,
            inbox: Arc::clone(&inbox),
            own_events: Arc::clone(&own_events),
            threads: Arc::clone(&threads),
            #[cfg(not(feature = "e2e-encryption"))]
            encrypted: Arc::clone(&encrypted),
        };
        let book_file = QuestionBook::file_in(&settings.state_dir);
        let book = tokio::task::spawn_blocking(move || QuestionBook::load(Some(book_file)))
            .await
            .map_err(|e| Error::backend(KIND, "reading the question book failed", e))??;
        let questions = Questions::new(
            Arc::new(book),
            Arc::clone(&inbox),
            Arc::new(EditedQuestion {
                sender: sender.clone(),
                own_user: settings.user_id.clone(),
            }),
        );
        let status = Arc::new(SyncStatus::default());
        #[cfg(feature = "e2e-encryption")]
        let waiting_for_keys = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let lifecycle = Lifecycle::new(KIND, Arc::clone(&inbox));
        let sync = SyncLoop {
            client: client.clone(),
            room_id: settings.room_id.clone(),
            homeserver: settings.homeserver_url.clone(),
            own_user: settings.user_id.clone(),
            inbox: Arc::clone(&inbox),
            position: SavedPosition::new(settings.sync_token_path()),
            threads: Arc::clone(&threads),
            status: Arc::clone(&status),
            shutdown: lifecycle.shutdown_signal(),
            own_events: Arc::clone(&own_events),
            reactions: crate::delivered_reactions::DeliveredReactions::load(
                settings.delivered_reactions_path(),
            )
            .await?,
            #[cfg(feature = "e2e-encryption")]
            undecrypted: crate::undecrypted::Undecrypted::load(
                settings.undecrypted_path(),
                Arc::clone(&waiting_for_keys),
            )
            .await?,
            files: inbound_files.clone(),
            encrypted: Arc::clone(&encrypted),
            answers: Answers {
                questions: questions.clone(),
                sender: sender.clone(),
            },
            _state_lock: Arc::clone(&state_lock),
        };
        let since = sync.start_position().await?;
        lifecycle.spawn("sync loop", sync.run(since));
        // After the first sync, which tells an encrypting client about the room: the answers a
        // previous run settled but did not deliver come first, then deadlines are kept.
        lifecycle.spawn_until_closed("questions", questions.run());
        Ok(Self {
            client,
            settings,
            token: token_for_probes,
            inbox,
            sender,
            questions,
            status,
            lifecycle,
            chunker: Chunker::new(MAX_PART_BYTES, LengthUnit::Bytes)?,
            retry,
            uploads: Mutex::default(),
            inbound_files,
            #[cfg(feature = "e2e-encryption")]
            waiting_for_keys,
            state_lock: Mutex::new(Some(state_lock)),
        })
    }

    /// Checks the setup a config describes without opening a connector (no sync; the state
    /// directory's lock is only tried): the same probes as
    /// [`diagnose`](OrchestratorConnector::diagnose), for when `open` fails — a rejected
    /// token, another user's token, a room the bot is not in, a state directory in use.
    ///
    /// Fails only when the config or the token's variable is unusable before any request.
    pub async fn diagnose_setup(
        config: &ConnectorConfig,
        env: &dyn Environment,
    ) -> Result<Vec<Probe>> {
        prepare(config, env)?;
        Ok(diagnose_setup(config, env).await)
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

    async fn send_part(
        &self,
        text: String,
        txn: OwnedTransactionId,
        root: Option<&OwnedEventId>,
    ) -> Result<MessageId> {
        let content = outbound::message(&text, self.sender.target(root)?.as_ref());
        self.sender.post(content, &txn, root).await
    }

    /// The most bytes the homeserver takes in one upload (`m.upload.size`, asked once).
    async fn max_upload(&self) -> Result<u64> {
        self.retry
            .run(|_| async {
                self.client
                    .load_or_fetch_max_upload_size()
                    .await
                    .map(u64::from)
                    .map_err(|e| error::from_sdk("read the media upload limit", e))
            })
            .await
    }

    /// Uploads `file` for the event with transaction id `txn`, or answers the media uploaded
    /// for it before (a retry of the same message).
    ///
    /// In an encrypted room (feature `e2e-encryption`) the file is encrypted first, and the
    /// event carries its key.
    async fn upload(&self, file: &LocalFile, txn: &IdempotencyKey) -> Result<MediaSource> {
        let remembered = self
            .uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(txn.as_str(), file);
        if let Some(source) = remembered {
            tracing::debug!(%txn, file = %file.filename, "reusing the upload of an earlier attempt");
            return Ok(source);
        }
        let source = self.retry.run(|_| self.upload_once(file)).await?;
        self.uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remember(txn.as_str(), file, source.clone());
        Ok(source)
    }

    async fn upload_once(&self, file: &LocalFile) -> Result<MediaSource> {
        #[cfg(feature = "e2e-encryption")]
        if self.room_is_encrypted().await? {
            let mut reader = std::io::Cursor::new(file.data.as_slice());
            let encrypted = self
                .client
                .upload_encrypted_file(&mut reader)
                .await
                .map_err(|e| error::from_sdk("upload", e))?;
            return Ok(MediaSource::Encrypted(Box::new(encrypted)));
        }
        let response = self
            .client
            .media()
            .upload(&file.mime, file.data.clone(), None)
            .await
            .map_err(|e| error::from_sdk("upload", e))?;
        Ok(MediaSource::Plain(response.content_uri))
    }

    /// Whether the room asks for encryption (as the client's store knows it).
    #[cfg(feature = "e2e-encryption")]
    async fn room_is_encrypted(&self) -> Result<bool> {
        let Some(room) = self.client.get_room(&self.settings.room_id) else {
            return Err(Error::Rejected {
                kind: KIND.into(),
                reason: format!(
                    "room {} is not known to this client (not joined?); not uploading unencrypted",
                    self.settings.room_id
                ),
            });
        };
        room.latest_encryption_state()
            .await
            .map(|state| state.is_encrypted())
            .map_err(|e| error::from_sdk("read the room's encryption", e))
    }

    /// Posts `file`, uploaded as `source`, with transaction id `txn`.
    async fn send_file(
        &self,
        file: &LocalFile,
        source: MediaSource,
        txn: &IdempotencyKey,
        root: Option<&OwnedEventId>,
    ) -> Result<MessageId> {
        let content = attachments::content(file, source, self.sender.target(root)?.as_ref());
        self.sender
            .post(content, &OwnedTransactionId::from(txn.as_str()), root)
            .await
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
            .with(Capability::Attachments)
            .with(Capability::Questions)
            .with_max_message_len(MAX_PART_BYTES)
    }

    /// Sends the text (Markdown, chunked, links appended), then one `m.image` / `m.file` event
    /// per file, all in the same thread. Event `i` of the message (text parts first) has the
    /// transaction id `key.for_part(i)`. Every file is read and uploaded before anything is
    /// posted, so a bad file posts nothing.
    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(KIND, self.capabilities(), &message)?;
        self.lifecycle.ensure_open()?;
        // Before any upload: a file must not go up in the clear either.
        #[cfg(not(feature = "e2e-encryption"))]
        self.sender.refuse_clear_text()?;
        let root = message
            .thread_id
            .as_ref()
            .map(|thread| self.sender.thread_root(thread))
            .transpose()?;
        let has_files = message
            .attachments
            .iter()
            .any(|a| matches!(a, connector_core::Attachment::Path(_)));
        let max_upload = if has_files {
            self.max_upload().await?
        } else {
            u64::MAX
        };
        let prepared = attachments::prepare(&message.attachments, max_upload).await?;
        let text = prepared.text_with_links(&message.text, attachments::LINK_GAP);
        let has_text = !text.trim().is_empty();
        // The files' events follow the text's parts: their transaction ids need the count.
        let text_parts = if has_text && !prepared.files.is_empty() {
            self.chunker.split(&text).len()
        } else {
            0
        };
        let key = &message.idempotency_key;
        let file_keys: Vec<IdempotencyKey> = (0..prepared.files.len())
            .map(|j| key.for_part(text_parts + j))
            .collect();
        let mut sources = Vec::with_capacity(prepared.files.len());
        for (file, txn) in prepared.files.iter().zip(&file_keys) {
            sources.push(self.upload(file, txn).await?);
        }
        let mut ids = if has_text {
            send_in_parts(&self.chunker, &text, key, |_, part, key| {
                self.send_part(part, OwnedTransactionId::from(key.as_str()), root.as_ref())
            })
            .await
            .map_err(|error| match error {
                // The files after the text were not sent either.
                Error::PartialSend {
                    sent,
                    total,
                    source,
                } => Error::PartialSend {
                    sent,
                    total: total + prepared.files.len(),
                    source,
                },
                other => other,
            })?
        } else {
            Vec::new()
        };
        let total = text_parts + prepared.files.len();
        for ((file, source), txn) in prepared.files.iter().zip(sources).zip(&file_keys) {
            match self.send_file(file, source, txn, root.as_ref()).await {
                Ok(id) => ids.push(id),
                Err(error) if ids.is_empty() => return Err(error),
                Err(error) => {
                    return Err(Error::PartialSend {
                        sent: ids.len(),
                        total,
                        source: Box::new(error),
                    });
                }
            }
        }
        Ok(SendReceipt::new(
            ids,
            root.map(|root| ThreadId::new(root.as_str())),
            true,
        ))
    }

    /// Posts the question (Markdown, its choices listed with keycaps 1️⃣ 2️⃣ …, in its thread
    /// if it names one), then reacts to it with one keycap per choice, so the operator taps
    /// one. The answer comes through `/sync` (see `answers`); a keycap that could not be
    /// offered is only logged, as typing the choice still answers.
    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        self.lifecycle.ensure_open()?;
        self.questions.check(&question).await?;
        #[cfg(not(feature = "e2e-encryption"))]
        self.sender.refuse_clear_text()?;
        let root = question
            .thread_id
            .as_ref()
            .map(|thread| self.sender.thread_root(thread))
            .transpose()?;
        let content =
            question_surface::content(&question, self.sender.target(root.as_ref())?.as_ref());
        let id = self
            .sender
            .post(content, &TransactionId::new(), root.as_ref())
            .await?;
        let receipt = QuestionReceipt::new(
            question.id.clone(),
            vec![id.clone()],
            root.map(|root| ThreadId::new(root.as_str())),
        );
        self.questions.asked(&question, &receipt).await?;
        let target = event_id("message", id.as_str())?;
        for keycap in &render::KEYCAPS[..question.choices.len()] {
            let content = outbound::reaction(target.clone(), keycap);
            if let Err(e) = self
                .sender
                .send_event(&content, &TransactionId::new())
                .await
            {
                tracing::warn!(question = %question.id, error = %e,
                    "could not offer a keycap on the question; typing the choice still answers");
                break;
            }
        }
        Ok(receipt)
    }

    async fn subscribe(&self) -> Result<Subscription> {
        self.lifecycle.subscribe()
    }

    async fn health(&self) -> ConnectorHealth {
        if let Some(closed) = self.lifecycle.closed_health() {
            return closed;
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
        #[cfg(feature = "e2e-encryption")]
        if let Some(waiting) =
            crate::undecrypted::detail(self.waiting_for_keys.load(Ordering::Relaxed))
        {
            health.detail = Some(match health.detail.take() {
                Some(detail) => format!("{detail}; {waiting}"),
                None => waiting,
            });
        }
        health.with_rejected_senders(self.inbox.stats().rejected_senders)
    }

    /// Homeserver reachable, token accepted, identity, room joined, permission to post,
    /// encryption vs. the build, state directory (see the crate's `diagnosis` module).
    async fn diagnose(&self) -> Vec<Probe> {
        if self.lifecycle.is_closed() {
            return vec![
                Probe::fail("connector open", "the connector is closed")
                    .with_fix("open the connector again"),
            ];
        }
        let mut probes = diagnosis::run(&self.settings, &self.token).await;
        probes.push(diagnosis::state_dir_held(&self.settings));
        probes
    }

    async fn react(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        emoji: &str,
    ) -> Result<()> {
        self.lifecycle.ensure_open()?;
        if emoji.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "emoji",
                message: "must not be empty".into(),
            });
        }
        let content = outbound::reaction(event_id("message", message.as_str())?, emoji);
        match self
            .sender
            .send_event(&content, &TransactionId::new())
            .await
        {
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
        self.lifecycle.ensure_open()?;
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
        self.sender
            .send_event(&content, &TransactionId::new())
            .await
            .map(drop)
    }

    async fn typing(&self, _thread: Option<&ThreadId>) -> Result<()> {
        self.lifecycle.ensure_open()?;
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
                    .map_err(|e| error::from_http("typing", e))
            })
            .await
    }

    async fn history(&self, query: HistoryQuery) -> Result<Vec<InboundMessage>> {
        self.lifecycle.ensure_open()?;
        history::fetch(
            &self.client,
            &self.inbound_files,
            &self.settings.homeserver_url,
            &self.settings.room_id,
            &self.retry,
            &query,
        )
        .await
    }

    /// A probe posted to the room must come back through `/sync` (see `round_trip`).
    async fn round_trip(&self, timeout: Duration) -> RoundTrip {
        if let Err(error) = self.lifecycle.ensure_open() {
            return RoundTrip::not_posted(&error);
        }
        let post = |marker: String| async move {
            let content = round_trip::probe_content(&marker);
            self.sender.post(content, &TransactionId::new(), None).await
        };
        let remove = |id: MessageId| async move {
            round_trip::redact(&self.client, &self.settings.room_id, id).await
        };
        connector_core::round_trip::run(
            self.inbox.echoes(),
            "/sync",
            round_trip::FIX,
            timeout,
            post,
            remove,
        )
        .await
    }

    /// Lets the sync loop finish its batch (up to [`DEFAULT_CLOSE_TIMEOUT`]; an aborted loop is
    /// waited for until it is gone, as it holds the state directory lock), frees the state
    /// directory for the next connector and ends the subscriptions.
    async fn close(&self) -> Result<()> {
        let release_state_dir = async {
            self.state_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        };
        self.lifecycle
            .close(DEFAULT_CLOSE_TIMEOUT, release_state_dir)
            .await;
        Ok(())
    }
}

/// Whether `room` has `m.room.encryption` state (`GET /rooms/{room}/state/m.room.encryption/`);
/// an answer other than the event or 404 is logged and taken as "no" (the sync loop still
/// notices encryption turned on later).
#[cfg(not(feature = "e2e-encryption"))]
async fn room_is_encrypted(client: &Client, room: &matrix_sdk::ruma::OwnedRoomId) -> bool {
    use matrix_sdk::ruma::api::client::state::get_state_event_for_key::v3::Request;
    use matrix_sdk::ruma::events::StateEventType;

    let request = Request::new(room.clone(), StateEventType::RoomEncryption, String::new());
    match client.send(request).await {
        Ok(_) => true,
        Err(e) => {
            let status = e.as_client_api_error().map(|api| api.status_code.as_u16());
            if status != Some(404) {
                tracing::warn!(error = %e, "could not tell whether the room is encrypted");
            }
            false
        }
    }
}
