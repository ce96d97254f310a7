//! Paging through a room's timeline with `GET /rooms/{room}/messages`, for gap filling and
//! history.

use connector_core::Result;
use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::Direction;
use matrix_sdk::ruma::api::client::filter::RoomEventFilter;
use matrix_sdk::ruma::api::client::message::get_message_events;
use matrix_sdk::ruma::{OwnedRoomId, UInt};

use crate::error;

/// Events of one page, in the order the server gave them, and the token to continue from.
#[derive(Debug)]
pub(crate) struct Page {
    /// The events (newest first when paging backwards).
    pub(crate) events: Vec<TimelineEvent>,
    /// Where the next page starts; `None` at the end of the timeline.
    pub(crate) end: Option<String>,
}

/// One page of the room's timeline.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    /// Where to start (a sync `prev_batch`, a page's `end`); `None`: the live end or the start.
    pub(crate) from: Option<String>,
    /// Where to stop (e.g. the previous sync position).
    pub(crate) to: Option<String>,
    /// Backwards (newest first) or forwards.
    pub(crate) dir: Direction,
    /// At most this many events.
    pub(crate) limit: u32,
    /// Which events.
    pub(crate) filter: RoomEventFilter,
}

/// Fetches one page. When the client knows the room (it was in a sync), matrix-sdk fetches it
/// and decrypts what it can; otherwise the page is fetched directly.
pub(crate) async fn fetch(
    client: &Client,
    room_id: &OwnedRoomId,
    request: PageRequest,
) -> Result<Page> {
    let limit = UInt::from(request.limit);
    if let Some(room) = client.get_room(room_id) {
        let mut options = MessagesOptions::new(request.dir);
        options.from = request.from;
        options.to = request.to;
        options.limit = limit;
        options.filter = request.filter;
        let messages = room
            .messages(options)
            .await
            .map_err(|e| error::from_sdk("fetch room messages", e))?;
        return Ok(Page {
            events: messages.chunk,
            end: messages.end,
        });
    }
    let mut raw = get_message_events::v3::Request::new(room_id.clone(), request.dir);
    raw.from = request.from;
    raw.to = request.to;
    raw.limit = limit;
    raw.filter = request.filter;
    let response = client
        .send(raw)
        .await
        .map_err(|e| error::from_http("fetch room messages", e))?;
    Ok(Page {
        events: response
            .chunk
            .into_iter()
            .map(|event| TimelineEvent::from_plaintext(event.cast_unchecked()))
            .collect(),
        end: response.end,
    })
}
