//! Pairing on Discord: a sender the allow-list refuses is answered, as a reply to their
//! message, with what core's [`Pairing`](connector_core::pairing::Pairing) hands out — their
//! code and the command to run at the machine — or nothing (rate-limited, too many pending).
//!
//! Other bots get no code (a bot is never the operator), and with `require_mention` only a
//! message that mentions the bot is answered, so a busy shared channel is not flooded. The
//! reply pings nobody (`allowed_mentions: {parse: []}`), like every post of the connector.

use connector_core::pairing::answer_for_stranger;
use connector_core::retry::RetryPolicy;
use connector_core::{Inbox, SenderId};
use serenity::all::Message;

use crate::outbound::reply_to;
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
    let sender = SenderId::new(message.author.id.to_string());
    if let Some(text) = answer_for_stranger(inbox, &sender).await {
        reply_to(rest, retry, message, &text, "send a pairing code").await;
    }
}
