//! The question book: every question a connector asked, open or settled, kept in the state
//! directory, and the rules that decide on an answer.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify};

use crate::allowlist::SenderVerdict;
use crate::error::{Error, Result};
use crate::ids::{MessageId, SenderId, ThreadId};
use crate::inbox::{Closed, Inbox};
use crate::message::InboundMessage;
use crate::question::{Answer, Outcome, Question, QuestionId, QuestionReceipt};
use crate::state_file::{Durability, StateFile};

/// The sender an `expired` outcome is delivered from: nobody answered, the connector decided.
pub const EXPIRY_SENDER: &str = "connector";

/// Settled questions are remembered this long after their answer was delivered (a late click
/// is still told who answered), and at most [`KEEP_SETTLED`] of them.
const KEEP_FOR: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The most settled questions remembered.
const KEEP_SETTLED: usize = 500;

/// Who answered a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Answerer {
    /// Their id, as the connector names senders.
    pub id: SenderId,
    /// A name to show ("alice"), when the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Answerer {
    /// The sender `id`, shown by `name` when given.
    pub fn new(id: impl Into<SenderId>, name: Option<String>) -> Self {
        Self {
            id: id.into(),
            name,
        }
    }

    /// How to show them: their name, or their id.
    pub fn shown(&self) -> &str {
        self.name.as_deref().unwrap_or(self.id.as_str())
    }
}

/// Where a question stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum QuestionState {
    /// Waiting for an answer.
    Open,
    /// Answered or expired.
    Settled {
        /// How it ended.
        #[serde(flatten)]
        outcome: Outcome,
        /// Who answered (`None` when it expired).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Answerer>,
        /// When.
        at: Timestamp,
        /// Whether a subscription took the answer.
        delivered: bool,
    },
}

/// A question as the book keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Asked {
    /// The question.
    pub question: Question,
    /// The messages showing it.
    pub message_ids: Vec<MessageId>,
    /// The thread it was asked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// When it was asked.
    pub asked_at: Timestamp,
    /// Where it stands.
    #[serde(flatten)]
    pub state: QuestionState,
}

impl Asked {
    /// Whether it still waits for an answer.
    pub fn is_open(&self) -> bool {
        self.state == QuestionState::Open
    }

    /// The answer message for a settled question (`None` while open): sent by whoever
    /// answered (or [`EXPIRY_SENDER`]), its id `answer:<question id>`, its text the chosen
    /// label, the typed text or `expired`.
    pub fn answer_message(&self) -> Option<InboundMessage> {
        let QuestionState::Settled {
            outcome, by, at, ..
        } = &self.state
        else {
            return None;
        };
        let text = match outcome {
            Outcome::Chosen { label, .. } => label.clone(),
            Outcome::Typed { text } => text.clone(),
            Outcome::Expired => "expired".to_owned(),
        };
        let sender = by
            .as_ref()
            .map_or_else(|| SenderId::new(EXPIRY_SENDER), |by| by.id.clone());
        let mut message =
            InboundMessage::new(format!("answer:{}", self.question.id), sender, text, *at);
        message.thread_id.clone_from(&self.thread_id);
        message.answer = Some(Answer::new(self.question.id.clone(), outcome.clone()));
        Some(message)
    }
}

/// What the operator's click, reaction or typed line picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The choice with this id.
    Choice(String),
    /// Text that names no choice (taken only by questions that accept free text).
    Text(String),
}

/// The book's decision on one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The first valid answer: the question is settled (and saved). Show the outcome on the
    /// question, then hand the answer over with [`QuestionBook::deliver`].
    Accepted(Asked),
    /// The question was already answered or expired: tell the one who answered
    /// ([`render::already_settled`](super::render::already_settled)).
    AlreadySettled(Asked),
    /// The sender is not on the allow-list: counted in health, the question stays open; tell
    /// them ([`render::NOT_ALLOWED`](super::render::NOT_ALLOWED)).
    NotAllowed,
    /// The connector's own action (the reactions it offers): ignore it.
    Own,
    /// No such question (never asked here, or forgotten long ago).
    UnknownQuestion,
    /// The question has no such choice and takes no free text.
    UnknownChoice,
}

/// Every question a connector asked (see the [module docs](super)).
#[derive(Debug)]
pub struct QuestionBook {
    file: Option<StateFile>,
    entries: Mutex<BTreeMap<QuestionId, Asked>>,
    /// Signalled when a question is opened, so the expiry task looks at its deadline.
    opened: Notify,
}

