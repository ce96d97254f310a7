//! [`SlackConnector`]: connector-core's `OrchestratorConnector` over Slack's Web API and Socket
//! Mode.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::attachments::{LinkGap, UploadLimit, prepare};
use connector_core::chunking::{Chunker, LengthUnit};
use connector_core::config::ConnectorConfig;
use connector_core::config::secrets::{
    Environment, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, SecretString, lookup, require,
};
use connector_core::lifecycle::{DEFAULT_CLOSE_TIMEOUT, Lifecycle};
use connector_core::pairing::Pairing;
use connector_core::questions::{QuestionBook, Questions};
use connector_core::retry::RetryPolicy;
use connector_core::sending::send_in_parts;
use connector_core::state_file::Durability;
use connector_core::{
    Capabilities, Capability, ConnectorDescriptor, ConnectorFuture, ConnectorHealth,
    DiagnosisFuture, Error, HistoryQuery, IdempotencyKey, InboundMessage, Inbox, MessageId,
    OrchestratorConnector, OutboundMessage, Probe, Question, QuestionReceipt, Result, RoundTrip,
    SendReceipt, SenderPolicy, Subscription, ThreadId, check_outbound,
};
use tokio::sync::{mpsc, watch};

use crate::diagnosis::SocketCheck;
use crate::health::InboundStatus;
use crate::inbound::Identity;
use crate::interactions::Clicks;
use crate::markup::to_mrkdwn;
use crate::outbound::{MAX_MESSAGE_CHARS, Post};
use crate::position::{CHANNEL, Positions};
use crate::pump::Pump;
use crate::questions::SlackSurface;
use crate::sent_book::{Sent, SentBook};
use crate::settings::SlackSettings;
use crate::socket_mode::{Acker, SocketMode, SocketState};
use crate::web_api::{WebApi, str_of};
use crate::{KIND, diagnosis, health, optional, outbound, questions};

/// How `connector-registry` builds this backend.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    kind: KIND,
    secrets: connector_core::config::kinds::BuiltInKind::SLACK.secrets,
    create,
    diagnose_setup: Some(diagnose_setup),
};

/// The Web API probes from the configuration alone, for when the connector refuses to open (a
/// refused token, a channel it cannot see); the round trip is skipped.
fn diagnose_setup(config: &ConnectorConfig, env: &dyn Environment) -> DiagnosisFuture {
    let prepared = prepare_open(config, env).and_then(|p| {
        let bot = WebApi::new(&p.settings.api_base, &p.bot_token)?;
        let app = WebApi::new(&p.settings.api_base, &p.app_token)?;
        Ok((bot, app, p.settings.channel_id))
    });
    // A missing app token is a probe's failure, not a configuration error.
    let without_app = match &prepared {
        Err(Error::Secret { variable, .. }) if variable == SLACK_APP_TOKEN => {
            SlackSettings::from_config(config, env).ok().and_then(|s| {
                let bot = require(env, SLACK_BOT_TOKEN).ok()?;
                Some((WebApi::new(&s.api_base, &bot).ok()?, s.channel_id))
            })
        }
        _ => None,
    };
    Box::pin(async move {
        match (prepared, without_app) {
            (Ok((bot, app, channel)), _) => {
                diagnosis::run(&bot, SocketCheck::Open(&app), &channel).await
            }
            (Err(_), Some((bot, channel))) => {
                diagnosis::run(&bot, SocketCheck::NoAppToken, &channel).await
            }
            (Err(e), None) => vec![Probe::fail("configuration", e.to_string())],
        }
    })
}

fn create(config: &ConnectorConfig, env: &dyn Environment) -> ConnectorFuture {
    let prepared = prepare_open(config, env);
    Box::pin(async move {
        let connector: Arc<dyn OrchestratorConnector> =
            Arc::new(SlackConnector::start(prepared?).await?);
        Ok(connector)
    })
}

/// How long `open` waits for Socket Mode's `hello`: longer than a minute, since
/// `apps.connections.open` is Tier 1 (one call a minute guaranteed) and a restart soon after the
/// last connection may have to wait out its 429.
const HELLO_TIMEOUT: Duration = Duration::from_secs(75);

