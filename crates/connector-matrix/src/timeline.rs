//! Which timeline events the connector reads, for `/sync` and for history alike.

use matrix_sdk::ruma::UInt;
use matrix_sdk::ruma::api::client::filter::RoomEventFilter;

/// Only messages, reactions and encrypted events (which may decrypt to either) matter, and
/// the event that turns encryption on.
pub(crate) fn timeline_filter(limit: u32) -> RoomEventFilter {
    let mut filter = RoomEventFilter::empty();
    filter.types = Some(vec![
        "m.room.message".into(),
        "m.room.encrypted".into(),
        "m.reaction".into(),
        // Taking a reaction back.
        "m.room.redaction".into(),
        // State, but the build without encryption must see it to stop sending in the clear.
        "m.room.encryption".into(),
    ]);
    filter.limit = Some(UInt::from(limit));
    filter
}
