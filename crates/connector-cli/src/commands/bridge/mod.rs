//! `connector bridge`: relay both ways between the operator's connector and the agent's.
//!
//! The operator's side (`--from`: Discord, Matrix or the tmux console) and the agent's side
//! (`--to`: typically a tmux pane endpoint where Claude Code or Codex runs) are two connectors
//! built from two rosters. Every operator message is sent to the agent's side (pasted into the
//! agent's pane); the agent's output lines are coalesced and sent back to the operator, into the
//! thread the most recent operator message came from (see [`state`] for the mapping rule, which
//! survives restarts).
//!
//! Delivery inherits the connectors' guarantees: the operator's connector persists its position,
//! so a message posted while the bridge is down arrives after a restart; the bridge remembers
//! which operator messages it already handed over, so none is pasted twice. Echo loops cannot
//! form: each connector drops its own messages (the tmux pane endpoint recognises the echo of
//! its paste), and the bridge sends nothing but what it received from the other side.

mod coalesce;
mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use connector_core::config::ConnectorKind;
use connector_core::config::secrets::ProcessEnv;
use connector_core::config::state_dir::default_state_dir;
use connector_core::retry::RetryPolicy;
use connector_core::{
    ConnectorConfig, IdempotencyKey, InboundMessage, OrchestratorConnector, OutboundMessage,
    SendReceipt, Subscription,
};
use connector_registry::Registry;
use tokio::sync::watch;
use tokio::time::Instant;

use self::coalesce::{Batch, Coalescer};
use self::state::BridgeState;
use crate::error::{Error, Exit};

/// `connector bridge`'s options.
#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    /// The operator's side: a roster whose `connector` block to use, or a kind with no
    /// settings (`tmux`: the operator console).
    #[arg(long, env = "CONNECTOR_BRIDGE_FROM", value_name = "ROSTER|KIND")]
    pub(crate) from: String,

    /// The agent's side: a roster (typically a tmux pane endpoint), or a kind.
    #[arg(long, env = "CONNECTOR_BRIDGE_TO", value_name = "ROSTER|KIND")]
    pub(crate) to: String,

    /// The bridge's state file (reply thread, thread map, handed-over message ids). Default:
    /// $XDG_STATE_HOME/orchestrator-connector/bridge/<hash of --from and --to>/state.json.
    #[arg(long, env = "CONNECTOR_BRIDGE_STATE", value_name = "PATH")]
    pub(crate) state: Option<PathBuf>,

    /// Agent output lines arriving less than this many milliseconds apart are sent to the
    /// operator as one message (0: one message a line).
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    pub(crate) quiet_ms: u64,

    /// A message of coalesced lines waits at most this many milliseconds.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub(crate) max_wait_ms: u64,

    /// Give each operator thread a thread of its own on the agent's side (a tmux window), mapped
    /// both ways; by default every operator message goes to the agent's main conversation.
    #[arg(long)]
    pub(crate) mirror_threads: bool,
}

/// One side of the bridge.
struct Side {
    /// `operator` or `agent`, for logs.
    role: &'static str,
    connector: Arc<dyn OrchestratorConnector>,
}

impl Side {
    fn kind(&self) -> &str {
        self.connector.kind()
    }
}

/// How a delivery ended.
enum Outcome {
    Sent(SendReceipt),
    Failed(connector_core::Error),
    Cancelled,
}

