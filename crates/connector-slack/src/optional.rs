//! The optional capabilities: reactions (`reactions.add`), edits (`chat.update`), history
//! (`conversations.history` / `conversations.replies`) and files out by Slack's upload v2
//! (`files.getUploadURLExternal`, the bytes to its `upload_url`, `files.completeUploadExternal`
//! into the channel or thread). Typing is not offered: Slack gives bots no typing indicator
//! outside the Assistant API's `assistant.threads.setStatus`, which works only in assistant
//! threads, not in a channel.

use connector_core::attachments::LocalFile;
use connector_core::retry::RetryPolicy;
use connector_core::{Error, HistoryQuery, InboundMessage, MessageId, Result, ThreadId};
use serde_json::{Value, json};

use crate::KIND;
use crate::inbound::{Identity, Kind, convert, kind, unescape};
use crate::markup::{escape, to_mrkdwn};
use crate::web_api::{Form, WebApi, str_of};

/// Slack's emoji name for `emoji`: `:thumbsup:` and `thumbsup` as they are, a few common
/// Unicode emoji by their Slack names.
pub(crate) fn emoji_name(emoji: &str) -> Result<String> {
    let trimmed = emoji.trim().trim_matches(':');
    let known = [
        ("👍", "+1"),
        ("👎", "-1"),
        ("✅", "white_check_mark"),
        ("❌", "x"),
        ("👀", "eyes"),
        ("🎉", "tada"),
        ("❤️", "heart"),
        ("🚀", "rocket"),
        ("⏳", "hourglass_flowing_sand"),
        ("🔥", "fire"),
    ];
    if let Some((_, name)) = known.iter().find(|(e, _)| *e == trimmed) {
        return Ok((*name).to_owned());
    }
    if !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '\''))
    {
        return Ok(trimmed.to_owned());
    }
    Err(Error::InvalidInput {
        field: "emoji",
        message: format!(
            "{emoji:?} is not a Slack emoji name (e.g. \"thumbsup\" or \":eyes:\") nor one of the \
             Unicode emoji the connector knows the name of"
        ),
    })
}

/// Adds the bot's reaction to a message.
pub(crate) async fn react(
    api: &WebApi,
    retry: &RetryPolicy,
    channel: &str,
    message: &MessageId,
    emoji: &str,
) -> Result<()> {
    let form = vec![
        ("channel", channel.to_owned()),
        ("timestamp", message.as_str().to_owned()),
        ("name", emoji_name(emoji)?),
    ];
    match api.call_retried(retry, "reactions.add", &form).await {
        Ok(_) => Ok(()),
        // Adding a reaction twice is done already.
        Err(failure) if failure.code.as_deref() == Some("already_reacted") => Ok(()),
        Err(failure) => Err(failure.error),
    }
}

/// Replaces the text of one of the bot's messages.
pub(crate) async fn edit(
    api: &WebApi,
    retry: &RetryPolicy,
    channel: &str,
    message: &MessageId,
    text: &str,
) -> Result<()> {
    let form = vec![
        ("channel", channel.to_owned()),
        ("ts", message.as_str().to_owned()),
        ("text", to_mrkdwn(text)),
        ("parse", "none".to_owned()),
        ("link_names", "false".to_owned()),
    ];
    api.body(retry, "chat.update", &form).await.map(drop)
}

/// The latest messages of the channel or a thread, oldest first, as inbound messages (the
/// bot's own messages too, other bots' and notices left out).
pub(crate) async fn history(
    api: &WebApi,
    retry: &RetryPolicy,
    channel: &str,
    me: &Identity,
    query: &HistoryQuery,
) -> Result<Vec<InboundMessage>> {
    let limit = query.limit.clamp(1, 200);
    let mut form: Form = vec![
        ("channel", channel.to_owned()),
        ("limit", limit.to_string()),
    ];
    let method = match &query.thread_id {
        Some(thread) => {
            form.push(("ts", thread.as_str().to_owned()));
            "conversations.replies"
        }
        None => "conversations.history",
    };
    let page = api.body(retry, method, &form).await?;
    let mut messages: Vec<InboundMessage> = page
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| matches!(kind(m, me), Kind::New | Kind::Own))
        .filter_map(|m| convert(m, unescape(str_of(m, "text").unwrap_or_default())))
        .collect();
    messages.sort_by_key(|m| m.ts);
    let skip = messages.len().saturating_sub(limit);
    Ok(messages.into_iter().skip(skip).collect())
}

/// Uploads `files` into the channel (or the thread) by upload v2; answers the file ids.
pub(crate) async fn upload(
    api: &WebApi,
    http: &reqwest::Client,
    retry: &RetryPolicy,
    channel: &str,
    thread: Option<&ThreadId>,
    files: &[LocalFile],
) -> Result<Vec<MessageId>> {
    let mut ids = Vec::new();
    let mut listed = Vec::new();
    for file in files {
        let form = vec![
            ("filename", file.filename.clone()),
            ("length", file.data.len().to_string()),
        ];
        let answer = api.body(retry, "files.getUploadURLExternal", &form).await?;
        let (Some(url), Some(id)) = (str_of(&answer, "upload_url"), str_of(&answer, "file_id"))
        else {
            return Err(Error::backend_message(
                KIND,
                "files.getUploadURLExternal answered no upload_url or file_id",
            ));
        };
        let sent = retry
            .run(|_| async {
                let response = http
                    .post(url)
                    .body(file.data.clone())
                    .send()
                    .await
                    .map_err(|e| Error::Transient {
                        kind: KIND.into(),
                        reason: format!("upload of {}: {e}", file.filename),
                        source: None,
                    })?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(Error::Transient {
                        kind: KIND.into(),
                        reason: format!(
                            "upload of {}: HTTP {}",
                            file.filename,
                            response.status().as_u16()
                        ),
                        source: None,
                    })
                }
            })
            .await;
        sent?;
        listed.push(json!({"id": id, "title": escape(&file.filename)}));
        ids.push(MessageId::new(id));
    }
    if listed.is_empty() {
        return Ok(ids);
    }
    let mut form = vec![
        ("files", Value::Array(listed).to_string()),
        ("channel_id", channel.to_owned()),
    ];
    if let Some(thread) = thread {
        form.push(("thread_ts", thread.as_str().to_owned()));
    }
    api.body(retry, "files.completeUploadExternal", &form)
        .await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_names() {
        assert_eq!(emoji_name(":eyes:").unwrap(), "eyes");
        assert_eq!(emoji_name("👍").unwrap(), "+1");
        assert!(emoji_name("<!channel>").is_err());
    }
}
