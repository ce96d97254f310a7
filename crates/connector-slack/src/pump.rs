//! The inbound pump: Socket Mode `events_api` envelopes and the backfill, in order, into the
//! shared inbox; each envelope acked only once its event was handed to a subscriber (or found
//! to be a repeat, or not for the operator).
//!
//! For each message of the channel or of a thread it follows the pump
//! 1. drops repeats: an event id handled before (a redelivery after a missed ack, even across
//!    a restart: the ids are saved), a message `ts` handled before (the last few thousand are
//!    saved, and everything at or before the positions loaded at start; also the
//!    `app_mention` twin of a `message` event, which carries the same `ts`). A message older
//!    than one handled since is not a repeat: Slack does not promise events in order;
//! 2. drops edits (`message_changed`), deletions and notices, the bot's own messages (after
//!    letting a round-trip probe's echo end its wait), other bots' messages;
//! 3. lets the inbox decide on the sender (allow-list, pairing): a stranger is counted and,
//!    with pairing on, answered in a thread with core's `answer_for_stranger`;
//! 4. takes an allowed sender's message as a typed answer to a question if it is one, else
//!    hands it over with `Inbox::deliver_when_subscribed` (waiting for a subscriber);
//! 5. then records its `ts` as the conversation's position (a thread reply follows the thread),
//!    saves (atomically replaced at once; fsynced when the pump has caught up), and acks.
//!
//! So while nobody is subscribed, envelopes stay unacked: Slack redelivers them (repeats,
//! dropped once the first copy is through) and gives up after three retries, while the pump
//! still holds the first copy; if the process dies meanwhile, the backfill after the restart
//! reads the messages from the channel (reactions given meanwhile are not caught up).
//!
//! Socket Mode keeps no replay cursor, and after a connection is lost Slack redelivers the
//! envelopes it sent there only once their ack deadline passed — after newer events already
//! came over the new connection. So after every `hello` the pump reads what was posted since
//! the saved positions, oldest first, before it handles the new connection's envelopes: the
//! channel with `conversations.history` (parents whose `latest_reply` is newer than the
//! thread's position are followed), then with `conversations.replies` every followed thread
//! after the first `hello` of a run, and after a reconnect those active within
//! [`RECENT_THREAD`]. Every message goes through the same steps, so what the socket delivers
//! late is a repeat, and nothing is delivered out of order or lost to a position that moved
//! past it. Each `hello` costs one `conversations.history` call (plus one per thread read);
//! see the crate docs for what Slack's 2025 limits make of that.

use std::sync::Arc;
use std::time::Duration;

use connector_core::pairing::answer_for_stranger;
use connector_core::questions::{Answerer, Questions, told};
use connector_core::retry::RetryPolicy;
use connector_core::state_file::Durability;
use connector_core::{InboundMessage, Inbox, SenderId, Timestamp};
use connector_core::{MessageId, ThreadId, allowlist::SenderVerdict};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::health::InboundStatus;
use crate::inbound::{Identity, Kind, convert, kind, thread_of, unescape};
use crate::outbound;
use crate::position::{CHANNEL, Positions, later};
use crate::socket_mode::{Acker, Envelope, SocketEvent};
use crate::web_api::{Form, WebApi, str_of};

/// After a reconnect, the followed threads read back are those active this recently.
pub const RECENT_THREAD: Duration = Duration::from_secs(60 * 60);

/// Events handled between two fsynced saves at most.
const SAVE_EVERY: usize = 256;

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
enum Handled {
    /// Delivered, or dropped for good (repeat, own, stranger, …).
    Done,
    /// The connector is closing: not delivered, not recorded.
    Closed,
}

