//! [`DiscordConnector`]: connector-core's `OrchestratorConnector` over Discord's REST API and
//! gateway.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::chunking::{Chunker, LengthUnit};
use connector_core::config::ConnectorConfig;
use connector_core::config::secrets::{DISCORD_BOT_TOKEN, Environment, SecretString, require};
use connector_core::lifecycle::{DEFAULT_CLOSE_TIMEOUT, Lifecycle};
use connector_core::pairing::Pairing;
use connector_core::questions::{QuestionBook, Questions};
use connector_core::retry::RetryPolicy;
use connector_core::sending::send_in_parts;
use connector_core::{
    Capabilities, Capability, ConnectorDescriptor, ConnectorFuture, ConnectorHealth,
    DiagnosisFuture, Error, HistoryQuery, InboundMessage, Inbox, MessageId, OrchestratorConnector,
    OutboundMessage, Probe, Question, QuestionReceipt, Result, RoundTrip, SendReceipt,
    SenderPolicy, Subscription, ThreadId, check_outbound,
};
use serde_json::Value;
use serenity_reqwest::Method;
use tokio::sync::{mpsc, watch};

use crate::access::Access;
use crate::error::{MISSING_ACCESS, UNKNOWN_CHANNEL};
use crate::gateway::{Gateway, GatewayState, MESSAGE_CONTENT_HINT};
use crate::health::InboundStatus;
use crate::interactions::Clicks;
use crate::outbound::MAX_MESSAGE_CHARS;
use crate::position::Positions;
use crate::pump::{Pump, SINCE_KEY};
use crate::questions::DiscordSurface;
use crate::reaction_state::ReactionState;
use crate::reactions::ReactionLedger;
use crate::rest::{Rest, Upload};
use crate::settings::DiscordSettings;
use crate::threads::Threads;
use crate::{KIND, diagnosis, health, optional, outbound, questions, round_trip};

/// How `connector-registry` builds this backend.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    kind: KIND,
    secrets: connector_core::config::kinds::BuiltInKind::DISCORD.secrets,
    create,
    diagnose_setup: Some(diagnose_setup),
};

/// The REST probes from the configuration alone, for when the connector refuses to open (a
/// rejected token, a channel it cannot see); the gateway probe is skipped.
fn diagnose_setup(config: &ConnectorConfig, env: &dyn Environment) -> DiagnosisFuture {
    let prepared = prepare(config, env).and_then(|p| {
        Ok((
            Rest::new(&p.settings.base_url, &p.token)?,
            p.settings.channel_id,
        ))
    });
    Box::pin(async move {
        match prepared {
            Ok((rest, channel)) => {
                diagnosis::run(&rest, channel, None, &InboundStatus::default()).await
            }
            Err(e) => vec![Probe::fail("configuration", e.to_string())],
        }
    })
}

fn create(config: &ConnectorConfig, env: &dyn Environment) -> ConnectorFuture {
    let prepared = prepare(config, env);
    Box::pin(async move {
        let connector: Arc<dyn OrchestratorConnector> =
            Arc::new(DiscordConnector::start(prepared?).await?);
        Ok(connector)
    })
}

/// How long `open` waits for the gateway's READY.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Discord's epoch (2015-01-01), in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Everything `open` reads from its arguments before doing any I/O.
struct Prepared {
    settings: DiscordSettings,
    token: SecretString,
    policy: SenderPolicy,
    queue_capacity: usize,
}

fn prepare(config: &ConnectorConfig, env: &dyn Environment) -> Result<Prepared> {
    let settings = DiscordSettings::from_config(config, env)?;
    // Pairing, if the roster turns it on, keeps its store beside the positions.
    let pairing = Pairing::from_config(config, &settings.state_dir)?;
    Ok(Prepared {
        settings,
        token: require(env, DISCORD_BOT_TOKEN)?,
        policy: config.sender_policy().with_pairing(pairing),
        queue_capacity: config.queue_capacity(),
    })
}