/// Everything `open` reads from its arguments before doing any I/O.
struct Prepared {
    settings: SlackSettings,
    bot_token: SecretString,
    app_token: SecretString,
    policy: SenderPolicy,
    queue_capacity: usize,
}

fn prepare_open(config: &ConnectorConfig, env: &dyn Environment) -> Result<Prepared> {
    let settings = SlackSettings::from_config(config, env)?;
    let pairing = Pairing::from_config(config, &settings.state_dir)?;
    let bot_token = require(env, SLACK_BOT_TOKEN)?;
    let app_token = lookup(env, SLACK_APP_TOKEN)?.ok_or_else(|| Error::Secret {
        variable: SLACK_APP_TOKEN.into(),
        message: "not set: Socket Mode needs the app-level token (xapp-…, scope \
                  connections:write); set SLACK_APP_TOKEN or SLACK_APP_TOKEN_FILE"
            .into(),
    })?;
    Ok(Prepared {
        settings,
        bot_token,
        app_token,
        policy: config.sender_policy().with_pairing(pairing),
        queue_capacity: config.queue_capacity(),
    })
}

/// A connector to an operator in one Slack channel (and its threads).
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::config::secrets::ProcessEnv;
/// use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
///
/// let config = ConnectorConfig::from_roster_file("roster.yaml".as_ref())?;
/// let connector = connector_slack::SlackConnector::open(&config, &ProcessEnv).await?;
/// let mut replies = connector.subscribe().await?;
/// connector.send(OutboundMessage::new("**Build green.** Deploy?")).await?;
/// let reply = replies.recv().await;
/// # Ok(()) }
/// ```
pub struct SlackConnector {
    settings: SlackSettings,
    api: WebApi,
    http: reqwest::Client,
    me: Identity,
    inbox: Arc<Inbox>,
    socket_state: watch::Receiver<SocketState>,
    inbound_status: Arc<InboundStatus>,
    lifecycle: Lifecycle,
    chunker: Chunker,
    retry: RetryPolicy,
    questions: Questions,
    /// The parts sent, by idempotency key (see `sent_book`).
    sent: tokio::sync::Mutex<SentBook>,
}

impl std::fmt::Debug for SlackConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConnector")
            .field("settings", &self.settings)
            .field("bot_user_id", &self.me.user_id)
            .field("closed", &self.lifecycle.is_closed())
            .finish_non_exhaustive()
    }
}

impl SlackConnector {
    /// Opens the connector the config's `slack` block names, with the bot token from
    /// `SLACK_BOT_TOKEN` and the app-level token from `SLACK_APP_TOKEN` (or their `_FILE`
    /// forms) in `env`.
    ///
    /// Checks the bot token (`auth.test`) and that the bot is a member of the channel, opens
    /// Socket Mode and waits for its `hello`. `env` may set
    /// [`SLACK_API_BASE_URL`](crate::SLACK_API_BASE_URL) to talk to another Web API than
    /// `https://slack.com/api` (the emulator in tests).
    ///
    /// Fails with [`Error::Unauthorized`] if a token is refused, [`Error::Config`] if the
    /// channel is unknown or the bot is not in it, [`Error::Unreachable`] if Slack does not
    /// answer, [`Error::Timeout`] without a `hello`.
    pub async fn open(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        Self::start(prepare_open(config, env)?).await
    }

