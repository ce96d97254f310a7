//! The messages that cross a connector: outbound (orchestrator → operator) and inbound.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{IdempotencyKey, MessageId, SenderId, ThreadId};
use crate::question::Answer;

/// A message from the orchestrator to its operator.
///
/// ```
/// use connector_core::{OutboundMessage, ThreadId};
/// let msg = OutboundMessage::new("**Build green.** Shall I deploy?").in_thread(ThreadId::new("42"));
/// assert_eq!(msg.thread_id.as_ref().map(|t| t.as_str()), Some("42"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboundMessage {
    /// The text, Markdown where the platform renders it.
    pub text: String,
    /// The thread to post into; `None` posts to the main conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// Files or links to attach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Fixed per logical message and reused on every retry, so a retried send never posts twice.
    pub idempotency_key: IdempotencyKey,
}

impl OutboundMessage {
    /// A message with `text`, no thread, no attachments and a fresh idempotency key.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            thread_id: None,
            attachments: Vec::new(),
            idempotency_key: IdempotencyKey::random(),
        }
    }

    /// This message, posted into `thread`.
    #[must_use]
    pub fn in_thread(mut self, thread: impl Into<ThreadId>) -> Self {
        self.thread_id = Some(thread.into());
        self
    }

    /// This message with `attachment` added.
    #[must_use]
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// This message with a caller-chosen idempotency key, so the caller's own retries of the same
    /// logical message are recognised as one.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = key;
        self
    }
}

/// A file or link attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Attachment {
    /// A local file, uploaded by the connector.
    Path(PathBuf),
    /// A link, passed on as it is.
    Url(String),
}

/// What an inbound message carried as an attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundAttachment {
    /// Where the file can be fetched.
    pub url: String,
    /// The file name, if the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The MIME type, if the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The size in bytes, if the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl InboundAttachment {
    /// An attachment at `url` with no metadata.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            filename: None,
            content_type: None,
            size: None,
        }
    }
}

/// A message from the operator to the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundMessage {
    /// The platform's id of this message (for dedupe, replies and reactions).
    pub message_id: MessageId,
    /// The text as the operator wrote it.
    pub text: String,
    /// The thread it was posted in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// Who sent it, as the connector names senders.
    pub sender: SenderId,
    /// When the platform says it was sent (RFC 3339 in JSON).
    pub ts: Timestamp,
    /// Files that came with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<InboundAttachment>,
    /// Set when this is not a message but the operator's reaction to one of ours; `text` then
    /// holds the emoji too. Consumers that only want messages skip these with
    /// [`InboundMessage::is_reaction`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<InboundReaction>,
    /// Set when this is the answer to a question the connector
    /// [asked](crate::OrchestratorConnector::ask) (or its expiry); `text` then holds the chosen
    /// label, the typed answer or `expired`. See [`crate::questions`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// The operator reacted to a message the connector sent.
///
/// Connectors that report [`Capability::Reactions`](crate::Capability::Reactions) deliver these
/// as [`InboundMessage`]s whose `reaction` is set, so the subscription stream stays one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundReaction {
    /// The message that was reacted to.
    pub message_id: MessageId,
    /// The emoji: a Unicode emoji, or `name:id` for a custom one.
    pub emoji: String,
    /// `true` when the operator took the reaction back (a withdrawn ✅ is not an approval any
    /// more). Connectors that cannot see removals never set it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

impl InboundReaction {
    /// A reaction with `emoji` on `message_id`.
    pub fn new(message_id: impl Into<MessageId>, emoji: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            emoji: emoji.into(),
            removed: false,
        }
    }

    /// The operator took back their reaction `emoji` on `message_id`.
    pub fn removed(message_id: impl Into<MessageId>, emoji: impl Into<String>) -> Self {
        Self {
            removed: true,
            ..Self::new(message_id, emoji)
        }
    }
}

impl InboundMessage {
    /// An inbound message with no thread and no attachments.
    pub fn new(
        message_id: impl Into<MessageId>,
        sender: impl Into<SenderId>,
        text: impl Into<String>,
        ts: Timestamp,
    ) -> Self {
        Self {
            message_id: message_id.into(),
            text: text.into(),
            thread_id: None,
            sender: sender.into(),
            ts,
            attachments: Vec::new(),
            reaction: None,
            answer: None,
        }
    }

    /// The operator's reaction `emoji` on `target`, as an inbound event with its own `event_id`
    /// (the platform's id of the reaction, or one derived from target, sender and emoji, so that
    /// dedupe holds across reconnects).
    pub fn reaction(
        event_id: impl Into<MessageId>,
        sender: impl Into<SenderId>,
        target: impl Into<MessageId>,
        emoji: impl Into<String>,
        ts: Timestamp,
    ) -> Self {
        let emoji = emoji.into();
        let mut message = Self::new(event_id, sender, emoji.clone(), ts);
        message.reaction = Some(InboundReaction::new(target, emoji));
        message
    }

