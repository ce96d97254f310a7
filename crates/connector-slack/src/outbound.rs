//! Posting a message without ever posting it twice.
//!
//! Every part carries its idempotency key in Slack's message `metadata`
//! (`event_type` [`METADATA_EVENT`], `event_payload.key`). When a `chat.postMessage` may have
//! taken effect without an answer coming back (the connection dropped after the request went
//! out, a 5xx), the part is not posted again blindly: the recent messages of the channel (or
//! the thread) are read back with `include_all_metadata` first, and a message carrying the key
//! is the answer. So a lost answer never makes a double. A 429 is waited out (its
//! `Retry-After`, through core's `RetryPolicy`): Slack did not take the call.
//!
//! Parts are at most [`MAX_MESSAGE_CHARS`] characters of Markdown; escaped for `mrkdwn` they
//! stay under 20 000 characters even if every character were an `&` (five characters each),
//! well below the 40 000 at which Slack truncates a message's `text`. Slack counts the text as
//! it stores it, escapes included, so the source length alone would not be a safe bound.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use connector_core::retry::RetryPolicy;
use connector_core::{Error, Result};
use serde_json::{Value, json};

use crate::KIND;
use crate::web_api::{Form, WebApi, str_of};

/// The most characters of Markdown in one message (see the module docs).
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// The metadata `event_type` of the connector's messages.
pub(crate) const METADATA_EVENT: &str = "orchestrator_connector_message";

/// How far back a lookup for a possibly posted message reads.
const LOOKUP_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The `metadata` argument carrying `key`.
pub(crate) fn metadata(key: &str) -> String {
    json!({"event_type": METADATA_EVENT, "event_payload": {"key": key}}).to_string()
}

/// The key a listed message carries in its metadata, if it is one of ours.
pub(crate) fn key_of(message: &Value) -> Option<&str> {
    let metadata = message.get("metadata")?;
    if str_of(metadata, "event_type") != Some(METADATA_EVENT) {
        return None;
    }
    metadata.get("event_payload")?.get("key")?.as_str()
}

/// What one message to post holds.
#[derive(Debug, Clone)]
pub(crate) struct Post<'a> {
    pub(crate) channel: &'a str,
    pub(crate) thread_ts: Option<&'a str>,
    /// `mrkdwn` text (already escaped).
    pub(crate) text: String,
    /// Block Kit blocks, if any.
    pub(crate) blocks: Option<Value>,
    /// The idempotency key.
    pub(crate) key: String,
}

impl Post<'_> {
    fn form(&self) -> Form {
        let mut form: Form = vec![
            ("channel", self.channel.to_owned()),
            ("text", self.text.clone()),
            ("parse", "none".to_owned()),
            ("link_names", "false".to_owned()),
            ("unfurl_links", "false".to_owned()),
            ("unfurl_media", "false".to_owned()),
            ("metadata", metadata(&self.key)),
        ];
        if let Some(thread) = self.thread_ts {
            form.push(("thread_ts", thread.to_owned()));
        }
        if let Some(blocks) = &self.blocks {
            form.push(("blocks", blocks.to_string()));
        }
        form
    }
}

/// Seconds since the epoch as a Slack `ts` bound, `window` ago.
fn ts_ago(window: Duration) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(window);
    format!("{}.000000", now.as_secs())
}

/// Posts `post` and answers its `ts` (see the module docs). `uncertain`: an earlier attempt
/// may have posted it already, so the channel is read back for its key first.
pub(crate) async fn post(
    api: &WebApi,
    retry: &RetryPolicy,
    post: &Post<'_>,
    uncertain: bool,
) -> Result<String> {
    let form = post.form();
    let oldest = ts_ago(LOOKUP_WINDOW);
    let mut uncertain = uncertain;
    let mut attempt = 1;
    loop {
        if uncertain {
            // An earlier attempt may have posted it: read the channel back before posting.
            match find_by_key(api, retry, post, &oldest).await {
                Ok(Some(ts)) => {
                    tracing::debug!(ts, "a post whose answer was lost had taken effect");
                    return Ok(ts);
                }
                Ok(None) => {}
                Err(lookup) => return Err(maybe_delivered(&lookup)),
            }
        }
        match api.call("chat.postMessage", &form).await {
            Ok(answer) => {
                return str_of(&answer.body, "ts")
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Error::backend_message(KIND, "chat.postMessage answered no ts")
                    });
            }
            Err(failure) => {
                uncertain = failure.maybe_done;
                match retry.delay_after(&failure.error, attempt) {
                    Some(delay) => {
                        tracing::debug!(attempt, ?delay, error = %failure.error, "post retried");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None if uncertain => {
                        return match find_by_key(api, retry, post, &oldest).await {
                            Ok(Some(ts)) => Ok(ts),
                            Ok(None) => Err(failure.error),
                            Err(lookup) => Err(maybe_delivered(&lookup)),
                        };
                    }
                    None => return Err(failure.error),
                }
            }
        }
    }
}

/// The error for a post that may have taken effect, when the channel could not be read back.
fn maybe_delivered(lookup: &Error) -> Error {
    Error::MaybeDelivered {
        kind: KIND.into(),
        reason: format!(
            "chat.postMessage got no answer and the channel could not be read back to check \
             ({lookup}); sending the same message again (same idempotency key) checks first"
        ),
        source: None,
    }
}

/// The `ts` of a message posted since `oldest` carrying `post`'s key, read from the channel's
/// (or the thread's) recent messages.
async fn find_by_key(
    api: &WebApi,
    retry: &RetryPolicy,
    post: &Post<'_>,
    oldest: &str,
) -> Result<Option<String>> {
    let mut cursor = String::new();
    loop {
        let mut form: Form = vec![
            ("channel", post.channel.to_owned()),
            ("oldest", oldest.to_owned()),
            ("include_all_metadata", "true".to_owned()),
            ("limit", "200".to_owned()),
        ];
        let method = match post.thread_ts {
            Some(thread) => {
                form.push(("ts", thread.to_owned()));
                "conversations.replies"
            }
            None => "conversations.history",
        };
        if !cursor.is_empty() {
            form.push(("cursor", cursor.clone()));
        }
        let page = api.body(retry, method, &form).await?;
        let found = page
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| key_of(m) == Some(post.key.as_str()))
            .and_then(|m| str_of(m, "ts"))
            .map(str::to_owned);
        if found.is_some() {
            return Ok(found);
        }
        cursor = page
            .get("response_metadata")
            .and_then(|r| str_of(r, "next_cursor"))
            .unwrap_or_default()
            .to_owned();
        if cursor.is_empty() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_round_trips_through_metadata() {
        let metadata: Value = serde_json::from_str(&metadata("k-1")).unwrap();
        let message = json!({"ts": "1.0", "metadata": metadata});
        assert_eq!(key_of(&message), Some("k-1"));
        assert_eq!(key_of(&json!({"metadata": {"event_type": "other"}})), None);
    }
}
