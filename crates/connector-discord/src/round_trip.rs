//! The round-trip probe on Discord: a probe message posted to the channel must come back as a
//! MESSAGE_CREATE on the gateway, the path the operator's messages take (see
//! [`connector_core::round_trip`]).
//!
//! Out of the operator's way: the probe is posted with SUPPRESS_NOTIFICATIONS (no push or
//! desktop notification), mentions nobody (`allowed_mentions: {parse: []}`), and is deleted as
//! soon as it came back (or the wait ended), so at most a "message deleted" flicker shows in an
//! open client.

use std::time::Duration;

use connector_core::retry::RetryPolicy;
use connector_core::round_trip::{self, RoundTrip};
use connector_core::{Inbox, MessageId};
use serde_json::json;
use serenity_reqwest::Method;

use crate::outbound::{id_of, no_mentions};
use crate::rest::Rest;

/// Message flag SUPPRESS_NOTIFICATIONS (docs, message resource, "Message Flags"): "this message
/// will not trigger push and desktop notifications".
const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;

/// What to check when the probe does not come back, in the order users hit them.
const FIX: &str = "the bot can post but receives nothing on the gateway: check that \
     the connector is the only one using this token (a second session may take the events), \
     that the bot can View Channel and Read Message History in the channel, and that nothing \
     between this machine and gateway.discord.gg drops the WebSocket";

/// Posts a probe to `channel`, waits for it on the gateway, then deletes it.
pub(crate) async fn run(
    rest: &Rest,
    retry: &RetryPolicy,
    inbox: &Inbox,
    channel: u64,
    timeout: Duration,
) -> RoundTrip {
    let path = format!("/channels/{channel}/messages");
    let post = |marker: String| {
        let body = json!({
            "content": format!(
                "🔁 {marker}: checking that the operator's messages reach the orchestrator \
                 (deleted automatically)"
            ),
            "flags": SUPPRESS_NOTIFICATIONS,
            "allowed_mentions": no_mentions(),
        });
        let path = path.clone();
        async move {
            let answer = rest
                .call_retried(
                    retry,
                    Method::POST,
                    &path,
                    Some(&body),
                    "post a round-trip probe",
                )
                .await
                .map_err(|refusal| refusal.error)?;
            let id = MessageId::new(id_of(&answer, "post a round-trip probe")?);
            inbox.note_own_message(&id);
            Ok(id)
        }
    };
    let remove = |id: MessageId| {
        let path = format!("{path}/{id}");
        async move {
            rest.call_retried(
                retry,
                Method::DELETE,
                &path,
                None,
                "delete the round-trip probe",
            )
            .await
            .map(drop)
            .map_err(|refusal| refusal.error)
        }
    };
    round_trip::run(inbox.echoes(), "the gateway", FIX, timeout, post, remove).await
}
