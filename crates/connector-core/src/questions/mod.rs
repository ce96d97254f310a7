//! Questions with choices: the rules every backend obeys, written once.
//!
//! The orchestrator [asks](crate::OrchestratorConnector::ask) a [`Question`](crate::question::Question);
//! the backend shows it the platform's best way (Discord buttons, Matrix keycap reactions, the
//! tmux console's numbered list) and always as text that lists the choices and how to answer by
//! typing, so a client without buttons still works ([`render`]). The answer arrives on the same
//! subscription as every other operator message: an [`InboundMessage`](crate::InboundMessage)
//! whose [`answer`](crate::InboundMessage::answer) names the question and the outcome, sent by
//! whoever answered. [`ask_and_wait`] asks and waits for it.
//!
//! The [`QuestionBook`] decides on every answer, the same way on every backend:
//!
//! - **The first valid answer wins.** A second one (another operator, a second click, a late
//!   click) is [`AlreadySettled`](Decision::AlreadySettled): not delivered, and the one who gave
//!   it is told who answered first ([`render::already_settled`]).
//! - **Strangers are refused.** An answer from a sender off the allow-list is
//!   [`NotAllowed`](Decision::NotAllowed), counted in health like any refused message, and the
//!   question stays open.
//! - **Deadlines.** After its deadline a question is shown as expired and the subscriptions get
//!   an answer whose outcome is [`Outcome::Expired`](crate::question::Outcome::Expired)
//!   ([`settling::run`]).
//! - **The outcome is shown on the question** (`✅ Merge — alice, 14:02 UTC`), which no longer
//!   offers the choices ([`QuestionSurface`]).
//! - **Exactly once.** The book is kept in the state directory (`questions.yaml`): an answer is
//!   saved before it is shown or delivered, and marked delivered once a subscription took it, so
//!   a restart delivers what the last run settled but did not hand over. Its message id is
//!   `answer:<question id>`, the same on every delivery: if the process dies in the instant
//!   between the hand-over and the record, the answer comes again after the restart with that
//!   id, never a second answer.
//! - **Typed answers** follow [`typed::match_typed`]'s rules: the choice's number, label or id
//!   in the question's thread or as a reply to it, or `<choice> <question id>` from anywhere.

mod answering;
mod asking;
mod book;
pub mod render;
pub mod settling;
pub mod typed;

pub use answering::{Answered, Questions, told};
pub use asking::{Waited, ask_and_wait};
pub use book::{Answerer, Asked, Decision, EXPIRY_SENDER, Pick, QuestionBook, QuestionState};
pub use settling::{QuestionSurface, conclude};
