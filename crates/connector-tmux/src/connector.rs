//! [`TmuxConnector`]: the tmux session layer behind connector-core's `OrchestratorConnector`.
//!
//! One reader task turns the session's [`PaneLine`]s into inbound messages and hands them to the
//! shared [`Inbox`] (allow-list, dedupe, fan-out); one supervisor task re-attaches the control
//! client when the tmux server is back after it went away. Sends are verified: the receipt's
//! `confirmed` says whether the text was seen arriving in the pane.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connector_core::config::{
    ConnectorConfig, TmuxConfig, TmuxLineBreaks, TmuxMode, secrets::Environment,
};
use connector_core::dedupe::Dedupe;
use connector_core::lifecycle::Lifecycle;
use connector_core::questions::{
    Answerer, Asked, QuestionBook, QuestionSurface, Questions, render, told,
};
use connector_core::round_trip;
use connector_core::{
    Capabilities, Capability, ConnectorDescriptor, ConnectorFuture, ConnectorHealth, Error,
    IdempotencyKey, InboundMessage, Inbox, MessageId, OrchestratorConnector, OutboundMessage,
    Probe, Question, QuestionReceipt, Result, RoundTrip, SendReceipt, SenderPolicy, Subscription,
    ThreadId, Timestamp, check_outbound,
};

use crate::error::TmuxError;
use crate::router::PaneLine;
use crate::sanitize::{Newlines, neutralize};
use crate::session::TmuxSession;
use crate::settings::{DEFAULT_CONSOLE_SESSION, LineBreaks, Mode, TmuxSettings};
use crate::socket::{self, Socket, SocketState};
use crate::status_lines;

/// The kind name of this connector.
pub const KIND: &str = "tmux";

/// The sender of lines the operator types in the console.
pub const CONSOLE_SENDER: &str = "tmux:operator";

/// How `connector-registry` builds this backend.
pub const DESCRIPTOR: ConnectorDescriptor = ConnectorDescriptor {
    kind: KIND,
    secrets: connector_core::config::kinds::BuiltInKind::TMUX.secrets,
    create,
    // Opening the connector is the check: a console it cannot open is what diagnose() reports.
    diagnose_setup: None,
};

fn create(config: &ConnectorConfig, _env: &dyn Environment) -> ConnectorFuture {
    let config = config.clone();
    Box::pin(async move {
        let connector: Arc<dyn OrchestratorConnector> =
            Arc::new(TmuxConnector::open(&config).await?);
        Ok(connector)
    })
}

/// How often the supervisor checks whether a lost server is back.
const RECONNECT_INTERVAL: Duration = Duration::from_millis(250);

/// How long `close` waits for the reader and the supervisor; both stop at their next await.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long an echo of our own text in pane mode is recognised as ours.
const ECHO_WINDOW: Duration = Duration::from_secs(10);

/// A connector to an operator over tmux: the operator console or a pane endpoint.
///
/// ```no_run
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
/// let connector = connector_tmux::TmuxConnector::open(&ConnectorConfig::default()).await?;
/// connector.send(OutboundMessage::new("Build is green.")).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TmuxConnector {
    session: TmuxSession,
    inbox: Arc<Inbox>,
    echoes: Arc<Mutex<VecDeque<(String, Instant)>>>,
    /// Keys of messages already shown, checked and recorded under `send_lock`.
    sent_keys: Mutex<Dedupe>,
    /// One send at a time: a paste and its Enter must not interleave with another's.
    send_lock: tokio::sync::Mutex<()>,
    last_seen: Mutex<Option<Timestamp>>,
    /// The questions asked on the console (pane mode asks none).
    questions: Questions,
    /// The console messages whose newest text a status line shows, with when each was last
    /// edited (slot `i + 1` for entry `i`; see `status_lines`).
    status_slots: Mutex<Vec<(MessageId, u64)>>,
    /// The reader, the supervisor and the subscriptions; closed by `close`: no control client
    /// is attached after it.
    lifecycle: Lifecycle,
}

impl Drop for TmuxConnector {
    fn drop(&mut self) {
        // The supervisor first, so that it re-attaches no client once the session is closed.
        self.lifecycle.abort();
        self.session.close();
    }
}