/// A connector to an operator in one Discord channel (and its threads).
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::config::secrets::ProcessEnv;
/// use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
///
/// let config = ConnectorConfig::from_roster_file("roster.yaml".as_ref())?;
/// let connector = connector_discord::DiscordConnector::open(&config, &ProcessEnv).await?;
/// let mut replies = connector.subscribe().await?;
/// connector.send(OutboundMessage::new("**Build green.** Deploy?")).await?;
/// let reply = replies.recv().await;
/// # Ok(()) }
/// ```
pub struct DiscordConnector {
    settings: DiscordSettings,
    rest: Rest,
    own_id: u64,
    inbox: Arc<Inbox>,
    threads: Arc<Threads>,
    gateway_state: watch::Receiver<GatewayState>,
    inbound_status: Arc<InboundStatus>,
    /// The shutdown signal, the inbound pump (on the gateway thread) and the subscriptions.
    /// Declared before `gateway`: on drop, the pump stops before the gateway does.
    lifecycle: Lifecycle,
    gateway: tokio::sync::Mutex<Gateway>,
    chunker: Chunker,
    retry: RetryPolicy,
    /// The questions asked (buttons; see `questions` and `interactions`).
    questions: Questions,
}

impl std::fmt::Debug for DiscordConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordConnector")
            .field("settings", &self.settings)
            .field("own_id", &self.own_id)
            .field("closed", &self.lifecycle.is_closed())
            .finish_non_exhaustive()
    }
}

impl DiscordConnector {
    /// Opens the connector the config's `discord` block names, with the bot token from
    /// `DISCORD_BOT_TOKEN` (or `DISCORD_BOT_TOKEN_FILE`) in `env`.
    ///
    /// Checks the token (`GET users/@me`) and that the bot sees the channel, connects the
    /// gateway with its event handler already registered and waits for READY. `env` may set
    /// [`DISCORD_API_BASE_URL`](crate::DISCORD_API_BASE_URL) to talk to another host than
    /// discord.com (a proxy, or the emulator in tests).
    ///
    /// Fails with [`Error::Unauthorized`] if the token is refused, [`Error::Config`] if the
    /// channel is unknown or invisible to the bot, [`Error::Rejected`] if Discord refuses the
    /// Message Content intent, [`Error::Unreachable`] if Discord does not answer.
    pub async fn open(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        Self::start(prepare(config, env)?).await
    }

    async fn start(prepared: Prepared) -> Result<Self> {
        let Prepared {
            settings,
            token,
            policy,
            queue_capacity,
        } = prepared;
        // Six attempts: a 429 storm waits the server's retry-after each time; an unreachable
        // Discord fails within about 6 s of backoff.
        let retry = RetryPolicy::default().with_max_attempts(6);
        let rest = Rest::new(&settings.base_url, &token)?;
        let me = rest
            .call_retried(
                &retry,
                Method::GET,
                "/users/@me",
                None,
                "check the bot token",
            )
            .await?;
        let own_id = snowflake(&me, "users/@me")?;
        let channel = check_channel(&rest, &retry, settings.channel_id).await?;
        let guild_id = channel
            .get("guild_id")
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| {
                Error::config(
                    "connector.discord.channel_id",
                    format!(
                        "channel {} is not in a server: the connector talks in a server's text \
                         channel",
                        settings.channel_id
                    ),
                )
            })?;

        let mut positions = Positions::load(settings.position_path()).await?;
        if positions.get(settings.channel_id).is_none() {
            // First start: deliver what arrives from now on, replay no history.
            let start = newest_message(&rest, &retry, settings.channel_id)
                .await?
                .unwrap_or_else(now_snowflake);
            positions.advance(settings.channel_id, start).await?;
            positions.advance(SINCE_KEY, start).await?;
        }

        // The reactions on the bot's recent messages: those given or taken back while the
        // connector was away are caught up after READY (see `pump`).
        let saved_reactions =
            ReactionState::load(settings.reactions_path(), now_snowflake()).await?;
        let mut reactions = ReactionLedger::default();
        for (key, mark) in saved_reactions.marks() {
            reactions.restore(key, mark.on, mark.generation);
        }

