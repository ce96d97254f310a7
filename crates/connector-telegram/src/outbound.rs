//! Outbound text: the orchestrator's Markdown rendered in HTML parse mode ([`markup`]), split
//! where Telegram counts, each part posted with `sendMessage` into the message's place (its
//! forum topic, or as a reply in its reply chain).
//!
//! The Bot API has no idempotency key: a part whose answer was lost is not posted again (see
//! [`Api::send_retried`]); the caller gets [`Error::MaybeDelivered`], or
//! [`Error::PartialSend`] wrapping it when earlier parts went out.

use connector_core::retry::RetryPolicy;
use connector_core::{Error, MessageId, Result, ThreadId};
use serde_json::{Map, Value, json};

use crate::api::Api;
use crate::markup;
use crate::threads::{Target, Threads};
use crate::{KIND, threads};

/// Telegram's answer to a `message_thread_id` that names no topic.
const THREAD_NOT_FOUND: &str = "message thread not found";

/// Where a message goes: the chat, and in it a thread or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The thread id the receipt names (`None`: the chat itself, or General).
    pub(crate) thread: Option<i64>,
    /// The parameters that put a message there (`message_thread_id` or `reply_parameters`).
    fields: Map<String, Value>,
}

impl Place {
    /// The chat itself.
    pub(crate) fn chat() -> Self {
        Self {
            thread: None,
            fields: Map::new(),
        }
    }

    fn topic(topic: i64) -> Self {
        let mut fields = Map::new();
        fields.insert("message_thread_id".into(), json!(topic));
        Self {
            thread: Some(topic),
            fields,
        }
    }

    fn reply_to(root: i64) -> Self {
        let mut fields = Map::new();
        fields.insert("reply_parameters".into(), json!({ "message_id": root }));
        Self {
            thread: Some(root),
            fields,
        }
    }

    /// `params` with this place's fields added.
    pub(crate) fn apply(&self, mut params: Value) -> Value {
        if let Some(object) = params.as_object_mut() {
            object.extend(self.fields.clone());
        }
        params
    }

    /// The thread id for a receipt.
    pub(crate) fn thread_id(&self) -> Option<ThreadId> {
        self.thread.map(|t| ThreadId::new(t.to_string()))
    }
}

/// What sending needs.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) api: Api,
    pub(crate) retry: RetryPolicy,
    pub(crate) chat_id: i64,
}

impl Sender {
    /// The place of `thread` (`None`: the chat), starting a forum topic if it names a message
    /// of General.
    pub(crate) async fn place(
        &self,
        threads: &Threads,
        thread: Option<&ThreadId>,
    ) -> Result<Place> {
        let Some(thread) = thread else {
            return Ok(Place::chat());
        };
        match threads.target(thread)? {
            Target::Topic(topic) => Ok(Place::topic(topic)),
            Target::ReplyTo(root) => Ok(Place::reply_to(root)),
            Target::Start { root, name } => self.start_topic(threads, root, &name).await,
        }
    }

    /// Starts a forum topic for message `root`.
    async fn start_topic(&self, threads: &Threads, root: i64, name: &str) -> Result<Place> {
        let params = json!({ "chat_id": self.chat_id, "name": name });
        let topic = self
            .api
            .send_retried(
                &self.retry,
                "createForumTopic",
                &params,
                "start a forum topic",
            )
            .await?;
        let id = topic
            .get("message_thread_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                Error::backend_message(KIND, "createForumTopic answered no message_thread_id")
            })?;
        threads.started(root, id).await?;
        Ok(Place::topic(id))
    }

    /// Posts `markdown` at `place`, split into parts; answers their ids. A topic id that
    /// Telegram does not know is taken for a message of General the connector never saw, and a
    /// topic is started for it.
    pub(crate) async fn send_text(
        &self,
        threads: &Threads,
        place: &mut Place,
        markdown: &str,
    ) -> Result<Vec<MessageId>> {
        let parts = markup::split(markdown)?;
        let total = parts.len();
        let mut ids = Vec::with_capacity(total);
        for (index, part) in parts.iter().enumerate() {
            let html = markup::to_html(part);
            let sent = match self.post(place, &html).await {
                Err(Error::Rejected { reason, .. })
                    if index == 0
                        && reason.contains(THREAD_NOT_FOUND)
                        && threads.is_forum()
                        && place.thread.is_some() =>
                {
                    let root = place.thread.unwrap_or_default();
                    let name = Threads::unseen_topic_name(root);
                    *place = self.start_topic(threads, root, &name).await?;
                    self.post(place, &html).await
                }
                other => other,
            };
            match sent {
                Ok(id) => {
                    threads.sent(id, place.thread).await;
                    ids.push(MessageId::new(id.to_string()));
                }
                Err(error) if index == 0 => return Err(error),
                Err(error) => {
                    return Err(Error::PartialSend {
                        sent: index,
                        total,
                        source: Box::new(error),
                    });
                }
            }
        }
        Ok(ids)
    }

    /// One `sendMessage` of `html` at `place`.
    pub(crate) async fn post(&self, place: &Place, html: &str) -> Result<i64> {
        self.post_with(place, html, None).await
    }

    /// One `sendMessage` of `html` at `place` with an inline keyboard.
    pub(crate) async fn post_with(
        &self,
        place: &Place,
        html: &str,
        keyboard: Option<Value>,
    ) -> Result<i64> {
        let mut params = place.apply(json!({
            "chat_id": self.chat_id,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": { "is_disabled": true },
        }));
        if let Some(keyboard) = keyboard {
            params["reply_markup"] = keyboard;
        }
        let message = self
            .api
            .send_retried(&self.retry, "sendMessage", &params, "send a message")
            .await?;
        message_id(&message, "sendMessage")
    }

    /// A plain reply to message `to` (a pairing code, why an answer was not taken), logged
    /// rather than failed.
    pub(crate) async fn reply_plain(&self, chat_id: i64, to: i64, text: &str, what: &str) {
        let params = json!({
            "chat_id": chat_id,
            "text": text,
            "reply_parameters": { "message_id": to, "allow_sending_without_reply": true },
        });
        if let Err(error) = self
            .api
            .send_retried(&self.retry, "sendMessage", &params, what)
            .await
        {
            tracing::warn!(%error, "cannot {what}");
        }
    }
}

/// The `message_id` of a `Message` answer.
pub(crate) fn message_id(message: &Value, method: &str) -> Result<i64> {
    message
        .get("message_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::backend_message(KIND, format!("{method} answered no message_id")))
}

/// A message id as Telegram's integer.
pub(crate) fn parse_message_id(message: &MessageId) -> Result<i64> {
    message
        .as_str()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::InvalidInput {
            field: "message",
            message: format!("{:?} is not a Telegram message id", message.as_str()),
        })
}

/// The forum topic or reply chain `thread` names, for the optional calls.
pub(crate) fn thread_number(thread: Option<&ThreadId>) -> Result<Option<i64>> {
    thread.map(threads::parse).transpose()
}