impl QuestionBook {
    /// A book kept in `file` (read now), or in memory only with `None`.
    ///
    /// # Errors
    ///
    /// [`Error::StateFile`] when the file exists but cannot be read.
    pub fn load(file: Option<StateFile>) -> Result<Self> {
        let entries = match &file {
            Some(file) => file
                .read_with(|bytes| serde_norway::from_slice(bytes))?
                .unwrap_or_default(),
            None => BTreeMap::new(),
        };
        Ok(Self {
            file,
            entries: Mutex::new(entries),
            opened: Notify::new(),
        })
    }

    /// The book's file for a connector whose state lives in `state_dir`.
    pub fn file_in(state_dir: &std::path::Path) -> StateFile {
        StateFile::new(state_dir.join("questions.yaml"))
            .holding("the questions asked and how each was answered")
            .without_it(
                "answers to questions asked before are not recognised, and a question answered \
                 while the connector was away may never be delivered",
            )
    }

    /// Records a question the connector has just posted.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when a question with this id was asked before;
    /// [`Error::StateFile`] when the book cannot be saved.
    pub async fn open(&self, question: &Question, receipt: &QuestionReceipt) -> Result<()> {
        let mut entries = self.entries.lock().await;
        if entries.contains_key(&question.id) {
            return Err(Error::InvalidInput {
                field: "question_id",
                message: format!(
                    "a question with id {:?} was already asked",
                    question.id.as_str()
                ),
            });
        }
        entries.insert(
            question.id.clone(),
            Asked {
                question: question.clone(),
                message_ids: receipt.message_ids.clone(),
                thread_id: receipt.thread_id.clone(),
                asked_at: Timestamp::now(),
                state: QuestionState::Open,
            },
        );
        self.save(&entries).await?;
        drop(entries);
        self.opened.notify_one();
        Ok(())
    }

    /// Fails with [`Error::InvalidInput`] when `id` was asked before, so a backend can refuse
    /// before it posts anything.
    pub async fn check_new(&self, id: &QuestionId) -> Result<()> {
        if self.entries.lock().await.contains_key(id) {
            return Err(Error::InvalidInput {
                field: "question_id",
                message: format!("a question with id {:?} was already asked", id.as_str()),
            });
        }
        Ok(())
    }

    /// Decides on an answer to question `id` by `by`, picking `pick` (see [`Decision`]); the
    /// allow-list is the `inbox`'s, and a refusal is counted there.
    ///
    /// # Errors
    ///
    /// [`Error::StateFile`] when the settled question cannot be saved: the answer is then not
    /// taken and the question stays open.
    pub async fn answer(
        &self,
        inbox: &Inbox,
        id: &QuestionId,
        by: Answerer,
        pick: Pick,
    ) -> Result<Decision> {
        let mut entries = self.entries.lock().await;
        let Some(asked) = entries.get(id) else {
            return Ok(Decision::UnknownQuestion);
        };
        // The sender first: a stranger learns nothing about the question (not even who
        // answered it), and every refusal is counted.
        match inbox.check_sender(&by.id) {
            SenderVerdict::Own => return Ok(Decision::Own),
            SenderVerdict::NotAllowed => return Ok(Decision::NotAllowed),
            SenderVerdict::Allowed => {}
        }
        if !asked.is_open() {
            return Ok(Decision::AlreadySettled(asked.clone()));
        }
        let outcome = match &pick {
            Pick::Choice(choice) => match asked.question.choice(choice) {
                Some(choice) => Outcome::Chosen {
                    choice_id: choice.id.clone(),
                    label: choice.label.clone(),
                },
                None => return Ok(Decision::UnknownChoice),
            },
            Pick::Text(text) if asked.question.free_text && !text.trim().is_empty() => {
                Outcome::Typed { text: text.clone() }
            }
            Pick::Text(_) => return Ok(Decision::UnknownChoice),
        };
        let previous = asked.clone();
        let mut settled = previous.clone();
        settled.state = QuestionState::Settled {
            outcome,
            by: Some(by),
            at: Timestamp::now(),
            delivered: false,
        };
        entries.insert(id.clone(), settled.clone());
        if let Err(e) = self.save(&entries).await {
            entries.insert(id.clone(), previous);
            return Err(e);
        }
        Ok(Decision::Accepted(settled))
    }

    /// Hands the answer of settled question `asked` to the subscriptions (waiting for one),
    /// then records it as delivered. Answers [`Closed`] when the inbox closed first: the
    /// answer is then delivered after the next start ([`QuestionBook::undelivered`]).
    pub async fn deliver(&self, inbox: &Inbox, asked: &Asked) -> std::result::Result<(), Closed> {
        let Some(message) = asked.answer_message() else {
            return Ok(());
        };
        inbox.deliver_decided(message).await?;
        let mut entries = self.entries.lock().await;
        if let Some(QuestionState::Settled { delivered, .. }) =
            entries.get_mut(&asked.question.id).map(|a| &mut a.state)
        {
            *delivered = true;
        }
        if let Err(e) = self.save(&entries).await {
            tracing::warn!(question = %asked.question.id, error = %e,
                "the answer was delivered but the book could not record it: it may be delivered again after a restart");
        }
        Ok(())
    }