        // The inbox decides on senders (user ids, or roles the pump learns: `access`), counts
        // the refused, and drops the bot's own messages and repeats.
        let access = Arc::new(Access::new(
            policy,
            settings.allowed_roles.iter().copied(),
            settings.require_mention,
            own_id,
        ));
        let inbox = Arc::new(Inbox::with_capacities(
            access.inbox_policy(),
            queue_capacity,
            connector_core::dedupe::DEFAULT_DEDUPE_CAPACITY,
        ));
        inbox.add_own_identity(own_id.to_string());
        let (events_tx, events) = mpsc::unbounded_channel();
        let (clicks_tx, clicks) = mpsc::unbounded_channel();
        let (state_tx, mut gateway_state) = watch::channel(GatewayState::default());
        let mut gateway = Gateway::start(&settings, &token, events_tx, clicks_tx, state_tx)?;
        let ready = tokio::time::timeout(
            READY_TIMEOUT,
            gateway_state.wait_for(|s| s.ever_ready || s.fatal.is_some()),
        )
        .await
        .map(|state| state.map(|s| s.fatal.clone()));
        match ready {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(fatal))) => {
                gateway.stop().await;
                return Err(if fatal == MESSAGE_CONTENT_HINT {
                    Error::Rejected {
                        kind: KIND.into(),
                        reason: fatal,
                    }
                } else {
                    Error::Unreachable {
                        kind: KIND.into(),
                        reason: fatal,
                        source: None,
                    }
                });
            }
            Ok(Err(_)) | Err(_) => {
                gateway.stop().await;
                return Err(Error::Timeout {
                    operation: "discord gateway READY".into(),
                    after: READY_TIMEOUT,
                });
            }
        }

        let threads = Arc::new(Threads::new(settings.channel_id));
        let inbound_status = Arc::new(InboundStatus::default());
        let lifecycle = Lifecycle::new(KIND, Arc::clone(&inbox));
        // Questions: the book beside the positions, outcomes shown by editing the question.
        let surface = Arc::new(DiscordSurface {
            rest: rest.clone(),
            retry,
            channel: settings.channel_id,
        });
        let questions = Questions::new(
            Arc::new(QuestionBook::load(Some(QuestionBook::file_in(
                &settings.state_dir,
            )))?),
            Arc::clone(&inbox),
            surface.clone(),
        );
        lifecycle.spawn_until_closed("questions", questions.run());
        let clicks_handler = Clicks {
            // Its own client, as the pump's: it runs on the gateway thread.
            rest: Rest::new(&settings.base_url, &token)?,
            inbox: Arc::clone(&inbox),
            access: Arc::clone(&access),
            questions: questions.clone(),
            surface,
        };
        lifecycle.adopt(
            "button clicks",
            gateway.spawn(clicks_handler.run(clicks, lifecycle.shutdown_signal())),
        );
        let pump = Pump {
            // A client (and connection pool) of its own: hyper drives a connection from the
            // runtime that opened it, and the pump runs on the gateway thread, so sharing the
            // pool would route sends made on the application's runtime through that thread.
            rest: Rest::new(&settings.base_url, &token)?,
            retry,
            inbox: Arc::clone(&inbox),
            access,
            guild_id,
            roles: std::collections::HashMap::new(),
            threads: Arc::clone(&threads),
            positions,
            own_id,
            status: Arc::clone(&inbound_status),
            shutdown: lifecycle.shutdown_signal(),
            unsaved: 0,
            reactions,
            saved_reactions,
            reactions_unsaved: false,
            questions: questions.clone(),
        };
        lifecycle.adopt("inbound pump", gateway.spawn(pump.run(events)));
        Ok(Self {
            settings,
            rest,
            own_id,
            inbox,
            threads,
            gateway_state,
            inbound_status,
            lifecycle,
            gateway: tokio::sync::Mutex::new(gateway),
            chunker: Chunker::new(MAX_MESSAGE_CHARS, LengthUnit::Chars)?,
            retry,
            questions,
        })
    }

    /// The bot's user id.
    pub fn bot_user_id(&self) -> u64 {
        self.own_id
    }

    /// The channel the connector talks in.
    pub fn channel_id(&self) -> u64 {
        self.settings.channel_id
    }

    /// Where the delivery positions are kept.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.settings.state_dir
    }

    async fn send_part(
        &self,
        channel: u64,
        text: String,
        uploads: &[Upload],
        key: connector_core::IdempotencyKey,
    ) -> Result<MessageId> {
        let in_thread = channel != self.settings.channel_id;
        let id = outbound::send_part(
            &self.rest,
            &self.retry,
            channel,
            in_thread,
            &text,
            uploads,
            &key,
        )
        .await?;
        self.inbox.note_own_message(&id);
        Ok(id)
    }
}

