//! An in-memory connector and its operator side, for testing orchestrator code without a chat
//! server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::allowlist::SenderPolicy;
use crate::capability::{Capabilities, Capability};
use crate::chunking::{Chunker, LengthUnit};
use crate::connector::{OrchestratorConnector, check_outbound};
use crate::error::{Error, Result};
use crate::health::ConnectorHealth;
use crate::ids::{IdempotencyKey, MessageId, SenderId, ThreadId};
use crate::inbox::{Admission, Inbox};
use crate::message::{Attachment, HistoryQuery, InboundMessage, OutboundMessage, SendReceipt};
use crate::question::{Question, QuestionId, QuestionReceipt};
use crate::questions::{
    Answerer, Asked, Decision, Pick, QuestionBook, QuestionSurface, Questions, render,
};
use crate::sending::send_in_parts;
use crate::subscription::Subscription;

/// The kind name of the loopback connector.
pub const LOOPBACK_KIND: &str = "loopback";

/// The sender id the loopback connector posts as.
pub const LOOPBACK_SELF: &str = "orchestrator";

/// The sender id [`LoopbackOperator::post`] posts as (allowed by [`LoopbackConnector::pair`]).
pub const LOOPBACK_OPERATOR: &str = "operator";

/// A message the connector posted, as the operator side sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostedMessage {
    /// Its id in the loopback's history.
    pub message_id: MessageId,
    /// Its text (one part of a chunked message).
    pub text: String,
    /// The thread it was posted in.
    pub thread_id: Option<ThreadId>,
    /// Its attachments (on the first part).
    pub attachments: Vec<Attachment>,
}

/// A connector that keeps the conversation in memory.
///
/// It behaves like a real backend: long text is chunked (2000 characters by default), its own
/// messages are echoed back and filtered out, sends are idempotent by key, and the operator side
/// can make it unreachable. Use [`LoopbackConnector::pair`] in tests.
#[derive(Debug, Clone)]
pub struct LoopbackConnector {
    shared: Arc<Shared>,
}

/// The operator's side of a [`LoopbackConnector`]: posts messages and sees what was sent.
#[derive(Debug, Clone)]
pub struct LoopbackOperator {
    shared: Arc<Shared>,
}

struct Shared {
    inbox: Arc<Inbox>,
    /// The questions asked; their outcomes are shown by editing the question's message.
    questions: Questions,
    /// Set once the questions' background task (expiry) runs.
    questions_running: std::sync::Once,
    chunker: Chunker,
    up: AtomicBool,
    next_id: AtomicU64,
    state: Mutex<State>,
    posted_tx: mpsc::UnboundedSender<PostedMessage>,
    posted_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<PostedMessage>>,
}

#[derive(Debug, Default)]
struct State {
    history: Vec<InboundMessage>,
    sent_keys: HashMap<IdempotencyKey, MessageId>,
    reactions: Vec<(MessageId, String)>,
    typing: u64,
}

impl LoopbackConnector {
    /// A connector allowing [`LOOPBACK_OPERATOR`], and its operator side.
    pub fn pair() -> (Self, LoopbackOperator) {
        Self::with_policy(SenderPolicy::allow_list([LOOPBACK_OPERATOR]), 2000)
    }

