//! [`TelegramConnector`]: connector-core's `OrchestratorConnector` over the Bot API.

use std::sync::Arc;

use async_trait::async_trait;
use connector_core::attachments::{LinkGap, UploadLimit, prepare};
use connector_core::config::ConnectorConfig;
use connector_core::config::secrets::{Environment, SecretString, TELEGRAM_BOT_TOKEN, require};
use connector_core::lifecycle::{DEFAULT_CLOSE_TIMEOUT, Lifecycle};
use connector_core::pairing::Pairing;
use connector_core::questions::{QuestionBook, Questions};
use connector_core::retry::RetryPolicy;
use connector_core::{
    Capabilities, Capability, ConnectorDescriptor, ConnectorFuture, ConnectorHealth,
    DiagnosisFuture, Error, Inbox, MessageId, OrchestratorConnector, OutboundMessage, Probe,
    Question, QuestionReceipt, Result, SendReceipt, SenderPolicy, Subscription, ThreadId,
    check_outbound,
};
use serde_json::{Value, json};

use crate::api::Api;
use crate::health::{CONFLICT_FIX, InboundStatus};
use crate::outbound::Sender;
use crate::position::Position;
use crate::pump::Pump;
use crate::questions::TelegramSurface;
use crate::settings::TelegramSettings;
use crate::threads::Threads;
use crate::{KIND, diagnosis, health, markup, optional, questions, updates};

/// How `connector-registry` builds this backend.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    kind: KIND,
    secrets: connector_core::config::kinds::BuiltInKind::TELEGRAM.secrets,
    create,
    diagnose_setup: Some(diagnose_setup),
};

/// The probes from the configuration alone, for when the connector refuses to open (a
/// rejected token, a chat the bot cannot see); the polling probe is skipped.
fn diagnose_setup(config: &ConnectorConfig, env: &dyn Environment) -> DiagnosisFuture {
    let prepared = prepare_open(config, env).and_then(|p| {
        Ok((
            Api::new(&p.settings.base_url, &p.token)?,
            p.settings.chat_id,
        ))
    });
    Box::pin(async move {
        match prepared {
            Ok((api, chat_id)) => diagnosis::run(&api, chat_id, None).await,
            Err(e) => vec![Probe::fail("configuration", e.to_string())],
        }
    })
}

fn create(config: &ConnectorConfig, env: &dyn Environment) -> ConnectorFuture {
    let prepared = prepare_open(config, env);
    Box::pin(async move {
        let connector: Arc<dyn OrchestratorConnector> =
            Arc::new(TelegramConnector::start(prepared?).await?);
        Ok(connector)
    })
}

/// Everything `open` reads from its arguments before doing any I/O.
struct Prepared {
    settings: TelegramSettings,
    token: SecretString,
    policy: SenderPolicy,
    queue_capacity: usize,
}

fn prepare_open(config: &ConnectorConfig, env: &dyn Environment) -> Result<Prepared> {
    let settings = TelegramSettings::from_config(config, env)?;
    let pairing = Pairing::from_config(config, &settings.state_dir)?;
    Ok(Prepared {
        settings,
        token: require(env, TELEGRAM_BOT_TOKEN)?,
        policy: config.sender_policy().with_pairing(pairing),
        queue_capacity: config.queue_capacity(),
    })
}

/// A connector to an operator in one Telegram chat (and its threads).
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::config::secrets::ProcessEnv;
/// use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
///
/// let config = ConnectorConfig::from_roster_file("roster.yaml".as_ref())?;
/// let connector = connector_telegram::TelegramConnector::open(&config, &ProcessEnv).await?;
/// let mut replies = connector.subscribe().await?;
/// connector.send(OutboundMessage::new("**Build green.** Deploy?")).await?;
/// let reply = replies.recv().await;
/// # Ok(()) }
/// ```
pub struct TelegramConnector {
    settings: TelegramSettings,
    api: Api,
    own_id: i64,
    sender: Sender,
    inbox: Arc<Inbox>,
    threads: Arc<Threads>,
    inbound_status: Arc<InboundStatus>,
    /// The shutdown signal, the poller and the subscriptions.
    lifecycle: Lifecycle,
    questions: Questions,
    /// The poller until it is started (see `start_polling`).
    pump: std::sync::Mutex<Option<Pump>>,
}

impl std::fmt::Debug for TelegramConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramConnector")
            .field("settings", &self.settings)
            .field("own_id", &self.own_id)
            .field("closed", &self.lifecycle.is_closed())
            .finish_non_exhaustive()
    }
}

