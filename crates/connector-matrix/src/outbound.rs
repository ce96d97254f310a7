//! The event contents the connector sends: Markdown messages (in a thread or not), edits,
//! reactions and notices.
//!
//! Text is Markdown: `body` keeps it as written (what clients without HTML show, and what
//! the chunker measured) and `formatted_body` holds the HTML rendering (ruma's, built on
//! pulldown-cmark), set only when the text has any Markdown in it.
//!
//! Every message and edit carries an empty `m.mentions`: text the orchestrator sends (often
//! someone else's words) mentions nobody. Without it, clients and servers fall back to the
//! legacy push rules, which notify whoever's name or user id, or `@room`, appears in the body
//! (spec, "User and room mentions").

use connector_core::{Error, Result};
use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::{Annotation, Thread};
use matrix_sdk::ruma::events::room::message::{
    Relation, ReplacementMetadata, RoomMessageEventContent,
};

/// Where a message goes: the main timeline, or a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThreadTarget {
    /// The thread's root event.
    pub(crate) root: OwnedEventId,
    /// The latest event known in the thread, named as the reply fallback for clients
    /// without threads.
    pub(crate) latest: OwnedEventId,
}

/// A Markdown message, in `thread` if given.
pub(crate) fn message(text: &str, thread: Option<&ThreadTarget>) -> RoomMessageEventContent {
    in_thread(
        RoomMessageEventContent::text_markdown(text).add_mentions(Mentions::new()),
        thread,
    )
}

/// `content`, placed in `thread` if given.
pub(crate) fn in_thread(
    mut content: RoomMessageEventContent,
    thread: Option<&ThreadTarget>,
) -> RoomMessageEventContent {
    if let Some(thread) = thread {
        content.relates_to = Some(Relation::Thread(Thread::plain(
            thread.root.clone(),
            thread.latest.clone(),
        )));
    }
    content
}

/// An edit replacing the text of `original` with `text` (Markdown).
pub(crate) fn edit(original: OwnedEventId, text: &str) -> RoomMessageEventContent {
    // The edit's own mentions (none) go on both the edit and its `m.new_content`.
    RoomMessageEventContent::text_markdown(text)
        .add_mentions(Mentions::new())
        .make_replacement(ReplacementMetadata::new(original, None))
}

/// A plain-text notice (`m.notice`: clients show it as the bot's, and the default push rules
/// never notify for it), in `thread` if given. Names in `text` stay plain text: no pill, no
/// mention.
pub(crate) fn notice(text: &str, thread: Option<&ThreadTarget>) -> RoomMessageEventContent {
    in_thread(
        RoomMessageEventContent::notice_plain(text).add_mentions(Mentions::new()),
        thread,
    )
}

/// A reaction (`m.annotation`) with `emoji` on `target`.
pub(crate) fn reaction(target: OwnedEventId, emoji: &str) -> ReactionEventContent {
    ReactionEventContent::new(Annotation::new(target, emoji.to_owned()))
}

/// Parses a message or thread id given by the caller as an event id.
pub(crate) fn event_id(field: &'static str, id: &str) -> Result<OwnedEventId> {
    OwnedEventId::try_from(id).map_err(|e| Error::InvalidInput {
        field,
        message: format!("{id:?} is not a Matrix event id: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::serde::Raw;

    use super::*;

    fn json(content: &RoomMessageEventContent) -> serde_json::Value {
        serde_json::from_str(Raw::new(content).unwrap().json().get()).unwrap()
    }

    #[test]
    fn messages_mention_nobody_whatever_their_text_says() {
        let rendered = json(&message(
            "@room @alice:example.org: the deploy failed",
            None,
        ));
        assert_eq!(rendered["m.mentions"], serde_json::json!({}));
    }

    #[test]
    fn markdown_becomes_formatted_body_and_plain_text_stays_plain() {
        let rendered = json(&message("**Build green.** Deploy?", None));
        assert_eq!(rendered["body"], "**Build green.** Deploy?");
        assert_eq!(rendered["format"], "org.matrix.custom.html");
        assert_eq!(
            rendered["formatted_body"],
            "<strong>Build green.</strong> Deploy?"
        );
        let plain = json(&message("just words", None));
        assert!(plain.get("formatted_body").is_none(), "{plain}");
    }

    #[test]
    fn thread_replies_carry_the_thread_relation() {
        let target = ThreadTarget {
            root: event_id("thread_id", "$root").unwrap(),
            latest: event_id("thread_id", "$last").unwrap(),
        };
        let rendered = json(&message("ok", Some(&target)));
        let relation = &rendered["m.relates_to"];
        assert_eq!(relation["rel_type"], "m.thread");
        assert_eq!(relation["event_id"], "$root");
        assert_eq!(relation["m.in_reply_to"]["event_id"], "$last");
        assert_eq!(relation["is_falling_back"], true);
    }

    #[test]
    fn notices_are_plain_and_mention_nobody() {
        let target = ThreadTarget {
            root: event_id("thread_id", "$q").unwrap(),
            latest: event_id("thread_id", "$q").unwrap(),
        };
        let rendered = json(&notice("@alice:x: **not** taken", Some(&target)));
        assert_eq!(rendered["msgtype"], "m.notice");
        assert_eq!(rendered["body"], "@alice:x: **not** taken");
        assert!(rendered.get("formatted_body").is_none(), "{rendered}");
        assert_eq!(rendered["m.mentions"], serde_json::json!({}));
        assert_eq!(rendered["m.relates_to"]["event_id"], "$q");
    }

    #[test]
    fn edits_replace_and_bad_ids_are_refused() {
        let rendered = json(&edit(event_id("message", "$orig").unwrap(), "fixed"));
        assert_eq!(rendered["m.relates_to"]["rel_type"], "m.replace");
        assert_eq!(rendered["m.new_content"]["body"], "fixed");
        assert_eq!(rendered["m.mentions"], serde_json::json!({}));
        assert_eq!(
            rendered["m.new_content"]["m.mentions"],
            serde_json::json!({})
        );
        assert!(matches!(
            event_id("thread_id", "not-an-event"),
            Err(Error::InvalidInput {
                field: "thread_id",
                ..
            })
        ));
    }
}
