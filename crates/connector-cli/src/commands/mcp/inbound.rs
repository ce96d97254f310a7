//! The operator's messages on their way to the MCP client: a queue for `wait_for_message`, and
//! notifications pushed as they arrive.
//!
//! One task drains the connector's subscription into [`Inbound`], so the connector never waits
//! on an agent that does not call `wait_for_message` (a Claude Code channel reads the
//! notifications instead). Every message is both queued and notified: nothing is lost between
//! two `wait_for_message` calls, and an agent that uses both sees each message in both ways.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use connector_core::{InboundMessage, Subscription};
use rmcp::RoleServer;
use rmcp::model::{CustomNotification, ServerNotification};
use rmcp::service::Peer;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

/// How many unread messages the queue keeps; past that the oldest is dropped (and logged).
pub(crate) const QUEUE_LIMIT: usize = 10_000;

/// How many message ids are remembered with their thread, for `reply`, `react` and `edit`.
const THREAD_MEMORY: usize = 10_000;

/// The method of Claude Code's channel notifications.
pub(crate) const CHANNEL_METHOD: &str = "notifications/claude/channel";

/// The method of MCP's log message notifications.
pub(crate) const LOG_METHOD: &str = "notifications/message";

/// Operator messages not yet taken by `wait_for_message`, the threads of known messages, and
/// the client to notify.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    queue: Mutex<VecDeque<InboundMessage>>,
    arrived: Notify,
    threads: Mutex<ThreadMemory>,
    client: Mutex<Client>,
}

/// The MCP client, once it has finished initializing; notifications held until then.
#[derive(Debug, Default)]
struct Client {
    peer: Option<Peer<RoleServer>>,
    held: Vec<InboundMessage>,
    /// Whether `notifications/message` is sent (the client may turn it down with
    /// `logging/setLevel` above `info`).
    log_messages: bool,
}

/// Message id → thread (`None`: the main conversation), bounded, oldest forgotten first.
#[derive(Debug, Default)]
struct ThreadMemory {
    threads: HashMap<String, Option<String>>,
    order: VecDeque<String>,
}

impl Inbound {
    /// An empty queue; log notifications are on.
    pub(crate) fn new() -> Self {
        let inbound = Self::default();
        inbound.lock_client().log_messages = true;
        inbound
    }

    /// Drains `subscription` into the queue and the notifications until it ends.
    pub(crate) async fn pump(&self, mut subscription: Subscription) {
        while let Some(message) = subscription.recv().await {
            // Answers to questions are returned by `ask` or become permission verdicts: the
            // agent never sees them as messages.
            if message.answer.is_some() {
                continue;
            }
            self.deliver(message).await;
        }
        tracing::warn!("the connector's message stream ended");
    }

    /// Queues `message` and notifies the client (or holds the notification until it is ready).
    pub(crate) async fn deliver(&self, message: InboundMessage) {
        self.remember(
            message.message_id.as_str(),
            message.thread_id.as_ref().map(|t| t.as_str()),
        );
        {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.len() >= QUEUE_LIMIT
                && let Some(dropped) = queue.pop_front()
            {
                tracing::warn!(message = %dropped.message_id, "wait_for_message queue full: oldest unread message dropped from it (it was notified)");
            }
            queue.push_back(message.clone());
        }
        self.arrived.notify_waiters();
        let (peer, log_messages) = {
            let mut client = self.lock_client();
            match &client.peer {
                Some(peer) => (peer.clone(), client.log_messages),
                None => {
                    // Bounded: a client that never initializes must not grow this forever.
                    if client.held.len() < QUEUE_LIMIT {
                        client.held.push(message);
                    }
                    return;
                }
            }
        };
        notify(&peer, &message, log_messages).await;
    }

    /// The client finished initializing: send it the held notifications, then notify as
    /// messages arrive.
    pub(crate) async fn client_ready(&self, peer: Peer<RoleServer>) {
        let (held, log_messages) = {
            let mut client = self.lock_client();
            client.peer = Some(peer.clone());
            (std::mem::take(&mut client.held), client.log_messages)
        };
        for message in &held {
            notify(&peer, message, log_messages).await;
        }
    }

    /// Turns `notifications/message` on or off.
    pub(crate) fn set_log_messages(&self, on: bool) {
        self.lock_client().log_messages = on;
    }

