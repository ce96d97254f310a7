//! Posting into the connector's room: one event at a time with a stable transaction id,
//! retried under the connector's policy, encrypted where the room asks for it (feature
//! `e2e-encryption`), and remembered as the bot's own. Shared by the connector's sends and the
//! sync loop's notices to whoever answered a question.

use std::sync::Arc;
#[cfg(not(feature = "e2e-encryption"))]
use std::sync::atomic::{AtomicBool, Ordering};

use connector_core::retry::RetryPolicy;
use connector_core::{Error, Inbox, MessageId, Result, ThreadId};
use matrix_sdk::Client;
#[cfg(not(feature = "e2e-encryption"))]
use matrix_sdk::ruma::api::client::message::send_message_event;
use matrix_sdk::ruma::api::client::redact::redact_event;
use matrix_sdk::ruma::events::MessageLikeEventContent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, TransactionId};

use crate::outbound::{ThreadTarget, event_id};
use crate::own_events::OwnEvents;
use crate::threads::Threads;
use crate::{KIND, error};

/// Sends events into the one room (cheap to clone: everything is shared).
#[derive(Clone)]
pub(crate) struct RoomSender {
    pub(crate) client: Client,
    pub(crate) room_id: OwnedRoomId,
    pub(crate) retry: RetryPolicy,
    /// Our own messages are dropped when they come back through `/sync`.
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) own_events: Arc<OwnEvents>,
    pub(crate) threads: Arc<Threads>,
    /// Whether the room is encrypted (then a build that cannot encrypt refuses to send).
    #[cfg(not(feature = "e2e-encryption"))]
    pub(crate) encrypted: Arc<AtomicBool>,
}

impl std::fmt::Debug for RoomSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomSender")
            .field("room_id", &self.room_id)
            .finish_non_exhaustive()
    }
}

impl RoomSender {
    /// Refuses to send into an encrypted room from a build that cannot encrypt.
    #[cfg(not(feature = "e2e-encryption"))]
    pub(crate) fn refuse_clear_text(&self) -> Result<()> {
        if self.encrypted.load(Ordering::Acquire) {
            return Err(Error::Rejected {
                kind: KIND.into(),
                reason: format!(
                    "room {} is encrypted and this build lacks the e2e-encryption feature: not \
                     sending in the clear (build with e2e-encryption)",
                    self.room_id
                ),
            });
        }
        Ok(())
    }

    /// Sends one event with transaction id `txn`, retrying under the connector's policy with
    /// the same transaction id every time.
    pub(crate) async fn send_event<C>(
        &self,
        content: &C,
        txn: &TransactionId,
    ) -> Result<OwnedEventId>
    where
        C: MessageLikeEventContent + Clone,
    {
        self.retry
            .run(|attempt| async move {
                if attempt > 1 {
                    tracing::debug!(attempt, %txn, "retrying a send with the same transaction id");
                }
                self.send_event_once(content, txn).await
            })
            .await
    }

    #[cfg(not(feature = "e2e-encryption"))]
    async fn send_event_once<C>(&self, content: &C, txn: &TransactionId) -> Result<OwnedEventId>
    where
        C: MessageLikeEventContent + Clone,
    {
        self.refuse_clear_text()?;
        let request =
            send_message_event::v3::Request::new(self.room_id.clone(), txn.to_owned(), content)
                .map_err(|e| Error::backend(KIND, "cannot serialise the event", e))?;
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| error::from_http("send", e))?;
        Ok(response.event_id)
    }

    /// With end-to-end encryption, matrix-sdk's room sender encrypts when the room asks for it.
    #[cfg(feature = "e2e-encryption")]
    async fn send_event_once<C>(&self, content: &C, txn: &TransactionId) -> Result<OwnedEventId>
    where
        C: MessageLikeEventContent + Clone,
    {
        let Some(room) = self.client.get_room(&self.room_id) else {
            // Never fall back to a plain PUT here: in an encrypted room that would post the
            // message in the clear. A joined room is in the store after open()'s first sync.
            return Err(Error::Rejected {
                kind: KIND.into(),
                reason: format!(
                    "room {} is not known to this client (not joined?); not sending unencrypted",
                    self.room_id
                ),
            });
        };
        let response = room
            .send(content.clone())
            .with_transaction_id(txn.to_owned())
            .await
            .map_err(|e| error::from_sdk("send", e))?;
        Ok(response.response.event_id)
    }

    /// Sends `content` with `txn` and records the event as ours (and in the thread of `root`).
    pub(crate) async fn post(
        &self,
        content: RoomMessageEventContent,
        txn: &TransactionId,
        root: Option<&OwnedEventId>,
    ) -> Result<MessageId> {
        let id = self.send_event(&content, txn).await?;
        let id = MessageId::new(id.as_str());
        self.inbox.note_own_message(&id);
        self.own_events.note(&id);
        if let Some(root) = root {
            self.threads.note(id.as_str(), root.as_str());
        }
        Ok(id)
    }

    /// The thread to post into for a caller's `thread_id`: the root of the thread that event is
    /// in, or the event itself (which starts a thread).
    pub(crate) fn thread_root(&self, thread: &ThreadId) -> Result<OwnedEventId> {
        let asked = event_id("thread_id", thread.as_str())?;
        event_id("thread_id", &self.threads.root_for(asked.as_str()))
    }

    /// Where a message goes in the thread of `root`, if any.
    pub(crate) fn target(&self, root: Option<&OwnedEventId>) -> Result<Option<ThreadTarget>> {
        root.map(|root| {
            Ok(ThreadTarget {
                root: root.clone(),
                latest: event_id("thread_id", &self.threads.latest_in(root.as_str()))?,
            })
        })
        .transpose()
    }

    /// Redacts `event` (one try: the callers log a failure and carry on).
    pub(crate) async fn redact(&self, event: OwnedEventId, reason: &str) -> Result<()> {
        let mut request =
            redact_event::v3::Request::new(self.room_id.clone(), event, TransactionId::new());
        request.reason = Some(reason.to_owned());
        self.client
            .send(request)
            .await
            .map(drop)
            .map_err(|e| error::from_http("redact", e))
    }
}
