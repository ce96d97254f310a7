//! The connector's one `/sync` loop: room events in, handed to the inbox, position saved after.
//!
//! The loop drives `/sync` itself, one batch at a time (see [`fetch`] for how a
//! batch is fetched with and without `e2e-encryption`):
//!
//! 1. long-poll `/sync` from the saved position, filtered to the configured room;
//! 2. if the room's timeline came back `limited` (more happened than one batch holds), page
//!    forwards through `/messages` from the old position to the batch's `prev_batch`, so no
//!    event is skipped;
//! 3. (with `e2e-encryption`) try again the encrypted events that came before their room
//!    keys (see [`crate::undecrypted`]): the batch's to-device events may have brought them;
//! 4. take the answers to questions (a keycap reaction on a question, a typed line that
//!    answers one: see [`crate::answers`]), and hand every other message, in order, to the
//!    [`Inbox`] with [`Inbox::deliver_when_subscribed`], which drops our own, strangers' and
//!    repeats, waits while nobody is subscribed and while a subscriber's queue is full, and
//!    answers only once a subscription took the message (one dropped during the hand-over
//!    makes it wait for the next), so no position is saved past a message that is in nobody's
//!    queue; an encrypted event that does not decrypt yet is added to the waiting list
//!    instead;
//! 5. save the waiting list if it changed, and only then the batch's `next_batch` as the new
//!    position.
//!
//! A restart resumes from the saved position: what arrived while the connector was down is
//! delivered once, nothing older is replayed. The very first start (no saved position) syncs
//! once, **discards** that batch's timeline (no history replay) and saves its position; that
//! happens in [`SyncLoop::start_position`], before `open` returns.
//!
//! Failures never end the loop: an unreachable homeserver is retried with capped, jittered
//! backoff; a rejected token (401 `M_UNKNOWN_TOKEN`) every 30 s; a rate limit after the time
//! the server asked for. Each is reported through [`SyncStatus`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use connector_core::inbox::Admission;
use connector_core::retry::RetryPolicy;
use connector_core::{Error, Inbox, Result};
use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::ruma::api::Direction;
use matrix_sdk::ruma::api::client::filter::{FilterDefinition, RoomEventFilter};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};
use tokio::sync::watch;

use crate::delivered_reactions::DeliveredReaction;
use crate::error::{self, is_token_rejected};
use crate::inbound::{self, Parsed};
use crate::pages::{self, PageRequest};
use crate::position::SavedPosition;
use crate::threads::Threads;
use crate::timeline::timeline_filter;

/// How long one `/sync` long-poll waits for news. Also the longest a message can wait on a
/// homeserver that misses a long-poll's wake-up: Conduit registers it only after computing the
/// (empty) answer, so an event landing in between is seen at the next poll (see
/// docs/deploy-matrix.md). 10 s bounds that delay at one idle request every 10 s.
const LONG_POLL: Duration = Duration::from_secs(10);

/// Events per room in one `/sync` batch; more make the timeline `limited` and are paged in.
pub(crate) const TIMELINE_LIMIT: u32 = 100;

/// Events per `/messages` page when filling a gap.
const GAP_PAGE: u32 = 100;

/// Pages at most per gap (100 000 events), so a corrupt token cannot page forever.
const MAX_GAP_PAGES: usize = 1000;

/// How often a rejected token is tried again.
pub(crate) const TOKEN_RETRY_INTERVAL: Duration = Duration::from_secs(30);

/// No pause between failed attempts is shorter than this.
const MIN_PAUSE: Duration = Duration::from_millis(250);

/// The `/sync` filter: the configured room's timeline and state, nothing else.
fn sync_filter(room_id: &OwnedRoomId) -> FilterDefinition {
    let mut filter = FilterDefinition::ignore_all();
    filter.room.rooms = Some(vec![room_id.clone()]);
    filter.room.timeline = timeline_filter(TIMELINE_LIMIT);
    filter.room.state = RoomEventFilter::with_lazy_loading();
    filter.room.ephemeral = RoomEventFilter::ignore_all();
    filter.room.account_data = RoomEventFilter::ignore_all();
    filter
}

/// What one `/sync` answer holds for the loop: the room's timeline and the next position.
struct Batch {
    next_batch: String,
    /// The room's timeline events, in order (decrypted, where the build can).
    events: Vec<TimelineEvent>,
    /// More happened than the batch holds: the gap before `events` is paged in from
    /// `prev_batch`.
    limited: bool,
    prev_batch: Option<String>,
    /// The batch turned encryption on in the room (an `m.room.encryption` state event).
    /// Only the build without `e2e-encryption` needs to know: it must stop sending.
    encryption_enabled: bool,
}