    /// The next unread message, waiting at most `timeout` for one.
    pub(crate) async fn next(&self, timeout: Duration) -> Option<InboundMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(message) = self
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front()
            {
                return Some(message);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// How many messages wait in the queue.
    pub(crate) fn pending(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Records the thread of message `id` (an operator message, or one we sent).
    pub(crate) fn remember(&self, id: &str, thread: Option<&str>) {
        let mut memory = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        if memory
            .threads
            .insert(id.to_owned(), thread.map(str::to_owned))
            .is_none()
        {
            memory.order.push_back(id.to_owned());
        }
        while memory.order.len() > THREAD_MEMORY {
            if let Some(old) = memory.order.pop_front() {
                memory.threads.remove(&old);
            }
        }
    }

    /// The thread of a known message: `None` if unknown, `Some(None)` for the main conversation.
    pub(crate) fn thread_of(&self, id: &str) -> Option<Option<String>> {
        self.threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .threads
            .get(id)
            .cloned()
    }

    fn lock_client(&self) -> std::sync::MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends the channel notification and, if on, the log notification for `message`.
async fn notify(peer: &Peer<RoleServer>, message: &InboundMessage, log_messages: bool) {
    let mut notifications = vec![(CHANNEL_METHOD, channel_params(message))];
    if log_messages {
        notifications.push((LOG_METHOD, log_params(message)));
    }
    for (method, params) in notifications {
        let notification =
            ServerNotification::CustomNotification(CustomNotification::new(method, Some(params)));
        if let Err(e) = peer.send_notification(notification).await {
            tracing::warn!(method, error = %e, "notification not sent (the message stays queued for wait_for_message)");
        }
    }
}

/// `notifications/claude/channel` params: `content` is the text, `meta` string attributes
/// (identifier keys only: Claude Code shows them on the `<channel>` tag).
pub(crate) fn channel_params(message: &InboundMessage) -> Value {
    let mut meta = Map::new();
    meta.insert("message_id".into(), message.message_id.as_str().into());
    meta.insert("sender".into(), message.sender.as_str().into());
    meta.insert("ts".into(), message.ts.to_string().into());
    if let Some(thread) = &message.thread_id {
        meta.insert("thread_id".into(), thread.as_str().into());
    }
    let content = match &message.reaction {
        Some(reaction) if reaction.removed => {
            meta.insert("kind".into(), "reaction_removed".into());
            meta.insert("reaction_to".into(), reaction.message_id.as_str().into());
            format!(
                "(took back the reaction {} on message {})",
                reaction.emoji, reaction.message_id
            )
        }
        Some(reaction) => {
            meta.insert("kind".into(), "reaction".into());
            meta.insert("reaction_to".into(), reaction.message_id.as_str().into());
            format!(
                "(reacted {} to message {})",
                reaction.emoji, reaction.message_id
            )
        }
        None => {
            meta.insert("kind".into(), "message".into());
            let mut text = message.text.clone();
            for attachment in &message.attachments {
                text.push_str(&format!("\n[attachment: {}]", attachment.url));
            }
            text
        }
    };
    json!({ "content": content, "meta": meta })
}

/// `notifications/message` params: level `info`, logger `connector`, the message as data.
pub(crate) fn log_params(message: &InboundMessage) -> Value {
    json!({ "level": "info", "logger": "connector", "data": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, text: &str) -> InboundMessage {
        InboundMessage::new(id, "op", text, "2026-11-21T05:06:07Z".parse().unwrap())
    }

    #[tokio::test]
    async fn queued_messages_wait_for_the_next_call() {
        let inbound = Inbound::new();
        inbound.deliver(message("1", "first")).await;
        inbound.deliver(message("2", "second").in_thread("t")).await;
        assert_eq!(inbound.pending(), 2);
        let first = inbound.next(Duration::ZERO).await.unwrap();
        assert_eq!(first.text, "first");
        assert_eq!(inbound.next(Duration::ZERO).await.unwrap().text, "second");
        assert!(inbound.next(Duration::from_millis(10)).await.is_none());
        assert_eq!(inbound.thread_of("2"), Some(Some("t".into())));
        assert_eq!(inbound.thread_of("1"), Some(None));
        assert_eq!(inbound.thread_of("3"), None);
    }

    #[tokio::test]
    async fn a_waiting_call_gets_a_message_that_arrives_later() {
        let inbound = std::sync::Arc::new(Inbound::new());
        let waiter = {
            let inbound = std::sync::Arc::clone(&inbound);
            tokio::spawn(async move { inbound.next(Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        inbound.deliver(message("1", "late")).await;
        assert_eq!(waiter.await.unwrap().unwrap().text, "late");
    }

    #[test]
    fn notification_payloads() {
        let text = message("m1", "deploy?").in_thread("t9");
        insta::assert_json_snapshot!(channel_params(&text), @r#"
        {
          "content": "deploy?",
          "meta": {
            "kind": "message",
            "message_id": "m1",
            "sender": "op",
            "thread_id": "t9",
            "ts": "2026-11-21T05:06:07Z"
          }
        }
        "#);
        let reaction = InboundMessage::reaction(
            "r1",
            "op",
            "m1",
            "👍",
            "2026-11-21T05:06:07Z".parse().unwrap(),
        );
        insta::assert_json_snapshot!(channel_params(&reaction), @r#"
        {
          "content": "(reacted 👍 to message m1)",
          "meta": {
            "kind": "reaction",
            "message_id": "r1",
            "reaction_to": "m1",
            "sender": "op",
            "ts": "2026-11-21T05:06:07Z"
          }
        }
        "#);
        let removed = InboundMessage::reaction_removed(
            "r2",
            "op",
            "m1",
            "👍",
            "2026-11-21T05:06:08Z".parse().unwrap(),
        );
        insta::assert_json_snapshot!(channel_params(&removed), @r#"
        {
          "content": "(took back the reaction 👍 on message m1)",
          "meta": {
            "kind": "reaction_removed",
            "message_id": "r2",
            "reaction_to": "m1",
            "sender": "op",
            "ts": "2026-11-21T05:06:08Z"
          }
        }
        "#);
        insta::assert_json_snapshot!(log_params(&removed)["data"]["reaction"], @r#"
        {
          "emoji": "👍",
          "message_id": "m1",
          "removed": true
        }
        "#);
        insta::assert_json_snapshot!(log_params(&text), @r#"
        {
          "data": {
            "message_id": "m1",
            "sender": "op",
            "text": "deploy?",
            "thread_id": "t9",
            "ts": "2026-11-21T05:06:07Z"
          },
          "level": "info",
          "logger": "connector"
        }
        "#);
    }
}
