//! Turning a room timeline event into an `InboundMessage`, or saying why it is not one.
//!
//! * `m.room.message` of type text, notice or emote → its `body`; image, file, audio or video
//!   → its `body` (the caption, or else the file name) as text, and an [`InboundAttachment`]
//!   with the file name, MIME type and size. Its `url` is the homeserver's authenticated
//!   download URL of the `mxc://` URI (`{homeserver}/_matrix/client/v1/media/download/{server}/{id}`,
//!   fetched with `Authorization: Bearer <MATRIX_ACCESS_TOKEN>`).
//! * In an encrypted room the event carries `content.file` (the `mxc://` URI of the
//!   ciphertext with its AES-CTR key, IV and SHA-256 hash) instead of `content.url`: it becomes
//!   [`Parsed::EncryptedFile`], and the connector downloads and decrypts the file before
//!   delivering the message ([`crate::inbound_files`]), whose attachment then points at the
//!   plaintext as a `file://` URL in the state directory.
//! * A thread reply (`m.relates_to.rel_type = m.thread`) carries the root's event id as its
//!   `thread_id`.
//! * An edit (`m.replace`) is **not** delivered: the orchestrator already acted on the
//!   original, and a corrected copy arriving as a new message would read as a second
//!   instruction. It is dropped and logged at debug level.
//! * A reaction (`m.reaction` with an `m.annotation` relation) becomes
//!   [`Parsed::Reaction`]: the sync loop delivers it only when it is on one of the bot's own
//!   messages.
//! * An `m.room.encrypted` event that did not decrypt is [`UNDECRYPTABLE`]: with
//!   `e2e-encryption` the sync loop keeps it until its room key comes
//!   ([`crate::undecrypted`]); without, it is skipped with a warning.
//! * Everything else (state, redacted messages) is skipped.

use connector_core::{InboundAttachment, InboundMessage, ThreadId, Timestamp};
use matrix_sdk::deserialized_responses::TimelineEvent;
use serde::Deserialize;

use crate::attachments::download_url;

/// What a timeline event is to the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A message to hand to the inbox.
    Message(InboundMessage),
    /// A message whose file is encrypted: the file is downloaded and decrypted (and attached to
    /// `message`) before the message is handed to the inbox.
    EncryptedFile {
        /// The message, without the attachment yet.
        message: InboundMessage,
        /// The file's key and where its ciphertext is.
        file: Box<EncryptedAttachment>,
    },
    /// A correction of an earlier message (`m.replace`): not delivered.
    Edit {
        /// The edit event.
        event_id: String,
        /// The message it corrects.
        replaces: String,
    },
    /// A reaction on `target`: an [`InboundMessage::reaction`], delivered only if `target` is
    /// one of the bot's messages.
    Reaction {
        /// The reaction as it would be delivered.
        reaction: InboundMessage,
        /// The event reacted to.
        target: String,
    },
    /// A redaction of `redacts`: the operator taking back a reaction the connector delivered
    /// is reported (see `delivered_reactions`); other redactions are not.
    Redaction {
        /// The redaction event.
        event_id: String,
        /// Who redacted.
        sender: String,
        /// The event redacted.
        redacts: String,
        /// When.
        ts: Timestamp,
    },
    /// Not a message (state, redacted, undecryptable, …).
    Skipped(&'static str),
}

/// The file of an encrypted room's message, still encrypted on the homeserver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncryptedAttachment {
    /// The event's `content.file`: `url` (`mxc://`), `key` (a JWK), `iv`, `hashes`, `v`.
    pub(crate) file: serde_json::Value,
    /// The file name the event gives (`filename`, else `body`).
    pub(crate) filename: String,
    /// The MIME type the event gives.
    pub(crate) content_type: Option<String>,
    /// The size the event gives.
    pub(crate) size: Option<u64>,
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
    /// A redaction's target, in room versions up to 10.
    redacts: Option<String>,
    #[serde(default)]
    content: Content,
}

#[derive(Deserialize, Default)]
struct Content {
    msgtype: Option<String>,
    body: Option<String>,
    url: Option<String>,
    /// An encrypted file: where the ciphertext is, and its key.
    file: Option<serde_json::Value>,
    filename: Option<String>,
    info: Option<FileInfo>,
    #[serde(rename = "m.relates_to")]
    relates_to: Option<RelatesTo>,
    /// A redaction's target, in room versions 11 and later.
    redacts: Option<String>,
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
    /// An annotation's key: the emoji.
    key: Option<String>,
}

