//! Sending: one message part with a nonce, and finding (or starting) the thread a reply goes to.
//!
//! Every part is `POST /channels/{id}/messages` with `nonce` = the part's idempotency key and
//! `enforce_nonce: true`: Discord answers a repeat within minutes with the message it already
//! created, so a retry after a lost answer never posts twice. Files go with the first part as
//! `multipart/form-data` (`payload_json` + `files[n]`), under the same nonce.

use connector_core::attachments::{self, LinkGap, Prepared, UploadLimit, invalid_attachment};
use connector_core::retry::RetryPolicy;
use connector_core::{Attachment, Error, IdempotencyKey, MessageId, Result, ThreadId};
use serde_json::{Value, json};
use serenity_reqwest::Method;

use crate::error::{MISSING_PERMISSIONS, THREAD_ALREADY_CREATED, UNKNOWN_CHANNEL};
use crate::rest::{Payload, Rest, Upload};
use crate::threads::{Place, Threads};

/// The longest message Discord lets a bot post, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// The longest thread name Discord accepts, in characters.
pub(crate) const MAX_THREAD_NAME: usize = 100;

/// The largest request Discord takes when sending a message (message.mdx, Create Message,
/// Limitations: 25 MiB), so the most a message's files may weigh together.
pub(crate) const MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;

/// The most files one Discord message may carry.
pub(crate) const MAX_FILES: usize = 10;

/// What separates a message's text from its links: a line break.
pub(crate) const LINK_GAP: LinkGap = LinkGap::Line;

/// Reads the files of `attachments` and collects its links (Discord has no link attachments:
/// they go in the text), refusing a missing or unreadable file and more than Discord takes
/// (10 files, 25 MiB in all) before anything is sent.
pub(crate) async fn prepare_attachments(attachments: &[Attachment]) -> Result<Prepared<Upload>> {
    let limit = UploadLimit::all_files(
        MAX_UPLOAD_BYTES,
        format!(
            "a message's files may weigh at most {MAX_UPLOAD_BYTES} bytes (25 MiB) together on \
             Discord"
        ),
    );
    let prepared = attachments::prepare(attachments, Some(&limit)).await?;
    if prepared.files.len() > MAX_FILES {
        return Err(invalid_attachment(format!(
            "{} files: Discord takes at most {MAX_FILES} per message",
            prepared.files.len()
        )));
    }
    Ok(prepared.map_files(|file| Upload {
        filename: file.filename,
        data: file.data,
    }))
}

/// Posts `text` (and `uploads`, if any) in `channel` (the channel, or a thread if `in_thread`)
/// with `key` as its nonce; every retry sends the same nonce, so the message is posted once.
///
/// Discord's 50013 Missing Permissions fails with [`Error::Rejected`] naming the permission
/// (SEND_MESSAGES, SEND_MESSAGES_IN_THREADS, or ATTACH_FILES with files).
pub(crate) async fn send_part(
    rest: &Rest,
    retry: &RetryPolicy,
    channel: u64,
    in_thread: bool,
    text: &str,
    uploads: &[Upload],
    key: &IdempotencyKey,
) -> Result<MessageId> {
    let path = format!("/channels/{channel}/messages");
    let mut body = json!({
        "content": text,
        "nonce": key.as_str(),
        "enforce_nonce": true,
        "allowed_mentions": no_mentions(),
    });
    let payload = if uploads.is_empty() {
        Payload::Json(&body)
    } else {
        body["attachments"] = uploads
            .iter()
            .enumerate()
            .map(|(id, upload)| json!({ "id": id, "filename": upload.filename }))
            .collect();
        Payload::Form(&body, uploads)
    };
    let answer = rest
        .call_retried_with(retry, Method::POST, &path, Some(payload), "send")
        .await
        .map_err(|refusal| {
            if refusal.code != Some(MISSING_PERMISSIONS) {
                return refusal.error;
            }
            let mut needed = if in_thread {
                "SEND_MESSAGES_IN_THREADS"
            } else {
                "SEND_MESSAGES"
            }
            .to_owned();
            if !uploads.is_empty() {
                needed.push_str(" or ATTACH_FILES");
            }
            missing_permission(&needed, channel, "send")
        })?;
    id_of(&answer, "send").map(MessageId::new)
}

/// Posts `text` as a reply to `message` (in its conversation), pinging nobody; a failure is
/// logged (what the reply says is a courtesy: the flow goes on without it).
pub(crate) async fn reply_to(
    rest: &Rest,
    retry: &RetryPolicy,
    message: &serenity::all::Message,
    text: &str,
    what: &str,
) {
    let body = json!({
        "content": text,
        "message_reference": { "message_id": message.id.to_string(), "fail_if_not_exists": false },
        "allowed_mentions": no_mentions(),
    });
    let path = format!("/channels/{}/messages", message.channel_id.get());
    if let Err(refusal) = rest
        .call_retried(retry, Method::POST, &path, Some(&body), what)
        .await
    {
        tracing::warn!(error = %refusal.error, "{what}: the reply could not be posted");
    }
}

/// `allowed_mentions` that let the text ping nobody: a `<@id>`, `@everyone` or `@here` in what
/// the orchestrator sends (often text it got from elsewhere) shows as written but notifies no
/// one (docs, message resource, "Allowed Mentions Object").
pub(crate) fn no_mentions() -> serde_json::Value {
    json!({ "parse": [] })
}

/// The error for Discord's 50013 Missing Permissions while doing `what` in `channel`.
pub(crate) fn missing_permission(permission: &str, channel: u64, what: &str) -> Error {
    Error::Rejected {
        kind: crate::KIND.into(),
        reason: format!(
            "{what}: missing permission {permission} in channel {channel} (Discord error 50013 \
             Missing Permissions): allow it for the bot's role in the channel's or the server's \
             settings"
        ),
    }
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
        Err(refusal) if refusal.code == Some(MISSING_PERMISSIONS) => {
            return Err(missing_permission(
                "CREATE_PUBLIC_THREADS",
                channel,
                "start a thread",
            ));
        }
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

pub(crate) fn id_of(answer: &Value, what: &str) -> Result<String> {
    answer
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::backend_message(crate::KIND, format!("{what}: Discord's answer has no id"))
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

    #[test]
    fn links_end_the_text() {
        let prepared = Prepared::<Upload> {
            files: Vec::new(),
            links: vec!["https://a.example/1".into(), "https://b.example/2".into()],
        };
        assert_eq!(
            prepared.text_with_links("see:\n", LINK_GAP),
            "see:\nhttps://a.example/1\nhttps://b.example/2"
        );
        assert_eq!(
            prepared.text_with_links(" ", LINK_GAP),
            "https://a.example/1\nhttps://b.example/2"
        );
        assert_eq!(
            Prepared::<Upload>::default().text_with_links("as is ", LINK_GAP),
            "as is "
        );
    }
}
