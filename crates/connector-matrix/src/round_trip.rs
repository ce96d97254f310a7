//! The round-trip probe on Matrix: a probe event posted to the room must come back in the
//! timeline of `/sync`, the path the operator's messages take (see
//! [`connector_core::round_trip`]).
//!
//! Out of the operator's way: the probe is an `m.notice` (bots' messages; the default push rule
//! `.m.rule.suppress_notices` never notifies for them) and is redacted as soon as it came back
//! (or the wait ended). Clients then show at most a "message deleted" placeholder, which Element
//! hides when "Show a placeholder for removed messages" is off.

use connector_core::{MessageId, Result};
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::redact::redact_event;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedRoomId, TransactionId};

use crate::{error, outbound::event_id};

/// What to check when the probe does not come back, in the order users hit them.
pub(crate) const FIX: &str = "the bot can post but its sync does not return the room's new \
     events: check that no other client uses this access token (a second sync loop on the same \
     device), that the bot is joined to the room (not only invited), and that a proxy in front \
     of the homeserver does not cut long-polling requests";

/// The probe's event: an `m.notice` carrying `marker`.
pub(crate) fn probe_content(marker: &str) -> RoomMessageEventContent {
    RoomMessageEventContent::notice_plain(format!(
        "🔁 {marker}: checking that the operator's messages reach the orchestrator (removed \
         automatically)"
    ))
}

/// Redacts the probe `id` in `room`.
pub(crate) async fn redact(client: &Client, room: &OwnedRoomId, id: MessageId) -> Result<()> {
    let event = event_id("probe", id.as_str())?;
    let mut request = redact_event::v3::Request::new(room.clone(), event, TransactionId::new());
    request.reason = Some("round-trip probe".to_owned());
    client
        .send(request)
        .await
        .map(drop)
        .map_err(|e| error::from_http("redact the round-trip probe", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_is_a_notice_carrying_its_marker() {
        let content = probe_content("round-trip probe 0123456789abcdef");
        let json = serde_json::to_value(&content).expect("serialise");
        assert_eq!(json["msgtype"], "m.notice");
        assert!(
            json["body"]
                .as_str()
                .is_some_and(|b| b.contains("round-trip probe 0123456789abcdef"))
        );
    }
}
