//! The inbound pump: ONE `getUpdates` long-poll loop, in order, into the shared inbox.
//!
//! For each update of a batch, in order, the pump
//! 1. parses it; one that does not parse is logged, counted (health shows the count) and
//!    skipped — it never holds up the updates behind it;
//! 2. for a `message` in the connector's chat: skips the bot's own messages and service
//!    messages (topic created, member joined, pinned …; a new topic is noted as a thread);
//!    asks the inbox about the sender (allow-list, pairing; a refusal is counted, and with
//!    pairing on the stranger is answered with a code); takes an allowed sender's message that
//!    answers a question as the answer (see `connector_core::questions`); and hands anything
//!    else to the [`Inbox`] with [`Inbox::deliver_when_subscribed`], which waits while nobody
//!    is subscribed and answers once a subscription took it. A message in another chat (a
//!    stranger writing to the bot privately) is only checked against the allow-list: counted,
//!    and answered with a pairing code when pairing is on; it is never delivered;
//! 3. an `edited_message` is not delivered again (the operator's first words stand); a
//!    `callback_query` is a button press on a question (`callbacks`); a `message_reaction` by
//!    an allowed sender on one of the bot's recent messages becomes a reaction event;
//! 4. only then moves the offset past the update and writes it to `updates.json` (atomic
//!    rename per update; fsynced once per batch). The next poll's `offset` is what confirms
//!    the updates to Telegram, so a process killed at any instant polls again from the saved
//!    offset and repeats at most the one update it was handing over.
//!
//! A poll refused with 409 Conflict (another poller with this token, or a webhook set) or
//! failing otherwise is retried with backoff (up to [`MAX_BACKOFF`]) for as long as the
//! connector is open; health reports it meanwhile.

use std::sync::Arc;
use std::time::Duration;

use connector_core::allowlist::SenderVerdict;
use connector_core::inbox::Closed;
use connector_core::questions::{
    Answered, Answerer, Decision, Pick, QuestionSurface, Questions, render, told,
};
use connector_core::retry::RetryPolicy;
use connector_core::{
    InboundAttachment, InboundMessage, Inbox, MessageId, SenderId, ThreadId, Timestamp,
};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::api::Api;
use crate::health::InboundStatus;
use crate::outbound::Sender;
use crate::position::Position;
use crate::questions::{TelegramSurface, parse_callback_data};
use crate::threads::Threads;
use crate::updates::{self, CallbackQuery, Message, ReactionChange, Update, User};

/// How long one `getUpdates` waits for an update (Telegram allows up to 50 s).
pub(crate) const POLL_SECONDS: u64 = 25;

/// How long the first poll after a failure waits.
const RECOVERY_POLL_SECONDS: u64 = 1;

