//! Turning a Discord message (from the gateway or a REST page) into an `InboundMessage`.

use connector_core::{InboundAttachment, InboundMessage, Timestamp};
use serenity::all::{Message, MessageType};

/// Whether a message is something a person wrote (DEFAULT or REPLY), not a system notice such
/// as THREAD_CREATED or a pin.
pub(crate) fn is_conversation(message: &Message) -> bool {
    matches!(
        message.kind,
        MessageType::Regular | MessageType::InlineReply
    )
}

/// Whether the message's text and attachments were withheld from us: Discord sends them empty
/// to a bot without the Message Content intent, unless the bot is mentioned.
pub(crate) fn content_withheld(message: &Message, own_id: u64) -> bool {
    message.content.is_empty()
        && message.attachments.is_empty()
        && message.embeds.is_empty()
        && message.sticker_items.is_empty()
        && !message.mentions.iter().any(|u| u.id.get() == own_id)
}

/// The inbound message for `message`, posted in `thread` (`None`: the channel itself).
pub(crate) fn convert(message: &Message, thread: Option<u64>) -> InboundMessage {
    let ts = message
        .timestamp
        .to_rfc3339()
        .and_then(|text| text.parse::<Timestamp>().ok())
        .unwrap_or_else(Timestamp::now);
    let mut inbound = InboundMessage::new(
        message.id.get().to_string(),
        message.author.id.get().to_string(),
        message.content.clone(),
        ts,
    );
    if let Some(thread) = thread {
        inbound = inbound.in_thread(thread.to_string());
    }
    for attachment in &message.attachments {
        let mut converted = InboundAttachment::new(attachment.url.clone());
        converted.filename = Some(attachment.filename.clone());
        converted.content_type = attachment.content_type.clone();
        converted.size = Some(u64::from(attachment.size));
        inbound = inbound.with_attachment(converted);
    }
    inbound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, content: &str) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": "1100000000000000001",
            "channel_id": "1100000000000000002",
            "author": {"id": "1100000000000000003", "username": "op", "discriminator": "0",
                       "global_name": null, "avatar": null},
            "content": content,
            "timestamp": "2026-11-21T05:06:07.000000+00:00",
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [{"id": "1100000000000000004", "filename": "log.txt", "size": 12,
                             "url": "https://cdn.example/log.txt",
                             "proxy_url": "https://media.example/log.txt",
                             "content_type": "text/plain"}],
            "embeds": [],
            "pinned": false,
            "type": kind
        }))
        .expect("a message")
    }

    #[test]
    fn converts_messages() {
        let inbound = convert(&message(0, "deploy?"), Some(42));
        assert_eq!(inbound.message_id.as_str(), "1100000000000000001");
        assert_eq!(inbound.sender.as_str(), "1100000000000000003");
        assert_eq!(inbound.text, "deploy?");
        assert_eq!(inbound.thread_id.unwrap().as_str(), "42");
        assert_eq!(inbound.ts.to_string(), "2026-11-21T05:06:07Z");
        assert_eq!(inbound.attachments[0].filename.as_deref(), Some("log.txt"));
        assert_eq!(inbound.attachments[0].size, Some(12));
        assert!(is_conversation(&message(0, "x")));
        assert!(is_conversation(&message(19, "x")));
        assert!(!is_conversation(&message(18, "x")));
        assert!(
            !content_withheld(&message(0, ""), 7),
            "it has an attachment"
        );
    }
}