/// Reads one timeline event (decrypted already, where it was encrypted); attachments' URLs are
/// download URLs on `homeserver`.
pub(crate) fn parse(event: &TimelineEvent, homeserver: &str) -> Parsed {
    parse_json(event.raw().json().get(), homeserver)
}

/// Reads one event from its JSON.
pub(crate) fn parse_json(json: &str, homeserver: &str) -> Parsed {
    let Ok(event) = serde_json::from_str::<RawEvent>(json) else {
        return Parsed::Skipped("malformed event");
    };
    match event.kind.as_str() {
        "m.room.message" | "m.reaction" | "m.room.redaction" => {}
        "m.room.encrypted" => return Parsed::Skipped(UNDECRYPTABLE),
        _ => return Parsed::Skipped("not a message"),
    }
    let (Some(event_id), Some(sender)) = (event.event_id, event.sender) else {
        return Parsed::Skipped("no event id or sender");
    };
    let ts = event
        .origin_server_ts
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or_else(Timestamp::now);
    let content = event.content;
    if event.kind == "m.room.redaction" {
        // Room versions up to 10 put `redacts` at the top level, 11 and later in the content.
        return match event.redacts.or(content.redacts) {
            Some(redacts) => Parsed::Redaction {
                event_id,
                sender,
                redacts,
                ts,
            },
            None => Parsed::Skipped("a redaction of nothing"),
        };
    }
    if event.kind == "m.reaction" {
        return match content.relates_to {
            Some(RelatesTo {
                rel_type: Some(rel_type),
                event_id: Some(target),
                key: Some(emoji),
                ..
            }) if rel_type == "m.annotation" && !emoji.is_empty() => Parsed::Reaction {
                reaction: InboundMessage::reaction(event_id, sender, target.clone(), emoji, ts),
                target,
            },
            _ => Parsed::Skipped("a reaction without an annotation"),
        };
    }
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
    let mut message = InboundMessage::new(event_id, sender, text, ts);
    if rel_type == Some("m.thread")
        && let Some(root) = relation.and_then(|r| r.event_id.clone())
    {
        message.thread_id = Some(ThreadId::new(root));
    }
    if !matches!(msgtype, "m.image" | "m.file" | "m.audio" | "m.video") {
        return Parsed::Message(message);
    }
    let filename = content.filename.unwrap_or_else(|| body.to_owned());
    let content_type = content.info.as_ref().and_then(|i| i.mimetype.clone());
    let size = content.info.as_ref().and_then(|i| i.size);
    if let Some(mxc) = content.url {
        let mut attachment = InboundAttachment::new(download_url(homeserver, &mxc));
        attachment.filename = Some(filename);
        attachment.content_type = content_type;
        attachment.size = size;
        message.attachments.push(attachment);
    } else if let Some(file) = content.file {
        return Parsed::EncryptedFile {
            message,
            file: Box::new(EncryptedAttachment {
                file,
                filename,
                content_type,
                size,
            }),
        };
    }
    Parsed::Message(message)
}

/// The event a message explicitly replies to (`m.in_reply_to`), for typed answers to a
/// question; `None` for the fallback a thread reply carries for clients without threads
/// (`is_falling_back`), which names the thread's latest event, not what the sender chose.
pub(crate) fn replied_to(event: &TimelineEvent) -> Option<String> {
    replied_to_json(event.raw().json().get())
}

