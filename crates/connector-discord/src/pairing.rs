//! Pairing on Discord: a sender the allow-list refuses is answered, as a reply to their
//! message, with what core's [`Pairing`](connector_core::pairing::Pairing) hands out — their
//! code and the command to run at the machine — or nothing (rate-limited, too many pending).
//!
//! Other bots get no code (a bot is never the operator), and with `require_mention` only a
//! message that mentions the bot is answered, so a busy shared channel is not flooded. The
//! reply pings nobody (`allowed_mentions: {parse: []}`), like every post of the connector.

use std::sync::Arc;

use connector_core::retry::RetryPolicy;
use connector_core::{Inbox, SenderId};
use serenity::all::Message;
use serenity_reqwest::Method;

use crate::rest::Rest;

/// Answers `message`, whose sender the inbox refused, with a pairing code if pairing is on
/// and core says one is due. Failures are logged: the message stays undelivered either way.
pub(crate) async fn answer_stranger(
    rest: &Rest,
    retry: &RetryPolicy,
    inbox: &Inbox,
    message: &Message,
) {
    if message.author.bot {
        return;
    }
    let Some(pairing) = inbox.pairing() else {
        return;
    };
    let sender = SenderId::new(message.author.id.to_string());
    let decided = tokio::task::spawn_blocking({
        let pairing = Arc::clone(&pairing);
        move || pairing.stranger_wrote(&sender)
    })
    .await;
    let text = match decided {
        Ok(Ok(Some(text))) => text,
        Ok(Ok(None)) => return,
        Ok(Err(error)) => {
            tracing::warn!(%error, "pairing: cannot issue a code");
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "pairing: the task issuing a code failed");
            return;
        }
    };
    let body = serde_json::json!({
        "content": text,
        "message_reference": { "message_id": message.id.to_string(), "fail_if_not_exists": false },
        "allowed_mentions": crate::outbound::no_mentions(),
    });
    let path = format!("/channels/{}/messages", message.channel_id.get());
    if let Err(refusal) = rest
        .call_retried(
            retry,
            Method::POST,
            &path,
            Some(&body),
            "send a pairing code",
        )
        .await
    {
        tracing::warn!(error = %refusal.error, "pairing: cannot send the code to the sender");
    }
}
