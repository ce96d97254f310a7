//! The `OrchestratorConnector` trait every backend implements.

use async_trait::async_trait;

use crate::capability::{Capabilities, Capability};
use crate::diagnosis::Probe;
use crate::error::{Error, Result};
use crate::health::ConnectorHealth;
use crate::ids::{MessageId, ThreadId};
use crate::message::{HistoryQuery, InboundMessage, OutboundMessage, SendReceipt};
use crate::question::{Question, QuestionReceipt};
use crate::round_trip::RoundTrip;
use crate::subscription::Subscription;

/// A link between an orchestrator and its human operator over one chat channel.
///
/// The trait is object safe: the registry hands out `Arc<dyn OrchestratorConnector>`, and fleet
/// code never branches on the connector's kind. Threads are optional metadata on the messages, so
/// thread-capable connectors fit the same interface. Optional capabilities (reactions, edits,
/// typing, history) are reported by [`capabilities`](Self::capabilities) and offered through
/// methods whose default answers [`Error::Unsupported`], so a backend gains one without a breaking
/// change.
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::{LoopbackConnector, OrchestratorConnector, OutboundMessage};
/// let (connector, operator) = LoopbackConnector::pair();
/// let mut inbox = connector.subscribe().await?;
/// connector.send(OutboundMessage::new("Tests pass. Merge?")).await?;
/// assert_eq!(operator.next_outbound().await.unwrap().text, "Tests pass. Merge?");
/// operator.post("yes, merge").await;
/// assert_eq!(inbox.recv().await.unwrap().text, "yes, merge");
/// # Ok(()) }
/// ```
#[async_trait]
pub trait OrchestratorConnector: Send + Sync + 'static {
    /// The connector's kind, as named in the config (`tmux`, `matrix`, `discord`, …).
    fn kind(&self) -> &str;

    /// The optional capabilities this connector offers and its message size limit.
    fn capabilities(&self) -> Capabilities;

    /// Sends a message to the operator (orchestrator → human).
    ///
    /// Text longer than the platform's limit is split with
    /// [`Chunker`](crate::chunking::Chunker) and sent in order; a failure part-way answers
    /// [`Error::PartialSend`]. Retrying the same [`OutboundMessage`] (same idempotency key) never
    /// posts it twice on platforms that support idempotent sends.
    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt>;

    /// Subscribes to the operator's messages (human → orchestrator).
    ///
    /// Every subscription receives every message admitted after it was created, exactly once.
    /// Dropping the [`Subscription`] unsubscribes. See [`Subscription`] for what bounds memory.
    async fn subscribe(&self) -> Result<Subscription>;

    /// Probes the platform: reachable, authenticated, with a detail when not.
    ///
    /// Never fails: problems are reported in the returned value, within a bounded time.
    async fn health(&self) -> ConnectorHealth;

    /// Adds a reaction (an emoji) to a message.
    async fn react(
        &self,
        message: &MessageId,
        thread: Option<&ThreadId>,
        emoji: &str,
    ) -> Result<()> {
        let _ = (message, thread, emoji);
        Err(Error::unsupported(self.kind(), Capability::Reactions))
    }

    /// Replaces the text of a message this connector sent.
    async fn edit(&self, message: &MessageId, thread: Option<&ThreadId>, text: &str) -> Result<()> {
        let _ = (message, thread, text);
        Err(Error::unsupported(self.kind(), Capability::Edits))
    }

    /// Shows a typing indicator to the operator.
    async fn typing(&self, thread: Option<&ThreadId>) -> Result<()> {
        let _ = thread;
        Err(Error::unsupported(self.kind(), Capability::Typing))
    }

    /// Fetches recent messages of the conversation (both directions), oldest first.
    async fn history(&self, query: HistoryQuery) -> Result<Vec<InboundMessage>> {
        let _ = query;
        Err(Error::unsupported(self.kind(), Capability::History))
    }

    /// Asks the operator a question with choices; the answer (or the question's expiry)
    /// arrives on every subscription as an [`InboundMessage`] whose `answer` is set (see
    /// [`crate::questions`] for the rules, and
    /// [`ask_and_wait`](crate::questions::ask_and_wait) to wait for it).
    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        let _ = question;
        Err(Error::unsupported(self.kind(), Capability::Questions))
    }

    /// Probe the setup in detail for `connector doctor`: reachability, credentials, identity,
    /// access to the conversation, the permissions and intents the connector needs, each as a
    /// [`Probe`] with a concrete fix when it fails.
    ///
    /// The default reports [`health`](Self::health) as two probes; backends override it with
    /// finer checks. Never fails: a probe that cannot run is reported as failed or skipped.
    async fn diagnose(&self) -> Vec<Probe> {
        crate::diagnosis::probes_from_health(&self.health().await)
    }

    /// Posts a marked probe message and waits up to `timeout` for it to come back through the
    /// inbound path the operator's messages take: proof that the connector is listening, not
    /// only connected (see [`crate::round_trip`]). The probe never reaches a subscriber and is
    /// removed where the platform allows.
    ///
    /// The default answers [`RoundTrip::Unsupported`]: a backend whose platform does not
    /// deliver its own messages back to it keeps it. Never fails: a stage that does not answer
    /// is reported in the returned value.
    async fn round_trip(&self, timeout: std::time::Duration) -> RoundTrip {
        let _ = timeout;
        RoundTrip::Unsupported {
            reason: format!("the {} connector has no round-trip probe", self.kind()),
        }
    }

    /// Stops background work and persists state. Later calls may answer [`Error::Closed`].
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Checks an outbound message against a connector's capabilities before it is sent.
///
/// Backends call this first in [`OrchestratorConnector::send`], so every backend rejects the
/// same things the same way.
pub fn check_outbound(
    kind: &str,
    capabilities: Capabilities,
    message: &OutboundMessage,
) -> Result<()> {
    if message.text.trim().is_empty() && message.attachments.is_empty() {
        return Err(Error::InvalidInput {
            field: "text",
            message: "a message needs text or an attachment".into(),
        });
    }
    if message.thread_id.is_some() && !capabilities.supports(Capability::Threads) {
        return Err(Error::unsupported(kind, Capability::Threads));
    }
    if let Some(thread) = &message.thread_id
        && thread.as_str().trim().is_empty()
    {
        return Err(Error::InvalidInput {
            field: "thread_id",
            message: "must not be empty".into(),
        });
    }
    if !message.attachments.is_empty() && !capabilities.supports(Capability::Attachments) {
        return Err(Error::unsupported(kind, Capability::Attachments));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_object_safe(_: &dyn OrchestratorConnector) {}
    const _: fn(&dyn OrchestratorConnector) = assert_object_safe;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn arc_dyn_connector_is_send_and_sync() {
        assert_send_sync::<std::sync::Arc<dyn OrchestratorConnector>>();
    }

    #[test]
    fn outbound_checks() {
        let caps = Capabilities::NONE;
        assert!(check_outbound("x", caps, &OutboundMessage::new("  ")).is_err());
        let threaded = OutboundMessage::new("hi").in_thread("t");
        assert!(matches!(
            check_outbound("x", caps, &threaded),
            Err(Error::Unsupported {
                capability: Capability::Threads,
                ..
            })
        ));
        assert!(check_outbound("x", caps.with(Capability::Threads), &threaded).is_ok());
    }
}