impl TelegramConnector {
    /// Opens the connector the config's `telegram` block names, with the bot token from
    /// `TELEGRAM_BOT_TOKEN` (or `TELEGRAM_BOT_TOKEN_FILE`, or a systemd credential) in `env`.
    ///
    /// Checks the token (`getMe`) and that the bot sees the chat (`getChat`, which also says
    /// whether it is a forum) and skips the updates that were waiting on a first start. The
    /// poller starts at the first [`subscribe`](OrchestratorConnector::subscribe) or
    /// [`ask`](OrchestratorConnector::ask): a connector that only sends never reads the bot's
    /// updates (only one process can). `env` may set
    /// [`TELEGRAM_API_BASE_URL`](crate::TELEGRAM_API_BASE_URL) to talk to another server.
    ///
    /// Fails with [`Error::Unauthorized`] if the token is refused, [`Error::Config`] if the
    /// chat is unknown or invisible to the bot, [`Error::Rejected`] if a first start finds
    /// `getUpdates` refused (a webhook set, another poller), [`Error::Unreachable`] if
    /// Telegram does not answer.
    pub async fn open(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        Self::start(prepare_open(config, env)?).await
    }

    async fn start(prepared: Prepared) -> Result<Self> {
        let Prepared {
            settings,
            token,
            policy,
            queue_capacity,
        } = prepared;
        // Six attempts: a 429 storm waits the server's retry_after each time; an unreachable
        // Telegram fails within about 6 s of backoff.
        let retry = RetryPolicy::default().with_max_attempts(6);
        let api = Api::new(&settings.base_url, &token)?;
        let me = api
            .call_retried(&retry, "getMe", &json!({}), "check the bot token")
            .await?;
        let own_id = me
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::backend_message(KIND, "getMe answered no id"))?;
        let chat = check_chat(&api, &retry, settings.chat_id).await?;
        let forum = chat.get("is_forum").and_then(Value::as_bool) == Some(true);

        let mut position = Position::load(settings.position_path()).await?;
        if !position.exists() {
            skip_waiting_updates(&api, &retry, &mut position).await?;
        }
        let threads = Arc::new(Threads::load(forum, settings.threads_path()).await?);

        let inbox = Arc::new(Inbox::with_capacities(
            policy,
            queue_capacity,
            connector_core::dedupe::DEFAULT_DEDUPE_CAPACITY,
        ));
        inbox.add_own_identity(own_id.to_string());
        let lifecycle = Lifecycle::new(KIND, Arc::clone(&inbox));
        let sender = Sender {
            api: api.clone(),
            retry,
            chat_id: settings.chat_id,
        };
        let surface = Arc::new(TelegramSurface {
            api: api.clone(),
            retry,
            chat_id: settings.chat_id,
        });
        let questions = Questions::new(
            Arc::new(QuestionBook::load(Some(QuestionBook::file_in(
                &settings.state_dir,
            )))?),
            Arc::clone(&inbox),
            surface.clone(),
        );
        lifecycle.spawn_until_closed("questions", questions.run());
        let inbound_status = Arc::new(InboundStatus::default());
        let pump = Pump {
            api: api.clone(),
            sender: sender.clone(),
            inbox: Arc::clone(&inbox),
            chat_id: settings.chat_id,
            own_id,
            threads: Arc::clone(&threads),
            position,
            status: Arc::clone(&inbound_status),
            questions: questions.clone(),
            surface,
            shutdown: lifecycle.shutdown_signal(),
        };
        Ok(Self {
            settings,
            api,
            own_id,
            sender,
            inbox,
            threads,
            inbound_status,
            lifecycle,
            questions,
            pump: std::sync::Mutex::new(Some(pump)),
        })
    }

    /// Starts the poller, once: at the first `subscribe` or `ask`. A connector that only
    /// sends (`connector send`, `health`, `doctor`) never polls, so it does not take the
    /// updates from — or cause 409 Conflicts for — a connector that listens with the same
    /// token.
    fn start_polling(&self) {
        let pump = self
            .pump
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(pump) = pump {
            self.inbound_status.started();
            self.lifecycle.spawn("inbound poller", pump.run());
        }
    }

    /// The bot's user id.
    pub fn bot_user_id(&self) -> i64 {
        self.own_id
    }

    /// The chat the connector talks in.
    pub fn chat_id(&self) -> i64 {
        self.settings.chat_id
    }

    /// Whether the chat is a forum (threads are topics) rather than reply chains.
    pub fn is_forum(&self) -> bool {
        self.threads.is_forum()
    }

    /// Where the polling position and the books are kept.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.settings.state_dir
    }

    fn note_sent(&self, ids: &[MessageId]) {
        for id in ids {
            self.inbox.note_own_message(id);
        }
    }
}

/// Checks that the bot sees `chat`; answers the `ChatFullInfo`.
async fn check_chat(api: &Api, retry: &RetryPolicy, chat: i64) -> Result<Value> {
    match api
        .call_retried(
            retry,
            "getChat",
            &json!({ "chat_id": chat }),
            "look up the chat",
        )
        .await
    {
        Ok(chat) => Ok(chat),
        Err(Error::Rejected { reason, .. }) => Err(Error::config(
            "connector.telegram.chat_id",
            format!(
                "the bot cannot see chat {chat} ({reason}): add the bot to the group, or — for a \
                 private chat — open the bot and press Start first"
            ),
        )),
        Err(error) => Err(error),
    }
}

