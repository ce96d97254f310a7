//! Turning a room timeline event into an `InboundMessage`, or saying why it is not one.
//!
//! * `m.room.message` of type text, notice or emote → its `body`; image, file, audio or video
//!   → its caption or file name, with the `mxc://` URL as an attachment.
//! * A thread reply (`m.relates_to.rel_type = m.thread`) carries the root's event id as its
//!   `thread_id`.
//! * An edit (`m.replace`) is **not** delivered: the orchestrator already acted on the
//!   original, and a corrected copy arriving as a new message would read as a second
//!   instruction. It is dropped and logged at debug level.
//! * Everything else (state, reactions, redacted messages, events we could not decrypt) is
//!   skipped.

use connector_core::{InboundAttachment, InboundMessage, ThreadId, Timestamp};
use matrix_sdk::deserialized_responses::TimelineEvent;
use serde::Deserialize;

/// What a timeline event is to the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A message to hand to the inbox.
    Message(InboundMessage),
    /// A correction of an earlier message (`m.replace`): not delivered.
    Edit {
        /// The edit event.
        event_id: String,
        /// The message it corrects.
        replaces: String,
    },
    /// Not a message (state, reaction, redacted, undecryptable, …).
    Skipped(&'static str),
}

/// Why an encrypted event that did not decrypt is skipped.
pub(crate) const UNDECRYPTABLE: &str = "encrypted and could not be decrypted";

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    event_id: Option<String>,
    sender: Option<String>,
    origin_server_ts: Option<i64>,
    #[serde(default)]
    content: Content,
}

#[derive(Deserialize, Default)]
struct Content {
    msgtype: Option<String>,
    body: Option<String>,
    url: Option<String>,
    filename: Option<String>,
    info: Option<FileInfo>,
    #[serde(rename = "m.relates_to")]
    relates_to: Option<RelatesTo>,
}

#[derive(Deserialize)]
struct FileInfo {
    mimetype: Option<String>,
    size: Option<u64>,
}

#[derive(Deserialize)]
struct RelatesTo {
    rel_type: Option<String>,
    event_id: Option<String>,
    #[serde(rename = "m.in_reply_to")]
    in_reply_to: Option<serde::de::IgnoredAny>,
}

/// Reads one timeline event (decrypted already, where it was encrypted).
pub(crate) fn parse(event: &TimelineEvent) -> Parsed {
    parse_json(event.raw().json().get())
}

/// Reads one event from its JSON.
pub(crate) fn parse_json(json: &str) -> Parsed {
    let Ok(event) = serde_json::from_str::<RawEvent>(json) else {
        return Parsed::Skipped("malformed event");
    };
    match event.kind.as_str() {
        "m.room.message" => {}
        "m.room.encrypted" => return Parsed::Skipped(UNDECRYPTABLE),
        _ => return Parsed::Skipped("not a message"),
    }
    let (Some(event_id), Some(sender)) = (event.event_id, event.sender) else {
        return Parsed::Skipped("no event id or sender");
    };
    let content = event.content;
    let relation = content.relates_to.as_ref();
    let rel_type = relation.and_then(|r| r.rel_type.as_deref());
    if rel_type == Some("m.replace") {
        let replaces = relation
            .and_then(|r| r.event_id.clone())
            .unwrap_or_default();
        return Parsed::Edit { event_id, replaces };
    }
    let (Some(msgtype), Some(body)) = (content.msgtype.as_deref(), content.body.as_deref()) else {
        return Parsed::Skipped("redacted or empty");
    };
    let is_reply =
        relation.is_some_and(|r| r.in_reply_to.is_some() && rel_type != Some("m.thread"));
    let text = if is_reply {
        strip_reply_fallback(body)
    } else {
        body.to_owned()
    };
    let ts = event
        .origin_server_ts
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or_else(Timestamp::now);
    let mut message = InboundMessage::new(event_id, sender, text, ts);
    if rel_type == Some("m.thread")
        && let Some(root) = relation.and_then(|r| r.event_id.clone())
    {
        message.thread_id = Some(ThreadId::new(root));
    }
    if matches!(msgtype, "m.image" | "m.file" | "m.audio" | "m.video")
        && let Some(url) = content.url
    {
        let mut attachment = InboundAttachment::new(url);
        attachment.filename = content.filename.or_else(|| Some(body.to_owned()));
        attachment.content_type = content.info.as_ref().and_then(|i| i.mimetype.clone());
        attachment.size = content.info.as_ref().and_then(|i| i.size);
        message.attachments.push(attachment);
    }
    Parsed::Message(message)
}