/// Why the relay loop stopped.
enum Stop {
    /// SIGTERM or Ctrl-C.
    Signal,
    /// A side's message stream ended (its connector was closed underneath us).
    Ended(&'static str),
}

/// How long the last flushes at shutdown may take.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long to wait before trying a retryable send again after the retry policy gave up.
const HOLD_DELAY: Duration = Duration::from_secs(5);

pub(crate) async fn run(args: BridgeArgs) -> Result<Exit, Error> {
    let registry = Registry::new();
    let state_path = match &args.state {
        Some(path) => path.clone(),
        None => default_state_path(&args.from, &args.to)?,
    };
    let state = BridgeState::load(&state_path)?;
    let operator = Side {
        role: "operator",
        connector: open(&registry, &args.from).await?,
    };
    let agent = match open(&registry, &args.to).await {
        Ok(connector) => Side {
            role: "agent",
            connector,
        },
        Err(e) => {
            let _ = operator.connector.close().await;
            return Err(e);
        }
    };
    let mut from_operator = operator.connector.subscribe().await?;
    let mut from_agent = agent.connector.subscribe().await?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
    });

    // On stderr, so that scripts and tests may wait for it; logs go there too.
    eprintln!(
        "bridging {} (operator) <-> {} (agent); state {}; SIGTERM or Ctrl-C stops",
        operator.kind(),
        agent.kind(),
        state_path.display()
    );
    tracing::info!(from = %args.from, to = %args.to, state = %state_path.display(), "bridge started");

    let mut bridge = Bridge {
        operator,
        agent,
        state,
        state_path,
        mirror_threads: args.mirror_threads,
        coalescer: Coalescer::new(
            Duration::from_millis(args.quiet_ms),
            Duration::from_millis(args.max_wait_ms),
        ),
        stop: stop_rx,
    };
    let stop = bridge.relay(&mut from_operator, &mut from_agent).await;
    signals.abort();
    if let Stop::Ended(side) = stop {
        let (operator, agent) = tokio::join!(
            bridge.operator.connector.health(),
            bridge.agent.connector.health()
        );
        for (role, health) in [("operator", operator), ("agent", agent)] {
            tracing::error!(
                side = role,
                reachable = health.reachable,
                authenticated = health.authenticated,
                detail = health.detail.as_deref().unwrap_or("-"),
                "health after the {side} side's message stream ended"
            );
        }
    }
    bridge.shut_down(&mut from_operator).await;
    Ok(match stop {
        Stop::Signal => Exit::Ok,
        Stop::Ended(side) => {
            tracing::error!(
                side,
                "the {side} side's message stream ended; the bridge stops"
            );
            Exit::Unreachable
        }
    })
}

/// Waits for SIGTERM (systemd's stop) or Ctrl-C.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Builds the connector a `--from`/`--to` value names: a roster file, or a bare kind.
async fn open(registry: &Registry, spec: &str) -> Result<Arc<dyn OrchestratorConnector>, Error> {
    let path = Path::new(spec);
    if path.exists() || registry.kinds().all(|kind| kind != spec) {
        return Ok(registry.create_from_roster(Some(path)).await?);
    }
    Ok(registry
        .create(&ConnectorConfig::new(ConnectorKind::new(spec)))
        .await?)
}

/// `$XDG_STATE_HOME/orchestrator-connector/bridge/<hash>/state.json`.
fn default_state_path(from: &str, to: &str) -> Result<PathBuf, Error> {
    let absolute = |spec: &str| {
        std::fs::canonicalize(spec)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| spec.to_owned())
    };
    let key = format!(
        "{:016x}",
        fnv1a(1, &format!("{}\n{}", absolute(from), absolute(to)))
    );
    Ok(default_state_dir(&ProcessEnv, "bridge", &key)?.join("state.json"))
}

