//! Asking and waiting: send a question, then wait on a subscription for its answer.

use std::time::Duration;

use crate::connector::OrchestratorConnector;
use crate::error::Result;
use crate::message::InboundMessage;
use crate::question::{Question, QuestionReceipt};

/// How waiting for an answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    /// The answer (or the question's expiry) arrived: the message carries it in `answer`.
    Settled(Box<InboundMessage>),
    /// The caller's timeout passed first; the question stays open on the platform.
    TimedOut,
    /// The connector closed first.
    Closed,
}

/// Asks `question` and waits up to `timeout` (for ever with `None`) for its answer.
///
/// Subscribes before it asks, so an answer given at once is not missed; messages other than
/// the answer that arrive meanwhile are skipped (a caller that needs them keeps its own
/// subscription: every subscription gets every message).
///
/// ```
/// # async fn demo() -> connector_core::Result<()> {
/// use connector_core::questions::{Waited, ask_and_wait};
/// use connector_core::question::{Choice, Question};
/// use connector_core::LoopbackConnector;
///
/// let (connector, operator) = LoopbackConnector::pair();
/// let question = Question::new("Deploy?", vec![Choice::new("yes", "Yes"), Choice::new("no", "No")])?;
/// let asking = tokio::spawn(async move { ask_and_wait(&connector, question, None).await });
/// let posted = operator.next_outbound().await.unwrap();
/// operator.post("1").await; // typing the number answers the newest open question
/// let Waited::Settled(answer) = asking.await.unwrap()?.1 else { panic!() };
/// assert_eq!(answer.answer.unwrap().choice_id(), Some("yes"));
/// # let _ = posted; Ok(()) }
/// ```
///
/// # Errors
///
/// What [`ask`](OrchestratorConnector::ask) answered.
pub async fn ask_and_wait(
    connector: &dyn OrchestratorConnector,
    question: Question,
    timeout: Option<Duration>,
) -> Result<(QuestionReceipt, Waited)> {
    let mut subscription = connector.subscribe().await?;
    let receipt = connector.ask(question).await?;
    let wait = async {
        while let Some(message) = subscription.recv().await {
            if message
                .answer
                .as_ref()
                .is_some_and(|a| a.question_id == receipt.question_id)
            {
                return Waited::Settled(Box::new(message));
            }
        }
        Waited::Closed
    };
    let waited = match timeout {
        Some(timeout) => tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or(Waited::TimedOut),
        None => wait.await,
    };
    Ok((receipt, waited))
}
