//! Questions as Block Kit messages: a `section` with the question's text (readable without
//! buttons, the choices listed) and an `actions` block with one button per choice, whose
//! `action_id` names question and choice; a settled question is shown by `chat.update` with the
//! outcome in the text and no buttons; refusals are told to the one who answered alone
//! (`chat.postEphemeral`).

use async_trait::async_trait;
use connector_core::question::{ChoiceStyle, Question, QuestionId};
use connector_core::questions::{Asked, QuestionSurface, render};
use connector_core::retry::RetryPolicy;
use connector_core::{MessageId, Result};
use serde_json::{Value, json};

use crate::markup::escape;
use crate::web_api::WebApi;

/// How the question's text says to answer with a button.
pub(crate) const HOW: &str = "Click a button";

/// Prefix of a button's `action_id`: `q:<question id>:<choice id>`.
const ACTION_PREFIX: &str = "q:";

/// A button's `action_id`.
fn action_id(question: &QuestionId, choice: &str) -> String {
    format!("{ACTION_PREFIX}{question}:{choice}")
}

/// The question and choice an `action_id` names, if it is one of ours.
pub(crate) fn parse_action_id(action_id: &str) -> Option<(QuestionId, String)> {
    let (question, choice) = action_id.strip_prefix(ACTION_PREFIX)?.split_once(':')?;
    Some((QuestionId::new(question).ok()?, choice.to_owned()))
}

/// A `section` block of `mrkdwn` text.
fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// The text (escaped) and blocks that ask `question`.
pub(crate) fn question_message(question: &Question) -> (String, Value) {
    let text = escape(&render::question_text(question, Some(HOW), false));
    let buttons: Vec<Value> = question
        .choices
        .iter()
        .map(|choice| {
            let mut button = json!({
                "type": "button",
                "text": {"type": "plain_text", "text": choice.label.trim(), "emoji": true},
                "action_id": action_id(&question.id, &choice.id),
                "value": choice.id,
            });
            match choice.style {
                ChoiceStyle::Primary => button["style"] = json!("primary"),
                ChoiceStyle::Danger => button["style"] = json!("danger"),
                _ => {}
            }
            button
        })
        .collect();
    let blocks = json!([
        section(&text),
        {"type": "actions", "block_id": format!("q:{}", question.id), "elements": buttons},
    ]);
    (text, blocks)
}

/// The text and blocks of a settled question: the outcome, no buttons.
pub(crate) fn settled_message(asked: &Asked) -> (String, Value) {
    let text = escape(&render::settled_text(asked));
    let blocks = json!([section(&text)]);
    (text, blocks)
}

/// Shows settled questions by `chat.update`.
pub(crate) struct SlackSurface {
    pub(crate) api: WebApi,
    pub(crate) retry: RetryPolicy,
    pub(crate) channel: String,
}

impl SlackSurface {
    /// Updates one question message to show the outcome.
    pub(crate) async fn update(&self, message: &MessageId, asked: &Asked) -> Result<()> {
        let (text, blocks) = settled_message(asked);
        let form = vec![
            ("channel", self.channel.clone()),
            ("ts", message.as_str().to_owned()),
            ("text", text),
            ("blocks", blocks.to_string()),
        ];
        self.api
            .body(&self.retry, "chat.update", &form)
            .await
            .map(drop)
    }
}

#[async_trait]
impl QuestionSurface for SlackSurface {
    async fn show_outcome(&self, asked: &Asked) -> Result<()> {
        for message in &asked.message_ids {
            self.update(message, asked).await?;
        }
        Ok(())
    }
}

/// Tells `user` alone `text` (`chat.postEphemeral`, in the thread if given); failures are
/// logged.
pub(crate) async fn tell(
    api: &WebApi,
    retry: &RetryPolicy,
    channel: &str,
    user: &str,
    thread: Option<&str>,
    text: &str,
) {
    let mut form = vec![
        ("channel", channel.to_owned()),
        ("user", user.to_owned()),
        ("text", escape(text)),
    ];
    if let Some(thread) = thread {
        form.push(("thread_ts", thread.to_owned()));
    }
    if let Err(error) = api.body(retry, "chat.postEphemeral", &form).await {
        tracing::warn!(%error, "cannot tell an answerer why their answer was not taken");
    }
}

#[cfg(test)]
mod tests {
    use connector_core::question::Choice;

    use super::*;

    #[test]
    fn action_ids_round_trip_and_buttons_carry_them() {
        let question = Question::new(
            "Deploy <!channel>?",
            vec![Choice::new("deploy", "Deploy"), Choice::new("wait", "Wait")],
        )
        .unwrap()
        .with_id(QuestionId::new("qdeploy").unwrap());
        assert_eq!(
            parse_action_id(&action_id(&question.id, "wait")),
            Some((question.id.clone(), "wait".to_owned()))
        );
        assert_eq!(parse_action_id("other"), None);
        let (text, blocks) = question_message(&question);
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert_eq!(blocks[1]["elements"][1]["action_id"], "q:qdeploy:wait");
    }
}
