//! Questions with choices: what the orchestrator asks its operator, and the answer that comes
//! back on the subscription (see [`crate::questions`] for the rules every backend obeys).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{MessageId, ThreadId};
use jiff::Timestamp;

/// The most choices a question may offer: Matrix offers one keycap reaction per choice (1️⃣ to
/// 🔟), and a person picks well from ten at most.
pub const MAX_CHOICES: usize = 10;

/// The longest choice label, in characters (Discord's limit on a button label).
pub const MAX_LABEL_LEN: usize = 80;

/// The longest question text, in characters: with its list of choices it still fits in one
/// message on every platform (Discord's 2000 is the smallest limit).
pub const MAX_QUESTION_LEN: usize = 1000;

/// A question's id: 1 to 32 lowercase ASCII letters, digits, `-` or `_`. Chosen by the caller
/// (Claude Code's permission `request_id`) or at random; an operator can type it after a choice
/// (`merge q4tz9`) to answer from anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuestionId(String);

impl QuestionId {
    /// Checks `id`; the error names the field `question_id`.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let valid = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if valid {
            Ok(Self(id))
        } else {
            Err(Error::InvalidInput {
                field: "question_id",
                message: format!(
                    "{id:?} is not a question id: use 1 to 32 lowercase ASCII letters, digits, '-' or '_'"
                ),
            })
        }
    }

    /// A fresh random id: `q` and five letters or digits that cannot be misread (no `l`, `1`,
    /// `o`, `0`).
    pub fn random() -> Self {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = fastrand::Rng::new();
        let tail: String = (0..5)
            .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
            .collect();
        Self(format!("q{tail}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QuestionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for QuestionId {
    type Error = Error;
    fn try_from(id: String) -> Result<Self> {
        Self::new(id)
    }
}

impl From<QuestionId> for String {
    fn from(id: QuestionId) -> Self {
        id.0
    }
}

/// How a choice is shown where the platform styles buttons (Discord, Slack, Telegram).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChoiceStyle {
    /// The platform's plain button.
    #[default]
    Default,
    /// The suggested choice.
    Primary,
    /// A choice that destroys or cannot be undone ("delete", "deploy to prod").
    Danger,
}

/// One choice of a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Choice {
    /// Its id, as the answer names it: 1 to 32 ASCII letters, digits, `-` or `_`.
    pub id: String,
    /// What the operator sees: 1 to 80 characters, one line.
    pub label: String,
    /// How it is shown.
    #[serde(default, skip_serializing_if = "is_default_style")]
    pub style: ChoiceStyle,
}

fn is_default_style(style: &ChoiceStyle) -> bool {
    *style == ChoiceStyle::Default
}

impl Choice {
    /// A choice with `id` and `label` in the default style.
    pub fn new(id: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            style: ChoiceStyle::Default,
        }
    }

    /// A choice whose id is made from `label` (lowercase letters and digits, `-` between words:
    /// `Deploy to prod` → `deploy-to-prod`); `index` stands in when the label has neither.
    pub fn from_label(label: impl Into<String>, index: usize) -> Self {
        let label = label.into();
        let mut id = String::new();
        for word in label
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if !id.is_empty() {
                id.push('-');
            }
            id.push_str(&word.to_ascii_lowercase());
        }
        id.truncate(32);
        let id = id.trim_end_matches('-').to_owned();
        if id.is_empty() {
            return Self::new(format!("choice-{}", index + 1), label);
        }
        Self::new(id, label)
    }

    /// Choices made from `labels` as [`Choice::from_label`] makes them (each trimmed), in
    /// order: how the CLI and the MCP tool turn a list of labels into choices.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Vec<Self> {
        labels
            .iter()
            .enumerate()
            .map(|(index, label)| Self::from_label(label.as_ref().trim(), index))
            .collect()
    }

    /// This choice in `style`.
    #[must_use]
    pub fn styled(mut self, style: ChoiceStyle) -> Self {
        self.style = style;
        self
    }
}

/// A question for the operator, with 2 to [`MAX_CHOICES`] choices.
///
/// ```
/// use connector_core::question::{Choice, ChoiceStyle, Question};
/// let question = Question::new(
///     "PR #12 is green. Merge it?",
///     vec![Choice::new("merge", "Merge").styled(ChoiceStyle::Primary), Choice::new("close", "Close")],
/// )?;
/// assert_eq!(question.choice_by_typed("2").map(|c| c.id.as_str()), Some("close"));
/// assert_eq!(question.choice_by_typed(" MERGE ").map(|c| c.id.as_str()), Some("merge"));
/// # Ok::<(), connector_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Question {
    /// Its id (random unless the caller chose one).
    pub id: QuestionId,
    /// What is asked, Markdown where the platform renders it.
    pub text: String,
    /// The choices, in the order shown.
    pub choices: Vec<Choice>,
    /// The thread to ask in; `None` asks in the main conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// When the question expires unanswered; `None` waits for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// Whether a typed reply that names no choice is taken as the answer (free text).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub free_text: bool,
}

