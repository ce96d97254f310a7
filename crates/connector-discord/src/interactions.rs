//! Button clicks (INTERACTION_CREATE of a message component): each is answered within
//! Discord's 3 s by the interaction's own response — the question's message updated with the
//! outcome (type 7), or an ephemeral message to the one who clicked saying why their answer was
//! not taken (type 4, flag 64) — and the answer is then handed to the subscriptions.
//!
//! Clicks are handled in a task of their own, apart from the inbound pump, so a pump waiting
//! for a subscriber never makes a click miss its deadline.

use std::sync::Arc;

use connector_core::Inbox;
use connector_core::questions::{
    Answered, Answerer, Decision, Pick, QuestionSurface, Questions, render, told,
};
use serde_json::{Value, json};
use serenity::all::ComponentInteraction;
use serenity_reqwest::Method;
use tokio::sync::{mpsc, watch};

use crate::access::{Access, Verdict};
use crate::outbound::no_mentions;
use crate::questions::{DiscordSurface, parse_custom_id, settled_body};
use crate::rest::{Failure, Rest};

/// Discord's error for a second response to one interaction ("already acknowledged"): the
/// first one, whose answer was lost on the way, did land.
const ALREADY_ACKNOWLEDGED: i64 = 40060;

/// Interaction response types (receiving-and-responding, "Interaction Callback Type").
const CHANNEL_MESSAGE_WITH_SOURCE: u8 = 4;
const DEFERRED_UPDATE_MESSAGE: u8 = 6;
const UPDATE_MESSAGE: u8 = 7;

/// Message flag: only the one who clicked sees the message.
const EPHEMERAL: u64 = 1 << 6;

/// What handles clicks.
pub(crate) struct Clicks {
    pub(crate) rest: Rest,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) access: Arc<Access>,
    pub(crate) questions: Questions,
    pub(crate) surface: Arc<DiscordSurface>,
}

impl Clicks {
    /// Handles clicks until the connector closes or the gateway is gone.
    pub(crate) async fn run(
        self,
        mut clicks: mpsc::UnboundedReceiver<Box<ComponentInteraction>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let click = tokio::select! {
                biased;
                _ = shutdown.wait_for(|closing| *closing) => return,
                click = clicks.recv() => click,
            };
            match click {
                Some(click) => self.click(&click).await,
                None => return,
            }
        }
    }

    async fn click(&self, click: &ComponentInteraction) {
        let Some((question, choice)) = parse_custom_id(&click.data.custom_id) else {
            let text = "This button is not one of this connector's questions.";
            self.respond(click, &ephemeral(text)).await;
            return;
        };
        let user = click.user.id.get();
        let roles: Option<Vec<u64>> = click
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| r.get()).collect());
        if self.access.check(&self.inbox, user, roles.as_deref()) == Verdict::NotAllowed {
            // Refused (and counted) once, here; the book would ask the inbox again.
            self.respond(click, &ephemeral(render::NOT_ALLOWED)).await;
            return;
        }
        let name = click
            .member
            .as_ref()
            .and_then(|m| m.nick.clone())
            .or_else(|| click.user.global_name.clone())
            .unwrap_or_else(|| click.user.name.clone());
        let by = Answerer::new(user.to_string(), Some(name));
        let answered = self
            .questions
            .answer(&question, by, Pick::Choice(choice))
            .await;
        let told = told(&answered);
        match answered {
            Ok(Answered {
                decision: Decision::Accepted(asked),
                ..
            }) => {
                let update = json!({ "type": UPDATE_MESSAGE, "data": settled_body(&asked) });
                if !self.respond(click, &update).await {
                    // Too late for the response: show the outcome by editing the message.
                    if let Err(e) = self.surface.show_outcome(&asked).await {
                        tracing::warn!(error = %e, "cannot show a question's outcome");
                    }
                }
                self.questions.deliver_in_background(asked);
            }
            _ => {
                let response = match told {
                    Some(text) => ephemeral(&text),
                    // Nothing to say (the same answer again): acknowledge, change nothing.
                    None => json!({ "type": DEFERRED_UPDATE_MESSAGE }),
                };
                self.respond(click, &response).await;
            }
        }
    }

    /// Sends the interaction's response; answers whether Discord took it (or had taken it
    /// already). One retry on a lost answer, within the 3 s Discord allows.
    async fn respond(&self, click: &ComponentInteraction, body: &Value) -> bool {
        let path = format!("/interactions/{}/{}/callback", click.id, click.token);
        for attempt in 0..2 {
            match self
                .rest
                .call(Method::POST, &path, Some(crate::rest::Payload::Json(body)))
                .await
            {
                Ok(_) => return true,
                Err(Failure::Api(api)) if api.code == ALREADY_ACKNOWLEDGED => return true,
                Err(Failure::Api(api)) => {
                    let error = api.into_error("answer a button click");
                    tracing::warn!(%error, "Discord refused the interaction response");
                    return false;
                }
                Err(Failure::Transport(error)) => {
                    tracing::warn!(%error, attempt, "the interaction response got no answer");
                }
            }
        }
        false
    }
}

fn ephemeral(text: &str) -> Value {
    json!({
        "type": CHANNEL_MESSAGE_WITH_SOURCE,
        "data": { "content": text, "flags": EPHEMERAL, "allowed_mentions": no_mentions() },
    })
}