/// The session settings a `connector.tmux` block asks for.
pub fn settings_from_config(config: Option<&TmuxConfig>) -> TmuxSettings {
    let default = TmuxConfig::default();
    let tmux = config.unwrap_or(&default);
    let mut settings = match (tmux.mode, &tmux.target) {
        (TmuxMode::Pane, Some(target)) => TmuxSettings::pane(target.clone()),
        _ => TmuxSettings::console(
            tmux.session
                .clone()
                .unwrap_or_else(|| DEFAULT_CONSOLE_SESSION.to_owned()),
        ),
    };
    settings.line_breaks = match tmux.line_breaks.unwrap_or_default() {
        TmuxLineBreaks::Paste => LineBreaks::Paste,
        _ => LineBreaks::Fold,
    };
    if let Some(delay) = tmux.submit_delay_ms {
        settings.submit_delay = Duration::from_millis(u64::from(delay));
    }
    settings.socket = match (&tmux.socket_name, &tmux.socket_path) {
        (Some(name), _) => Socket::Name(name.clone()),
        (None, Some(path)) => Socket::Path(path.clone()),
        (None, None) => Socket::Default,
    };
    settings
}

impl TmuxConnector {
    /// Opens the connector a config names (its `tmux` block; none means the console).
    pub async fn open(config: &ConnectorConfig) -> Result<Self> {
        config.validate()?;
        let policy = if config.allowed_senders.is_empty() {
            // tmux is local: whoever can reach the server's socket is the operator.
            SenderPolicy::allow_any()
        } else {
            config.sender_policy()
        };
        Self::with_settings(
            settings_from_config(config.tmux.as_ref()),
            policy,
            config.queue_capacity(),
        )
        .await
    }

    /// Opens a connector on explicit session settings.
    pub async fn with_settings(
        settings: TmuxSettings,
        policy: SenderPolicy,
        queue_capacity: usize,
    ) -> Result<Self> {
        if let (Mode::Pane { .. }, Some(path)) = (&settings.mode, settings.socket.path()) {
            // A pane endpoint needs a running server: never start one (tmux would, as a side
            // effect of attaching) and say plainly that none answers.
            if let SocketState::Missing | SocketState::Unreachable(_) = socket::probe(&path) {
                return Err(Error::Unreachable {
                    kind: KIND.into(),
                    reason: format!("no tmux server answers on {}", path.display()),
                    source: None,
                });
            }
        }
        // Commands only, until someone subscribes: a one-shot send must not be a control client
        // (see `crate::plain`).
        let session = TmuxSession::open_without_output(settings)
            .await
            .map_err(to_core)?;
        let lines = session.lines().ok_or_else(|| {
            Error::backend_message(KIND, "the session's lines were already taken")
        })?;
        let inbox = Arc::new(Inbox::with_capacities(
            policy,
            queue_capacity,
            connector_core::dedupe::DEFAULT_DEDUPE_CAPACITY,
        ));
        let echoes = Arc::new(Mutex::new(VecDeque::new()));
        let sender = match &session.settings().mode {
            Mode::Pane { target } => format!("tmux:{target}"),
            _ => CONSOLE_SENDER.to_owned(),
        };
        let lifecycle = Lifecycle::new(KIND, Arc::clone(&inbox));
        let questions = Questions::new(
            Arc::new(QuestionBook::load(None)?),
            Arc::clone(&inbox),
            Arc::new(ConsoleSurface(session.clone())),
        );
        let console = matches!(session.settings().mode, Mode::Console { .. });
        if console {
            lifecycle.spawn_until_closed("questions", questions.run());
        }
        lifecycle.spawn_until_closed(
            "reader",
            read_lines(
                lines,
                Arc::clone(&inbox),
                Arc::clone(&echoes),
                sender,
                console.then(|| (questions.clone(), session.clone())),
            ),
        );
        lifecycle.spawn_until_closed("supervisor", supervise(session.clone()));
        Ok(Self {
            session,
            inbox,
            echoes,
            sent_keys: Mutex::new(Dedupe::new(4096)),
            send_lock: tokio::sync::Mutex::new(()),
            last_seen: Mutex::new(None),
            questions,
            status_slots: Mutex::new(Vec::new()),
            lifecycle,
        })
    }

    /// The tmux session layer underneath.
    pub fn session(&self) -> &TmuxSession {
        &self.session
    }