/// What the loop last ran into, for health reports.
#[derive(Debug, Default)]
pub(crate) struct SyncStatus {
    problem: Mutex<Option<String>>,
}

impl SyncStatus {
    /// The last failure, if the loop has not synced successfully since.
    pub(crate) fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, problem: Option<String>) {
        *self.problem.lock().unwrap_or_else(PoisonError::into_inner) = problem;
    }
}

/// Everything the sync loop works with.
pub(crate) struct SyncLoop {
    pub(crate) client: Client,
    pub(crate) room_id: OwnedRoomId,
    /// The homeserver's base URL, for attachments' download URLs.
    pub(crate) homeserver: String,
    pub(crate) own_user: OwnedUserId,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) position: SavedPosition,
    pub(crate) threads: Arc<Threads>,
    pub(crate) status: Arc<SyncStatus>,
    /// Becomes `true` when the connector closes.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Set once the room is known to be encrypted (read by the build without
    /// `e2e-encryption`, which then refuses to send in the clear).
    pub(crate) encrypted: Arc<AtomicBool>,
    /// Encrypted events that came before their room keys, tried again after every batch.
    #[cfg(feature = "e2e-encryption")]
    pub(crate) undecrypted: crate::undecrypted::Undecrypted,
    /// Downloads and decrypts the files of encrypted messages before they are handed over.
    pub(crate) files: crate::inbound_files::InboundFiles,
    /// The events the bot sent in this run.
    pub(crate) own_events: Arc<crate::own_events::OwnEvents>,
    /// The operator's reactions delivered, so taking one back can be reported.
    pub(crate) reactions: crate::delivered_reactions::DeliveredReactions,
    /// Takes the answers to questions (keycap reactions, typed lines) instead of delivering
    /// them as reactions or messages.
    pub(crate) answers: crate::answers::Answers,
    /// Held while the loop runs: nobody else syncs from this state directory meanwhile.
    pub(crate) _state_lock: Arc<crate::state_lock::StateLock>,
}

/// Why a batch was not completed.
enum Interrupted {
    /// The connector is closing.
    Shutdown,
    /// A request failed; retry the batch from the same position.
    Failed(Error),
}

impl SyncLoop {
    /// The position to sync from: the saved one, or — on the very first start — the end of an
    /// initial sync whose timeline is discarded. Retries like a send does, then gives up.
    ///
    /// The initial sync is followed by a sync from its position, whose end is the one saved:
    /// Conduit keeps the last `/sync` answer of each device and hands it out again to a request
    /// with the same `since`, so an initial sync from a device that made one before (an earlier
    /// first start with the same token) may answer a position older than messages whose sends
    /// already returned — and they would be replayed. A request from another `since` is
    /// computed afresh (see docs/deploy-matrix.md).
    pub(crate) async fn start_position(&self) -> Result<String> {
        if let Some(saved) = self.position.load().await? {
            tracing::info!(path = %self.position.path().display(), "resuming from the saved sync position");
            return Ok(saved);
        }
        let retry = RetryPolicy::default();
        let initial = retry
            .run(|_| {
                fetch(
                    &self.client,
                    &self.room_id,
                    "initial sync",
                    None,
                    Duration::ZERO,
                )
            })
            .await?;
        let since = Some(initial.next_batch.as_str());
        let now = retry
            .run(|_| fetch(&self.client, &self.room_id, "sync", since, Duration::ZERO))
            .await?;
        let discarded = initial.events.len() + now.events.len();
        tracing::info!(
            discarded,
            "first start: history before now is not delivered; saving the sync position"
        );
        self.position.save(&now.next_batch).await?;
        Ok(now.next_batch)
    }

