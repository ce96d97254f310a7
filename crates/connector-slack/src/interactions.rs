//! Button clicks: `block_actions` payloads from `interactive` envelopes, handled apart from the
//! inbound pump so that a click is acked within Slack's 3 s even while the pump waits for a
//! subscriber. The answer goes through core's question book; the envelope is acked once the
//! book took it (or refused it); then the question's message is updated with the outcome
//! (`chat.update`), or the one who clicked is told alone why their answer was not taken
//! (`chat.postEphemeral`).

use std::sync::Arc;

use connector_core::allowlist::SenderVerdict;
use connector_core::questions::{
    Answered, Answerer, Decision, Pick, QuestionSurface, Questions, render, told,
};
use connector_core::retry::RetryPolicy;
use connector_core::{Inbox, SenderId};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::questions::{SlackSurface, parse_action_id, tell};
use crate::socket_mode::{Acker, Envelope};
use crate::web_api::{WebApi, str_of};

/// What handles clicks.
pub(crate) struct Clicks {
    pub(crate) api: WebApi,
    pub(crate) retry: RetryPolicy,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) acker: Acker,
    pub(crate) questions: Questions,
    pub(crate) surface: Arc<SlackSurface>,
    pub(crate) channel: String,
}

impl Clicks {
    /// Handles clicks until the connector closes.
    pub(crate) async fn run(
        self,
        mut clicks: mpsc::UnboundedReceiver<Envelope>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let envelope = tokio::select! {
                biased;
                _ = shutdown.wait_for(|c| *c) => return,
                envelope = clicks.recv() => envelope,
            };
            match envelope {
                Some(envelope) => self.envelope(&envelope).await,
                None => return,
            }
        }
    }

    async fn envelope(&self, envelope: &Envelope) {
        let payload = &envelope.payload;
        if str_of(payload, "type") != Some("block_actions") {
            self.acker.ack(&envelope.id);
            return;
        }
        let user = payload.get("user").cloned().unwrap_or_default();
        let user_id = str_of(&user, "id").unwrap_or_default().to_owned();
        let name = str_of(&user, "name")
            .or_else(|| str_of(&user, "username"))
            .map(str::to_owned);
        let container = payload.get("container").cloned().unwrap_or_default();
        let thread = str_of(&container, "thread_ts").map(str::to_owned);
        let action = payload
            .get("actions")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or_default();
        let Some((question, choice)) = str_of(&action, "action_id").and_then(parse_action_id)
        else {
            self.acker.ack(&envelope.id);
            return;
        };
        if self.inbox.check_sender(&SenderId::new(user_id.clone())) != SenderVerdict::Allowed {
            // Refused (and counted) once, here.
            self.acker.ack(&envelope.id);
            self.tell(&user_id, thread.as_deref(), render::NOT_ALLOWED)
                .await;
            return;
        }
        let by = Answerer::new(user_id.clone(), name);
        let answered = self
            .questions
            .answer(&question, by, Pick::Choice(choice))
            .await;
        // The book has decided (and saved): a redelivery of this click is a repeat answer.
        self.acker.ack(&envelope.id);
        let reply = told(&answered);
        match answered {
            Ok(Answered {
                decision: Decision::Accepted(asked),
                ..
            }) => {
                if let Err(error) = self.surface.show_outcome(&asked).await {
                    tracing::warn!(%error, "cannot show a question's outcome");
                }
                self.questions.deliver_in_background(asked);
            }
            _ => {
                if let Some(text) = reply {
                    self.tell(&user_id, thread.as_deref(), &text).await;
                }
            }
        }
    }

    async fn tell(&self, user: &str, thread: Option<&str>, text: &str) {
        tell(&self.api, &self.retry, &self.channel, user, thread, text).await;
    }
}
