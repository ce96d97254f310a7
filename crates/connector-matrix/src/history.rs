//! Recent messages of the conversation for `history()`: the main timeline or one thread, both
//! directions, oldest first.
//!
//! Pages backwards through `/messages` (messages only) and keeps what the query asks for: for
//! the main conversation, messages not in a thread; for a thread, its root and its replies.
//! Edits are left out, as they are from the inbound stream.

use connector_core::retry::RetryPolicy;
use connector_core::{HistoryQuery, InboundMessage, Result};
use matrix_sdk::Client;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::api::Direction;

use crate::inbound::{self, Parsed};
use crate::inbound_files::InboundFiles;
use crate::pages::{self, PageRequest};
use crate::timeline::timeline_filter;

/// Events per `/messages` page.
const PAGE: u32 = 100;

/// Pages at most per query, so a thread far back in a busy room costs a bounded effort.
const MAX_PAGES: usize = 50;

/// The last `query.limit` messages `query` asks for, oldest first; encrypted files are
/// downloaded and decrypted through `files`, as for the inbound stream.
pub(crate) async fn fetch(
    client: &Client,
    files: &InboundFiles,
    homeserver: &str,
    room_id: &OwnedRoomId,
    retry: &RetryPolicy,
    query: &HistoryQuery,
) -> Result<Vec<InboundMessage>> {
    let mut found = Vec::new();
    let mut from = None;
    for _ in 0..MAX_PAGES {
        if found.len() >= query.limit {
            break;
        }
        let page = retry
            .run(|_| {
                pages::fetch(
                    client,
                    room_id,
                    PageRequest {
                        from: from.clone(),
                        to: None,
                        dir: Direction::Backward,
                        limit: PAGE,
                        filter: timeline_filter(PAGE),
                    },
                )
            })
            .await?;
        for event in &page.events {
            if found.len() >= query.limit {
                break;
            }
            match inbound::parse(event, homeserver) {
                Parsed::Message(message) if wanted(query, &message) => found.push(message),
                Parsed::EncryptedFile { mut message, file } if wanted(query, &message) => {
                    files.attach(&mut message, &file).await;
                    found.push(message);
                }
                _ => {}
            }
        }
        match page.end {
            Some(end) if !page.events.is_empty() => from = Some(end),
            _ => break,
        }
    }
    found.reverse();
    Ok(found)
}

/// Whether `message` belongs to the conversation `query` names.
fn wanted(query: &HistoryQuery, message: &InboundMessage) -> bool {
    match &query.thread_id {
        None => message.thread_id.is_none(),
        Some(root) => {
            message.thread_id.as_ref() == Some(root) || message.message_id.as_str() == root.as_str()
        }
    }
}

#[cfg(test)]
mod tests {
    use connector_core::Timestamp;

    use super::*;

    #[test]
    fn a_thread_is_its_root_and_its_replies() {
        let root = InboundMessage::new("$root", "@op:x", "q", Timestamp::UNIX_EPOCH);
        let reply =
            InboundMessage::new("$r", "@op:x", "a", Timestamp::UNIX_EPOCH).in_thread("$root");
        let other = InboundMessage::new("$o", "@op:x", "b", Timestamp::UNIX_EPOCH);
        let main = HistoryQuery::latest(10);
        let thread = HistoryQuery::latest(10).in_thread("$root");
        assert!(wanted(&main, &root) && wanted(&main, &other) && !wanted(&main, &reply));
        assert!(wanted(&thread, &root) && wanted(&thread, &reply) && !wanted(&thread, &other));
    }
}