    async fn start(prepared: Prepared) -> Result<Self> {
        let Prepared {
            settings,
            bot_token,
            app_token,
            policy,
            queue_capacity,
        } = prepared;
        // Six attempts: a 429 storm waits the server's Retry-After each time; an unreachable
        // Slack fails within seconds of backoff.
        let retry = RetryPolicy::default().with_max_attempts(6);
        let api = WebApi::new(&settings.api_base, &bot_token)?;
        let app_api = WebApi::new(&settings.api_base, &app_token)?;
        let auth = api.body(&retry, "auth.test", &[]).await?;
        let me = Identity {
            user_id: str_of(&auth, "user_id").unwrap_or_default().to_owned(),
            bot_id: str_of(&auth, "bot_id").unwrap_or_default().to_owned(),
        };
        check_channel(&api, &retry, &settings.channel_id).await?;
        let sent = SentBook::load(settings.sent_path())?;
        let mut positions = Positions::load(settings.state_path())?;
        if positions.get(CHANNEL).is_none() {
            // First start: deliver what arrives from now on, replay no history. Read before
            // Socket Mode connects, so a message posted meanwhile is backfilled, not skipped.
            let form = vec![
                ("channel", settings.channel_id.clone()),
                ("limit", "1".to_owned()),
            ];
            let newest = api.body(&retry, "conversations.history", &form).await?;
            let start = newest
                .get("messages")
                .and_then(|m| m.get(0))
                .and_then(|m| str_of(m, "ts"))
                .map_or_else(crate::pump::now_ts, str::to_owned);
            positions.start_at(CHANNEL, &start);
            positions.save(Durability::Synced)?;
        }

        let inbox = Arc::new(Inbox::with_capacities(
            policy,
            queue_capacity,
            connector_core::dedupe::DEFAULT_DEDUPE_CAPACITY,
        ));
        inbox.add_own_identity(me.user_id.clone());
        let lifecycle = Lifecycle::new(KIND, Arc::clone(&inbox));
        let surface = Arc::new(SlackSurface {
            api: api.clone(),
            retry,
            channel: settings.channel_id.clone(),
        });
        let questions = Questions::new(
            Arc::new(QuestionBook::load(Some(QuestionBook::file_in(
                &settings.state_dir,
            )))?),
            Arc::clone(&inbox),
            surface.clone(),
        );
        lifecycle.spawn_until_closed("questions", questions.run());

        let (events_tx, events) = mpsc::unbounded_channel();
        let (clicks_tx, clicks) = mpsc::unbounded_channel();
        let (state_tx, mut socket_state) = watch::channel(SocketState::default());
        let acker = Acker::default();
        let inbound_status = Arc::new(InboundStatus::default());
        let socket = SocketMode {
            app_api,
            acker: acker.clone(),
            events: events_tx,
            interactive: clicks_tx,
            state: state_tx,
            shutdown: lifecycle.shutdown_signal(),
        };
        lifecycle.spawn_until_closed("socket mode", socket.run());
        let hello = tokio::time::timeout(
            HELLO_TIMEOUT,
            socket_state.wait_for(|s| s.ever_connected || s.refused),
        )
        .await
        .ok()
        .and_then(std::result::Result::ok)
        .map(|state| (state.ever_connected, state.problem.clone()));
        match hello {
            Some((true, _)) => {}
            Some((false, problem)) => {
                lifecycle.abort();
                return Err(Error::Unauthorized {
                    kind: KIND.into(),
                    reason: format!(
                        "Socket Mode refused the app-level token ({}): set SLACK_APP_TOKEN to \
                         an app-level token (xapp-…) with connections:write",
                        problem.unwrap_or_default()
                    ),
                });
            }
            None => {
                lifecycle.abort();
                return Err(Error::Timeout {
                    operation: "Slack Socket Mode hello".into(),
                    after: HELLO_TIMEOUT,
                });
            }
        }
        let pump = Pump {
            api: api.clone(),
            retry,
            inbox: Arc::clone(&inbox),
            acker: acker.clone(),
            positions,
            channel: settings.channel_id.clone(),
            me: me.clone(),
            questions: questions.clone(),
            status: Arc::clone(&inbound_status),
            shutdown: lifecycle.shutdown_signal(),
            unsynced: 0,
        };
        lifecycle.spawn("inbound pump", pump.run(events));
        let clicks_handler = Clicks {
            api: api.clone(),
            retry,
            inbox: Arc::clone(&inbox),
            acker,
            questions: questions.clone(),
            surface,
            channel: settings.channel_id.clone(),
        };
        lifecycle.spawn(
            "button clicks",
            clicks_handler.run(clicks, lifecycle.shutdown_signal()),
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .tls_backend_preconfigured(crate::tls::client_config()?.as_ref().clone())
            .build()
            .map_err(|e| Error::backend(KIND, "cannot build the HTTP client", e))?;
        Ok(Self {
            settings,
            api,
            http,
            me,
            inbox,
            socket_state,
            inbound_status,
            lifecycle,
            chunker: Chunker::new(MAX_MESSAGE_CHARS, LengthUnit::Chars)?,
            retry,
            questions,
            sent: tokio::sync::Mutex::new(sent),
        })
    }

    /// The bot user's id (`U…`).
    pub fn bot_user_id(&self) -> &str {
        &self.me.user_id
    }

    /// The channel the connector talks in.
    pub fn channel_id(&self) -> &str {
        &self.settings.channel_id
    }

    /// Where the positions and books are kept.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.settings.state_dir
    }