impl Question {
    /// A question with a random id, checked (see [`Question::check`]).
    pub fn new(text: impl Into<String>, choices: Vec<Choice>) -> Result<Self> {
        let question = Self {
            id: QuestionId::random(),
            text: text.into(),
            choices,
            thread_id: None,
            deadline: None,
            free_text: false,
        };
        question.check()?;
        Ok(question)
    }

    /// This question with the caller's `id`.
    #[must_use]
    pub fn with_id(mut self, id: QuestionId) -> Self {
        self.id = id;
        self
    }

    /// This question, asked in `thread`.
    #[must_use]
    pub fn in_thread(mut self, thread: impl Into<ThreadId>) -> Self {
        self.thread_id = Some(thread.into());
        self
    }

    /// This question, expiring at `deadline`.
    #[must_use]
    pub fn expiring_at(mut self, deadline: Timestamp) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// This question, also taking a typed reply that names no choice as its answer.
    #[must_use]
    pub fn accepting_free_text(mut self) -> Self {
        self.free_text = true;
        self
    }

    /// Checks the question; the error names the offending field and value.
    ///
    /// Text: not blank, at most [`MAX_QUESTION_LEN`] characters. Choices: 2 to
    /// [`MAX_CHOICES`]; ids 1 to 32 ASCII letters, digits, `-` or `_`, distinct; labels 1 to
    /// [`MAX_LABEL_LEN`] characters on one line, distinct ignoring case, not all digits (a
    /// typed number picks a choice by its position).
    pub fn check(&self) -> Result<()> {
        let invalid = |field, message: String| Err(Error::InvalidInput { field, message });
        if self.text.trim().is_empty() {
            return invalid("question", "a question needs text".into());
        }
        let len = self.text.chars().count();
        if len > MAX_QUESTION_LEN {
            return invalid(
                "question",
                format!(
                    "{len} characters is longer than the {MAX_QUESTION_LEN} a question may have"
                ),
            );
        }
        if !(2..=MAX_CHOICES).contains(&self.choices.len()) {
            return invalid(
                "choices",
                format!(
                    "a question offers 2 to {MAX_CHOICES} choices, not {}",
                    self.choices.len()
                ),
            );
        }
        for (index, choice) in self.choices.iter().enumerate() {
            let id_ok = (1..=32).contains(&choice.id.len())
                && choice
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
            if !id_ok {
                return invalid(
                    "choices",
                    format!(
                        "choice {} has id {:?}: use 1 to 32 ASCII letters, digits, '-' or '_'",
                        index + 1,
                        choice.id
                    ),
                );
            }
            let label = choice.label.trim();
            let label_len = label.chars().count();
            if label.is_empty() || label_len > MAX_LABEL_LEN || label.contains(['\n', '\r']) {
                return invalid(
                    "choices",
                    format!(
                        "choice {:?} needs a label of 1 to {MAX_LABEL_LEN} characters on one line",
                        choice.id
                    ),
                );
            }
            if label.bytes().all(|b| b.is_ascii_digit()) {
                return invalid(
                    "choices",
                    format!(
                        "choice label {label:?} is a number, which would be read as a choice's position"
                    ),
                );
            }
            for other in &self.choices[..index] {
                if other.label.trim().to_lowercase() == label.to_lowercase() {
                    return invalid("choices", format!("two choices are labelled {label:?}"));
                }
                if other.id == choice.id {
                    return invalid(
                        "choices",
                        format!("two choices have the id {:?}", choice.id),
                    );
                }
            }
        }
        if let Some(thread) = &self.thread_id
            && thread.as_str().trim().is_empty()
        {
            return invalid("thread_id", "must not be empty".into());
        }
        Ok(())
    }

    /// The choice `typed` names: its position (`1`…), its label or its id, ignoring case and
    /// surrounding blanks (and a trailing `.` or `!`).
    pub fn choice_by_typed(&self, typed: &str) -> Option<&Choice> {
        let typed = typed.trim().trim_end_matches(['.', '!']).trim();
        if let Ok(number) = typed.parse::<usize>() {
            return number.checked_sub(1).and_then(|i| self.choices.get(i));
        }
        let typed = typed.to_lowercase();
        self.choices
            .iter()
            .find(|c| c.label.trim().to_lowercase() == typed)
            .or_else(|| self.choices.iter().find(|c| c.id.to_lowercase() == typed))
    }

    /// The choice with id `id`.
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.id == id)
    }
}

