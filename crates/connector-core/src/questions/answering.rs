//! One connector's questions: the book, the inbox that answers go to, and the surface that
//! shows outcomes — what a backend holds to ask questions and take their answers.

use std::sync::Arc;

use crate::error::Result;
use crate::ids::{MessageId, ThreadId};
use crate::inbox::Inbox;
use crate::question::{Question, QuestionId, QuestionReceipt};

use super::book::{Answerer, Asked, Decision, Pick, QuestionBook, QuestionState};
use super::render;
use super::settling::{QuestionSurface, conclude};
use crate::question::Outcome;

/// What became of one answer, and what to tell the one who gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The book's decision.
    pub decision: Decision,
    /// What to tell the one who answered, privately where the platform can (an ephemeral
    /// message, a DM): why the answer was not taken. `None` when it was taken or ignored.
    pub reply: Option<String>,
}

/// A connector's questions (see the [module docs](super)).
#[derive(Clone)]
pub struct Questions {
    book: Arc<QuestionBook>,
    inbox: Arc<Inbox>,
    surface: Arc<dyn QuestionSurface>,
}

impl std::fmt::Debug for Questions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Questions")
            .field("book", &self.book)
            .finish_non_exhaustive()
    }
}

impl Questions {
    /// The questions of a connector whose answers go to `inbox` and whose outcomes `surface`
    /// shows.
    pub fn new(
        book: Arc<QuestionBook>,
        inbox: Arc<Inbox>,
        surface: Arc<dyn QuestionSurface>,
    ) -> Self {
        Self {
            book,
            inbox,
            surface,
        }
    }

    /// The book.
    pub fn book(&self) -> &QuestionBook {
        &self.book
    }

    /// Refuses a question that cannot be asked: invalid, or its id asked before.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) naming the field.
    pub async fn check(&self, question: &Question) -> Result<()> {
        question.check()?;
        self.book.check_new(&question.id).await
    }

    /// Records a question the backend has posted.
    ///
    /// # Errors
    ///
    /// As [`QuestionBook::open`].
    pub async fn asked(&self, question: &Question, receipt: &QuestionReceipt) -> Result<()> {
        self.book.open(question, receipt).await
    }

    /// Takes an answer (a click, a reaction): decides, and when it is the first valid one,
    /// shows the outcome and hands the answer over in the background, so the platform's
    /// handler is never held up waiting for a subscriber.
    ///
    /// # Errors
    ///
    /// [`Error::StateFile`](crate::Error::StateFile) when the answer cannot be saved (it is not
    /// taken).
    pub async fn answer(&self, id: &QuestionId, by: Answerer, pick: Pick) -> Result<Answered> {
        let decision = self
            .book
            .answer(&self.inbox, id, by.clone(), pick.clone())
            .await?;
        if let Decision::Accepted(asked) = &decision {
            self.conclude_in_background(asked.clone());
        }
        let reply = match &decision {
            // The same answer seen again (an event replayed after a restart, a second
            // identical click) needs no words.
            Decision::AlreadySettled(asked) if is_same_answer(asked, &by, &pick) => None,
            decision => reply_for(decision),
        };
        Ok(Answered { decision, reply })
    }

    /// Whether a typed message answers a question ([`match_typed`](super::typed::match_typed));
    /// if so, takes it as [`answer`](Self::answer) does. `None`: an ordinary message, deliver
    /// it as one. `Some`: not to be delivered as a message.
    pub async fn typed(
        &self,
        by: Answerer,
        thread: Option<&ThreadId>,
        replied_to: Option<&MessageId>,
        text: &str,
    ) -> Option<Result<Answered>> {
        let (id, pick) = self.book.typed(thread, replied_to, text).await?;
        Some(self.answer(&id, by, pick).await)
    }

    /// Hands the answer of settled question `asked` over in the background (after the
    /// backend showed the outcome itself, as Discord does in its interaction response).
    pub fn deliver_in_background(&self, asked: Asked) {
        let (book, inbox) = (Arc::clone(&self.book), Arc::clone(&self.inbox));
        tokio::spawn(async move {
            let _ = book.deliver(&inbox, &asked).await;
        });
    }

    fn conclude_in_background(&self, asked: Asked) {
        let this = self.clone();
        tokio::spawn(async move {
            conclude(&this.book, &this.inbox, this.surface.as_ref(), &asked).await;
        });
    }

    /// The background task: delivers what a previous run settled but did not hand over, and
    /// expires questions at their deadlines ([`settling::run`](super::settling::run)). Spawn
    /// it with the connector's lifecycle.
    pub fn run(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        super::settling::run(
            Arc::clone(&self.book),
            Arc::clone(&self.inbox),
            Arc::clone(&self.surface),
        )
    }
}

/// What to tell the one who answered, whatever became of their answer: the [`Answered`]
/// reply, or — when the answer could not be saved — that it was not taken and why.
pub fn told(answered: &Result<Answered>) -> Option<String> {
    match answered {
        Ok(answered) => answered.reply.clone(),
        Err(e) => Some(format!(
            "Your answer could not be saved, so it was not taken: {e}"
        )),
    }
}

/// Whether `asked` was settled by `by` with `pick`.
fn is_same_answer(asked: &Asked, by: &Answerer, pick: &Pick) -> bool {
    let QuestionState::Settled {
        outcome,
        by: Some(settler),
        ..
    } = &asked.state
    else {
        return false;
    };
    settler.id == by.id
        && match (outcome, pick) {
            (Outcome::Chosen { choice_id, .. }, Pick::Choice(picked)) => choice_id == picked,
            (Outcome::Typed { text }, Pick::Text(typed)) => text == typed,
            _ => false,
        }
}

/// What the one who answered is told, for each decision.
fn reply_for(decision: &Decision) -> Option<String> {
    match decision {
        Decision::AlreadySettled(asked) => Some(render::already_settled(asked)),
        Decision::NotAllowed => Some(render::NOT_ALLOWED.to_owned()),
        Decision::UnknownQuestion => Some("This question is not known here any more.".to_owned()),
        Decision::UnknownChoice => Some("That is not one of the question's choices.".to_owned()),
        Decision::Accepted(_) | Decision::Own => None,
    }
}
