//! How questions, outcomes and refusals read: the same words on every platform.

use jiff::Timestamp;

use crate::question::{Outcome, Question};

use super::book::{Asked, QuestionState};

/// What someone off the allow-list is told when they answer.
pub const NOT_ALLOWED: &str =
    "You are not on this connector's allow-list, so your answer was not taken.";

/// The keycap emoji shown for choice `index` (0-based) where answers are reactions:
/// 1️⃣ … 9️⃣, 🔟.
pub const KEYCAPS: [&str; 10] = [
    "1\u{fe0f}\u{20e3}",
    "2\u{fe0f}\u{20e3}",
    "3\u{fe0f}\u{20e3}",
    "4\u{fe0f}\u{20e3}",
    "5\u{fe0f}\u{20e3}",
    "6\u{fe0f}\u{20e3}",
    "7\u{fe0f}\u{20e3}",
    "8\u{fe0f}\u{20e3}",
    "9\u{fe0f}\u{20e3}",
    "\u{1f51f}",
];

/// The choices as a numbered list, one a line (`1. Merge`), with a keycap instead of the
/// number when `keycaps`.
pub fn choice_list(question: &Question, keycaps: bool) -> String {
    question
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if keycaps {
                format!("{} {}", KEYCAPS[i], c.label.trim())
            } else {
                format!("{}. {}", i + 1, c.label.trim())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How to answer by typing, for the line under the choices: `how` is the platform's own way
/// first ("Click a button", "React"), or `None` where typing is the only way.
pub fn typing_hint(question: &Question, how: Option<&str>) -> String {
    let n = question.choices.len();
    let typed = format!(
        "type its number (1–{n}) or its label, or `<choice> {}` from anywhere",
        question.id
    );
    let mut hint = match how {
        Some(how) => format!("{how}, or {typed}"),
        None => capitalise(&typed),
    };
    if question.free_text {
        hint.push_str("; a reply that names no choice is taken as your answer");
    }
    hint.push('.');
    hint
}

/// The outcome as one line, for the question's message once it is settled:
/// `✅ Merge — alice, 14:02 UTC` or `⌛ Expired — no answer by 14:02 UTC`.
pub fn outcome_line(asked: &Asked) -> Option<String> {
    let QuestionState::Settled {
        outcome, by, at, ..
    } = &asked.state
    else {
        return None;
    };
    let who = by.as_ref().map_or("?", |b| b.shown());
    Some(match outcome {
        Outcome::Chosen { label, .. } => format!("✅ {label} — {who}, {}", clock(*at)),
        Outcome::Typed { text } => {
            format!("✅ “{}” — {who}, {}", one_line(text, 80), clock(*at))
        }
        Outcome::Expired => format!("⌛ Expired — no answer by {}", clock(*at)),
    })
}

/// What someone who answers a settled question is told.
pub fn already_settled(asked: &Asked) -> String {
    match &asked.state {
        QuestionState::Settled {
            outcome: Outcome::Expired,
            at,
            ..
        } => format!(
            "This question expired at {} without an answer; yours was not taken.",
            clock(*at)
        ),
        QuestionState::Settled { by, at, .. } => format!(
            "This question was already answered by {} at {}: {}. Your answer was not taken.",
            by.as_ref().map_or("?", |b| b.shown()),
            clock(*at),
            answered(asked)
        ),
        QuestionState::Open => "This question is still open.".to_owned(),
    }
}

/// The answer given, as a short phrase (`Merge`, `“ship it”`, `expired`).
fn answered(asked: &Asked) -> String {
    match &asked.state {
        QuestionState::Settled {
            outcome: Outcome::Chosen { label, .. },
            ..
        } => label.clone(),
        QuestionState::Settled {
            outcome: Outcome::Typed { text },
            ..
        } => format!("“{}”", one_line(text, 80)),
        _ => "expired".to_owned(),
    }
}

/// `14:02 UTC`: short, and the same for every reader.
fn clock(at: Timestamp) -> String {
    at.strftime("%H:%M UTC").to_string()
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The question as posted: its text, the numbered choices (keycaps where answers are
/// reactions) and how to answer ([`typing_hint`]).
pub fn question_text(question: &Question, how: Option<&str>, keycaps: bool) -> String {
    format!(
        "{}\n\n{}\n\n{}",
        question.text.trim_end(),
        choice_list(question, keycaps),
        typing_hint(question, how)
    )
}

/// The question once settled: its text and the outcome, the choices gone.
pub fn settled_text(asked: &Asked) -> String {
    format!(
        "{}\n\n{}",
        asked.question.text.trim_end(),
        outcome_line(asked).unwrap_or_default()
    )
}
