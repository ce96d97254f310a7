//! The parts of Bot API updates the connector reads, parsed leniently: unknown fields are
//! ignored, and an update that does not parse is reported as such, never an error for the
//! batch it came in.

use serde::Deserialize;
use serde_json::Value;

/// The update types the poller asks for (`allowed_updates`).
pub(crate) const ALLOWED_UPDATES: [&str; 4] = [
    "message",
    "edited_message",
    "callback_query",
    "message_reaction",
];

/// A user or bot (`User`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct User {
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) first_name: String,
    #[serde(default)]
    pub(crate) last_name: Option<String>,
}

impl User {
    /// The name a person sees: first and last name.
    pub(crate) fn shown_name(&self) -> String {
        match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        }
    }
}

/// A chat (`Chat`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Chat {
    pub(crate) id: i64,
}

/// A document (`Document`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Document {
    pub(crate) file_id: String,
    #[serde(default)]
    pub(crate) file_name: Option<String>,
    #[serde(default)]
    pub(crate) mime_type: Option<String>,
    #[serde(default)]
    pub(crate) file_size: Option<u64>,
}

/// One size of a photo (`PhotoSize`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PhotoSize {
    pub(crate) file_id: String,
    #[serde(default)]
    pub(crate) file_size: Option<u64>,
    #[serde(default)]
    pub(crate) width: u64,
}

/// A message (`Message`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Message {
    pub(crate) message_id: i64,
    #[serde(default)]
    pub(crate) from: Option<User>,
    pub(crate) chat: Chat,
    #[serde(default)]
    pub(crate) date: i64,
    #[serde(default)]
    pub(crate) message_thread_id: Option<i64>,
    #[serde(default)]
    pub(crate) is_topic_message: bool,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) caption: Option<String>,
    #[serde(default)]
    pub(crate) reply_to_message: Option<Box<Message>>,
    #[serde(default)]
    pub(crate) document: Option<Document>,
    #[serde(default)]
    pub(crate) photo: Option<Vec<PhotoSize>>,
    #[serde(default)]
    pub(crate) forum_topic_created: Option<Value>,
}

impl Message {
    /// Its text or caption.
    pub(crate) fn text(&self) -> Option<&str> {
        self.text.as_deref().or(self.caption.as_deref())
    }

    /// Whether it is a service message (topic created, member joined, pinned …): no text,
    /// caption, document or photo.
    pub(crate) fn is_service(&self) -> bool {
        self.text().is_none() && self.document.is_none() && self.photo.is_none()
    }

    /// The forum topic it is in, if any.
    pub(crate) fn topic(&self) -> Option<i64> {
        self.message_thread_id.filter(|_| self.is_topic_message)
    }
}

/// A press on an inline button (`CallbackQuery`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CallbackQuery {
    pub(crate) id: String,
    pub(crate) from: User,
    #[serde(default)]
    pub(crate) data: Option<String>,
}

/// A reaction type (`ReactionType`): only emoji reactions are read.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Reaction {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) emoji: Option<String>,
}

/// A user's reactions on a message changed (`MessageReactionUpdated`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReactionChange {
    pub(crate) chat: Chat,
    pub(crate) message_id: i64,
    #[serde(default)]
    pub(crate) user: Option<User>,
    #[serde(default)]
    pub(crate) date: i64,
    #[serde(default)]
    pub(crate) old_reaction: Vec<Reaction>,
    #[serde(default)]
    pub(crate) new_reaction: Vec<Reaction>,
}

/// One update, by kind.
#[derive(Debug, Clone)]
pub(crate) enum Update {
    /// `message`.
    Message(Message),
    /// `edited_message`.
    Edited(Message),
    /// `callback_query`.
    Callback(CallbackQuery),
    /// `message_reaction`.
    Reaction(ReactionChange),
    /// Any other kind (not asked for, or new to this connector).
    Other(String),
}

/// Parses one update; `Err` says why it could not be.
pub(crate) fn parse(update: &Value) -> Result<Update, String> {
    fn field<T: serde::de::DeserializeOwned>(value: &Value, kind: &str) -> Result<T, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("{kind}: {e}"))
    }
    let Some(object) = update.as_object() else {
        return Err("not an object".into());
    };
    if let Some(v) = object.get("message") {
        return field(v, "message").map(Update::Message);
    }
    if let Some(v) = object.get("edited_message") {
        return field(v, "edited_message").map(Update::Edited);
    }
    if let Some(v) = object.get("callback_query") {
        return field(v, "callback_query").map(Update::Callback);
    }
    if let Some(v) = object.get("message_reaction") {
        return field(v, "message_reaction").map(Update::Reaction);
    }
    let kind = object
        .keys()
        .find(|k| k.as_str() != "update_id")
        .cloned()
        .unwrap_or_else(|| "empty".into());
    Ok(Update::Other(kind))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_what_it_reads_and_reports_what_it_cannot() {
        let message = json!({"update_id": 1, "message": {
            "message_id": 5, "chat": {"id": 7, "type": "private"}, "date": 1,
            "from": {"id": 7, "is_bot": false, "first_name": "Op"}, "text": "hi",
            "unknown_field": true}});
        let Ok(Update::Message(m)) = parse(&message) else {
            panic!("a message")
        };
        assert_eq!((m.message_id, m.text()), (5, Some("hi")));
        assert!(!m.is_service());
        let broken = json!({"update_id": 2, "message": {"message_id": "five"}});
        assert!(parse(&broken).unwrap_err().starts_with("message: "));
        assert!(matches!(
            parse(&json!({"update_id": 3, "poll": {}})),
            Ok(Update::Other(kind)) if kind == "poll"
        ));
    }
}
