//! The MESSAGE_CONTENT rule (docs, gateway, "Message Content Intent"): which sessions read
//! message content, and what is blanked for the others.

use serde_json::{Value, json};

use crate::{intents::Intents, snowflake::Snowflake};

/// Blanks what the MESSAGE_CONTENT intent guards (docs, gateway, "Message Content Intent"):
/// `content`, `embeds`, `attachments`, `components` empty and `poll` gone, unless the message is
/// the app's own or mentions it. Nested `referenced_message`s follow the same rule.
pub(crate) fn redact_message(message: &mut Value, bot_id: Snowflake) {
    let bot = bot_id.to_string();
    let authored = message["author"]["id"].as_str() == Some(bot.as_str());
    let mentioned = message["mentions"]
        .as_array()
        .is_some_and(|m| m.iter().any(|u| u["id"].as_str() == Some(bot.as_str())));
    if !authored
        && !mentioned
        && let Some(fields) = message.as_object_mut()
    {
        fields.insert("content".into(), "".into());
        for key in ["embeds", "attachments", "components"] {
            if fields.contains_key(key) {
                fields.insert(key.into(), json!([]));
            }
        }
        fields.remove("poll");
    }
    if message["referenced_message"].is_object() {
        redact_message(&mut message["referenced_message"], bot_id);
    }
}

/// Whether a session that asked for `intents` reads message content.
pub(crate) fn reads_content(granted: Intents, requested: Intents) -> bool {
    granted.contains(Intents::MESSAGE_CONTENT) && requested.contains(Intents::MESSAGE_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_spares_own_and_mentioning_messages() {
        let bot = Snowflake(1);
        let mut other = json!({
            "author": {"id": "2"}, "mentions": [], "content": "hi", "embeds": [{"type": "rich"}],
            "attachments": [{"id": "9"}], "components": [], "poll": {},
            "referenced_message": {"author": {"id": "1"}, "mentions": [], "content": "mine"}
        });
        redact_message(&mut other, bot);
        assert_eq!(other["content"], "");
        assert_eq!(other["embeds"], json!([]));
        assert_eq!(other["attachments"], json!([]));
        assert!(other.get("poll").is_none());
        assert_eq!(other["referenced_message"]["content"], "mine");

        let mut mentioning =
            json!({"author": {"id": "2"}, "mentions": [{"id": "1"}], "content": "<@1> hi"});
        redact_message(&mut mentioning, bot);
        assert_eq!(mentioning["content"], "<@1> hi");
    }
}
