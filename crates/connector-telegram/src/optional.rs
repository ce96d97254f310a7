//! The optional capabilities: reactions (`setMessageReaction`), edits (`editMessageText`),
//! typing (`sendChatAction`) and files out (`sendPhoto` for images, `sendDocument` for the
//! rest, multipart). History is not here:
//! the Bot API has no way to read a chat's past messages.

use connector_core::attachments::LocalFile;
use connector_core::retry::RetryPolicy;
use connector_core::{Error, MessageId, Result, ThreadId};
use serde_json::{Value, json};

use crate::api::Api;
use crate::markup;
use crate::outbound::{Place, message_id, parse_message_id, thread_number};
use crate::threads::Threads;

/// The largest file a bot may upload through the Bot API (50 MB).
pub(crate) const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;

/// Sets the bot's reaction on `message` to `emoji` (Telegram keeps one per bot).
pub(crate) async fn react(
    api: &Api,
    retry: &RetryPolicy,
    chat_id: i64,
    message: &MessageId,
    emoji: &str,
) -> Result<()> {
    let params = json!({
        "chat_id": chat_id,
        "message_id": parse_message_id(message)?,
        "reaction": [{ "type": "emoji", "emoji": emoji }],
    });
    api.call_retried(retry, "setMessageReaction", &params, "react")
        .await
        .map(drop)
}

/// Replaces the text of the bot's `message` with `text` (Markdown, rendered as outbound
/// text is); an edit to the same text is not an error.
pub(crate) async fn edit(
    api: &Api,
    retry: &RetryPolicy,
    chat_id: i64,
    message: &MessageId,
    text: &str,
) -> Result<()> {
    let parts = markup::split(text)?;
    if parts.len() > 1 {
        return Err(Error::InvalidInput {
            field: "text",
            message: format!(
                "an edit must fit one Telegram message ({} UTF-16 units after rendering)",
                markup::TELEGRAM_LIMIT
            ),
        });
    }
    let params = json!({
        "chat_id": chat_id,
        "message_id": parse_message_id(message)?,
        "text": markup::to_html(text),
        "parse_mode": "HTML",
        "link_preview_options": { "is_disabled": true },
    });
    match api
        .call_retried(retry, "editMessageText", &params, "edit a message")
        .await
    {
        Ok(_) => Ok(()),
        Err(Error::Rejected { reason, .. }) if reason.contains("message is not modified") => Ok(()),
        Err(error) => Err(error),
    }
}

/// Shows "typing…" in the chat, or in a forum topic.
pub(crate) async fn typing(
    api: &Api,
    retry: &RetryPolicy,
    chat_id: i64,
    threads: &Threads,
    thread: Option<&ThreadId>,
) -> Result<()> {
    let mut params = json!({ "chat_id": chat_id, "action": "typing" });
    // Only a topic has a place for the indicator; a reply chain shows it in the chat.
    if threads.is_forum()
        && let Some(topic) = thread_number(thread)?
        && let Ok(crate::threads::Target::Topic(topic)) =
            threads.target(&ThreadId::new(topic.to_string()))
    {
        params["message_thread_id"] = json!(topic);
    }
    api.call_retried(retry, "sendChatAction", &params, "show typing")
        .await
        .map(drop)
}

/// The largest photo Telegram takes with `sendPhoto` (10 MB); larger images go as documents.
const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Uploads `file` at `place`: a PNG or JPEG as a photo (`sendPhoto`; if Telegram cannot
/// process it, as a document after all), anything else as a document (`sendDocument`).
/// Answers the message's id. A lost answer is [`Error::MaybeDelivered`] (not repeated).
pub(crate) async fn send_file(
    api: &Api,
    retry: &RetryPolicy,
    chat_id: i64,
    place: &Place,
    file: &LocalFile,
) -> Result<i64> {
    let name = file.filename.to_ascii_lowercase();
    let image = [".png", ".jpg", ".jpeg"]
        .iter()
        .any(|ext| name.ends_with(ext));
    if image && file.data.len() <= MAX_PHOTO_BYTES {
        match upload(api, retry, chat_id, place, file, "sendPhoto", "photo").await {
            Err(Error::Rejected { reason, .. }) => {
                tracing::debug!(%reason, "not taken as a photo; sending it as a document");
            }
            sent => return sent,
        }
    }
    upload(api, retry, chat_id, place, file, "sendDocument", "document").await
}

async fn upload(
    api: &Api,
    retry: &RetryPolicy,
    chat_id: i64,
    place: &Place,
    file: &LocalFile,
    method: &str,
    field: &'static str,
) -> Result<i64> {
    let fields = place.apply(json!({}));
    let message = retry
        .run(|_| async {
            let mut form = reqwest::multipart::Form::new().text("chat_id", chat_id.to_string());
            if let Some(object) = fields.as_object() {
                for (name, value) in object {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    form = form.text(name.clone(), text);
                }
            }
            let part =
                reqwest::multipart::Part::bytes(file.data.clone()).file_name(file.filename.clone());
            form = form.part(field, part);
            api.call_multipart(method, form)
                .await
                .map_err(|f| f.into_send_error("send a file"))
        })
        .await?;
    message_id(&message, method)
}
