//! Settling questions: showing the outcome on the question, handing the answer over, and
//! expiring questions nobody answered — the part every backend runs the same way.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::Result;
use crate::inbox::Inbox;

use super::book::{Asked, QuestionBook};

/// How a backend shows a settled question: its message no longer offers the choices and says
/// how it ended ([`render::outcome_line`](super::render::outcome_line)).
#[async_trait]
pub trait QuestionSurface: Send + Sync + 'static {
    /// Shows the outcome of the settled question `asked` on its message. Called again after
    /// a restart when the answer was not delivered yet, so it must be safe to repeat.
    async fn show_outcome(&self, asked: &Asked) -> Result<()>;
}

/// Shows a settled question's outcome (a failure is logged: the answer matters more than its
/// display) and hands its answer to the subscriptions.
pub async fn conclude(
    book: &QuestionBook,
    inbox: &Inbox,
    surface: &dyn QuestionSurface,
    asked: &Asked,
) {
    if let Err(e) = surface.show_outcome(asked).await {
        tracing::warn!(question = %asked.question.id, error = %e,
            "could not show the question's outcome on its message");
    }
    if book.deliver(inbox, asked).await.is_err() {
        tracing::debug!(question = %asked.question.id,
            "the connector closed before the answer was delivered; it is delivered after the next start");
    }
}

/// The background task of a connector that asks questions: first delivers the answers a
/// previous run settled but did not deliver, then expires each question at its deadline
/// (showing it as expired and delivering `expired`). Runs until the inbox closes.
pub async fn run(book: Arc<QuestionBook>, inbox: Arc<Inbox>, surface: Arc<dyn QuestionSurface>) {
    for asked in book.undelivered().await {
        conclude(&book, &inbox, surface.as_ref(), &asked).await;
    }
    loop {
        if inbox.is_closed() {
            return;
        }
        let wait = match book.next_deadline().await {
            Some(deadline) => {
                let millis = deadline.as_millisecond() - Timestamp::now().as_millisecond();
                Duration::from_millis(u64::try_from(millis).unwrap_or(0))
            }
            // Looked at again now and then, so a closed inbox ends the task.
            None => Duration::from_secs(1),
        };
        if !wait.is_zero()
            && tokio::time::timeout(wait.min(Duration::from_secs(1)), book.opened())
                .await
                .is_ok()
        {
            // A question was opened: its deadline may be the next one.
            continue;
        }
        match book.expire_due(Timestamp::now()).await {
            Ok(expired) => {
                for asked in expired {
                    conclude(&book, &inbox, surface.as_ref(), &asked).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot expire questions; trying again"),
        }
    }
}