/// What [`ask`](crate::OrchestratorConnector::ask) answers once the question is posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QuestionReceipt {
    /// The question's id, as its answer will name it.
    pub question_id: QuestionId,
    /// The message showing the question.
    pub message_ids: Vec<MessageId>,
    /// The thread it was asked in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
}

impl QuestionReceipt {
    /// A receipt for `question_id` shown in `message_ids`.
    pub fn new(
        question_id: QuestionId,
        message_ids: Vec<MessageId>,
        thread_id: Option<ThreadId>,
    ) -> Self {
        Self {
            question_id,
            message_ids,
            thread_id,
        }
    }
}

/// How a question ended, as its answer message carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The operator picked a choice.
    Chosen {
        /// The choice's id.
        choice_id: String,
        /// Its label.
        label: String,
    },
    /// The operator typed an answer that names no choice (the question accepted free text).
    Typed {
        /// What they typed.
        text: String,
    },
    /// Nobody answered before the deadline.
    Expired,
}

/// The answer to a question, carried by the [`InboundMessage`](crate::InboundMessage) that
/// delivers it (who answered is its `sender`, when is its `ts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Answer {
    /// The question answered.
    pub question_id: QuestionId,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Answer {
    /// The answer `outcome` to `question_id`.
    pub fn new(question_id: QuestionId, outcome: Outcome) -> Self {
        Self {
            question_id,
            outcome,
        }
    }

    /// The chosen choice's id, when a choice was picked.
    pub fn choice_id(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Chosen { choice_id, .. } => Some(choice_id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Vec<Choice> {
        vec![Choice::new("merge", "Merge"), Choice::new("close", "Close")]
    }

    #[test]
    fn checks_name_the_field_and_value() {
        let problems = [
            Question::new(" ", two()).unwrap_err(),
            Question::new("x".repeat(1001), two()).unwrap_err(),
            Question::new("?", vec![Choice::new("a", "A")]).unwrap_err(),
            Question::new("?", vec![Choice::new("a b", "A"), Choice::new("b", "B")]).unwrap_err(),
            Question::new("?", vec![Choice::new("a", "A"), Choice::new("b", "a")]).unwrap_err(),
            Question::new("?", vec![Choice::new("a", "A"), Choice::new("a", "B")]).unwrap_err(),
            Question::new("?", vec![Choice::new("a", "42"), Choice::new("b", "B")]).unwrap_err(),
            Question::new("?", vec![Choice::new("a", "x\ny"), Choice::new("b", "B")]).unwrap_err(),
            QuestionId::new("Has Caps").unwrap_err(),
        ];
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"), @r###"
        invalid question: a question needs text
        invalid question: 1001 characters is longer than the 1000 a question may have
        invalid choices: a question offers 2 to 10 choices, not 1
        invalid choices: choice 1 has id "a b": use 1 to 32 ASCII letters, digits, '-' or '_'
        invalid choices: two choices are labelled "a"
        invalid choices: two choices have the id "a"
        invalid choices: choice label "42" is a number, which would be read as a choice's position
        invalid choices: choice "a" needs a label of 1 to 80 characters on one line
        invalid question_id: "Has Caps" is not a question id: use 1 to 32 lowercase ASCII letters, digits, '-' or '_'
        "###);
    }

    #[test]
    fn typed_answers_name_a_choice_by_position_label_or_id() {
        let q = Question::new("?", two()).unwrap();
        assert_eq!(q.choice_by_typed("1").unwrap().id, "merge");
        assert_eq!(q.choice_by_typed("close.").unwrap().id, "close");
        assert!(q.choice_by_typed("3").is_none());
        assert!(q.choice_by_typed("0").is_none());
        assert!(q.choice_by_typed("merge it").is_none());
    }

    #[test]
    fn ids_from_labels() {
        assert_eq!(
            Choice::from_label("Deploy to prod!", 0).id,
            "deploy-to-prod"
        );
        assert_eq!(Choice::from_label("✅", 1).id, "choice-2");
        let random = QuestionId::random();
        assert_eq!(QuestionId::new(random.as_str()).unwrap(), random);
    }

    #[test]
    fn answers_serialize_flat() {
        let answer = Answer::new(
            QuestionId::new("q1").unwrap(),
            Outcome::Chosen {
                choice_id: "merge".into(),
                label: "Merge".into(),
            },
        );
        insta::assert_json_snapshot!(answer, @r###"
        {
          "question_id": "q1",
          "outcome": "chosen",
          "choice_id": "merge",
          "label": "Merge"
        }
        "###);
        let back: Answer = serde_json::from_value(serde_json::to_value(&answer).unwrap()).unwrap();
        assert_eq!(back, answer);
    }
}
