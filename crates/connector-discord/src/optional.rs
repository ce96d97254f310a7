//! The optional capabilities: reactions, edits, typing and history, each one REST call.

use connector_core::retry::RetryPolicy;
use connector_core::{Error, HistoryQuery, InboundMessage, MessageId, Result, ThreadId};
use serde_json::json;
use serenity::all::Message;
use serenity_reqwest::Method;

use crate::inbound::{convert, is_conversation};
use crate::outbound::MAX_MESSAGE_CHARS;
use crate::rest::{Rest, percent_encode};
use crate::threads::{Place, Threads};

/// The most messages one history call returns (Discord's page size).
pub(crate) const MAX_HISTORY: usize = 100;

/// The conversation a caller names: a thread of the channel, or the channel itself.
pub(crate) fn conversation(threads: &Threads, thread: Option<&ThreadId>) -> Result<u64> {
    let Some(thread) = thread else {
        return Ok(threads.channel());
    };
    let id: u64 = thread.as_str().parse().map_err(|_| Error::InvalidInput {
        field: "thread_id",
        message: format!("{:?} is not a Discord id", thread.as_str()),
    })?;
    match threads.place(id) {
        Some(Place::Elsewhere) => Err(Error::InvalidInput {
            field: "thread_id",
            message: format!("{id} is not a thread of channel {}", threads.channel()),
        }),
        _ => Ok(id),
    }
}

fn message_id(message: &MessageId) -> Result<u64> {
    message.as_str().parse().map_err(|_| Error::InvalidInput {
        field: "message",
        message: format!("{:?} is not a Discord id", message.as_str()),
    })
}

/// Adds `emoji` (a Unicode emoji) to a message as the bot.
pub(crate) async fn react(
    rest: &Rest,
    retry: &RetryPolicy,
    conversation: u64,
    message: &MessageId,
    emoji: &str,
) -> Result<()> {
    if emoji.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "emoji",
            message: "must not be empty".into(),
        });
    }
    let path = format!(
        "/channels/{conversation}/messages/{}/reactions/{}/@me",
        message_id(message)?,
        percent_encode(emoji.trim())
    );
    rest.call_retried(retry, Method::PUT, &path, None, "react")
        .await?;
    Ok(())
}

/// Replaces the text of a message the bot sent.
pub(crate) async fn edit(
    rest: &Rest,
    retry: &RetryPolicy,
    conversation: u64,
    message: &MessageId,
    text: &str,
) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "text",
            message: "an edit needs text".into(),
        });
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::InvalidInput {
            field: "text",
            message: format!("an edit must fit one message ({MAX_MESSAGE_CHARS} characters)"),
        });
    }
    let path = format!("/channels/{conversation}/messages/{}", message_id(message)?);
    let body = json!({ "content": text, "allowed_mentions": crate::outbound::no_mentions() });
    rest.call_retried(retry, Method::PATCH, &path, Some(&body), "edit")
        .await?;
    Ok(())
}

/// Shows the bot typing in a conversation (Discord shows it for about 10 s).
pub(crate) async fn typing(rest: &Rest, retry: &RetryPolicy, conversation: u64) -> Result<()> {
    let path = format!("/channels/{conversation}/typing");
    rest.call_retried(retry, Method::POST, &path, None, "typing")
        .await?;
    Ok(())
}

/// The latest messages of a conversation, both directions, oldest first.
pub(crate) async fn history(
    rest: &Rest,
    retry: &RetryPolicy,
    threads: &Threads,
    query: &HistoryQuery,
) -> Result<Vec<InboundMessage>> {
    let conversation = conversation(threads, query.thread_id.as_ref())?;
    let limit = query.limit.clamp(1, MAX_HISTORY);
    let path = format!("/channels/{conversation}/messages?limit={limit}");
    let page = rest
        .call_retried(retry, Method::GET, &path, None, "history")
        .await?;
    let mut messages: Vec<Message> = serde_json::from_value(page).map_err(|e| {
        Error::backend(
            crate::KIND,
            "history: Discord answered with messages we cannot read",
            e,
        )
    })?;
    messages.sort_by_key(|m| m.id.get());
    let thread = (conversation != threads.channel()).then_some(conversation);
    Ok(messages
        .iter()
        .filter(|m| is_conversation(m))
        .map(|m| convert(m, thread))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_conversations() {
        let threads = Threads::new(1);
        threads.learn(2, Some(1));
        threads.learn(3, Some(9));
        assert_eq!(conversation(&threads, None).unwrap(), 1);
        assert_eq!(
            conversation(&threads, Some(&ThreadId::new("2"))).unwrap(),
            2
        );
        assert!(conversation(&threads, Some(&ThreadId::new("3"))).is_err());
        assert!(conversation(&threads, Some(&ThreadId::new("x"))).is_err());
    }
}
