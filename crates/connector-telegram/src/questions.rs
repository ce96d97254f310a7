//! Questions as Telegram messages with an inline keyboard: one button per choice, whose
//! `callback_data` names the question and the choice's position (`q:<question id>:<index>`,
//! at most 37 bytes, within Telegram's 64), and how a settled question is shown (the text
//! edited to the outcome, the keyboard gone).

use async_trait::async_trait;
use connector_core::Result;
use connector_core::question::{Question, QuestionId};
use connector_core::questions::{Asked, QuestionSurface, render};
use connector_core::retry::RetryPolicy;
use serde_json::{Value, json};

use crate::api::Api;
use crate::markup::plain;
use crate::outbound::parse_message_id;

/// How the question's text says to answer with a button.
pub(crate) const HOW: &str = "Press a button";

/// Buttons per keyboard row.
const ROW: usize = 3;

/// Prefix of a button's `callback_data`.
const DATA_PREFIX: &str = "q:";

/// Telegram's answer to an edit that changes nothing.
const NOT_MODIFIED: &str = "message is not modified";

/// The inline keyboard of `question`, one button per choice.
pub(crate) fn keyboard(question: &Question) -> Value {
    let rows: Vec<Value> = question
        .choices
        .iter()
        .enumerate()
        .collect::<Vec<_>>()
        .chunks(ROW)
        .map(|row| {
            let buttons: Vec<Value> = row
                .iter()
                .map(|(index, choice)| {
                    json!({
                        "text": choice.label.trim(),
                        "callback_data": callback_data(&question.id, *index),
                    })
                })
                .collect();
            Value::Array(buttons)
        })
        .collect();
    json!({ "inline_keyboard": rows })
}

/// The question's text as posted (HTML parse mode): readable without buttons.
pub(crate) fn question_html(question: &Question) -> String {
    plain(&render::question_text(question, Some(HOW), false))
}

fn callback_data(question: &QuestionId, index: usize) -> String {
    format!("{DATA_PREFIX}{question}:{index}")
}

/// The question and choice position a button's `callback_data` names, if it is ours.
pub(crate) fn parse_callback_data(data: &str) -> Option<(QuestionId, usize)> {
    let (question, index) = data.strip_prefix(DATA_PREFIX)?.split_once(':')?;
    Some((QuestionId::new(question).ok()?, index.parse().ok()?))
}

/// Shows settled questions by editing their message: the outcome in the text, no keyboard.
pub(crate) struct TelegramSurface {
    pub(crate) api: Api,
    pub(crate) retry: RetryPolicy,
    pub(crate) chat_id: i64,
}

#[async_trait]
impl QuestionSurface for TelegramSurface {
    async fn show_outcome(&self, asked: &Asked) -> Result<()> {
        for message in &asked.message_ids {
            // An edit without reply_markup removes the keyboard.
            let params = json!({
                "chat_id": self.chat_id,
                "message_id": parse_message_id(message)?,
                "text": plain(&render::settled_text(asked)),
                "parse_mode": "HTML",
            });
            match self
                .api
                .call_retried(
                    &self.retry,
                    "editMessageText",
                    &params,
                    "show a question's outcome",
                )
                .await
            {
                Ok(_) => {}
                Err(connector_core::Error::Rejected { reason, .. })
                    if reason.contains(NOT_MODIFIED) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use connector_core::question::Choice;

    use super::*;

    #[test]
    fn callback_data_round_trips_and_fits_telegram() {
        let question = Question::new(
            "Deploy?",
            vec![Choice::new("deploy", "Deploy"), Choice::new("wait", "Wait")],
        )
        .unwrap()
        .with_id(QuestionId::new("qdeploy").unwrap());
        let keyboard = keyboard(&question);
        let data = keyboard["inline_keyboard"][0][1]["callback_data"]
            .as_str()
            .unwrap();
        assert_eq!(data, "q:qdeploy:1");
        assert_eq!(parse_callback_data(data), Some((question.id.clone(), 1)));
        assert!(callback_data(&QuestionId::new("a".repeat(32)).unwrap(), 99).len() <= 64);
        assert_eq!(parse_callback_data("other:1"), None);
        assert_eq!(parse_callback_data("q:Bad Id:1"), None);
    }
}