/// FNV-1a, 64 bits, with a seed: stable across builds (unlike std's hasher).
fn fnv1a(seed: u64, text: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A stable idempotency key for the message relayed from source message `id`: a retry, or a
/// relay of the same message after a restart, never posts twice where the platform dedupes.
fn relay_key(prefix: &str, id: &str) -> IdempotencyKey {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut key = prefix.to_owned();
    for seed in [1, 2] {
        let mut value = fnv1a(seed, id);
        for _ in 0..((IdempotencyKey::MAX_LEN - prefix.len()) / 2) {
            key.push(char::from(DIGITS[(value % 36) as usize]));
            value /= 36;
        }
    }
    IdempotencyKey::parse(&key).unwrap_or_else(|_| IdempotencyKey::random())
}

/// The text handed to the agent for an operator message: its text, then any attachment links.
fn agent_text(message: &InboundMessage) -> String {
    let mut text = message.text.clone();
    for attachment in &message.attachments {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str("[attachment: ");
        text.push_str(&attachment.url);
        text.push(']');
    }
    text
}

struct Bridge {
    operator: Side,
    agent: Side,
    state: BridgeState,
    state_path: PathBuf,
    mirror_threads: bool,
    coalescer: Coalescer,
    stop: watch::Receiver<bool>,
}

impl Bridge {
    /// Relays until a signal or until a side's stream ends.
    async fn relay(
        &mut self,
        from_operator: &mut Subscription,
        from_agent: &mut Subscription,
    ) -> Stop {
        let mut stop = self.stop.clone();
        loop {
            let deadline = self.coalescer.deadline();
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => return Stop::Signal,
                message = from_operator.recv() => match message {
                    Some(message) => self.forward(message, false).await,
                    None => return Stop::Ended("operator"),
                },
                message = from_agent.recv() => match message {
                    Some(message) => self.on_agent_line(message).await,
                    None => return Stop::Ended("agent"),
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    if let Some(batch) = self.coalescer.due(Instant::now()) {
                        self.send_to_operator(batch, false).await;
                    }
                }
            }
        }
    }

    /// Sends the agent's pending output, closes the operator's side (which persists its
    /// position), hands the operator messages already received to the agent, then closes it.
    async fn shut_down(&mut self, from_operator: &mut Subscription) {
        tracing::info!("bridge stopping");
        if let Some(batch) = self.coalescer.take() {
            self.send_to_operator(batch, true).await;
        }
        if let Err(e) = self.operator.connector.close().await {
            tracing::warn!(error = %e, "closing the operator's side");
        }
        while let Some(message) = from_operator.try_recv() {
            self.forward(message, true).await;
        }
        if let Err(e) = self.agent.connector.close().await {
            tracing::warn!(error = %e, "closing the agent's side");
        }
        self.save();
    }

    /// An operator message: hand it to the agent (unless it is a reaction or was handed over
    /// before), then remember that it was.
    async fn forward(&mut self, message: InboundMessage, stopping: bool) {
        let id = message.message_id.as_str().to_owned();
        if let Some(reaction) = &message.reaction {
            tracing::info!(
                emoji = %reaction.emoji,
                target = %reaction.message_id,
                removed = reaction.removed,
                "the operator reacted; reactions are not relayed to the agent"
            );
            return;
        }
        if self.state.was_forwarded(&id) {
            tracing::info!(message = %id, "already handed to the agent; skipped");
            return;
        }
        let text = agent_text(&message);
        let thread = message.thread_id.as_ref().map(|t| t.as_str().to_owned());
        let mut outbound =
            OutboundMessage::new(text.clone()).with_idempotency_key(relay_key("op", &id));
        if self.mirror_threads
            && let Some(thread) = &thread
        {
            outbound = outbound.in_thread(self.state.agent_thread_for(thread));
        }
        // Told to the operator, once, if the agent's side is unreachable and the message waits.
        let mut held = OutboundMessage::new(format!(
            "⏳ the agent's side ({}) cannot be reached; your message is held and will be \
             delivered when it is back",
            self.agent.kind()
        ))
        .with_idempotency_key(relay_key("hd", &id));
        if let Some(thread) = &thread {
            held = held.in_thread(thread.clone());
        }
        match deliver(
            &self.agent,
            &self.operator,
            outbound,
            Some(held),
            &self.stop,
            stopping,
        )
        .await
        {
            Outcome::Sent(receipt) => {
                tracing::info!(
                    message = %id,
                    thread = thread.as_deref().unwrap_or("-"),
                    confirmed = receipt.confirmed,
                    "operator -> agent"
                );
                self.state.record_forwarded(&id, thread.as_deref());
                self.save();
            }
            Outcome::Failed(e) => {
                tracing::error!(message = %id, error = %e, text = %text, "the operator's message could not be handed to the agent");
                self.state.record_forwarded(&id, thread.as_deref());
                self.save();
                let mut notice = OutboundMessage::new(format!(
                    "⚠ the bridge could not hand this message to the agent ({}): {e}",
                    self.agent.kind()
                ))
                .with_idempotency_key(relay_key("er", &id));
                if let Some(thread) = &thread {
                    notice = notice.in_thread(thread.clone());
                }
                if let Outcome::Failed(e) = deliver(
                    &self.operator,
                    &self.agent,
                    notice,
                    None,
                    &self.stop,
                    stopping,
                )
                .await
                {
                    tracing::error!(error = %e, "the failure notice did not reach the operator either");
                }
            }
            Outcome::Cancelled => tracing::error!(
                message = %id,
                text = %text,
                "the bridge stopped before this operator message reached the agent"
            ),
        }
    }

    /// An agent output line: queue it for the operator thread it maps to.
    async fn on_agent_line(&mut self, message: InboundMessage) {
        if message.is_reaction() {
            tracing::debug!("a reaction on the agent's side; not relayed");
            return;
        }
        let target = self
            .state
            .operator_thread_for(message.thread_id.as_ref().map(|t| t.as_str()));
        let ready = self.coalescer.push(
            target,
            message.message_id.as_str(),
            message.text,
            Instant::now(),
        );
        for batch in ready {
            self.send_to_operator(batch, false).await;
        }
    }

    /// Sends a batch of agent output to the operator.
    async fn send_to_operator(&mut self, batch: Batch, stopping: bool) {
        let text = batch.text();
        // A fresh key per batch, reused by every retry of it. Not derived from the line ids:
        // a pane's line ids may repeat after a restart, and a repeated key would make the
        // platform drop new output as a duplicate.
        let mut outbound = OutboundMessage::new(text.clone());
        if let Some(thread) = &batch.thread {
            outbound = outbound.in_thread(thread.clone());
        }
        match deliver(
            &self.operator,
            &self.agent,
            outbound,
            None,
            &self.stop,
            stopping,
        )
        .await
        {
            Outcome::Sent(receipt) => tracing::info!(
                lines = batch.lines.len(),
                first_line = %batch.first_id,
                thread = receipt.thread_id.as_ref().map_or("-", |t| t.as_str()),
                "agent -> operator"
            ),
            Outcome::Failed(e) => tracing::error!(
                error = %e,
                text = %text,
                "the agent's output could not be sent to the operator"
            ),
            Outcome::Cancelled => tracing::error!(
                text = %text,
                "the bridge stopped before this agent output reached the operator"
            ),
        }
    }

    fn save(&self) {
        if let Err(e) = self.state.save(&self.state_path) {
            tracing::error!(error = %e, "the bridge state could not be saved");
        }
    }
}