    /// A connector with the given sender policy and message length limit (in characters).
    ///
    /// # Panics
    /// If `max_message_len` is below [`Chunker::MIN_LIMIT`].
    pub fn with_policy(policy: SenderPolicy, max_message_len: usize) -> (Self, LoopbackOperator) {
        let chunker = Chunker::new(max_message_len, LengthUnit::Chars)
            .expect("limit at least Chunker::MIN_LIMIT");
        let (posted_tx, posted_rx) = mpsc::unbounded_channel();
        let inbox = Arc::new(Inbox::new(policy.with_own_identity(LOOPBACK_SELF)));
        let shared = Arc::new_cyclic(|weak: &Weak<Shared>| Shared {
            questions: Questions::new(
                Arc::new(QuestionBook::load(None).expect("an in-memory book always loads")),
                Arc::clone(&inbox),
                Arc::new(Surface(weak.clone())),
            ),
            questions_running: std::sync::Once::new(),
            inbox,
            chunker,
            up: AtomicBool::new(true),
            next_id: AtomicU64::new(1),
            state: Mutex::default(),
            posted_tx,
            posted_rx: tokio::sync::Mutex::new(posted_rx),
        });
        (
            Self {
                shared: Arc::clone(&shared),
            },
            LoopbackOperator { shared },
        )
    }
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn new_id(&self) -> MessageId {
        MessageId::new(format!(
            "lb{}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        ))
    }

    fn ensure_up(&self) -> Result<()> {
        if self.up.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(Error::Unreachable {
                kind: LOOPBACK_KIND.into(),
                reason: "the loopback is down".into(),
                source: None,
            })
        }
    }

    /// Records a message in the history and hands it to the inbox (which filters own
    /// messages) — or, when it answers a question, to the questions.
    async fn record(&self, message: InboundMessage) -> Admission {
        self.state().history.push(message.clone());
        if message.sender.as_str() != LOOPBACK_SELF
            && let Some(answered) = self
                .questions
                .typed(
                    Answerer::new(message.sender.clone(), None),
                    message.thread_id.as_ref(),
                    None,
                    &message.text,
                )
                .await
        {
            return match answered.map(|a| a.decision) {
                Ok(Decision::NotAllowed) => Admission::SenderNotAllowed,
                Ok(Decision::Own) => Admission::Own,
                // Taken as an answer (delivered as one), or refused and told: not a message.
                _ => Admission::Duplicate,
            };
        }
        self.inbox.deliver(message).await
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("inbox", &self.inbox)
            .field("questions", &self.questions)
            .finish_non_exhaustive()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Ends the questions' background task, which holds the inbox but not us.
        self.inbox.close();
    }
}

/// Shows a settled question by editing its message.
struct Surface(Weak<Shared>);

#[async_trait]
impl QuestionSurface for Surface {
    async fn show_outcome(&self, asked: &Asked) -> Result<()> {
        let Some(shared) = self.0.upgrade() else {
            return Ok(());
        };
        let text = render::settled_text(asked);
        let mut state = shared.state();
        for id in &asked.message_ids {
            if let Some(entry) = state.history.iter_mut().find(|m| &m.message_id == id) {
                entry.text.clone_from(&text);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl OrchestratorConnector for LoopbackConnector {
    fn kind(&self) -> &str {
        LOOPBACK_KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capability::ALL
            .into_iter()
            .filter(|c| *c != Capability::Markdown)
            .fold(Capabilities::NONE, Capabilities::with)
            .with_max_message_len(self.shared.chunker.limit())
    }

    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        check_outbound(LOOPBACK_KIND, self.capabilities(), &message)?;
        let shared = &self.shared;
        shared.ensure_up()?;
        let thread = message.thread_id.clone();
        let mut attachments = Some(message.attachments.clone());
        let ids = send_in_parts(
            &shared.chunker,
            &message.text,
            &message.idempotency_key,
            |_, text, key| {
                let thread = thread.clone();
                let attachments = attachments.take().unwrap_or_default();
                async move {
                    shared.ensure_up()?;
                    // Check and reserve the key in one step, so concurrent retries post once.
                    let id = {
                        let mut state = shared.state();
                        if let Some(id) = state.sent_keys.get(&key) {
                            return Ok(id.clone());
                        }
                        let id = shared.new_id();
                        state.sent_keys.insert(key, id.clone());
                        id
                    };
                    let mut echo = InboundMessage::new(
                        id.clone(),
                        LOOPBACK_SELF,
                        text.clone(),
                        Timestamp::now(),
                    );
                    echo.thread_id.clone_from(&thread);
                    shared.record(echo).await;
                    let posted = PostedMessage {
                        message_id: id.clone(),
                        text,
                        thread_id: thread,
                        attachments,
                    };
                    let _ = shared.posted_tx.send(posted);
                    Ok(id)
                }
            },
        )
        .await?;
        Ok(SendReceipt::new(ids, message.thread_id, true))
    }

    async fn subscribe(&self) -> Result<Subscription> {
        Ok(self.shared.inbox.subscribe())
    }

    async fn health(&self) -> ConnectorHealth {
        let health = if self.shared.up.load(Ordering::SeqCst) {
            ConnectorHealth::healthy()
        } else {
            ConnectorHealth::unreachable("the loopback is down")
        };
        health.with_rejected_senders(self.shared.inbox.stats().rejected_senders)
    }

    async fn react(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        emoji: &str,
    ) -> Result<()> {
        self.shared.ensure_up()?;
        self.shared
            .state()
            .reactions
            .push((message.clone(), emoji.to_owned()));
        Ok(())
    }

    async fn edit(
        &self,
        message: &MessageId,
        _thread: Option<&ThreadId>,
        text: &str,
    ) -> Result<()> {
        self.shared.ensure_up()?;
        let mut state = self.shared.state();
        let entry = state
            .history
            .iter_mut()
            .find(|m| &m.message_id == message && m.sender.as_str() == LOOPBACK_SELF)
            .ok_or_else(|| Error::InvalidInput {
                field: "message",
                message: format!("no message {message} of ours"),
            })?;
        entry.text = text.to_owned();
        Ok(())
    }

    async fn typing(&self, _thread: Option<&ThreadId>) -> Result<()> {
        self.shared.ensure_up()?;
        self.shared.state().typing += 1;
        Ok(())
    }

    async fn history(&self, query: HistoryQuery) -> Result<Vec<InboundMessage>> {
        self.shared.ensure_up()?;
        let state = self.shared.state();
        let matching: Vec<_> = state
            .history
            .iter()
            .filter(|m| m.thread_id == query.thread_id)
            .cloned()
            .collect();
        let skip = matching.len().saturating_sub(query.limit);
        Ok(matching.into_iter().skip(skip).collect())
    }

    async fn ask(&self, question: Question) -> Result<QuestionReceipt> {
        let shared = &self.shared;
        shared.questions.check(&question).await?;
        shared.questions_running.call_once(|| {
            tokio::spawn(shared.questions.run());
        });
        let mut message = OutboundMessage::new(render::question_text(&question, None, false));
        message.thread_id.clone_from(&question.thread_id);
        let sent = self.send(message).await?;
        let receipt = QuestionReceipt::new(question.id.clone(), sent.message_ids, sent.thread_id);
        shared.questions.asked(&question, &receipt).await?;
        Ok(receipt)
    }

    async fn close(&self) -> Result<()> {
        self.shared.inbox.close();
        Ok(())
    }
}

impl LoopbackOperator {
    /// Posts `text` as [`LOOPBACK_OPERATOR`] in the main conversation; answers its id.
    pub async fn post(&self, text: &str) -> MessageId {
        self.post_as(LOOPBACK_OPERATOR, text, None).await
    }

    /// Posts `text` as `sender`, in `thread` if given; answers its id.
    pub async fn post_as(&self, sender: &str, text: &str, thread: Option<&ThreadId>) -> MessageId {
        let id = self.shared.new_id();
        let mut message =
            InboundMessage::new(id.clone(), SenderId::new(sender), text, Timestamp::now());
        message.thread_id = thread.cloned();
        self.shared.record(message).await;
        id
    }

    /// Answers question `id` with choice `choice` as `sender`, as a click on a button would;
    /// answers what the sender is told (`None`: the answer was taken).
    ///
    /// # Errors
    ///
    /// When the answer cannot be saved.
    pub async fn answer_as(
        &self,
        sender: &str,
        id: &QuestionId,
        choice: &str,
    ) -> Result<Option<String>> {
        let answered = self
            .shared
            .questions
            .answer(
                id,
                Answerer::new(sender, None),
                Pick::Choice(choice.to_owned()),
            )
            .await?;
        Ok(answered.reply)
    }

    /// Delivers message `id` from the history again, as a platform might after a reconnect.
    pub async fn redeliver(&self, id: &MessageId) -> Option<Admission> {
        let message = self
            .shared
            .state()
            .history
            .iter()
            .find(|m| &m.message_id == id)
            .cloned()?;
        Some(self.shared.inbox.deliver(message).await)
    }

    /// The next message the connector posted, waiting for one.
    pub async fn next_outbound(&self) -> Option<PostedMessage> {
        self.shared.posted_rx.lock().await.recv().await
    }

    /// Makes the loopback reachable or not: while down, sends fail and health is false.
    pub fn set_reachable(&self, up: bool) {
        self.shared.up.store(up, Ordering::SeqCst);
    }

    /// The reactions added so far, as (message, emoji).
    pub fn reactions(&self) -> Vec<(MessageId, String)> {
        self.shared.state().reactions.clone()
    }

    /// How many typing indicators were shown.
    pub fn typing_count(&self) -> u64 {
        self.shared.state().typing
    }

    /// The current text of message `id`, if it exists.
    pub fn text_of(&self, id: &MessageId) -> Option<String> {
        self.shared
            .state()
            .history
            .iter()
            .find(|m| &m.message_id == id)
            .map(|m| m.text.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idempotent_send_posts_once() {
        let (connector, operator) = LoopbackConnector::pair();
        let message = OutboundMessage::new("deploy done");
        let first = connector.send(message.clone()).await.unwrap();
        let second = connector.send(message).await.unwrap();
        assert_eq!(first.message_ids, second.message_ids);
        assert_eq!(operator.next_outbound().await.unwrap().text, "deploy done");
        let history = connector.history(HistoryQuery::latest(10)).await.unwrap();
        assert_eq!(history.len(), 1);
    }

    #[tokio::test]
    async fn optional_capabilities_work() {
        let (connector, operator) = LoopbackConnector::pair();
        let receipt = connector.send(OutboundMessage::new("v1")).await.unwrap();
        let id = receipt.message_id().unwrap();
        connector.edit(id, None, "v2").await.unwrap();
        connector.react(id, None, "👍").await.unwrap();
        connector.typing(None).await.unwrap();
        assert_eq!(operator.text_of(id).unwrap(), "v2");
        assert_eq!(operator.reactions(), [(id.clone(), "👍".to_owned())]);
        assert_eq!(operator.typing_count(), 1);
    }
}
