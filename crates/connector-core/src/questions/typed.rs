//! Which typed messages answer a question: the fallback that works on every client, buttons or
//! not.

use crate::ids::{MessageId, ThreadId};
use crate::question::QuestionId;

use super::book::{Asked, Pick};

/// Whether `text`, typed in `thread` (replying to `replied_to`), answers one of `asked`:
///
/// 1. **Anywhere**, a choice followed by a question's id answers that question (`merge q4tz9`,
///    `yes abcde`): the form Claude Code's own channel plugins accept.
/// 2. **A reply to a question's message** answers that question: a choice by its number,
///    label or id, or — where the question accepts free text — whatever was typed.
/// 3. **Otherwise**, a message naming a choice of the newest open question asked in the same
///    thread (or the main conversation) answers it; in a thread, free text answers a question
///    that accepts it. Anything else is an ordinary message.
///
/// Rules 1 and 2 also match settled questions, so a late answer is told who answered first.
pub fn match_typed<'a>(
    asked: impl Iterator<Item = &'a Asked> + Clone,
    thread: Option<&ThreadId>,
    replied_to: Option<&MessageId>,
    text: &str,
) -> Option<(QuestionId, Pick)> {
    let trimmed = text.trim();
    if let Some((choice, id)) = trimmed.rsplit_once(char::is_whitespace)
        && let Some(question) = asked
            .clone()
            .find(|a| a.question.id.as_str() == id.to_lowercase())
        && let Some(choice) = question.question.choice_by_typed(choice)
    {
        return Some((
            question.question.id.clone(),
            Pick::Choice(choice.id.clone()),
        ));
    }
    if let Some(replied_to) = replied_to
        && let Some(question) = asked.clone().find(|a| a.message_ids.contains(replied_to))
    {
        return pick(question, trimmed, true);
    }
    let newest = asked
        .filter(|a| a.is_open() && a.thread_id.as_ref() == thread)
        .max_by_key(|a| a.asked_at)?;
    pick(newest, trimmed, thread.is_some())
}

fn pick(asked: &Asked, text: &str, free_text_here: bool) -> Option<(QuestionId, Pick)> {
    let id = asked.question.id.clone();
    match asked.question.choice_by_typed(text) {
        Some(choice) => Some((id, Pick::Choice(choice.id.clone()))),
        None if free_text_here && asked.question.free_text && !text.is_empty() => {
            Some((id, Pick::Text(text.to_owned())))
        }
        None => None,
    }
}