    async fn post_part(
        &self,
        thread: Option<&str>,
        markdown: &str,
        key: &IdempotencyKey,
    ) -> Result<MessageId> {
        let post = Post {
            channel: &self.settings.channel_id,
            thread_ts: thread,
            text: to_mrkdwn(markdown),
            blocks: None,
            key: key.as_str().to_owned(),
        };
        let known = self.sent.lock().await.get(key.as_str()).cloned();
        let ts = match known {
            Some(Sent::Posted(ts)) => {
                tracing::debug!(ts, "sent before with this key: not posted again");
                ts
            }
            known => {
                let uncertain = known == Some(Sent::Uncertain);
                match outbound::post(&self.api, &self.retry, &post, uncertain).await {
                    Ok(ts) => {
                        self.record_sent(key, Sent::Posted(ts.clone())).await;
                        ts
                    }
                    Err(error) => {
                        if matches!(error, Error::MaybeDelivered { .. }) {
                            self.record_sent(key, Sent::Uncertain).await;
                        }
                        return Err(error);
                    }
                }
            }
        };
        let id = MessageId::new(ts);
        self.inbox.note_own_message(&id);
        Ok(id)
    }

    async fn record_sent(&self, key: &IdempotencyKey, sent: Sent) {
        if let Err(error) = self.sent.lock().await.record(key.as_str(), sent) {
            tracing::warn!(%error, "cannot write the sent-message book");
        }
    }
}

/// A thread id must be a message `ts` (the thread's parent).
fn thread_ts(thread: &ThreadId) -> Result<&str> {
    let ts = thread.as_str();
    if crate::position::ts_order(ts).is_some() && ts.contains('.') {
        Ok(ts)
    } else {
        Err(Error::InvalidInput {
            field: "thread_id",
            message: format!("{ts:?} is not a Slack message ts (like 1712345678.123456)"),
        })
    }
}

/// Checks that the channel exists and the bot is in it.
async fn check_channel(api: &WebApi, retry: &RetryPolicy, channel: &str) -> Result<()> {
    let form = vec![("channel", channel.to_owned())];
    match api.call_retried(retry, "conversations.info", &form).await {
        Ok(answer) => {
            let member = answer
                .body
                .get("channel")
                .and_then(|c| c.get("is_member"))
                .and_then(serde_json::Value::as_bool);
            if member == Some(false) && !channel.starts_with('D') {
                return Err(Error::config(
                    "connector.slack.channel_id",
                    format!(
                        "the bot is not a member of channel {channel}: invite it (/invite \
                         @<bot name> in the channel)"
                    ),
                ));
            }
            Ok(())
        }
        Err(failure) if failure.code.as_deref() == Some("channel_not_found") => Err(Error::config(
            "connector.slack.channel_id",
            format!(
                "Slack knows no channel {channel} the bot can see (channel_not_found); for a \
                     private channel invite the bot first"
            ),
        )),
        Err(failure) => Err(failure.error),
    }
}

#[async_trait]
impl OrchestratorConnector for SlackConnector {
    fn kind(&self) -> &str {
        KIND
    }