    /// Syncs until the connector closes.
    pub(crate) async fn run(mut self, mut since: String) {
        let backoff =
            RetryPolicy::default().with_delays(Duration::from_millis(500), Duration::from_secs(10));
        let mut failures = 0u32;
        loop {
            match self.one_batch(&since).await {
                Ok(next) => {
                    failures = 0;
                    self.status.set(None);
                    if let Err(error) = self.position.save(&next).await {
                        // Keep going from memory; the next batch tries to save again.
                        tracing::error!(%error, "sync position not saved");
                        self.status.set(Some(error.to_string()));
                    }
                    since = next;
                }
                Err(Interrupted::Shutdown) => return,
                Err(Interrupted::Failed(error)) => {
                    failures = failures.saturating_add(1);
                    let pause = pause_after(&backoff, &error, failures);
                    tracing::warn!(%error, ?pause, failures, "sync failed; retrying");
                    let problem = if is_token_rejected(&error) {
                        format!("{error}; syncing stopped, retrying every {TOKEN_RETRY_INTERVAL:?}")
                    } else {
                        format!("sync failing: {error}")
                    };
                    self.status.set(Some(problem));
                    if self.sleep_or_shutdown(pause).await {
                        return;
                    }
                }
            }
        }
    }

    /// Syncs one batch from `since` and delivers its messages; answers its `next_batch`.
    async fn one_batch(&mut self, since: &str) -> Result<String, Interrupted> {
        let batch = tokio::select! {
            biased;
            _ = self.shutdown.wait_for(|closing| *closing) => return Err(Interrupted::Shutdown),
            batch = fetch(&self.client, &self.room_id, "sync", Some(since), LONG_POLL) => {
                batch.map_err(Interrupted::Failed)?
            }
        };
        let next_batch = batch.next_batch.clone();
        if batch.encryption_enabled && !self.encrypted.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                room = %self.room_id,
                "the room is now encrypted; this build lacks e2e-encryption and sends nothing more"
            );
        }
        // The batch's to-device events may have brought the keys of events that wait; those
        // are older than the batch's, so they go first.
        #[cfg(feature = "e2e-encryption")]
        self.retry_undecrypted().await?;
        let events = self.room_events(since, batch).await?;
        for event in &events {
            self.handle(event).await?;
        }
        // Before the position moves past the batch: what waits for a key is on disk.
        #[cfg(feature = "e2e-encryption")]
        self.undecrypted.save().await.map_err(Interrupted::Failed)?;
        Ok(next_batch)
    }

    /// Tries the events waiting for their room keys again: those that decrypt now are handled
    /// like any other event (and forgotten), those waiting longer than a day are given up.
    #[cfg(feature = "e2e-encryption")]
    async fn retry_undecrypted(&mut self) -> Result<(), Interrupted> {
        use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
        use matrix_sdk::ruma::serde::Raw;

        let waiting = self.undecrypted.waiting();
        if waiting.is_empty() {
            return Ok(());
        }
        let Some(room) = self.client.get_room(&self.room_id) else {
            return Ok(());
        };
        for entry in waiting {
            let Ok(raw) = Raw::<OriginalSyncRoomEncryptedEvent>::from_json_string(entry.event)
            else {
                tracing::warn!(event = %entry.event_id, "a waiting encrypted event is not JSON; dropped");
                self.undecrypted.remove(&entry.event_id);
                continue;
            };
            let event = match room.decrypt_event(&raw, None).await {
                Ok(event) => event,
                Err(error) => {
                    tracing::debug!(event = %entry.event_id, %error, "still cannot decrypt");
                    continue;
                }
            };
            if matches!(
                inbound::parse(&event, &self.homeserver),
                Parsed::Skipped(inbound::UNDECRYPTABLE)
            ) {
                continue;
            }
            tracing::info!(event = %entry.event_id, "its room key came: an encrypted message is read");
            self.handle(&event).await?;
            self.undecrypted.remove(&entry.event_id);
        }
        self.undecrypted.expire(connector_core::Timestamp::now());
        Ok(())
    }

    /// The room's timeline events of a batch, in order, the gap before them included.
    async fn room_events(
        &self,
        since: &str,
        batch: Batch,
    ) -> Result<Vec<TimelineEvent>, Interrupted> {
        let mut events = Vec::new();
        if batch.limited
            && let Some(prev_batch) = &batch.prev_batch
        {
            events = self
                .fill_gap(prev_batch, since)
                .await
                .map_err(Interrupted::Failed)?;
        }
        events.extend(batch.events);
        Ok(events)
    }

    /// The events between the old position `since` and a limited batch's `prev_batch`, oldest
    /// first, paged **forwards** from `since`. (Backwards from `prev_batch` with `to = since`
    /// replays history on Conduit: its `/messages` stops at `to` only when an event of the room
    /// has exactly that count, and a sync position is a counter every receipt, typing notice or
    /// key upload moves. Forwards, `from = since` starts right after the position on every
    /// server, and `to = prev_batch` is the batch's first event. See docs/deploy-matrix.md.)
    async fn fill_gap(&self, prev_batch: &str, since: &str) -> Result<Vec<TimelineEvent>> {
        let mut events = Vec::new();
        let mut from = since.to_owned();
        for _ in 0..MAX_GAP_PAGES {
            let page = pages::fetch(
                &self.client,
                &self.room_id,
                PageRequest {
                    from: Some(from.clone()),
                    to: Some(prev_batch.to_owned()),
                    dir: Direction::Forward,
                    limit: GAP_PAGE,
                    filter: timeline_filter(GAP_PAGE),
                },
            )
            .await?;
            let empty = page.events.is_empty();
            events.extend(page.events);
            match page.end {
                Some(end) if !empty => from = end,
                _ => break,
            }
        }
        tracing::info!(events = events.len(), "filled a gap in the timeline");
        Ok(events)
    }

    /// Hands one event to the inbox if it is a message, or a reaction on one of ours.
    async fn handle(&mut self, event: &TimelineEvent) -> Result<(), Interrupted> {
        match inbound::parse(event, &self.homeserver) {
            Parsed::Message(message) => {
                if let Some(root) = &message.thread_id {
                    self.threads
                        .note(message.message_id.as_str(), root.as_str());
                }
                if message.sender.as_str() == self.own_user.as_str() {
                    // Our own echo, which the inbox would drop anyway — or a round-trip probe
                    // coming back, which ends that probe's wait (see `round_trip`).
                    self.inbox.echoes().arrived(&message.text);
                    return Ok(());
                }
                let replied_to = crate::answers::replied_to(
                    inbound::replied_to(event),
                    message.thread_id.as_ref(),
                );
                if self.answers.typed(&message, replied_to.as_ref()).await {
                    return Ok(());
                }
                self.hand_over_or_pair(message).await
            }
            Parsed::EncryptedFile { mut message, file } => {
                if let Some(root) = &message.thread_id {
                    self.threads
                        .note(message.message_id.as_str(), root.as_str());
                }
                if message.sender.as_str() == self.own_user.as_str() {
                    return Ok(()); // our own echo: nothing to download
                }
                tokio::select! {
                    biased;
                    _ = self.shutdown.wait_for(|closing| *closing) => return Err(Interrupted::Shutdown),
                    () = self.files.attach(&mut message, &file) => {}
                }
                self.hand_over_or_pair(message).await
            }
            Parsed::Reaction { reaction, target } => {
                if reaction.sender.as_str() == self.own_user.as_str() {
                    return Ok(()); // our own reaction (the keycaps offered on a question)
                }
                if self.answers.reaction(&reaction, &target).await {
                    return Ok(()); // an answer, not a reaction to deliver
                }
                if !self
                    .is_own_event(&target)
                    .await
                    .map_err(Interrupted::Failed)?
                {
                    tracing::debug!(%target, "a reaction on somebody else's message: not delivered");
                    return Ok(());
                }
                let remembered = DeliveredReaction {
                    event_id: reaction.message_id.as_str().to_owned(),
                    target,
                    emoji: reaction.text.clone(),
                    thread_id: reaction.thread_id.as_ref().map(|t| t.as_str().to_owned()),
                };
                if let Admission::Delivered(_) = self.hand_over(reaction).await? {
                    self.reactions
                        .remember(remembered)
                        .await
                        .map_err(Interrupted::Failed)?;
                }
                Ok(())
            }
            Parsed::Redaction {
                event_id,
                sender,
                redacts,
                ts,
            } => {
                let Some(taken_back) = self.reactions.get(&redacts).cloned() else {
                    tracing::trace!(%redacts, "a redaction of an event not delivered as a reaction");
                    return Ok(());
                };
                let mut removal = connector_core::InboundMessage::reaction_removed(
                    event_id,
                    sender,
                    taken_back.target,
                    taken_back.emoji,
                    ts,
                );
                if let Some(thread) = taken_back.thread_id {
                    removal = removal.in_thread(thread);
                }
                self.hand_over(removal).await?;
                self.reactions
                    .forget(&redacts)
                    .await
                    .map_err(Interrupted::Failed)
            }
            Parsed::Edit { event_id, replaces } => {
                tracing::debug!(%event_id, %replaces, "edit not delivered: the original message stands");
                Ok(())
            }
            #[cfg(feature = "e2e-encryption")]
            Parsed::Skipped(inbound::UNDECRYPTABLE) if event.event_id().is_some() => {
                let event_id = event
                    .event_id()
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                if self.undecrypted.add(
                    &event_id,
                    event.raw().json().get(),
                    connector_core::Timestamp::now(),
                ) {
                    tracing::info!(
                        event = %event_id,
                        "an encrypted message came before its room key; it waits for the key"
                    );
                }
                Ok(())
            }
            Parsed::Skipped(inbound::UNDECRYPTABLE) => {
                let hint = if cfg!(feature = "e2e-encryption") {
                    "the room keys were not shared with this device"
                } else {
                    "build connector-matrix with the `e2e-encryption` feature for encrypted rooms"
                };
                tracing::warn!(
                    hint,
                    "an encrypted message could not be read and is skipped"
                );
                Ok(())
            }
            Parsed::Skipped(reason) => {
                tracing::trace!(reason, "timeline event skipped");
                Ok(())
            }
        }
    }

    /// Hands `message` over; a sender the inbox refuses is answered with a pairing code when
    /// one is due (see `strangers`).
    async fn hand_over_or_pair(
        &mut self,
        message: connector_core::InboundMessage,
    ) -> Result<(), Interrupted> {
        let stranger = (self.inbox.pairing().is_some()).then(|| message.clone());
        if let (Admission::SenderNotAllowed, Some(message)) =
            (self.hand_over(message).await?, stranger)
        {
            crate::strangers::answer_stranger(&self.answers.sender, &self.inbox, &message).await;
        }
        Ok(())
    }

    /// Delivers `message` once a subscription took it (see
    /// [`Inbox::deliver_when_subscribed`]), unless the connector closes first.
    async fn hand_over(
        &mut self,
        message: connector_core::InboundMessage,
    ) -> Result<Admission, Interrupted> {
        tokio::select! {
            biased;
            _ = self.shutdown.wait_for(|closing| *closing) => Err(Interrupted::Shutdown),
            admission = self.inbox.deliver_when_subscribed(message) => {
                let admission = admission.map_err(|_closed| Interrupted::Shutdown)?;
                tracing::debug!(?admission, "inbound message");
                Ok(admission)
            }
        }
    }

    /// Whether the room's event `event_id` was sent by the bot: remembered from this run's
    /// sends, else asked of the homeserver (`GET /rooms/{room}/event/{id}`; an event it
    /// does not show us is not ours).
    async fn is_own_event(&self, event_id: &str) -> Result<bool> {
        if self.own_events.contains(event_id) {
            return Ok(true);
        }
        let Ok(id) = matrix_sdk::ruma::OwnedEventId::try_from(event_id) else {
            return Ok(false);
        };
        let request = matrix_sdk::ruma::api::client::room::get_room_event::v3::Request::new(
            self.room_id.clone(),
            id,
        );
        match self.client.send(request).await {
            Ok(answer) => {
                let sender = answer.event.get_field::<String>("sender").ok().flatten();
                Ok(sender.as_deref() == Some(self.own_user.as_str()))
            }
            Err(e) => match error::from_http("get the reacted-to event", e) {
                Error::Rejected { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Sleeps for `pause`; answers `true` if the connector closed meanwhile.
    async fn sleep_or_shutdown(&mut self, pause: Duration) -> bool {
        tokio::select! {
            _ = self.shutdown.wait_for(|closing| *closing) => true,
            () = tokio::time::sleep(pause) => false,
        }
    }
}

/// One `/sync` from `since` (from nothing: an initial sync), filtered to the room, waiting
/// up to `timeout` for news.
///
/// With `e2e-encryption`, matrix-sdk's `Client::sync_once` processes the answer: its crypto
/// machine takes the room keys from the to-device events and decrypts the timeline, and its
/// state store learns the room's members and encryption, which `Room::send` needs to
/// encrypt.
#[cfg(feature = "e2e-encryption")]
async fn fetch(
    client: &Client,
    room_id: &OwnedRoomId,
    what: &str,
    since: Option<&str>,
    timeout: Duration,
) -> Result<Batch> {
    use matrix_sdk::config::{SyncSettings, SyncToken};

    let token = since.map_or(SyncToken::NoToken, |since| {
        SyncToken::Specific(since.into())
    });
    let settings = SyncSettings::new()
        .token(token)
        .timeout(timeout)
        .filter(Filter::FilterDefinition(sync_filter(room_id)));
    let mut response = client
        .sync_once(settings)
        .await
        .map_err(|e| error::from_sdk(what, e))?;
    let timeline = response
        .rooms
        .joined
        .remove(room_id)
        .map(|room| room.timeline)
        .unwrap_or_default();
    Ok(Batch {
        next_batch: response.next_batch,
        events: timeline.events,
        limited: timeline.limited,
        prev_batch: timeline.prev_batch,
        // matrix-sdk's state store tracks it, and its sends encrypt.
        encryption_enabled: false,
    })
}

/// Without `e2e-encryption` nothing in the connector reads matrix-sdk's state store (sends,
/// history and health are plain requests), so the `/sync` request — the one `sync_once`
/// makes — is sent directly, and matrix-sdk's processing of the answer (state store, room
/// info, display names, push rules: about 0.3 ms a batch, on every message's way in) is
/// skipped.
#[cfg(not(feature = "e2e-encryption"))]
async fn fetch(
    client: &Client,
    room_id: &OwnedRoomId,
    what: &str,
    since: Option<&str>,
    timeout: Duration,
) -> Result<Batch> {
    use matrix_sdk::ruma::api::client::sync::sync_events::v3::Request;

    use crate::requests::{REQUEST_TIMEOUT, request_config};

    let mut request = Request::new();
    request.filter = Some(Filter::FilterDefinition(sync_filter(room_id)));
    request.since = since.map(str::to_owned);
    request.timeout = Some(timeout);
    request.use_state_after = true;
    // As `sync_once` does: the long-poll comes on top of the ordinary time bound.
    let config = request_config().timeout(REQUEST_TIMEOUT + timeout);
    let mut response = client
        .send(request)
        .with_request_config(config)
        .await
        .map_err(|e| error::from_http(what, e))?;
    use matrix_sdk::ruma::api::client::sync::sync_events::v3::State;

    let (timeline, state) = response
        .rooms
        .join
        .remove(room_id)
        .map(|room| {
            let state = match room.state {
                State::Before(state) | State::After(state) => state.events,
                _ => Vec::new(),
            };
            (room.timeline, state)
        })
        .unwrap_or_default();
    // Only the `type` field is read, not the whole event: this runs on every message's way in.
    let is_encryption = |kind: Result<Option<String>, serde_json::Error>| matches!(kind, Ok(Some(kind)) if kind == "m.room.encryption");
    let encryption_enabled = state
        .iter()
        .any(|event| is_encryption(event.get_field("type")))
        || timeline
            .events
            .iter()
            .any(|event| is_encryption(event.get_field("type")));
    Ok(Batch {
        next_batch: response.next_batch,
        events: timeline
            .events
            .into_iter()
            .map(TimelineEvent::from_plaintext)
            .collect(),
        limited: timeline.limited,
        prev_batch: timeline.prev_batch,
        encryption_enabled,
    })
}

/// How long to wait after the `failures`-th failure in a row.
fn pause_after(backoff: &RetryPolicy, error: &Error, failures: u32) -> Duration {
    if is_token_rejected(error) {
        return TOKEN_RETRY_INTERVAL;
    }
    if let Some(wait) = error.retry_after() {
        return wait.max(MIN_PAUSE);
    }
    backoff.backoff(failures).max(MIN_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_are_capped_and_honour_the_server() {
        let backoff =
            RetryPolicy::default().with_delays(Duration::from_millis(500), Duration::from_secs(10));
        let down = Error::Unreachable {
            kind: "matrix".into(),
            reason: "connection refused".into(),
            source: None,
        };
        for failures in 1..50 {
            let pause = pause_after(&backoff, &down, failures);
            assert!(
                pause >= MIN_PAUSE && pause <= Duration::from_secs(10),
                "{pause:?}"
            );
        }
        let rejected = Error::Unauthorized {
            kind: "matrix".into(),
            reason: "token rejected".into(),
        };
        assert_eq!(pause_after(&backoff, &rejected, 1), TOKEN_RETRY_INTERVAL);
        let limited = Error::RateLimited {
            kind: "matrix".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(pause_after(&backoff, &limited, 1), Duration::from_secs(3));
    }

    #[test]
    fn the_filter_keeps_only_the_room_timeline() {
        let room: OwnedRoomId = "!r:example.org".try_into().unwrap();
        let filter = serde_json::to_value(sync_filter(&room)).unwrap();
        assert_eq!(filter["room"]["rooms"][0], "!r:example.org");
        assert_eq!(filter["room"]["timeline"]["limit"], TIMELINE_LIMIT);
        assert_eq!(filter["presence"]["types"], serde_json::json!([]));
        assert_eq!(filter["room"]["ephemeral"]["types"], serde_json::json!([]));
    }
}