/// The first start: confirms what was waiting (`offset=-1` answers the newest update only),
/// so the connector delivers only what arrives from now on, and saves that position.
async fn skip_waiting_updates(
    api: &Api,
    retry: &RetryPolicy,
    position: &mut Position,
) -> Result<()> {
    let params = json!({
        "offset": -1,
        "timeout": 0,
        "allowed_updates": updates::ALLOWED_UPDATES,
    });
    let newest = match api
        .call_retried(retry, "getUpdates", &params, "skip the waiting updates")
        .await
    {
        Ok(batch) => batch,
        Err(Error::Rejected { reason, .. }) if reason.contains("409") => {
            return Err(Error::Rejected {
                kind: KIND.into(),
                reason: format!("{reason}; {CONFLICT_FIX}"),
            });
        }
        Err(error) => return Err(error),
    };
    let offset = newest
        .as_array()
        .and_then(|batch| batch.last())
        .and_then(|u| u.get("update_id"))
        .and_then(Value::as_i64)
        .map_or(0, |id| id + 1);
    position.save(offset, true).await
}

#[async_trait]
impl OrchestratorConnector for TelegramConnector {
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
            .with(Capability::Attachments)
            .with(Capability::Questions)
            .with_max_message_len(markup::TELEGRAM_LIMIT)
    }

    /// Posts the question with an inline keyboard, one button per choice (its text lists
    /// them too, for typing); a press is answered with `answerCallbackQuery` (see `pump`).
    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        self.lifecycle.ensure_open()?;
        self.questions.check(&question).await?;
        // The answer comes back through the poller.
        self.start_polling();
        let place = self
            .sender
            .place(&self.threads, question.thread_id.as_ref())
            .await?;
        let id = self
            .sender
            .post_with(
                &place,
                &questions::question_html(&question),
                Some(questions::keyboard(&question)),
            )
            .await?;
        self.threads.sent(id, place.thread).await;
        let id = MessageId::new(id.to_string());
        self.note_sent(std::slice::from_ref(&id));
        let receipt = QuestionReceipt::new(question.id.clone(), vec![id], place.thread_id());
        self.questions.asked(&question, &receipt).await?;
        Ok(receipt)
    }

    /// Text is rendered in HTML parse mode and split within 4096 UTF-16 units; files follow
    /// (images as photos, the rest as documents) in the same place; links are added to the
    /// text. Telegram has no idempotency key: a part whose answer was lost is not repeated,
    /// and the send fails with [`Error::MaybeDelivered`].
    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(KIND, self.capabilities(), &message)?;
        self.lifecycle.ensure_open()?;
        let limit = UploadLimit::each_file(
            optional::MAX_UPLOAD_BYTES,
            "bots upload at most 50 MB a file".into(),
        );
        let attachments = prepare(&message.attachments, Some(&limit)).await?;
        let text = attachments.text_with_links(&message.text, LinkGap::Line);
        let mut place = self
            .sender
            .place(&self.threads, message.thread_id.as_ref())
            .await?;
        let mut ids = if text.trim().is_empty() {
            Vec::new()
        } else {
            self.sender
                .send_text(&self.threads, &mut place, &text)
                .await?
        };
        self.note_sent(&ids);
        for (index, file) in attachments.files.iter().enumerate() {
            match optional::send_file(
                &self.api,
                &self.sender.retry,
                self.settings.chat_id,
                &place,
                file,
            )
            .await
            {
                Ok(id) => {
                    self.threads.sent(id, place.thread).await;
                    let id = MessageId::new(id.to_string());
                    self.note_sent(std::slice::from_ref(&id));
                    ids.push(id);
                }
                Err(error) if ids.is_empty() => return Err(error),
                Err(error) => {
                    return Err(Error::PartialSend {
                        sent: ids.len(),
                        total: ids.len() + attachments.files.len() - index,
                        source: Box::new(error),
                    });
                }
            }
        }
        Ok(SendReceipt::new(ids, place.thread_id(), true))
    }

    async fn subscribe(&self) -> Result<Subscription> {
        let subscription = self.lifecycle.subscribe()?;
        self.start_polling();
        Ok(subscription)
    }

    async fn health(&self) -> ConnectorHealth {
        if let Some(closed) = self.lifecycle.closed_health() {
            return closed;
        }
        health::probe(&self.api, &self.inbound_status)
            .await
            .with_rejected_senders(self.inbox.stats().rejected_senders)
    }

    async fn diagnose(&self) -> Vec<Probe> {
        diagnosis::run(&self.api, self.settings.chat_id, Some(&self.inbound_status)).await
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
            &self.sender.retry,
            self.settings.chat_id,
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
            &self.sender.retry,
            self.settings.chat_id,
            message,
            text,
        )
        .await
    }

    async fn typing(&self, thread: Option<&ThreadId>) -> Result<()> {
        self.lifecycle.ensure_open()?;
        optional::typing(
            &self.api,
            &self.sender.retry,
            self.settings.chat_id,
            &self.threads,
            thread,
        )
        .await
    }

    /// Lets the poller finish the update it is handing over (up to
    /// [`DEFAULT_CLOSE_TIMEOUT`]), then ends the subscriptions.
    async fn close(&self) -> Result<()> {
        self.lifecycle
            .close(DEFAULT_CLOSE_TIMEOUT, std::future::ready(()))
            .await;
        Ok(())
    }
}