    /// Threads, Markdown (as `mrkdwn`), reactions, edits, history, files and questions; no
    /// typing indicator (Slack has none for bots outside the Assistant API).
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
            .with(Capability::Threads)
            .with(Capability::Markdown)
            .with(Capability::Reactions)
            .with(Capability::Edits)
            .with(Capability::History)
            .with(Capability::Attachments)
            .with(Capability::Questions)
            .with_max_message_len(MAX_MESSAGE_CHARS)
    }

    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(KIND, self.capabilities(), &message)?;
        self.lifecycle.ensure_open()?;
        let thread = message.thread_id.as_ref().map(thread_ts).transpose()?;
        let limit = UploadLimit::each_file(1 << 30, "Slack takes files up to 1 GB".into());
        let attachments = prepare(&message.attachments, Some(&limit)).await?;
        let text = attachments.text_with_links(&message.text, LinkGap::Line);
        let mut ids = if text.trim().is_empty() {
            Vec::new()
        } else {
            send_in_parts(
                &self.chunker,
                &text,
                &message.idempotency_key,
                |_, part, key| async move { self.post_part(thread, &part, &key).await },
            )
            .await?
        };
        if !attachments.files.is_empty() {
            let files = optional::upload(
                &self.api,
                &self.http,
                &self.retry,
                &self.settings.channel_id,
                message.thread_id.as_ref(),
                &attachments.files,
            )
            .await?;
            ids.extend(files);
        }
        Ok(SendReceipt::new(ids, message.thread_id.clone(), true))
    }

    async fn subscribe(&self) -> Result<Subscription> {
        self.lifecycle.subscribe()
    }

    async fn health(&self) -> ConnectorHealth {
        if let Some(closed) = self.lifecycle.closed_health() {
            return closed;
        }
        let socket = self.socket_state.borrow().clone();
        health::probe(&self.api, &socket, &self.inbound_status)
            .await
            .with_rejected_senders(self.inbox.stats().rejected_senders)
    }

    /// The setup probes; the round trip is [`round_trip`](Self::round_trip), which
    /// `connector doctor` runs after them once they all pass.
    async fn diagnose(&self) -> Vec<Probe> {
        let socket = self.socket_state.borrow().clone();
        diagnosis::run(
            &self.api,
            SocketCheck::Running(socket),
            &self.settings.channel_id,
        )
        .await
    }

    async fn react(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        emoji: &str,
    ) -> Result<()> {
        self.lifecycle.ensure_open()?;
        optional::react(
            &self.api,
            &self.retry,
            &self.settings.channel_id,
            message,
            emoji,
        )
        .await
    }

    async fn edit(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        text: &str,
    ) -> Result<()> {
        self.lifecycle.ensure_open()?;
        optional::edit(
            &self.api,
            &self.retry,
            &self.settings.channel_id,
            message,
            text,
        )
        .await
    }

    async fn history(&self, query: HistoryQuery) -> Result<Vec<InboundMessage>> {
        self.lifecycle.ensure_open()?;
        optional::history(
            &self.api,
            &self.retry,
            &self.settings.channel_id,
            &self.me,
            &query,
        )
        .await
    }

    /// Posts the question with one button per choice (its text lists them too, for clients
    /// without buttons); a click arrives as a `block_actions` envelope (see `interactions`).
    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        self.lifecycle.ensure_open()?;
        self.questions.check(&question).await?;
        let thread = question.thread_id.as_ref().map(thread_ts).transpose()?;
        let (text, blocks) = questions::question_message(&question);
        let key = IdempotencyKey::random();
        let post = Post {
            channel: &self.settings.channel_id,
            thread_ts: thread,
            text,
            blocks: Some(blocks),
            key: key.as_str().to_owned(),
        };
        let ts = outbound::post(&self.api, &self.retry, &post, false).await?;
        let id = MessageId::new(ts);
        self.inbox.note_own_message(&id);
        let receipt =
            QuestionReceipt::new(question.id.clone(), vec![id], question.thread_id.clone());
        self.questions.asked(&question, &receipt).await?;
        Ok(receipt)
    }

    /// A probe posted to the channel must come back over Socket Mode; it is deleted after.
    async fn round_trip(&self, timeout: Duration) -> RoundTrip {
        if let Err(error) = self.lifecycle.ensure_open() {
            return RoundTrip::not_posted(&error);
        }
        connector_core::round_trip::run(
            self.inbox.echoes(),
            "Socket Mode",
            diagnosis::DEAF_FIX,
            timeout,
            |marker| async move {
                self.post_part(None, &marker, &IdempotencyKey::random())
                    .await
            },
            |id| async move {
                let form = vec![
                    ("channel", self.settings.channel_id.clone()),
                    ("ts", id.as_str().to_owned()),
                ];
                self.api
                    .body(&self.retry, "chat.delete", &form)
                    .await
                    .map(drop)
            },
        )
        .await
    }

    /// Lets the pump finish its delivery (up to [`DEFAULT_CLOSE_TIMEOUT`]), then closes the
    /// socket and ends the subscriptions.
    async fn close(&self) -> Result<()> {
        self.lifecycle.close(DEFAULT_CLOSE_TIMEOUT, async {}).await;
        Ok(())
    }
}