    /// The operator took back their reaction `emoji` on `target`: like
    /// [`InboundMessage::reaction`], with [`InboundReaction::removed`] set and `event_id` the
    /// platform's id of the removal (or one that differs from the reaction's own).
    pub fn reaction_removed(
        event_id: impl Into<MessageId>,
        sender: impl Into<SenderId>,
        target: impl Into<MessageId>,
        emoji: impl Into<String>,
        ts: Timestamp,
    ) -> Self {
        let mut message = Self::reaction(event_id, sender, target, emoji, ts);
        if let Some(reaction) = &mut message.reaction {
            reaction.removed = true;
        }
        message
    }

    /// Whether this is the answer to a question (or its expiry) rather than a message.
    pub fn is_answer(&self) -> bool {
        self.answer.is_some()
    }

    /// Whether this is a reaction (or a reaction taken back) rather than a message.
    pub fn is_reaction(&self) -> bool {
        self.reaction.is_some()
    }

    /// This message, marked as posted in `thread`.
    #[must_use]
    pub fn in_thread(mut self, thread: impl Into<ThreadId>) -> Self {
        self.thread_id = Some(thread.into());
        self
    }

    /// This message with `attachment` added.
    #[must_use]
    pub fn with_attachment(mut self, attachment: InboundAttachment) -> Self {
        self.attachments.push(attachment);
        self
    }
}

/// The receipt for a delivered outbound message.
///
/// A send that fails returns an [`Error`](crate::Error) instead; a long message that fails
/// part-way returns [`Error::PartialSend`](crate::Error::PartialSend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendReceipt {
    /// The platform ids of the posted parts, in order (one per chunk; empty where the platform
    /// has no message ids).
    pub message_ids: Vec<MessageId>,
    /// The thread the message went to (for a thread started by this send, its new id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// Whether the connector saw the message arrive at the peer (server acknowledged it, or the
    /// text was seen in the pane), rather than only handing it over.
    pub confirmed: bool,
}

impl SendReceipt {
    /// A receipt for parts `message_ids`, confirmed or not.
    pub fn new(message_ids: Vec<MessageId>, thread_id: Option<ThreadId>, confirmed: bool) -> Self {
        Self {
            message_ids,
            thread_id,
            confirmed,
        }
    }

    /// The id of the first part: the message to reply or react to.
    pub fn message_id(&self) -> Option<&MessageId> {
        self.message_ids.first()
    }
}

/// Which past messages [`history`](crate::OrchestratorConnector::history) should return.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HistoryQuery {
    /// Only messages in this thread (`None`: the main conversation).
    pub thread_id: Option<ThreadId>,
    /// At most this many, newest last.
    pub limit: usize,
}

impl HistoryQuery {
    /// The last `limit` messages of the main conversation.
    pub fn latest(limit: usize) -> Self {
        Self {
            thread_id: None,
            limit,
        }
    }

    /// This query, restricted to `thread`.
    #[must_use]
    pub fn in_thread(mut self, thread: impl Into<ThreadId>) -> Self {
        self.thread_id = Some(thread.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_serializes_with_rfc3339_timestamp() {
        let ts: Timestamp = "2026-11-21T05:06:07Z".parse().unwrap();
        let msg = InboundMessage::new("$ev1", "@op:example.org", "deploy?", ts).in_thread("$root");
        insta::assert_json_snapshot!(msg, @r###"
        {
          "message_id": "$ev1",
          "text": "deploy?",
          "thread_id": "$root",
          "sender": "@op:example.org",
          "ts": "2026-11-21T05:06:07Z"
        }
        "###);
    }

    #[test]
    fn reaction_serializes_with_its_target() {
        let ts: Timestamp = "2026-11-21T05:06:07Z".parse().unwrap();
        let msg = InboundMessage::reaction("r1", "op", "m1", "👍", ts);
        assert!(msg.is_reaction());
        insta::assert_json_snapshot!(msg, @r###"
        {
          "message_id": "r1",
          "text": "👍",
          "sender": "op",
          "ts": "2026-11-21T05:06:07Z",
          "reaction": {
            "message_id": "m1",
            "emoji": "👍"
          }
        }
        "###);
        let removed = InboundMessage::reaction_removed("r2", "op", "m1", "👍", ts);
        assert!(removed.is_reaction());
        insta::assert_json_snapshot!(removed.reaction, @r###"
        {
          "message_id": "m1",
          "emoji": "👍",
          "removed": true
        }
        "###);
        let back: InboundMessage = serde_json::from_value(serde_json::to_value(&msg).unwrap())
            .expect("a reaction without `removed` reads back");
        assert_eq!(back, msg);
    }
}