    fn is_console(&self) -> bool {
        matches!(self.session.settings().mode, Mode::Console { .. })
    }
}

/// Turns pane lines into inbound messages; on the console, a line that answers a question
/// goes to the questions instead (and what the operator is told is printed there).
async fn read_lines(
    mut lines: tokio::sync::mpsc::Receiver<PaneLine>,
    inbox: Arc<Inbox>,
    echoes: Arc<Mutex<VecDeque<(String, Instant)>>>,
    sender: String,
    console: Option<(Questions, TmuxSession)>,
) {
    while let Some(line) = lines.recv().await {
        if line.text.trim().is_empty() || is_own_echo(&echoes, &line.text) {
            continue;
        }
        if let Some((questions, session)) = &console
            && let Some(answered) = questions
                .typed(
                    Answerer::new(sender.as_str(), None),
                    line.thread.as_ref().map(ThreadId::new).as_ref(),
                    None,
                    &line.text,
                )
                .await
        {
            if let Some(reply) = told(&answered)
                && let Err(e) = session.send(&reply, line.thread.as_deref(), true).await
            {
                tracing::warn!(error = %e, "could not tell the operator why an answer was not taken");
            }
            continue;
        }
        let mut message = InboundMessage::new(
            line.id.to_string(),
            sender.as_str(),
            line.text,
            Timestamp::now(),
        );
        message.thread_id = line.thread.map(ThreadId::new);
        inbox.deliver(message).await;
    }
    inbox.close();
}

/// Whether `text` is the echo of something we just pasted (pane mode); forgets it if so.
fn is_own_echo(echoes: &Mutex<VecDeque<(String, Instant)>>, text: &str) -> bool {
    let mut echoes = echoes.lock().unwrap_or_else(PoisonError::into_inner);
    echoes.retain(|(_, at)| at.elapsed() < ECHO_WINDOW);
    let text = text.trim_end();
    match echoes
        .iter()
        .position(|(sent, _)| !sent.is_empty() && text.ends_with(sent.as_str()))
    {
        Some(index) => {
            echoes.remove(index);
            true
        }
        None => false,
    }
}

/// Forgets one expected echo of each of `lines` (the newest), after a send that pasted nothing.
fn forget_echoes(echoes: &Mutex<VecDeque<(String, Instant)>>, lines: &[String]) {
    let mut echoes = echoes.lock().unwrap_or_else(PoisonError::into_inner);
    for line in lines {
        if let Some(index) = echoes.iter().rposition(|(sent, _)| sent == line) {
            echoes.remove(index);
        }
    }
}

/// Shows a settled question on the console: the outcome is printed below it (a console
/// cannot change what it printed).
struct ConsoleSurface(TmuxSession);

#[async_trait]
impl QuestionSurface for ConsoleSurface {
    async fn show_outcome(&self, asked: &Asked) -> Result<()> {
        let line = format!(
            "{} (question {})",
            render::outcome_line(asked).unwrap_or_default(),
            asked.question.id
        );
        self.0
            .send(&line, asked.thread_id.as_ref().map(ThreadId::as_str), true)
            .await
            .map(drop)
            .map_err(to_core)
    }
}

/// What to check when a console probe does not come back.
const ROUND_TRIP_FIX: &str = "the console's terminal takes writes but nothing comes back through \
     tmux: check that the connector's control client is attached (`tmux list-clients`), that \
     nothing else reads the console pane's output, and the tmux version (3.2 or later)";

/// Re-attaches the control client once the server answers again, once output is read; never
/// starts a server.
async fn supervise(session: TmuxSession) {
    let path: Option<PathBuf> = session.settings().socket.path();
    loop {
        tokio::time::sleep(RECONNECT_INTERVAL).await;
        if !session.is_streaming() || session.is_connected() {
            continue;
        }
        let listening = path
            .as_deref()
            .is_some_and(|p| matches!(socket::probe(p), SocketState::Listening));
        if listening {
            match session.reconnect().await {
                Ok(()) => tracing::info!("tmux control client re-attached"),
                Err(e) => tracing::debug!(error = %e, "tmux reconnect failed; will retry"),
            }
        }
    }
}