/// Removes the quoted `> <@user> …` lines older clients put before a reply's text.
fn strip_reply_fallback(body: &str) -> String {
    if !body.starts_with("> <") {
        return body.to_owned();
    }
    let rest: Vec<&str> = body.lines().skip_while(|l| l.starts_with('>')).collect();
    let text = rest.join("\n");
    text.trim_start_matches('\n').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(content: &str) -> Parsed {
        parse_json(&format!(
            r#"{{"type":"m.room.message","event_id":"$e","sender":"@op:x","origin_server_ts":1700000000000,"content":{content}}}"#
        ))
    }

    #[test]
    fn reads_text_thread_and_timestamp() {
        let Parsed::Message(plain) = message(r#"{"msgtype":"m.text","body":"deploy?"}"#) else {
            panic!("a text message")
        };
        assert_eq!(
            (
                plain.message_id.as_str(),
                plain.sender.as_str(),
                plain.text.as_str()
            ),
            ("$e", "@op:x", "deploy?")
        );
        assert_eq!(plain.ts.as_millisecond(), 1_700_000_000_000);
        assert_eq!(plain.thread_id, None);

        let Parsed::Message(threaded) = message(
            r#"{"msgtype":"m.text","body":"yes","m.relates_to":{"rel_type":"m.thread","event_id":"$root","is_falling_back":true,"m.in_reply_to":{"event_id":"$last"}}}"#,
        ) else {
            panic!("a thread reply")
        };
        assert_eq!(threaded.thread_id, Some(ThreadId::new("$root")));
        assert_eq!(threaded.text, "yes");
    }

    #[test]
    fn edits_are_not_messages_and_other_events_are_skipped() {
        assert_eq!(
            message(
                r#"{"msgtype":"m.text","body":"* fixed","m.new_content":{"msgtype":"m.text","body":"fixed"},"m.relates_to":{"rel_type":"m.replace","event_id":"$orig"}}"#
            ),
            Parsed::Edit {
                event_id: "$e".into(),
                replaces: "$orig".into()
            }
        );
        assert!(matches!(message("{}"), Parsed::Skipped(_)));
        assert!(matches!(
            parse_json(r#"{"type":"m.reaction","event_id":"$r","sender":"@op:x","content":{}}"#),
            Parsed::Skipped(_)
        ));
        assert!(matches!(parse_json("not json"), Parsed::Skipped(_)));
    }

    #[test]
    fn replies_lose_their_quoted_fallback_and_files_become_attachments() {
        let Parsed::Message(reply) = message(
            r#"{"msgtype":"m.text","body":"> <@bot:x> Merge?\n> really\n\nyes","m.relates_to":{"m.in_reply_to":{"event_id":"$q"}}}"#,
        ) else {
            panic!("a reply")
        };
        assert_eq!(reply.text, "yes");

        let Parsed::Message(file) = message(
            r#"{"msgtype":"m.file","body":"log.txt","url":"mxc://x/abc","info":{"mimetype":"text/plain","size":12}}"#,
        ) else {
            panic!("a file")
        };
        let attachment = &file.attachments[0];
        assert_eq!(attachment.url, "mxc://x/abc");
        assert_eq!(attachment.filename.as_deref(), Some("log.txt"));
        assert_eq!(attachment.size, Some(12));
    }
}
