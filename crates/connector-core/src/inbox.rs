//! The inbound pipeline every backend feeds: own-message filter, allow-list, dedupe, fan-out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::allowlist::{SenderPolicy, SenderVerdict};
use crate::dedupe::{DEFAULT_DEDUPE_CAPACITY, Dedupe};
use crate::fanout::{DEFAULT_QUEUE_CAPACITY, Fanout};
use crate::ids::{MessageId, SenderId};
use crate::message::InboundMessage;
use crate::subscription::Subscription;

/// What the inbox did with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Handed to this many subscriptions.
    Delivered(usize),
    /// Already delivered once (same message id): dropped.
    Duplicate,
    /// Sent by the connector itself: dropped.
    Own,
    /// Sender not on the allow-list: dropped and counted.
    SenderNotAllowed,
}

/// Counters of what the inbox has done, for health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InboxStats {
    /// Messages handed to subscribers.
    pub delivered: u64,
    /// Messages dropped as repeats.
    pub duplicates: u64,
    /// Messages dropped because their sender is not allowed.
    pub rejected_senders: u64,
}

/// The shared inbound path of a connector.
///
/// A backend turns platform events into [`InboundMessage`]s and calls
/// [`deliver`](Self::deliver) from one task; the inbox drops the connector's own messages,
/// senders not on the allow-list (counting them) and repeats (by message id), then fans the
/// message out to every subscription with back-pressure.
#[derive(Debug)]
pub struct Inbox {
    policy: Mutex<SenderPolicy>,
    dedupe: Mutex<Dedupe>,
    fanout: Fanout,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
}

impl Inbox {
    /// An inbox with the default queue and dedupe sizes.
    pub fn new(policy: SenderPolicy) -> Self {
        Self::with_capacities(policy, DEFAULT_QUEUE_CAPACITY, DEFAULT_DEDUPE_CAPACITY)
    }

    /// An inbox queueing `queue_capacity` messages per subscription and remembering
    /// `dedupe_capacity` message ids.
    pub fn with_capacities(
        policy: SenderPolicy,
        queue_capacity: usize,
        dedupe_capacity: usize,
    ) -> Self {
        Self {
            policy: Mutex::new(policy),
            dedupe: Mutex::new(Dedupe::new(dedupe_capacity)),
            fanout: Fanout::new(queue_capacity),
            delivered: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// A new subscription to every message delivered from now on.
    pub fn subscribe(&self) -> Subscription {
        self.fanout.subscribe()
    }

    /// Live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.fanout.subscriber_count()
    }

    /// Filters `message` and hands it to every subscription (waiting for room in full queues).
    pub async fn deliver(&self, message: InboundMessage) -> Admission {
        match self.admit(&message.sender, &message.message_id) {
            Some(refusal) => refusal,
            None => {
                let count = self.fanout.publish(message).await;
                self.delivered.fetch_add(1, Ordering::Relaxed);
                Admission::Delivered(count)
            }
        }
    }

    /// As [`deliver`](Self::deliver), but a message that no live subscription took (every
    /// subscription was dropped before or while it was handed over) comes back as `Err`, with
    /// its id forgotten, so the caller can offer it again once somebody subscribes.
    ///
    /// A backend that advances a persisted position after delivery uses this instead of
    /// checking [`subscriber_count`](Self::subscriber_count) first: the count can change
    /// between the check and the hand-over, the answer of this call cannot.
    pub async fn try_deliver(
        &self,
        message: InboundMessage,
    ) -> std::result::Result<Admission, InboundMessage> {
        if let Some(refusal) = self.admit(&message.sender, &message.message_id) {
            return Ok(refusal);
        }
        let count = self.fanout.publish(message.clone()).await;
        if count == 0 {
            self.dedupe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .forget(&message.message_id);
            return Err(message);
        }
        self.delivered.fetch_add(1, Ordering::Relaxed);
        Ok(Admission::Delivered(count))
    }

    /// Decides on a message without delivering it: `None` if it should be delivered.
    ///
    /// Records the id, so a second call with the same id answers [`Admission::Duplicate`].
    pub fn admit(&self, sender: &SenderId, id: &MessageId) -> Option<Admission> {
        match self
            .policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(sender)
        {
            SenderVerdict::Own => return Some(Admission::Own),
            SenderVerdict::NotAllowed => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%sender, "inbound message dropped: sender not in allowed_senders");
                return Some(Admission::SenderNotAllowed);
            }
            SenderVerdict::Allowed => {}
        }
        if !self
            .dedupe
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_sighting(id)
        {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return Some(Admission::Duplicate);
        }
        None
    }

    /// Remembers the id of a message the connector sent, so its echo is never delivered.
    pub fn note_own_message(&self, id: &MessageId) {
        self.dedupe
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_sighting(id);
    }

    /// Adds an identity of the connector itself, learnt at run time.
    pub fn add_own_identity(&self, own: impl Into<SenderId>) {
        self.policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add_own_identity(own);
    }

    /// What the inbox has done so far.
    pub fn stats(&self) -> InboxStats {
        InboxStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rejected_senders: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Ends every subscription.
    pub fn close(&self) {
        self.fanout.close();
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn msg(id: &str, sender: &str) -> InboundMessage {
        InboundMessage::new(id, sender, "hi", Timestamp::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn filters_in_order() {
        let inbox = Inbox::new(SenderPolicy::allow_list(["op"]).with_own_identity("bot"));
        let mut sub = inbox.subscribe();
        assert_eq!(inbox.deliver(msg("1", "op")).await, Admission::Delivered(1));
        assert_eq!(inbox.deliver(msg("1", "op")).await, Admission::Duplicate);
        assert_eq!(inbox.deliver(msg("2", "bot")).await, Admission::Own);
        assert_eq!(
            inbox.deliver(msg("3", "eve")).await,
            Admission::SenderNotAllowed
        );
        inbox.note_own_message(&"4".into());
        assert_eq!(inbox.deliver(msg("4", "op")).await, Admission::Duplicate);
        assert_eq!(sub.recv().await.unwrap().message_id.as_str(), "1");
        assert!(sub.try_recv().is_none());
        assert_eq!(
            inbox.stats(),
            InboxStats {
                delivered: 1,
                duplicates: 2,
                rejected_senders: 1
            }
        );
    }

    #[tokio::test]
    async fn try_deliver_hands_back_what_nobody_took() {
        let inbox = Inbox::new(SenderPolicy::allow_list(["op"]));
        let gone = inbox.subscribe();
        drop(gone);
        let back = inbox.try_deliver(msg("1", "op")).await;
        assert_eq!(back.map_err(|m| m.message_id), Err("1".into()));
        assert_eq!(inbox.stats().delivered, 0);
        // Offered again once somebody listens: not a duplicate.
        let mut sub = inbox.subscribe();
        assert_eq!(
            inbox.try_deliver(msg("1", "op")).await,
            Ok(Admission::Delivered(1))
        );
        assert_eq!(sub.recv().await.unwrap().message_id.as_str(), "1");
        assert_eq!(
            inbox.try_deliver(msg("1", "op")).await,
            Ok(Admission::Duplicate)
        );
        assert_eq!(
            inbox.try_deliver(msg("2", "eve")).await,
            Ok(Admission::SenderNotAllowed)
        );
    }
}