/// Maps the session layer's errors onto connector-core's.
fn to_core(error: TmuxError) -> Error {
    let reason = error.to_string();
    match error {
        TmuxError::Spawn { .. } | TmuxError::Disconnected { .. } => Error::Unreachable {
            kind: KIND.into(),
            reason,
            source: Some(Box::new(error)),
        },
        TmuxError::Timeout { timeout, .. } => Error::Timeout {
            operation: reason,
            after: timeout,
        },
        // For tmux, "authenticated" means: the target exists and is ours to use.
        TmuxError::TargetNotFound { .. } => Error::Unauthorized {
            kind: KIND.into(),
            reason,
        },
        TmuxError::Command { .. } => Error::Rejected {
            kind: KIND.into(),
            reason,
        },
        TmuxError::InvalidSettings(message) => Error::config("connector.tmux", message),
        other => Error::backend(KIND, reason, other),
    }
}

#[async_trait]
impl OrchestratorConnector for TmuxConnector {
    fn kind(&self) -> &str {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        let capabilities = Capabilities::NONE.with(Capability::Threads);
        if self.is_console() {
            capabilities
                .with(Capability::Edits)
                .with(Capability::Questions)
        } else {
            capabilities
        }
    }

    /// Console mode: the message keeps its first text in the scrollback, and its newest text
    /// is shown in a status line of the console's session, redrawn in place (see
    /// `status_lines`). Pane mode cannot edit what a program was sent.
    async fn edit(&self, message: &MessageId, thread: Option<&ThreadId>, text: &str) -> Result<()> {
        if !self.is_console() {
            return Err(Error::unsupported(KIND, Capability::Edits));
        }
        self.lifecycle.ensure_open()?;
        if text.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "text",
                message: "an edit needs text".into(),
            });
        }
        let sent = self
            .sent_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(message);
        if !sent {
            return Err(Error::InvalidInput {
                field: "message",
                message: format!("{message} is not a message this connector showed"),
            });
        }
        let (slot, lines) = {
            let mut slots = self
                .status_slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = slots.iter().map(|(_, at)| at + 1).max().unwrap_or(0);
            let index = match slots.iter().position(|(m, _)| m == message) {
                Some(index) => index,
                None if slots.len() < status_lines::SLOTS => {
                    slots.push((message.clone(), now));
                    slots.len() - 1
                }
                // The line edited longest ago is given up.
                None => slots
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (_, at))| *at)
                    .map_or(0, |(index, _)| index),
            };
            slots[index] = (message.clone(), now);
            (index + 1, slots.len() + 1)
        };
        let label = match thread {
            Some(thread) => format!("▸ [{thread}] "),
            None => "▸ ".to_owned(),
        };
        self.session
            .show_status_line(slot, &status_lines::line(&label, text), lines)
            .await
            .map_err(to_core)
    }

    /// Console mode: the question and its numbered choices are printed; the operator types a
    /// choice's number or label (or `<choice> <question id>` in any console window), and the
    /// outcome is printed below. Pane mode has no operator to ask.
    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        if !self.is_console() {
            return Err(Error::unsupported(KIND, Capability::Questions));
        }
        self.lifecycle.ensure_open()?;
        self.questions.check(&question).await?;
        // The answer is typed on the console: read it from now on.
        self.session.stream().await.map_err(to_core)?;
        let mut message = OutboundMessage::new(render::question_text(&question, None, false));
        message.thread_id.clone_from(&question.thread_id);
        let sent = self.send(message).await?;
        let receipt = QuestionReceipt::new(question.id.clone(), sent.message_ids, sent.thread_id);
        self.questions.asked(&question, &receipt).await?;
        Ok(receipt)
    }

    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(KIND, self.capabilities(), &message)?;
        let key: &IdempotencyKey = &message.idempotency_key;
        let id = MessageId::new(format!("tmux-out:{key}"));
        let thread = message.thread_id.clone();
        let _one_at_a_time = self.send_lock.lock().await;
        if self
            .sent_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&id)
        {
            // A retry of a message already shown: never show it twice.
            return Ok(SendReceipt::new(vec![id], thread, true));
        }
        let mut expected_echoes = Vec::new();
        if !self.is_console() {
            // The lines the pane may echo back: the text as pasted, folded or not.
            let kept = neutralize(&message.text, Newlines::Keep);
            let folded = neutralize(&message.text, Newlines::Join);
            let lines: std::collections::BTreeSet<&str> = kept
                .lines()
                .chain(folded.lines())
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            expected_echoes = lines.into_iter().map(str::to_owned).collect();
            let mut echoes = self.echoes.lock().unwrap_or_else(PoisonError::into_inner);
            echoes.extend(
                expected_echoes
                    .iter()
                    .map(|line| (line.clone(), Instant::now())),
            );
        }
        let delivered = match self
            .session
            .send(&message.text, thread.as_ref().map(ThreadId::as_str), true)
            .await
        {
            Ok(delivered) => delivered,
            Err(e) => {
                // Nothing was pasted, so nothing will echo: an expectation left behind would
                // swallow a later line of the program's that ends with the same text.
                forget_echoes(&self.echoes, &expected_echoes);
                return Err(to_core(e));
            }
        };
        self.sent_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_sighting(&id);
        *self
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Timestamp::now());
        Ok(SendReceipt::new(
            vec![id],
            thread,
            delivered.seen == Some(true),
        ))
    }

    /// Subscribing starts reading the panes' output (a control client attaches); lines the
    /// program printed before that are not delivered.
    async fn subscribe(&self) -> Result<Subscription> {
        self.lifecycle.ensure_open()?;
        self.session.stream().await.map_err(to_core)?;
        Ok(self.inbox.subscribe())
    }

    /// Console mode: a probe written to the console's terminal must come back through the
    /// control client as the operator's typed lines do; pane mode has no operator to probe.
    async fn round_trip(&self, timeout: Duration) -> RoundTrip {
        if !self.is_console() {
            return RoundTrip::Unsupported {
                reason: "pane mode has no operator's inbound path: the pane runs an agent".into(),
            };
        }
        let started = self
            .lifecycle
            .ensure_open()
            .and(self.session.stream().await.map_err(to_core));
        if let Err(error) = started {
            return RoundTrip::not_posted(&error);
        }
        let post = |marker: String| async move {
            let number = u64::try_from(Timestamp::now().as_microsecond()).unwrap_or_default();
            self.session
                .probe_console(number, &marker)
                .await
                .map_err(to_core)?;
            Ok(MessageId::new(format!("probe-{number}")))
        };
        // Nothing to remove: tmux shows no trace of the probe.
        let remove = |_: MessageId| async { Ok(()) };
        round_trip::run(
            self.inbox.echoes(),
            "the console's control client",
            ROUND_TRIP_FIX,
            timeout,
            post,
            remove,
        )
        .await
    }

    async fn health(&self) -> ConnectorHealth {
        let probe = self.session.health().await;
        let mut health = ConnectorHealth::default();
        health.reachable = probe.reachable;
        health.authenticated = probe.reachable && probe.authenticated;
        health.detail = probe.detail;
        if health.is_healthy() {
            let now = Timestamp::now();
            *self
                .last_seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(now);
        }
        health.last_seen = *self
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        health.with_rejected_senders(self.inbox.stats().rejected_senders)
    }

    /// The server, the socket's owner, the target and the mode, each with a fix on failure.
    async fn diagnose(&self) -> Vec<Probe> {
        crate::diagnosis::diagnose(&self.session).await
    }

    /// Stops the reader and the supervisor, then detaches the control client and ends the
    /// subscriptions.
    async fn close(&self) -> Result<()> {
        let detach = self.session.shutdown();
        self.lifecycle.close(CLOSE_TIMEOUT, detach).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_send_leaves_no_expected_echo_behind() {
        let echoes = Mutex::new(VecDeque::new());
        echoes
            .lock()
            .unwrap()
            .push_back(("hold this".to_owned(), Instant::now()));
        // A retried send expected the same echo again, then failed: only its own expectation goes.
        echoes
            .lock()
            .unwrap()
            .push_back(("hold this".to_owned(), Instant::now()));
        forget_echoes(&echoes, &["hold this".to_owned()]);
        assert_eq!(echoes.lock().unwrap().len(), 1);
        // The echo of the one real paste is recognised once; the program's answer is not eaten.
        assert!(is_own_echo(&echoes, "hold this"));
        assert!(!is_own_echo(&echoes, "ack: hold this"));
    }
}
