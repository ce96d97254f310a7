//! Sending: one message part with a nonce, and finding (or starting) the thread a reply goes to.
//!
//! Every part is `POST /channels/{id}/messages` with `nonce` = the part's idempotency key and
//! `enforce_nonce: true`: Discord answers a repeat within minutes with the message it already
//! created, so a retry after a lost answer never posts twice.

use connector_core::retry::RetryPolicy;
use connector_core::{Error, IdempotencyKey, MessageId, Result, ThreadId};
use serde_json::{Value, json};
use serenity_reqwest::Method;

use crate::errors::{THREAD_ALREADY_CREATED, UNKNOWN_CHANNEL};
use crate::rest::Rest;
use crate::threads::{Place, Threads};

/// The longest thread name Discord accepts, in characters.
pub(crate) const MAX_THREAD_NAME: usize = 100;

/// Posts `text` in `channel` (the channel or a thread) with `key` as its nonce.
pub(crate) async fn send_part(
    rest: &Rest,
    retry: &RetryPolicy,
    channel: u64,
    text: &str,
    key: &IdempotencyKey,
) -> Result<MessageId> {
    let path = format!("/channels/{channel}/messages");
    let body = json!({
        "content": text,
        "nonce": key.as_str(),
        "enforce_nonce": true,
    });
    let answer = rest
        .call_retried(retry, Method::POST, &path, Some(&body), "send")
        .await?;
    id_of(&answer, "send").map(MessageId::new)
}

/// The thread to post into for a caller's `thread_id`: a thread of the channel, or a message of
/// the channel, from which a thread is started (a thread started from a message has its id).
pub(crate) async fn thread_target(
    rest: &Rest,
    retry: &RetryPolicy,
    threads: &Threads,
    thread: &ThreadId,
) -> Result<u64> {
    let invalid = |message: String| Error::InvalidInput {
        field: "thread_id",
        message,
    };
    let id: u64 = thread
        .as_str()
        .parse()
        .map_err(|_| invalid(format!("{:?} is not a Discord id", thread.as_str())))?;
    match threads.place(id) {
        Some(Place::Thread(thread)) => return Ok(thread),
        Some(Place::Channel) => {
            return Err(invalid(
                "names the channel itself: leave thread_id out to post in the channel".into(),
            ));
        }
        Some(Place::Elsewhere) | None => {}
    }
    let path = format!("/channels/{id}");
    match rest
        .call_retried(retry, Method::GET, &path, None, "look up the thread")
        .await
    {
        Ok(channel) => {
            let parent = channel
                .get("parent_id")
                .and_then(Value::as_str)
                .and_then(|p| p.parse().ok());
            threads.learn(id, parent);
            if parent == Some(threads.channel()) {
                Ok(id)
            } else {
                Err(invalid(format!(
                    "{id} is not a thread of channel {}",
                    threads.channel()
                )))
            }
        }
        Err(refusal) if refusal.code == Some(UNKNOWN_CHANNEL) || refusal.status == Some(404) => {
            start_thread(rest, retry, threads, id).await
        }
        Err(refusal) => Err(refusal.error),
    }
}

/// Starts a thread from message `message` of the channel, named after its text.
async fn start_thread(
    rest: &Rest,
    retry: &RetryPolicy,
    threads: &Threads,
    message: u64,
) -> Result<u64> {
    let channel = threads.channel();
    let path = format!("/channels/{channel}/messages/{message}");
    let starter = rest
        .call_retried(
            retry,
            Method::GET,
            &path,
            None,
            "look up the thread's message",
        )
        .await
        .map_err(|refusal| {
            if refusal.status == Some(404) {
                Error::InvalidInput {
                    field: "thread_id",
                    message: format!(
                        "{message} is neither a thread nor a message of channel {channel}"
                    ),
                }
            } else {
                refusal.error
            }
        })?;
    let name = thread_name(starter.get("content").and_then(Value::as_str).unwrap_or(""));
    let path = format!("/channels/{channel}/messages/{message}/threads");
    let body = json!({ "name": name });
    let started = rest
        .call_retried(retry, Method::POST, &path, Some(&body), "start a thread")
        .await;
    let thread = match started {
        Ok(thread) => id_of(&thread, "start a thread")?.parse().unwrap_or(message),
        // Started meanwhile (by the operator, or by an earlier attempt whose answer was lost).
        Err(refusal) if refusal.code == Some(THREAD_ALREADY_CREATED) => message,
        Err(refusal) => return Err(refusal.error),
    };
    threads.learn(thread, Some(channel));
    Ok(thread)
}

/// A thread name from its starting message: the first line, at most 100 characters.
pub(crate) fn thread_name(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let name: String = line.chars().take(MAX_THREAD_NAME).collect();
    if name.trim().is_empty() {
        "thread".to_owned()
    } else {
        name
    }
}

fn id_of(answer: &Value, what: &str) -> Result<String> {
    answer
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Backend {
            kind: crate::KIND.into(),
            message: format!("{what}: Discord's answer has no id"),
            source: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names() {
        assert_eq!(thread_name("\n  deploy? \nmore"), "deploy?");
        assert_eq!(thread_name(""), "thread");
        assert_eq!(
            thread_name(&"é".repeat(150)).chars().count(),
            MAX_THREAD_NAME
        );
    }
}
