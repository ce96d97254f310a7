//! Slack message objects (from events or history listings) as connector-core's
//! [`InboundMessage`]s, and what kind of message each one is.

use connector_core::{InboundAttachment, InboundMessage, Timestamp};
use serde_json::Value;

use crate::web_api::str_of;

/// What a `message` object is, for the pump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Someone's new message (plain, a thread broadcast, a file share).
    New,
    /// The bot's own message.
    Own,
    /// Another bot's or an integration's message: never delivered.
    OtherBot,
    /// An edit, a deletion, a join notice…: not a new message.
    Other,
}

/// Who the bot is.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The bot user's id (`U…`).
    pub(crate) user_id: String,
    /// The bot's id (`B…`).
    pub(crate) bot_id: String,
}

/// Classifies a message object.
pub(crate) fn kind(message: &Value, me: &Identity) -> Kind {
    let subtype = str_of(message, "subtype");
    if !matches!(
        subtype,
        None | Some("thread_broadcast" | "file_share" | "bot_message" | "me_message")
    ) {
        return Kind::Other;
    }
    if str_of(message, "user") == Some(me.user_id.as_str())
        || str_of(message, "bot_id") == Some(me.bot_id.as_str())
    {
        return Kind::Own;
    }
    if str_of(message, "bot_id").is_some() || subtype == Some("bot_message") {
        return Kind::OtherBot;
    }
    if str_of(message, "user").is_none() {
        return Kind::Other;
    }
    Kind::New
}

/// The thread a message is a reply in (its parent's `ts`), if it is a reply.
pub(crate) fn thread_of(message: &Value) -> Option<&str> {
    let ts = str_of(message, "ts")?;
    str_of(message, "thread_ts").filter(|t| *t != ts)
}

/// Undoes Slack's escaping of `&`, `<` and `>` in message text.
pub(crate) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A Slack `ts` as a timestamp.
pub(crate) fn timestamp(ts: &str) -> Timestamp {
    let (secs, micros) = crate::position::ts_order(ts).unwrap_or_default();
    Timestamp::new(
        i64::try_from(secs).unwrap_or(0),
        i32::try_from(micros.min(999_999) * 1000).unwrap_or(0),
    )
    .unwrap_or_else(|_| Timestamp::now())
}

/// A user's message as an inbound message: its `ts` is its id, its thread's parent `ts` its
/// thread id, its files attachments with their authenticated `url_private` (fetch them with
/// the bot token).
pub(crate) fn convert(message: &Value, text: String) -> Option<InboundMessage> {
    let ts = str_of(message, "ts")?;
    let user = str_of(message, "user")?;
    let mut inbound = InboundMessage::new(ts, user, text, timestamp(ts));
    if let Some(thread) = thread_of(message) {
        inbound = inbound.in_thread(thread);
    }
    for file in message
        .get("files")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = str_of(file, "url_private").or_else(|| str_of(file, "permalink")) else {
            continue;
        };
        let mut attachment = InboundAttachment::new(url);
        attachment.filename = str_of(file, "name").map(str::to_owned);
        attachment.content_type = str_of(file, "mimetype").map(str::to_owned);
        attachment.size = file.get("size").and_then(Value::as_u64);
        inbound = inbound.with_attachment(attachment);
    }
    Some(inbound)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn me() -> Identity {
        Identity {
            user_id: "UBOT".into(),
            bot_id: "BBOT".into(),
        }
    }

    #[test]
    fn kinds() {
        let me = me();
        assert_eq!(kind(&json!({"user": "U1", "ts": "1.1"}), &me), Kind::New);
        assert_eq!(
            kind(&json!({"user": "UBOT", "bot_id": "BBOT"}), &me),
            Kind::Own
        );
        assert_eq!(
            kind(&json!({"user": "U2", "bot_id": "B2"}), &me),
            Kind::OtherBot
        );
        assert_eq!(
            kind(&json!({"subtype": "message_changed"}), &me),
            Kind::Other
        );
        assert_eq!(
            kind(&json!({"subtype": "file_share", "user": "U1"}), &me),
            Kind::New
        );
    }

    #[test]
    fn text_is_unescaped_and_threads_found() {
        assert_eq!(unescape("a &lt;b&gt; &amp;lt;"), "a <b> &lt;");
        let reply = json!({"ts": "2.0", "thread_ts": "1.0", "user": "U1"});
        assert_eq!(thread_of(&reply), Some("1.0"));
        let parent = json!({"ts": "1.0", "thread_ts": "1.0", "user": "U1"});
        assert_eq!(thread_of(&parent), None);
        let m = convert(&reply, "hi".into()).unwrap();
        assert_eq!(m.thread_id.unwrap().as_str(), "1.0");
    }
}
