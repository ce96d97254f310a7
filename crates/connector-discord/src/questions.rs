//! Questions as Discord messages with buttons: the components, the `custom_id` naming question
//! and choice, and how a settled question is shown (buttons gone, outcome in the text).

use async_trait::async_trait;
use connector_core::question::{ChoiceStyle, Question, QuestionId};
use connector_core::questions::{Asked, QuestionSurface, render};
use connector_core::retry::RetryPolicy;
use connector_core::{Result, ThreadId};
use serde_json::{Value, json};
use serenity_reqwest::Method;

use crate::outbound::no_mentions;
use crate::rest::Rest;

/// How the question's text says to answer with a button.
pub(crate) const HOW: &str = "Click a button";

/// Buttons per action row (Discord allows 5).
const ROW: usize = 5;

/// Prefix of the `custom_id` of a question's buttons: `q:<question id>:<choice id>` (at most
/// 2 + 32 + 1 + 32 characters, within Discord's 100).
const CUSTOM_ID_PREFIX: &str = "q:";

/// A button style for a choice style (components reference, "Button Styles"): Primary 1,
/// Secondary 2 (the plain button), Danger 4.
fn button_style(style: ChoiceStyle) -> u8 {
    match style {
        ChoiceStyle::Primary => 1,
        ChoiceStyle::Danger => 4,
        _ => 2,
    }
}

/// The action rows of buttons for `question`, one button per choice.
pub(crate) fn components(question: &Question) -> Value {
    let rows: Vec<Value> = question
        .choices
        .chunks(ROW)
        .map(|choices| {
            let buttons: Vec<Value> = choices
                .iter()
                .map(|choice| {
                    json!({
                        "type": 2,
                        "style": button_style(choice.style),
                        "label": choice.label.trim(),
                        "custom_id": custom_id(&question.id, &choice.id),
                    })
                })
                .collect();
            json!({ "type": 1, "components": buttons })
        })
        .collect();
    Value::Array(rows)
}

/// The body that posts `question`: its text (readable without buttons) and its buttons.
pub(crate) fn message_body(question: &Question, nonce: &str) -> Value {
    json!({
        "content": render::question_text(question, Some(HOW), false),
        "components": components(question),
        "nonce": nonce,
        "enforce_nonce": true,
        "allowed_mentions": no_mentions(),
    })
}

/// The body that shows a settled question: the outcome in the text, no buttons.
pub(crate) fn settled_body(asked: &Asked) -> Value {
    json!({
        "content": render::settled_text(asked),
        "components": [],
        "allowed_mentions": no_mentions(),
    })
}

fn custom_id(question: &QuestionId, choice: &str) -> String {
    format!("{CUSTOM_ID_PREFIX}{question}:{choice}")
}

/// The question and choice a button's `custom_id` names, if it is one of ours.
pub(crate) fn parse_custom_id(custom_id: &str) -> Option<(QuestionId, String)> {
    let (question, choice) = custom_id.strip_prefix(CUSTOM_ID_PREFIX)?.split_once(':')?;
    Some((QuestionId::new(question).ok()?, choice.to_owned()))
}

/// Shows settled questions by editing their message (Edit Message: new content, no buttons).
pub(crate) struct DiscordSurface {
    pub(crate) rest: Rest,
    pub(crate) retry: RetryPolicy,
    /// The channel, where questions asked outside a thread are.
    pub(crate) channel: u64,
}

#[async_trait]
impl QuestionSurface for DiscordSurface {
    async fn show_outcome(&self, asked: &Asked) -> Result<()> {
        let conversation = asked
            .thread_id
            .as_ref()
            .and_then(|t: &ThreadId| t.as_str().parse().ok())
            .unwrap_or(self.channel);
        for message in &asked.message_ids {
            let path = format!("/channels/{conversation}/messages/{message}");
            self.rest
                .call_retried(
                    &self.retry,
                    Method::PATCH,
                    &path,
                    Some(&settled_body(asked)),
                    "show a question's outcome",
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use connector_core::question::Choice;

    use super::*;

    #[test]
    fn custom_ids_round_trip_and_strangers_are_not_ours() {
        let question = Question::new(
            "Deploy?",
            vec![Choice::new("deploy", "Deploy"), Choice::new("wait", "Wait")],
        )
        .unwrap()
        .with_id(QuestionId::new("qdeploy").unwrap());
        let id = custom_id(&question.id, "wait");
        assert_eq!(id, "q:qdeploy:wait");
        assert_eq!(
            parse_custom_id(&id),
            Some((question.id.clone(), "wait".to_owned()))
        );
        assert_eq!(parse_custom_id("other:1"), None);
        assert_eq!(parse_custom_id("q:Bad Id:x"), None);
    }
}