    /// Settled questions whose answer no subscription took yet (the connector stopped first):
    /// deliver each with [`QuestionBook::deliver`] after a start.
    pub async fn undelivered(&self) -> Vec<Asked> {
        self.entries
            .lock()
            .await
            .values()
            .filter(|a| {
                matches!(
                    a.state,
                    QuestionState::Settled {
                        delivered: false,
                        ..
                    }
                )
            })
            .cloned()
            .collect()
    }

    /// Settles every open question whose deadline is past as expired (saved), and answers
    /// them: show each as expired, then [`deliver`](QuestionBook::deliver) it.
    ///
    /// # Errors
    ///
    /// [`Error::StateFile`] when the book cannot be saved (the questions stay open).
    pub async fn expire_due(&self, now: Timestamp) -> Result<Vec<Asked>> {
        let mut entries = self.entries.lock().await;
        let due: Vec<QuestionId> = entries
            .values()
            .filter(|a| a.is_open() && a.question.deadline.is_some_and(|d| d <= now))
            .map(|a| a.question.id.clone())
            .collect();
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let before = entries.clone();
        let mut expired = Vec::new();
        for id in due {
            if let Some(asked) = entries.get_mut(&id) {
                asked.state = QuestionState::Settled {
                    outcome: Outcome::Expired,
                    by: None,
                    at: now,
                    delivered: false,
                };
                expired.push(asked.clone());
            }
        }
        if let Err(e) = self.save(&entries).await {
            *entries = before;
            return Err(e);
        }
        Ok(expired)
    }

    /// The earliest deadline of an open question.
    pub async fn next_deadline(&self) -> Option<Timestamp> {
        self.entries
            .lock()
            .await
            .values()
            .filter(|a| a.is_open())
            .filter_map(|a| a.question.deadline)
            .min()
    }

    /// Waits until a question is opened (the expiry task then looks at deadlines again).
    pub async fn opened(&self) {
        self.opened.notified().await;
    }

    /// The question `id`, as the book keeps it.
    pub async fn get(&self, id: &QuestionId) -> Option<Asked> {
        self.entries.lock().await.get(id).cloned()
    }

    /// The question shown by `message`.
    pub async fn by_message(&self, message: &MessageId) -> Option<Asked> {
        self.entries
            .lock()
            .await
            .values()
            .find(|a| a.message_ids.contains(message))
            .cloned()
    }

    /// Whether a typed message answers a question, and which: see
    /// [`typed`](super::typed::match_typed) for the rules.
    pub async fn typed(
        &self,
        thread: Option<&ThreadId>,
        replied_to: Option<&MessageId>,
        text: &str,
    ) -> Option<(QuestionId, Pick)> {
        let entries = self.entries.lock().await;
        super::typed::match_typed(entries.values(), thread, replied_to, text)
    }

    async fn save(&self, entries: &BTreeMap<QuestionId, Asked>) -> Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let kept = prune(entries);
        let bytes = serde_norway::to_string(&kept)
            .map_err(|e| file.corrupt(format!("cannot encode the question book: {e}")))?
            .into_bytes();
        file.on_blocking_pool(tokio::task::spawn_blocking, move |f| {
            f.write(&bytes, Durability::Synced)
        })
        .await
    }
}

/// The entries worth saving: open questions, undelivered answers, and the newest
/// [`KEEP_SETTLED`] delivered ones of the last [`KEEP_FOR`].
fn prune(entries: &BTreeMap<QuestionId, Asked>) -> BTreeMap<&QuestionId, &Asked> {
    let cutoff = Timestamp::now()
        .checked_sub(KEEP_FOR)
        .unwrap_or(Timestamp::MIN);
    let mut delivered: Vec<(&QuestionId, &Asked)> = entries
        .iter()
        .filter(|(_, a)| {
            matches!(a.state, QuestionState::Settled { delivered: true, at, .. } if at >= cutoff)
        })
        .collect();
    delivered.sort_by_key(|(_, a)| std::cmp::Reverse(a.asked_at));
    delivered.truncate(KEEP_SETTLED);
    entries
        .iter()
        .filter(|(_, a)| {
            !matches!(
                a.state,
                QuestionState::Settled {
                    delivered: true,
                    ..
                }
            )
        })
        .chain(delivered)
        .collect()
}