fn replied_to_json(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Event {
        content: ReplyContent,
    }
    #[derive(Deserialize)]
    struct ReplyContent {
        #[serde(rename = "m.relates_to")]
        relates_to: Option<ReplyRelation>,
    }
    #[derive(Deserialize)]
    struct ReplyRelation {
        #[serde(rename = "m.in_reply_to")]
        in_reply_to: Option<InReplyTo>,
        #[serde(default)]
        is_falling_back: bool,
    }
    #[derive(Deserialize)]
    struct InReplyTo {
        event_id: String,
    }
    let relation = serde_json::from_str::<Event>(json)
        .ok()?
        .content
        .relates_to?;
    if relation.is_falling_back {
        return None;
    }
    relation.in_reply_to.map(|reply| reply.event_id)
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
        parse_json(
            &format!(
                r#"{{"type":"m.room.message","event_id":"$e","sender":"@op:x","origin_server_ts":1700000000000,"content":{content}}}"#
            ),
            "http://hs",
        )
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
    fn redactions_name_what_they_redact_in_every_room_version() {
        for json in [
            // Room versions up to 10: `redacts` at the top level.
            r#"{"type":"m.room.redaction","event_id":"$x","sender":"@op:x","origin_server_ts":1700000000000,"redacts":"$r","content":{}}"#,
            // 11 and later: in the content.
            r#"{"type":"m.room.redaction","event_id":"$x","sender":"@op:x","origin_server_ts":1700000000000,"content":{"redacts":"$r"}}"#,
        ] {
            let Parsed::Redaction {
                event_id,
                sender,
                redacts,
                ts,
            } = parse_json(json, "http://hs")
            else {
                panic!("a redaction: {json}")
            };
            assert_eq!(
                (event_id.as_str(), sender.as_str(), redacts.as_str()),
                ("$x", "@op:x", "$r")
            );
            assert_eq!(ts.as_millisecond(), 1_700_000_000_000);
        }
        assert!(matches!(
            parse_json(
                r#"{"type":"m.room.redaction","event_id":"$x","sender":"@op:x","content":{}}"#,
                "http://hs"
            ),
            Parsed::Skipped(_)
        ));
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
            parse_json(
                r#"{"type":"m.reaction","event_id":"$r","sender":"@op:x","content":{}}"#,
                "http://hs"
            ),
            Parsed::Skipped(_)
        ));
        let Parsed::Reaction { reaction, target } = parse_json(
            r#"{"type":"m.reaction","event_id":"$r","sender":"@op:x","origin_server_ts":1700000000000,"content":{"m.relates_to":{"rel_type":"m.annotation","event_id":"$ours","key":"👍"}}}"#,
            "http://hs",
        ) else {
            panic!("a reaction")
        };
        assert_eq!(target, "$ours");
        assert_eq!(reaction.message_id.as_str(), "$r");
        assert_eq!(reaction.sender.as_str(), "@op:x");
        let annotation = reaction.reaction.expect("marked as a reaction");
        assert_eq!(
            (annotation.message_id.as_str(), annotation.emoji.as_str()),
            ("$ours", "👍")
        );
        assert!(matches!(
            parse_json("not json", "http://hs"),
            Parsed::Skipped(_)
        ));
    }

    #[test]
    fn a_reply_names_its_target_but_a_thread_fallback_does_not() {
        let event = |relates_to: &str| {
            format!(
                r#"{{"type":"m.room.message","event_id":"$e","sender":"@op:x","content":{{"msgtype":"m.text","body":"1","m.relates_to":{relates_to}}}}}"#
            )
        };
        assert_eq!(
            replied_to_json(&event(r#"{"m.in_reply_to":{"event_id":"$q"}}"#)).as_deref(),
            Some("$q")
        );
        assert_eq!(
            replied_to_json(&event(
                r#"{"rel_type":"m.thread","event_id":"$root","is_falling_back":true,"m.in_reply_to":{"event_id":"$last"}}"#
            )),
            None
        );
        assert_eq!(
            replied_to_json(&event(
                r#"{"rel_type":"m.thread","event_id":"$root","is_falling_back":false,"m.in_reply_to":{"event_id":"$q"}}"#
            ))
            .as_deref(),
            Some("$q")
        );
        assert_eq!(replied_to_json(r#"{"content":{}}"#), None);
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
        assert_eq!(
            attachment.url,
            "http://hs/_matrix/client/v1/media/download/x/abc"
        );
        assert_eq!(file.text, "log.txt");
        assert_eq!(attachment.filename.as_deref(), Some("log.txt"));
        assert_eq!(attachment.content_type.as_deref(), Some("text/plain"));
        assert_eq!(attachment.size, Some(12));

        let Parsed::EncryptedFile {
            message: captioned,
            file,
        } = message(
            r#"{"msgtype":"m.image","body":"the failing chart","filename":"chart.png","info":{"mimetype":"image/png","size":7},"file":{"url":"mxc://x/enc","v":"v2"}}"#,
        )
        else {
            panic!("an encrypted image with a caption")
        };
        assert_eq!(captioned.text, "the failing chart");
        assert!(
            captioned.attachments.is_empty(),
            "no URL of the ciphertext is passed on"
        );
        assert_eq!(file.filename, "chart.png");
        assert_eq!(file.content_type.as_deref(), Some("image/png"));
        assert_eq!(file.size, Some(7));
        assert_eq!(file.file["url"], "mxc://x/enc");
    }
}