/// Sleeps until `deadline` (forever without one; the caller guards that branch).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Sends `message` on `to` under the core [`RetryPolicy`]. Retryable failures (unreachable,
/// rate limited, timeouts) are held and retried until they succeed or the bridge stops, with
/// the health of both sides logged each time, and `hold_notice` sent to the other side the
/// first time; a refusal is returned. While `stopping`, the delivery is bounded by
/// [`SHUTDOWN_GRACE`] instead of the stop signal.
async fn deliver(
    to: &Side,
    other: &Side,
    message: OutboundMessage,
    mut hold_notice: Option<OutboundMessage>,
    stop: &watch::Receiver<bool>,
    stopping: bool,
) -> Outcome {
    let attempts = async {
        let policy = RetryPolicy::default();
        loop {
            match policy.run(|_| to.connector.send(message.clone())).await {
                Ok(receipt) => return Outcome::Sent(receipt),
                Err(e) => {
                    log_health(to, other, &e).await;
                    if !e.is_retryable() || stopping {
                        return Outcome::Failed(e);
                    }
                    tracing::warn!(side = to.role, error = %e, delay = ?HOLD_DELAY, "holding the message; will retry");
                    if let Some(notice) = hold_notice.take()
                        && let Err(e) = policy.run(|_| other.connector.send(notice.clone())).await
                    {
                        tracing::warn!(side = other.role, error = %e, "the hold notice was not sent");
                    }
                    tokio::time::sleep(HOLD_DELAY).await;
                }
            }
        }
    };
    if stopping {
        return tokio::time::timeout(SHUTDOWN_GRACE, attempts)
            .await
            .unwrap_or(Outcome::Cancelled);
    }
    let mut stop = stop.clone();
    tokio::select! {
        outcome = attempts => outcome,
        _ = stop.wait_for(|stopped| *stopped) => Outcome::Cancelled,
    }
}

/// Logs a send failure with the health of both sides.
async fn log_health(failed: &Side, other: &Side, error: &connector_core::Error) {
    let (failed_health, other_health) =
        tokio::join!(failed.connector.health(), other.connector.health());
    for (side, health) in [(failed, failed_health), (other, other_health)] {
        tracing::warn!(
            side = side.role,
            kind = side.kind(),
            reachable = health.reachable,
            authenticated = health.authenticated,
            detail = health.detail.as_deref().unwrap_or("-"),
            "health after a failed send to the {} side: {error}",
            failed.role
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_keys_are_stable_valid_and_distinct() {
        let a = relay_key("op", "1288776452373725234");
        assert_eq!(a, relay_key("op", "1288776452373725234"));
        assert_eq!(a.as_str().len(), IdempotencyKey::MAX_LEN - 1);
        assert!(IdempotencyKey::parse(a.as_str()).is_ok());
        assert_ne!(a, relay_key("op", "1288776452373725235"));
        assert_ne!(a, relay_key("ag", "1288776452373725234"));
    }

    #[test]
    fn attachments_are_handed_over_as_links() {
        let ts = "2026-11-21T05:06:07Z".parse().unwrap();
        let message = InboundMessage::new("m", "op", "see this", ts).with_attachment(
            connector_core::InboundAttachment::new("https://cdn.example/log.txt"),
        );
        assert_eq!(
            agent_text(&message),
            "see this\n[attachment: https://cdn.example/log.txt]"
        );
    }
}
