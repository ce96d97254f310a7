//! Claude Code's permission relay: a tool-use approval prompt becomes a question to the
//! operator, and their answer becomes exactly one verdict.
//!
//! The contract (Claude Code's channels reference, "Relay permission prompts":
//! <https://code.claude.com/docs/en/channels-reference#relay-permission-prompts>): a server that
//! declares `capabilities.experimental["claude/channel/permission"]` receives
//! `notifications/claude/channel/permission_request` with `request_id` (five lowercase letters,
//! a–z without `l`), `tool_name`, `description` and `input_preview` (the tool's arguments as
//! JSON, truncated to 200 characters), and answers with
//! `notifications/claude/channel/permission` carrying `{request_id, behavior: "allow" | "deny"}`.
//! The terminal's own dialog stays open; whichever answer comes first applies.
//!
//! Here the request is asked as a [`Question`] whose id is the request id, with the choices
//! Allow (id `yes`) and Deny (id `no`) — so the typed form Claude Code's own channel plugins
//! accept, `yes <id>` / `no <id>`, answers it on every connector, beside its buttons or
//! reactions. The question's rules give the relay its guarantees: only allowed senders can
//! answer, the first answer wins, and the relay sends at most one verdict per request id,
//! ever. A question that expires unanswered sends no verdict (the terminal's dialog decides).
//! The tool, description and preview are shown inside a code block whose text can hold no
//! backtick (each becomes `ˋ`), so they can never close the block and turn into markup.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use connector_core::question::{Choice, ChoiceStyle, Outcome, Question, QuestionId};
use connector_core::questions::{Waited, ask_and_wait};
use connector_core::{OrchestratorConnector, Timestamp};
use rmcp::RoleServer;
use rmcp::model::{CustomNotification, ServerNotification};
use rmcp::service::Peer;
use serde::Deserialize;
use serde_json::json;

/// The method of a permission prompt, from the client.
pub(crate) const REQUEST_METHOD: &str = "notifications/claude/channel/permission_request";

/// The method of a verdict, to the client.
pub(crate) const VERDICT_METHOD: &str = "notifications/claude/channel/permission";

/// The capability that opts in to the relay.
pub(crate) const CAPABILITY: &str = "claude/channel/permission";

/// How long the operator has to answer before the question shows as expired.
const ANSWER_WITHIN: Duration = Duration::from_secs(30 * 60);

/// The longest description and preview shown.
const MAX_SHOWN: usize = 300;

/// A permission prompt's params.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PermissionRequest {
    /// Five lowercase letters naming the prompt.
    pub(crate) request_id: String,
    /// The tool Claude wants to use (`Bash`, `Write`, …).
    pub(crate) tool_name: String,
    /// What the call does, in words.
    #[serde(default)]
    pub(crate) description: String,
    /// The tool's arguments as JSON, truncated.
    #[serde(default)]
    pub(crate) input_preview: String,
}

/// The relay: asks each prompt once and sends at most one verdict per request id.
#[derive(Clone)]
pub(crate) struct PermissionRelay {
    connector: Arc<dyn OrchestratorConnector>,
    /// Request ids ever asked (a repeated prompt is not asked twice).
    asked: Arc<Mutex<HashSet<String>>>,
}

impl PermissionRelay {
    pub(crate) fn new(connector: Arc<dyn OrchestratorConnector>) -> Self {
        Self {
            connector,
            asked: Arc::default(),
        }
    }

    /// Takes a prompt from the client: asks the operator in the background and, on their
    /// answer, sends the verdict to `peer`.
    pub(crate) fn request(&self, params: Option<serde_json::Value>, peer: Peer<RoleServer>) {
        let request: PermissionRequest = match params.map(serde_json::from_value).transpose() {
            Ok(Some(request)) => request,
            Ok(None) => return tracing::warn!("a permission request without params: ignored"),
            Err(e) => return tracing::warn!(error = %e, "a malformed permission request: ignored"),
        };
        let question = match question(&request) {
            Ok(question) => question,
            Err(e) => {
                return tracing::warn!(error = %e, "a permission request that cannot be asked: ignored");
            }
        };
        if !self
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(request.request_id.clone())
        {
            return tracing::info!(request = %request.request_id, "a repeated permission request: asked once already");
        }
        let connector = Arc::clone(&self.connector);
        tokio::spawn(async move {
            let id = request.request_id;
            // The question expires on the platform; this only bounds the wait if it cannot.
            let wait = ANSWER_WITHIN + Duration::from_secs(60);
            let behavior = match ask_and_wait(connector.as_ref(), question, Some(wait)).await {
                Ok((_, Waited::Settled(answer))) => match answer.answer.map(|a| a.outcome) {
                    Some(Outcome::Chosen { choice_id, .. }) if choice_id == "yes" => "allow",
                    Some(Outcome::Chosen { .. }) => "deny",
                    _ => {
                        return tracing::info!(request = %id, "the permission prompt expired unanswered: no verdict");
                    }
                },
                Ok((_, waited)) => return tracing::info!(request = %id, ?waited, "no verdict"),
                Err(e) => {
                    return tracing::warn!(request = %id, error = %e, "cannot ask the operator for a permission");
                }
            };
            tracing::info!(request = %id, behavior, "permission verdict from the operator");
            let verdict = ServerNotification::CustomNotification(CustomNotification::new(
                VERDICT_METHOD,
                Some(json!({ "request_id": id, "behavior": behavior })),
            ));
            if let Err(e) = peer.send_notification(verdict).await {
                tracing::warn!(request = %id, error = %e, "the verdict could not be sent");
            }
        });
    }
}

/// The question for a prompt: its id is the request id; Allow (`yes`) and Deny (`no`).
pub(crate) fn question(request: &PermissionRequest) -> connector_core::Result<Question> {
    let id = QuestionId::new(request.request_id.clone())?;
    let text = format!(
        "🔐 Claude Code asks to use a tool (request `{id}`):\n```text\ntool: {}\ndescription: {}\ninput: {}\n```",
        shown(&request.tool_name, 80),
        shown(&request.description, MAX_SHOWN),
        shown(&request.input_preview, MAX_SHOWN),
    );
    let deadline = Timestamp::now().checked_add(ANSWER_WITHIN).ok();
    let mut question = Question::new(
        text,
        vec![
            Choice::new("yes", "Allow").styled(ChoiceStyle::Primary),
            Choice::new("no", "Deny").styled(ChoiceStyle::Danger),
        ],
    )?
    .with_id(id);
    question.deadline = deadline;
    Ok(question)
}

/// `text` made safe inside a code block: one line, no backtick (each becomes `ˋ`), at most
/// `max` characters.
fn shown(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            '`' => 'ˋ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_cannot_break_out_of_its_code_block() {
        let request = PermissionRequest {
            request_id: "abcde".into(),
            tool_name: "Bash".into(),
            description: "Run ```\n**bold** @everyone".into(),
            input_preview: r#"{"command":"echo ```; rm -rf build/"}"#.into(),
        };
        let question = question(&request).unwrap();
        insta::assert_snapshot!(question.text, @r#"
🔐 Claude Code asks to use a tool (request `abcde`):
```text
tool: Bash
description: Run ˋˋˋ **bold** @everyone
input: {"command":"echo ˋˋˋ; rm -rf build/"}
```
"#);
        assert_eq!(question.id.as_str(), "abcde");
    }
}