/// The longest pause between failed polls.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The inbound pump's state.
pub(crate) struct Pump {
    pub(crate) api: Api,
    pub(crate) sender: Sender,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) chat_id: i64,
    pub(crate) own_id: i64,
    pub(crate) threads: Arc<Threads>,
    pub(crate) position: Position,
    pub(crate) status: Arc<InboundStatus>,
    pub(crate) questions: Questions,
    pub(crate) surface: Arc<TelegramSurface>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Pump {
    /// Polls until the connector closes.
    pub(crate) async fn run(mut self) {
        let mut offset = self.position.offset_to_poll();
        let backoff = RetryPolicy::default().with_delays(Duration::from_millis(200), MAX_BACKOFF);
        let mut failures = 0u32;
        let mut recovering = false;
        let mut shutdown = self.shutdown.clone();
        loop {
            if offset != 0 && self.position.is_stale() {
                // A day without updates: see `position` (the ids may restart after a week).
                tracing::info!(offset, "no update for a day: polling from offset 0");
                offset = 0;
            }
            // After a failure, a short poll first: its answer proves the way is clear again
            // within a second (a rival still polling would end it with 409 at once).
            let seconds = if recovering {
                RECOVERY_POLL_SECONDS
            } else {
                POLL_SECONDS
            };
            let params = json!({
                "offset": offset,
                "timeout": seconds,
                "allowed_updates": updates::ALLOWED_UPDATES,
            });
            let poll =
                self.api
                    .call_within("getUpdates", &params, Duration::from_secs(seconds + 10));
            let answer = tokio::select! {
                biased;
                _ = shutdown.wait_for(|closing| *closing) => return,
                answer = poll => answer,
            };
            match answer {
                Ok(Value::Array(batch)) => {
                    failures = 0;
                    recovering = false;
                    self.status.polled();
                    if self.batch(batch, &mut offset).await.is_err() {
                        return;
                    }
                }
                Ok(other) => {
                    failures += 1;
                    self.status
                        .failed(format!("getUpdates answered a non-list: {other}"));
                }
                Err(failure) => {
                    failures += 1;
                    if let Some(wait) = failure.retry_after() {
                        // 429 on getUpdates: wait as told, then poll again.
                        self.status
                            .failed(format!("getUpdates rate limited for {wait:?}"));
                        tokio::select! {
                            biased;
                            _ = shutdown.wait_for(|closing| *closing) => return,
                            () = tokio::time::sleep(wait) => {}
                        }
                    } else if failure.is_conflict() {
                        let description = failure.description().unwrap_or("Conflict");
                        tracing::warn!(description, "getUpdates: 409 Conflict");
                        self.status.conflict(description);
                    } else {
                        tracing::debug!(error = %failure, "getUpdates failed");
                        self.status
                            .failed(failure.into_error("poll for updates").to_string());
                    }
                }
            }
            if failures > 0 {
                recovering = true;
                let pause = backoff
                    .backoff(failures.min(10))
                    .max(Duration::from_millis(50));
                tokio::select! {
                    biased;
                    _ = shutdown.wait_for(|closing| *closing) => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }

    /// Handles one batch in order, saving the offset after each update; `Err` once the inbox
    /// closed (the offset stays before the update that was not handed over).
    async fn batch(&mut self, batch: Vec<Value>, offset: &mut i64) -> Result<(), Closed> {
        let any = !batch.is_empty();
        for update in batch {
            let id = update.get("update_id").and_then(Value::as_i64);
            match updates::parse(&update) {
                Ok(parsed) => self.handle(parsed).await?,
                Err(reason) => {
                    tracing::warn!(update_id = ?id, %reason, "skipping an update that cannot be parsed");
                    self.status.unparsable();
                }
            }
            if let Some(id) = id
                && id + 1 > *offset
            {
                *offset = id + 1;
                self.save(*offset, false).await;
            }
        }
        if any {
            self.save(*offset, true).await;
        }
        Ok(())
    }

    /// Saves the offset; a failure is logged and shown in health.
    async fn save(&mut self, offset: i64, durable: bool) {
        match self.position.save(offset, durable).await {
            Ok(()) => self.status.saved(None),
            Err(error) => {
                tracing::warn!(%error, "cannot save the Telegram offset");
                self.status.saved(Some(error.to_string()));
            }
        }
    }

    async fn handle(&mut self, update: Update) -> Result<(), Closed> {
        match update {
            Update::Message(message) => self.message(message).await,
            Update::Edited(message) => {
                tracing::debug!(
                    id = message.message_id,
                    "edited message: not delivered again"
                );
                Ok(())
            }
            Update::Callback(query) => {
                self.callback(query).await;
                Ok(())
            }
            Update::Reaction(change) => self.reaction(change).await,
            Update::Other(kind) => {
                tracing::debug!(kind, "update kind not handled");
                Ok(())
            }
        }
    }

    async fn message(&mut self, message: Message) -> Result<(), Closed> {
        let Some(from) = message.from.clone() else {
            return Ok(()); // a channel post, or anonymous: nobody to check
        };
        if from.id == self.own_id {
            return Ok(());
        }
        if message.chat.id != self.chat_id {
            // Another chat (a stranger writing privately): counted and, with pairing, answered.
            let sender = SenderId::new(from.id.to_string());
            if self.inbox.check_sender(&sender) == SenderVerdict::NotAllowed {
                self.answer_stranger(&message, &sender).await;
            } else {
                tracing::debug!(
                    chat = message.chat.id,
                    "message in another chat: not delivered"
                );
            }
            return Ok(());
        }
        if message.is_service() {
            if message.forum_topic_created.is_some()
                && let Some(topic) = message.message_thread_id
            {
                self.threads.topic_created(topic);
            }
            return Ok(());
        }
        let thread = self.threads.inbound(&message);
        let sender = SenderId::new(from.id.to_string());
        match self.inbox.check_sender(&sender) {
            SenderVerdict::Own => Ok(()),
            SenderVerdict::NotAllowed => {
                self.answer_stranger(&message, &sender).await;
                Ok(())
            }
            SenderVerdict::Allowed => {
                if self.typed_answer(&message, &from, thread).await {
                    return Ok(());
                }
                let inbound = self.convert(&message, &from, thread).await;
                let admission = self.inbox.deliver_when_subscribed(inbound).await?;
                tracing::debug!(id = message.message_id, ?admission, "inbound message");
                Ok(())
            }
        }
    }

    /// Pairing, if on: a stranger is answered with a code.
    async fn answer_stranger(&self, message: &Message, sender: &SenderId) {
        if let Some(text) = connector_core::pairing::answer_for_stranger(&self.inbox, sender).await
        {
            self.sender
                .reply_plain(
                    message.chat.id,
                    message.message_id,
                    &text,
                    "send a pairing code",
                )
                .await;
        }
    }

    /// Whether an allowed sender's message answers a question: then it is taken as the
    /// answer, not delivered, and a refusal is answered in reply.
    async fn typed_answer(&self, message: &Message, from: &User, thread: Option<i64>) -> bool {
        let Some(text) = message.text() else {
            return false;
        };
        let thread = thread.map(|t| ThreadId::new(t.to_string()));
        let replied_to = message
            .reply_to_message
            .as_ref()
            .map(|r| MessageId::new(r.message_id.to_string()));
        let by = Answerer::new(from.id.to_string(), Some(from.shown_name()));
        let Some(answered) = self
            .questions
            .typed(by, thread.as_ref(), replied_to.as_ref(), text)
            .await
        else {
            return false;
        };
        if let Some(reply) = told(&answered) {
            self.sender
                .reply_plain(
                    message.chat.id,
                    message.message_id,
                    &reply,
                    "tell the operator why an answer was not taken",
                )
                .await;
        }
        true
    }

    /// The inbound message for `message`, with its files' download URLs.
    async fn convert(&self, message: &Message, from: &User, thread: Option<i64>) -> InboundMessage {
        let ts = Timestamp::from_second(message.date).unwrap_or_else(|_| Timestamp::now());
        let mut inbound = InboundMessage::new(
            message.message_id.to_string(),
            from.id.to_string(),
            message.text().unwrap_or_default(),
            ts,
        );
        if let Some(thread) = thread {
            inbound = inbound.in_thread(thread.to_string());
        }
        let mut files = Vec::new();
        if let Some(document) = &message.document {
            files.push((
                document.file_id.clone(),
                document.file_name.clone(),
                document.mime_type.clone(),
                document.file_size,
            ));
        }
        if let Some(largest) = message
            .photo
            .as_ref()
            .and_then(|sizes| sizes.iter().max_by_key(|s| s.width))
        {
            files.push((
                largest.file_id.clone(),
                Some("photo.jpg".to_owned()),
                Some("image/jpeg".to_owned()),
                largest.file_size,
            ));
        }
        for (file_id, name, content_type, size) in files {
            let url = self.download_url(&file_id).await;
            let mut attachment = InboundAttachment::new(url);
            attachment.filename = name;
            attachment.content_type = content_type;
            attachment.size = size;
            inbound = inbound.with_attachment(attachment);
        }
        inbound
    }

    /// The download URL of a file (`getFile`); if Telegram cannot say, a `tg-file:` URL
    /// naming the file id.
    async fn download_url(&self, file_id: &str) -> String {
        let answer = self
            .api
            .call_retried(
                &self.sender.retry,
                "getFile",
                &json!({ "file_id": file_id }),
                "look up a file",
            )
            .await;
        match answer.ok().and_then(|file| {
            file.get("file_path")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }) {
            Some(path) => self.api.file_download_url(&path),
            None => format!("tg-file:{file_id}"),
        }
    }

    /// A button press on a question: answered through the question book, the press answered
    /// with `answerCallbackQuery`, the question's message edited to the outcome.
    async fn callback(&self, query: CallbackQuery) {
        let Some((question, index)) = query.data.as_deref().and_then(parse_callback_data) else {
            self.answer_callback(
                &query.id,
                Some("This button is not one of this connector's questions."),
            )
            .await;
            return;
        };
        let sender = SenderId::new(query.from.id.to_string());
        match self.inbox.check_sender(&sender) {
            SenderVerdict::Allowed => {}
            SenderVerdict::Own => return,
            SenderVerdict::NotAllowed => {
                self.answer_callback(&query.id, Some(render::NOT_ALLOWED))
                    .await;
                return;
            }
        }
        let choice = self
            .questions
            .book()
            .get(&question)
            .await
            .and_then(|asked| asked.question.choices.get(index).map(|c| c.id.clone()));
        let Some(choice) = choice else {
            self.answer_callback(
                &query.id,
                Some("This question is not known to this connector."),
            )
            .await;
            return;
        };
        let by = Answerer::new(query.from.id.to_string(), Some(query.from.shown_name()));
        let answered = self
            .questions
            .answer(&question, by, Pick::Choice(choice))
            .await;
        let told = told(&answered);
        match answered {
            Ok(Answered {
                decision: Decision::Accepted(asked),
                ..
            }) => {
                self.answer_callback(&query.id, None).await;
                if let Err(error) = self.surface.show_outcome(&asked).await {
                    tracing::warn!(%error, "cannot show a question's outcome");
                }
                self.questions.deliver_in_background(asked);
            }
            _ => self.answer_callback(&query.id, told.as_deref()).await,
        }
    }

    async fn answer_callback(&self, id: &str, text: Option<&str>) {
        let mut params = json!({ "callback_query_id": id });
        if let Some(text) = text {
            params["text"] = json!(text);
            params["show_alert"] = json!(true);
        }
        // Not retried much: a press may be answered only within Telegram's time.
        if let Err(error) = self.api.call("answerCallbackQuery", &params).await {
            tracing::warn!(%error, "cannot answer a button press");
        }
    }

    /// A reaction change on one of the bot's recent messages, by an allowed sender: each emoji
    /// added or taken away becomes a reaction event.
    async fn reaction(&self, change: ReactionChange) -> Result<(), Closed> {
        let Some(user) = &change.user else {
            return Ok(());
        };
        if change.chat.id != self.chat_id
            || user.id == self.own_id
            || !self.threads.is_own(change.message_id)
        {
            return Ok(());
        }
        let emojis = |list: &[updates::Reaction]| -> Vec<String> {
            list.iter().filter_map(|r| r.emoji.clone()).collect()
        };
        let (old, new) = (emojis(&change.old_reaction), emojis(&change.new_reaction));
        let ts = Timestamp::from_second(change.date).unwrap_or_else(|_| Timestamp::now());
        let target = change.message_id.to_string();
        for (emoji, removed) in new
            .iter()
            .filter(|e| !old.contains(e))
            .map(|e| (e, false))
            .chain(old.iter().filter(|e| !new.contains(e)).map(|e| (e, true)))
        {
            let event_id = format!(
                "reaction:{}:{}:{emoji}:{}:{}",
                change.message_id,
                user.id,
                if removed { "off" } else { "on" },
                change.date
            );
            let event = if removed {
                InboundMessage::reaction_removed(
                    event_id,
                    user.id.to_string(),
                    target.clone(),
                    emoji.clone(),
                    ts,
                )
            } else {
                InboundMessage::reaction(
                    event_id,
                    user.id.to_string(),
                    target.clone(),
                    emoji.clone(),
                    ts,
                )
            };
            self.inbox.deliver_when_subscribed(event).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use connector_core::SenderPolicy;
    use connector_core::config::secrets::SecretString;
    use connector_core::questions::QuestionBook;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_update_that_cannot_be_parsed_is_skipped_counted_and_blocks_nothing() {
        let emulator = telegram_emulator::Emulator::start(telegram_emulator::Config::default())
            .expect("the emulator");
        let operator = emulator.add_user("operator");
        let chat = emulator.private_chat(&operator);
        let dir = tempfile::tempdir().unwrap();
        let token = SecretString::from(emulator.token().to_owned());
        let api = Api::new(&emulator.base_url(), &token).unwrap();
        let retry = RetryPolicy::default();
        let inbox = Arc::new(Inbox::new(SenderPolicy::allow_list([operator
            .id
            .to_string()])));
        let mut subscription = inbox.subscribe();
        let surface = Arc::new(TelegramSurface {
            api: api.clone(),
            retry,
            chat_id: chat,
        });
        let questions = Questions::new(
            Arc::new(QuestionBook::load(None).unwrap()),
            Arc::clone(&inbox),
            surface.clone(),
        );
        let status = Arc::new(InboundStatus::default());
        let position_path = dir.path().join("updates.json");
        let mut pump = Pump {
            api: api.clone(),
            sender: Sender {
                api,
                retry,
                chat_id: chat,
            },
            inbox,
            chat_id: chat,
            own_id: emulator.bot_id(),
            threads: Arc::new(
                Threads::load(false, dir.path().join("threads.json"))
                    .await
                    .unwrap(),
            ),
            position: Position::load(position_path.clone()).await.unwrap(),
            status: Arc::clone(&status),
            questions,
            surface,
            shutdown: watch::channel(false).1,
        };
        let batch = vec![
            json!({ "update_id": 10, "message": { "message_id": "not a number" } }),
            json!({ "update_id": 11, "message": {
                "message_id": 5, "date": 0, "text": "after the broken one",
                "chat": { "id": chat, "type": "private" },
                "from": { "id": operator.id, "is_bot": false, "first_name": "operator" },
            }}),
        ];
        let mut offset = 0;
        pump.batch(batch, &mut offset).await.unwrap();
        assert_eq!(
            subscription.recv().await.unwrap().text,
            "after the broken one"
        );
        assert_eq!(status.unparsable_count(), 1, "counted for health");
        assert_eq!(offset, 12, "past both");
        assert_eq!(
            Position::load(position_path)
                .await
                .unwrap()
                .offset_to_poll(),
            12,
            "and saved"
        );
    }
}