/// Checks that the bot sees `channel`; answers the channel object.
async fn check_channel(rest: &Rest, retry: &RetryPolicy, channel: u64) -> Result<Value> {
    let path = format!("/channels/{channel}");
    match rest
        .call_retried(retry, Method::GET, &path, None, "look up the channel")
        .await
    {
        Ok(channel) => Ok(channel),
        Err(refusal) if refusal.code == Some(MISSING_ACCESS) || refusal.status == Some(403) => {
            Err(Error::config(
                "connector.discord.channel_id",
                format!(
                    "the bot cannot see channel {channel} (Discord error 50001 Missing Access): \
                     add it to the server and allow View Channel there"
                ),
            ))
        }
        Err(refusal) if refusal.code == Some(UNKNOWN_CHANNEL) || refusal.status == Some(404) => {
            Err(Error::config(
                "connector.discord.channel_id",
                format!("Discord knows no channel {channel} (Discord error 10003)"),
            ))
        }
        Err(refusal) => Err(refusal.error),
    }
}

/// The id of the newest message of `channel`, if it has any.
async fn newest_message(rest: &Rest, retry: &RetryPolicy, channel: u64) -> Result<Option<u64>> {
    let path = format!("/channels/{channel}/messages?limit=1");
    let page = rest
        .call_retried(retry, Method::GET, &path, None, "read the channel")
        .await?;
    Ok(page
        .as_array()
        .and_then(|messages| messages.first())
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok()))
}

/// A snowflake for the current time: every message posted from now on has a larger id.
fn now_snowflake() -> u64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22
}

fn snowflake(json: &Value, what: &str) -> Result<u64> {
    json.get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::backend_message(KIND, format!("{what}: Discord's answer has no id")))
}

#[async_trait]
impl OrchestratorConnector for DiscordConnector {
    fn kind(&self) -> &str {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
            .with(Capability::Threads)
            .with(Capability::Markdown)
            .with(Capability::Reactions)
            .with(Capability::Edits)
            .with(Capability::Typing)
            .with(Capability::History)
            .with(Capability::Attachments)
            .with(Capability::Questions)
            .with_max_message_len(MAX_MESSAGE_CHARS)
    }

