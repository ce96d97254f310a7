//! The operator's side of a real platform, as the conformance checks drive it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::{
    Capability, Error, MessageId, OrchestratorConnector, QuestionReceipt, Result, ThreadId,
};

/// A message the connector posted, as seen at the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// Its text as the platform shows it.
    pub text: String,
    /// The thread it landed in, as the connector names threads.
    pub thread_id: Option<ThreadId>,
}

/// The operator's side of the platform a connector talks to.
#[async_trait]
pub trait Peer: Send + Sync {
    /// Posts `text` as the operator (a sender on the connector's allow-list), in `thread` if given.
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()>;

    /// Posts `text` as someone not on the allow-list.
    ///
    /// A platform with a single sender (tmux: whoever can reach the server is the operator)
    /// answers [`Error::Unsupported`](connector_core::Error::Unsupported); the fixture then
    /// provides a [`strict`](Fixture::strict) connector whose allow-list leaves the operator out.
    async fn post_as_stranger(&self, text: &str) -> Result<()>;

    /// The next message the connector posted, waiting at most `timeout`.
    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>>;

    /// Makes the platform unreachable (stop the server, kill the tmux server).
    async fn take_down(&self) -> Result<()>;

    /// Makes the platform reachable again.
    async fn bring_up(&self) -> Result<()>;

    /// Answers the question of `receipt` the platform's own way (a click on its button, a
    /// reaction, a typed line) as the operator, picking choice `choice` (0-based); answers
    /// what the operator was then told privately or beside the question (an ephemeral reply, a
    /// notice), `None` when nothing. Peers of connectors without
    /// [`Capability::Questions`] keep the default.
    async fn answer_as_operator(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let _ = (receipt, choice);
        Err(Error::unsupported("peer", Capability::Questions))
    }

    /// As [`answer_as_operator`](Self::answer_as_operator), as someone not on the allow-list;
    /// single-sender platforms answer [`Error::Unsupported`] (the check then asks through the
    /// [`strict`](Fixture::strict) connector).
    async fn answer_as_stranger(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let _ = (receipt, choice);
        Err(Error::unsupported("peer", Capability::Questions))
    }

    /// The text message `message` shows now (after edits), as the operator sees it.
    async fn shown_text(&self, message: &MessageId) -> Result<String> {
        let _ = message;
        Err(Error::unsupported("peer", Capability::Questions))
    }
}

/// A connector and the peer it talks to, fresh for one check.
pub struct Fixture {
    /// The connector under test.
    pub connector: Arc<dyn OrchestratorConnector>,
    /// The operator's side.
    pub peer: Box<dyn Peer>,
    /// How long a check waits for something to arrive before failing.
    pub patience: Duration,
    /// For single-sender platforms: a second connector on the same conversation whose
    /// allow-list does not include the operator.
    pub strict: Option<Arc<dyn OrchestratorConnector>>,
}

impl Fixture {
    /// A fixture waiting up to 30 s for each expected arrival.
    pub fn new(connector: Arc<dyn OrchestratorConnector>, peer: impl Peer + 'static) -> Self {
        Self {
            connector,
            peer: Box::new(peer),
            patience: Duration::from_secs(30),
            strict: None,
        }
    }

    /// This fixture with a strict connector (see [`Fixture::strict`]).
    #[must_use]
    pub fn with_strict(mut self, strict: Arc<dyn OrchestratorConnector>) -> Self {
        self.strict = Some(strict);
        self
    }

    /// Closes the connector (the peer cleans up when dropped).
    pub async fn teardown(self) {
        let _ = self.connector.close().await;
        if let Some(strict) = &self.strict {
            let _ = strict.close().await;
        }
    }
}