/// The pump's state; [`run`](Self::run) consumes it.
pub(crate) struct Pump {
    pub(crate) api: WebApi,
    pub(crate) retry: RetryPolicy,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) acker: Acker,
    pub(crate) positions: Positions,
    pub(crate) channel: String,
    pub(crate) me: Identity,
    pub(crate) questions: Questions,
    pub(crate) status: Arc<InboundStatus>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Events handled since the last fsynced save.
    pub(crate) unsynced: usize,
}

impl Pump {
    /// Handles socket events until the connector closes.
    pub(crate) async fn run(mut self, mut events: mpsc::UnboundedReceiver<SocketEvent>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            let event = tokio::select! {
                biased;
                _ = shutdown.wait_for(|c| *c) => None,
                event = events.recv() => event,
            };
            let Some(event) = event else {
                self.save(Durability::Synced);
                return;
            };
            let handled = match event {
                SocketEvent::Hello { after } => self.backfill(after.is_none()).await,
                SocketEvent::Event(envelope) => self.envelope(envelope).await,
            };
            if handled == Handled::Closed {
                self.save(Durability::Synced);
                return;
            }
            if self.unsynced >= SAVE_EVERY || (self.unsynced > 0 && events.is_empty()) {
                self.save(Durability::Synced);
            }
        }
    }

    fn save(&mut self, durability: Durability) {
        match self.positions.save(durability) {
            Ok(()) => {
                if durability == Durability::Synced {
                    self.unsynced = 0;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot save the Slack delivery positions");
                self.status.set_problem(Some(error.to_string()));
            }
        }
    }

    /// One `events_api` envelope: handled, recorded, acked.
    async fn envelope(&mut self, envelope: Envelope) -> Handled {
        self.status.event_arrived();
        let payload = &envelope.payload;
        let event_id = str_of(payload, "event_id")
            .unwrap_or(&envelope.id)
            .to_owned();
        if self.positions.has_event(&event_id) {
            tracing::debug!(
                event_id,
                retry = envelope.retry_attempt,
                "a redelivered event: dropped"
            );
            self.acker.ack(&envelope.id);
            return Handled::Done;
        }
        let event = payload.get("event").cloned().unwrap_or_default();
        let handled = match str_of(&event, "type").unwrap_or_default() {
            "message" | "app_mention" => self.message(&event, true).await,
            "reaction_added" => self.reaction(&event, &event_id, false).await,
            "reaction_removed" => self.reaction(&event, &event_id, true).await,
            _ => Handled::Done,
        };
        if handled == Handled::Closed {
            return Handled::Closed;
        }
        self.positions.first_sighting(&event_id);
        self.unsynced += 1;
        self.save(Durability::Volatile);
        self.acker.ack(&envelope.id);
        Handled::Done
    }

    /// One message (from an event or a history listing).
    async fn message(&mut self, message: &Value, live: bool) -> Handled {
        if str_of(message, "channel").is_some_and(|c| c != self.channel) {
            return Handled::Done;
        }
        let Some(ts) = str_of(message, "ts").map(str::to_owned) else {
            return Handled::Done;
        };
        let thread = thread_of(message).map(str::to_owned);
        let conversation = thread.clone().unwrap_or_else(|| CHANNEL.to_owned());
        if self.positions.handled(&conversation, &ts) {
            return Handled::Done;
        }
        let text = unescape(str_of(message, "text").unwrap_or_default());
        match kind(message, &self.me) {
            Kind::New => {
                let user = str_of(message, "user").unwrap_or_default().to_owned();
                let sender = SenderId::new(user.clone());
                match self.inbox.check_sender(&sender) {
                    SenderVerdict::Allowed => {
                        if !self.typed_answer(&user, thread.as_deref(), &text).await {
                            let Some(inbound) = convert(message, text) else {
                                return Handled::Done;
                            };
                            if self.deliver(inbound).await == Handled::Closed {
                                return Handled::Closed;
                            }
                        }
                    }
                    SenderVerdict::NotAllowed => {
                        if let Some(reply) = answer_for_stranger(&self.inbox, &sender).await {
                            let parent = thread.clone().unwrap_or_else(|| ts.clone());
                            self.reply(&parent, &reply).await;
                        }
                    }
                    SenderVerdict::Own => {}
                }
            }
            Kind::Own => {
                // A round-trip probe back on the socket ends the probe's wait (live only).
                if live {
                    self.inbox.echoes().arrived(&text);
                }
            }
            Kind::OtherBot | Kind::Other => return Handled::Done,
        }
        if let Some(thread) = &thread {
            self.positions.follow(thread);
        }
        self.positions.mark_handled(&conversation, &ts);
        Handled::Done
    }

    async fn deliver(&self, inbound: InboundMessage) -> Handled {
        match self.inbox.deliver_when_subscribed(inbound).await {
            Ok(admission) => {
                tracing::debug!(?admission, "inbound message");
                Handled::Done
            }
            Err(_) => Handled::Closed,
        }
    }

    /// Whether an allowed sender's message answers a question (then it is not delivered as a
    /// message; a refusal is told to them alone, as an ephemeral message).
    async fn typed_answer(&self, user: &str, thread: Option<&str>, text: &str) -> bool {
        let thread = thread.map(ThreadId::new);
        let by = Answerer::new(user.to_owned(), None);
        let Some(answered) = self
            .questions
            .typed(by, thread.as_ref(), None::<&MessageId>, text)
            .await
        else {
            return false;
        };
        if let Some(reply) = told(&answered) {
            crate::questions::tell(
                &self.api,
                &self.retry,
                &self.channel,
                user,
                thread.as_ref().map(ThreadId::as_str),
                &reply,
            )
            .await;
        }
        true
    }

    /// Posts `text` in the thread of `parent` (a pairing code).
    async fn reply(&self, parent: &str, text: &str) {
        let post = outbound::Post {
            channel: &self.channel,
            thread_ts: Some(parent),
            text: crate::markup::escape(text),
            blocks: None,
            key: connector_core::IdempotencyKey::random().as_str().to_owned(),
        };
        if let Err(error) = outbound::post(&self.api, &self.retry, &post, false).await {
            tracing::warn!(%error, "cannot answer a stranger");
        }
    }

    /// A reaction given (or taken back) on one of the bot's messages.
    async fn reaction(&mut self, event: &Value, event_id: &str, removed: bool) -> Handled {
        let item = event.get("item").cloned().unwrap_or_default();
        if str_of(&item, "channel") != Some(self.channel.as_str())
            || str_of(event, "item_user") != Some(self.me.user_id.as_str())
        {
            return Handled::Done;
        }
        let (Some(user), Some(target), Some(emoji)) = (
            str_of(event, "user"),
            str_of(&item, "ts"),
            str_of(event, "reaction"),
        ) else {
            return Handled::Done;
        };
        if user == self.me.user_id
            || self.inbox.check_sender(&SenderId::new(user)) != SenderVerdict::Allowed
        {
            return Handled::Done;
        }
        let at = str_of(event, "event_ts").map_or_else(Timestamp::now, crate::inbound::timestamp);
        let id = format!("reaction:{event_id}");
        let inbound = if removed {
            InboundMessage::reaction_removed(id, user, target, emoji, at)
        } else {
            InboundMessage::reaction(id, user, target, emoji, at)
        };
        self.deliver(inbound).await
    }

    /// Reads what was posted since the saved positions (see the module docs).
    async fn backfill(&mut self, all_threads: bool) -> Handled {
        let result = self.backfill_all(all_threads).await;
        match result {
            Ok(handled) => {
                self.status.set_problem(None);
                self.unsynced += 1;
                handled
            }
            Err(error) => {
                tracing::warn!(%error, "backfill failed");
                self.status
                    .set_problem(Some(format!("backfill failed: {error}")));
                Handled::Done
            }
        }
    }

    async fn backfill_all(&mut self, all_threads: bool) -> connector_core::Result<Handled> {
        let Some(since) = self.positions.get(CHANNEL).map(str::to_owned) else {
            return Ok(Handled::Done);
        };
        let mut messages = self
            .listing("conversations.history", Some(&since), None, None)
            .await?;
        messages.sort_by_key(|m| crate::position::ts_order(str_of(m, "ts").unwrap_or_default()));
        let recent = ts_ago(RECENT_THREAD);
        let mut threads: Vec<(String, String)> = self
            .positions
            .threads()
            .into_iter()
            .filter(|(_, position)| all_threads || later(position, &recent))
            .collect();
        for message in &messages {
            let Some(ts) = str_of(message, "ts") else {
                continue;
            };
            // A reply also sent to the channel: read with its thread, in the thread's order.
            if let Some(thread) = thread_of(message) {
                if !threads.iter().any(|(t, _)| t == thread) {
                    threads.push((thread.to_owned(), thread.to_owned()));
                }
                continue;
            }
            let has_news = str_of(message, "latest_reply").is_some_and(|latest| {
                self.positions
                    .get(ts)
                    .is_none_or(|position| later(latest, position))
            });
            if has_news && !threads.iter().any(|(t, _)| t == ts) {
                threads.push((ts.to_owned(), ts.to_owned()));
            }
        }
        for mut message in messages {
            if thread_of(&message).is_some() {
                continue;
            }
            message["channel"] = Value::String(self.channel.clone());
            if self.message(&message, false).await == Handled::Closed {
                return Ok(Handled::Closed);
            }
        }
        for (thread, position) in threads {
            let position = self.positions.get(&thread).map_or(position, str::to_owned);
            let mut replies = match self
                .listing(
                    "conversations.replies",
                    Some(&position),
                    Some(&thread),
                    None,
                )
                .await
            {
                Ok(replies) => replies,
                // A thread deleted meanwhile: nothing to backfill.
                Err(error) => {
                    tracing::debug!(thread, %error, "cannot read a followed thread");
                    continue;
                }
            };
            replies.sort_by_key(|m| crate::position::ts_order(str_of(m, "ts").unwrap_or_default()));
            for mut reply in replies {
                if str_of(&reply, "ts") == Some(thread.as_str()) {
                    continue;
                }
                reply["channel"] = Value::String(self.channel.clone());
                if self.message(&reply, false).await == Handled::Closed {
                    return Ok(Handled::Closed);
                }
            }
        }
        Ok(Handled::Done)
    }

    /// Every message of a history (or, with `thread`, replies) listing after `oldest`, all
    /// pages, in the order Slack answers.
    async fn listing(
        &self,
        method: &str,
        oldest: Option<&str>,
        thread: Option<&str>,
        limit: Option<usize>,
    ) -> connector_core::Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut form: Form = vec![
                ("channel", self.channel.clone()),
                ("limit", limit.unwrap_or(200).to_string()),
            ];
            if let Some(oldest) = oldest {
                form.push(("oldest", oldest.to_owned()));
            }
            if let Some(thread) = thread {
                form.push(("ts", thread.to_owned()));
            }
            if !cursor.is_empty() {
                form.push(("cursor", cursor.clone()));
            }
            let page = self.api.body(&self.retry, method, &form).await?;
            all.extend(
                page.get("messages")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            if limit.is_some() {
                return Ok(all);
            }
            cursor = page
                .get("response_metadata")
                .and_then(|r| str_of(r, "next_cursor"))
                .unwrap_or_default()
                .to_owned();
            if cursor.is_empty() {
                return Ok(all);
            }
        }
    }
}

/// A Slack `ts` bound `ago` before now.
fn ts_ago(ago: Duration) -> String {
    let then = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(ago);
    format!("{}.000000", then.as_secs())
}

/// Now as a Slack `ts`.
pub(crate) fn now_ts() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", now.as_secs(), now.subsec_micros())
}