    /// Posts the question with one button per choice (its text lists them too, for clients
    /// without buttons); a click is answered within Discord's 3 s by updating the message
    /// (see `interactions`).
    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        self.lifecycle.ensure_open()?;
        self.questions.check(&question).await?;
        let thread = match &question.thread_id {
            Some(thread) => {
                Some(outbound::thread_target(&self.rest, &self.retry, &self.threads, thread).await?)
            }
            None => None,
        };
        let channel = thread.unwrap_or(self.settings.channel_id);
        let key = connector_core::IdempotencyKey::random();
        let body = questions::message_body(&question, key.as_str());
        let path = format!("/channels/{channel}/messages");
        let answer = self
            .rest
            .call_retried(&self.retry, Method::POST, &path, Some(&body), "ask")
            .await?;
        let id = MessageId::new(outbound::id_of(&answer, "ask")?);
        self.inbox.note_own_message(&id);
        let receipt = QuestionReceipt::new(
            question.id.clone(),
            vec![id],
            thread.map(|t| ThreadId::new(t.to_string())),
        );
        self.questions.asked(&question, &receipt).await?;
        Ok(receipt)
    }

    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(KIND, self.capabilities(), &message)?;
        self.lifecycle.ensure_open()?;
        // Files are read (and refused) before anything is posted.
        let attachments = outbound::prepare_attachments(&message.attachments).await?;
        let text = attachments.text_with_links(&message.text, outbound::LINK_GAP);
        let thread = match &message.thread_id {
            Some(thread) => {
                Some(outbound::thread_target(&self.rest, &self.retry, &self.threads, thread).await?)
            }
            None => None,
        };
        let channel = thread.unwrap_or(self.settings.channel_id);
        let uploads = attachments.files.as_slice();
        let ids = if text.trim().is_empty() {
            // Files alone (`check_outbound` let the message through): one message, no text.
            let key = message.idempotency_key.clone();
            vec![self.send_part(channel, String::new(), uploads, key).await?]
        } else {
            // The files go with the first part; the later parts are text only.
            send_in_parts(
                &self.chunker,
                &text,
                &message.idempotency_key,
                |index, part, key| {
                    let files = if index == 0 { uploads } else { &[] };
                    self.send_part(channel, part, files, key)
                },
            )
            .await?
        };
        Ok(SendReceipt::new(
            ids,
            thread.map(|t| ThreadId::new(t.to_string())),
            true,
        ))
    }

    async fn subscribe(&self) -> Result<Subscription> {
        self.lifecycle.subscribe()
    }

    async fn health(&self) -> ConnectorHealth {
        if let Some(closed) = self.lifecycle.closed_health() {
            return closed;
        }
        let gateway = self.gateway_state.borrow().clone();
        health::probe(
            &self.rest,
            self.settings.channel_id,
            self.own_id,
            &gateway,
            &self.inbound_status,
        )
        .await
        .with_rejected_senders(self.inbox.stats().rejected_senders)
    }

    async fn diagnose(&self) -> Vec<Probe> {
        let gateway = self.gateway_state.borrow().clone();
        diagnosis::run(
            &self.rest,
            self.settings.channel_id,
            Some(&gateway),
            &self.inbound_status,
        )
        .await
    }

    async fn react(
        &self,
        message: &MessageId,
        thread: Option<&ThreadId>,
        emoji: &str,
    ) -> Result<()> {
        self.lifecycle.ensure_open()?;
        let conversation = optional::conversation(&self.threads, thread)?;
        optional::react(&self.rest, &self.retry, conversation, message, emoji).await
    }

    async fn edit(&self, message: &MessageId, thread: Option<&ThreadId>, text: &str) -> Result<()> {
        self.lifecycle.ensure_open()?;
        let conversation = optional::conversation(&self.threads, thread)?;
        optional::edit(&self.rest, &self.retry, conversation, message, text).await
    }

    async fn typing(&self, thread: Option<&ThreadId>) -> Result<()> {
        self.lifecycle.ensure_open()?;
        let conversation = optional::conversation(&self.threads, thread)?;
        optional::typing(&self.rest, &self.retry, conversation).await
    }

    async fn history(&self, query: HistoryQuery) -> Result<Vec<InboundMessage>> {
        self.lifecycle.ensure_open()?;
        optional::history(&self.rest, &self.retry, &self.threads, &query).await
    }

    /// A probe posted to the channel must come back on the gateway (see `round_trip`).
    async fn round_trip(&self, timeout: Duration) -> RoundTrip {
        if let Err(error) = self.lifecycle.ensure_open() {
            return RoundTrip::not_posted(&error);
        }
        round_trip::run(
            &self.rest,
            &self.retry,
            &self.inbox,
            self.settings.channel_id,
            timeout,
        )
        .await
    }

    /// Lets the pump finish its delivery (up to [`DEFAULT_CLOSE_TIMEOUT`]), then logs the
    /// gateway off and ends the subscriptions.
    async fn close(&self) -> Result<()> {
        let stop_gateway = async { self.gateway.lock().await.stop().await };
        self.lifecycle
            .close(DEFAULT_CLOSE_TIMEOUT, stop_gateway)
            .await;
        Ok(())
    }
}
