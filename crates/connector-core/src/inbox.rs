//! The inbound pipeline every backend feeds: own-message filter, allow-list, dedupe, fan-out.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::Poll;

use tokio::sync::{Notify, watch};

use crate::allowlist::{SenderPolicy, SenderVerdict};
use crate::dedupe::{DEFAULT_DEDUPE_CAPACITY, Dedupe};
use crate::fanout::{DEFAULT_QUEUE_CAPACITY, Fanout};
use crate::ids::{MessageId, SenderId};
use crate::message::InboundMessage;
use crate::round_trip::Echoes;
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

/// The answer of [`Inbox::deliver_when_subscribed`] once the inbox is closed: the message was
/// not handed over (its id is not remembered), so the caller must not record it as delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the inbox is closed")]
pub struct Closed;

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
///
/// A backend that saves a position after each message hands messages over with
/// [`deliver_when_subscribed`](Self::deliver_when_subscribed) instead: it waits for a live
/// subscription and answers only once one took the message, so the position never passes a
/// message that nobody has.
#[derive(Debug)]
pub struct Inbox {
    policy: Mutex<SenderPolicy>,
    dedupe: Mutex<Dedupe>,
    fanout: Fanout,
    /// Signalled by every [`subscribe`](Self::subscribe) (and by [`close`](Self::close)), so a
    /// delivery waiting for a subscription wakes.
    subscribed: Notify,
    /// Becomes `true` when the inbox closes.
    closed: watch::Sender<bool>,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
    /// Round-trip probes awaiting their echo (see [`crate::round_trip`]).
    echoes: Echoes,
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
            subscribed: Notify::new(),
            closed: watch::Sender::new(false),
            delivered: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            echoes: Echoes::default(),
        }
    }

    /// A new subscription to every message delivered from now on.
    ///
    /// Wakes a [`deliver_when_subscribed`](Self::deliver_when_subscribed) waiting for one.
    pub fn subscribe(&self) -> Subscription {
        let subscription = self.fanout.subscribe();
        self.subscribed.notify_waiters();
        subscription
    }

    /// Live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        self.fanout.subscriber_count()
    }

    /// Filters `message` and hands it to every subscription (waiting for room in full queues).
    pub async fn deliver(&self, message: InboundMessage) -> Admission {
        if self.echoes.arrived(&message.text) {
            return Admission::Own;
        }
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
    /// One attempt, without waiting for a subscription: a backend that advances a persisted
    /// position after delivery wants [`deliver_when_subscribed`](Self::deliver_when_subscribed),
    /// which waits for one and offers the message again for it. Either way, do not check
    /// [`subscriber_count`](Self::subscriber_count) first and then [`deliver`](Self::deliver):
    /// the count can change between the check and the hand-over, the answer of this call
    /// cannot. If the future is dropped before it answers, the id is forgotten as well.
    pub async fn try_deliver(
        &self,
        message: InboundMessage,
    ) -> std::result::Result<Admission, InboundMessage> {
        if self.echoes.arrived(&message.text) {
            return Ok(Admission::Own);
        }
        if let Some(refusal) = self.admit(&message.sender, &message.message_id) {
            return Ok(refusal);
        }
        let mut pending = Pending::new(self, &message.message_id);
        let count = self.fanout.publish(message.clone()).await;
        if count == 0 {
            drop(pending);
            return Err(message);
        }
        pending.taken();
        Ok(Admission::Delivered(count))
    }

    /// Waits for a live subscription and hands `message` to every subscription, answering
    /// only once at least one of them took it — or [`Closed`] once the inbox is closed.
    ///
    /// This is how a backend that saves its position after each message delivers: record the
    /// position on `Ok`, never on `Err`. The message goes through the same filters as
    /// [`deliver`](Self::deliver) (own, allow-list, repeats) before any waiting. If every
    /// subscription is dropped before or while the message is handed over (say, while it waits
    /// for room in a full queue), it is not counted as delivered: it waits for the next
    /// subscription and is offered to it. While the inbox waits, its id stays recorded, so a
    /// repeat arriving meanwhile is still a [`Duplicate`](Admission::Duplicate); if the wait
    /// ends in [`Closed`] (or the future is dropped), the id is forgotten again, so the message
    /// is new to a later delivery. [`subscribe`](Self::subscribe) wakes the wait: the backend
    /// needs no polling loop or signal of its own.
    ///
    /// ```
    /// use connector_core::inbox::{Admission, Closed};
    /// use connector_core::{InboundMessage, Inbox, SenderPolicy, Timestamp};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let inbox = std::sync::Arc::new(Inbox::new(SenderPolicy::allow_any()));
    /// let message = InboundMessage::new("1", "op", "hi", Timestamp::UNIX_EPOCH);
    /// let reader = tokio::spawn({
    ///     let inbox = inbox.clone();
    ///     async move { inbox.subscribe().recv().await }
    /// });
    /// // Waits until the reader has subscribed, then hands the message over.
    /// assert_eq!(inbox.deliver_when_subscribed(message).await, Ok(Admission::Delivered(1)));
    /// assert_eq!(reader.await.unwrap().unwrap().text, "hi");
    /// inbox.close();
    /// let late = InboundMessage::new("2", "op", "late", Timestamp::UNIX_EPOCH);
    /// assert_eq!(inbox.deliver_when_subscribed(late).await, Err(Closed));
    /// # }
    /// ```
    pub async fn deliver_when_subscribed(
        &self,
        message: InboundMessage,
    ) -> std::result::Result<Admission, Closed> {
        if self.is_closed() {
            return Err(Closed);
        }
        if self.echoes.arrived(&message.text) {
            return Ok(Admission::Own);
        }
        if let Some(refusal) = self.admit(&message.sender, &message.message_id) {
            return Ok(refusal);
        }
        self.hand_over(message).await
    }

    /// As [`deliver_when_subscribed`](Self::deliver_when_subscribed), for a message whose
    /// sender was decided on already: the answer to a question (its answerer was checked
    /// against the allow-list when the answer was taken) or its expiry (sent by nobody). Only
    /// repeats are dropped.
    pub async fn deliver_decided(
        &self,
        message: InboundMessage,
    ) -> std::result::Result<Admission, Closed> {
        if self.is_closed() {
            return Err(Closed);
        }
        if !self
            .dedupe
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_sighting(&message.message_id)
        {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return Ok(Admission::Duplicate);
        }
        self.hand_over(message).await
    }

    /// Hands an admitted message (its id recorded) to the subscriptions, waiting for one.
    async fn hand_over(&self, message: InboundMessage) -> std::result::Result<Admission, Closed> {
        let mut pending = Pending::new(self, &message.message_id);
        loop {
            // Created before the count is read, so a `subscribe` after the read still wakes it.
            let subscribed = self.subscribed.notified();
            if self.is_closed() {
                return Err(Closed);
            }
            if self.subscriber_count() == 0 {
                self.unless_closed(subscribed).await.ok_or(Closed)?;
                continue;
            }
            let count = self
                .unless_closed(self.fanout.publish(message.clone()))
                .await
                .ok_or(Closed)?;
            if count > 0 {
                pending.taken();
                return Ok(Admission::Delivered(count));
            }
            tracing::debug!(
                id = %message.message_id,
                "no subscription took the message; waiting for the next one"
            );
        }
    }

    /// Decides on a message without delivering it: `None` if it should be delivered.
    ///
    /// Records the id, so a second call with the same id answers [`Admission::Duplicate`].
    pub fn admit(&self, sender: &SenderId, id: &MessageId) -> Option<Admission> {
        match self.check_sender(sender) {
            SenderVerdict::Own => return Some(Admission::Own),
            SenderVerdict::NotAllowed => return Some(Admission::SenderNotAllowed),
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

    /// The sender policy's verdict on `sender` (the allow-list and the backend's
    /// [`SenderRule`](crate::allowlist::SenderRule)); a refusal is counted in
    /// [`InboxStats::rejected_senders`].
    ///
    /// Every delivery asks it first. A backend that must know the verdict before it builds the
    /// message (Discord, before it numbers a reaction) asks it too and, if allowed, delivers;
    /// a refused sender is never delivered, so it is counted once.
    pub fn check_sender(&self, sender: &SenderId) -> SenderVerdict {
        let verdict = self
            .policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(sender);
        if verdict == SenderVerdict::NotAllowed {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%sender, "inbound message dropped: sender not in allowed_senders");
        }
        verdict
    }

    /// The pairing of the sender policy, if the roster turns it on: when
    /// [`check_sender`](Self::check_sender) (or a delivery) refuses a sender's message, the
    /// backend answers them with what [`Pairing::stranger_wrote`](crate::pairing::Pairing::stranger_wrote)
    /// gives (see [`crate::pairing`]).
    pub fn pairing(&self) -> Option<std::sync::Arc<crate::pairing::Pairing>> {
        self.policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pairing()
            .cloned()
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

    /// The round-trip probes awaiting their echo: a backend whose own messages are dropped
    /// before they reach the inbox asks [`Echoes::arrived`] first (see [`crate::round_trip`]);
    /// the inbox's deliveries ask it themselves, and answer [`Admission::Own`] for a probe.
    pub fn echoes(&self) -> &Echoes {
        &self.echoes
    }

    /// What the inbox has done so far.
    pub fn stats(&self) -> InboxStats {
        InboxStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rejected_senders: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Ends every subscription; a [`deliver_when_subscribed`](Self::deliver_when_subscribed)
    /// in progress, and every later one, answers [`Closed`].
    pub fn close(&self) {
        self.closed.send_replace(true);
        self.fanout.close();
        self.subscribed.notify_waiters();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Runs `work` to its end, or answers `None` as soon as the inbox closes.
    async fn unless_closed<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let mut closed = self.closed.subscribe();
        let mut closing = pin!(closed.wait_for(|closed| *closed));
        let mut work = pin!(work);
        std::future::poll_fn(|cx| {
            // Work that is done counts, even if the inbox closed at the same time.
            if let Poll::Ready(done) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(done));
            }
            match closing.as_mut().poll(cx) {
                Poll::Ready(_) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

/// A message admitted (its id recorded) but not yet taken by a subscription: unless
/// [`taken`](Self::taken) is called, dropping it forgets the id again, so the message is new
/// when it is offered again — after an early return, an error or a cancelled future alike.
struct Pending<'a> {
    inbox: &'a Inbox,
    id: &'a MessageId,
    taken: bool,
}

impl<'a> Pending<'a> {
    fn new(inbox: &'a Inbox, id: &'a MessageId) -> Self {
        Self {
            inbox,
            id,
            taken: false,
        }
    }

    /// A subscription took the message: count it as delivered and keep its id.
    fn taken(&mut self) {
        self.taken = true;
        self.inbox.delivered.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.taken {
            self.inbox
                .dedupe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .forget(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use jiff::Timestamp;

    use super::*;

    fn msg(id: &str, sender: &str) -> InboundMessage {
        InboundMessage::new(id, sender, "hi", Timestamp::UNIX_EPOCH)
    }

    /// Lets every other task of the (single-threaded) test runtime run until it waits.
    async fn settle() {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
    }

    /// A backend's reader in miniature: hands `ids` over in order from the saved `position`
    /// on, and saves the position after each message a subscription took; stops when the
    /// inbox closes.
    async fn reader(inbox: Arc<Inbox>, ids: &'static [&'static str], position: Arc<AtomicUsize>) {
        for (n, id) in ids.iter().enumerate().skip(position.load(Ordering::SeqCst)) {
            match inbox.deliver_when_subscribed(msg(id, "op")).await {
                Ok(_) => position.store(n + 1, Ordering::SeqCst),
                Err(Closed) => return,
            }
        }
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

    #[derive(Debug)]
    struct Moderators;

    impl crate::allowlist::SenderRule for Moderators {
        fn admits(&self, sender: &SenderId) -> bool {
            sender.as_str() == "mod"
        }
    }

    #[tokio::test]
    async fn a_backend_rule_admits_and_every_refusal_is_counted_once() {
        let policy = SenderPolicy::allow_list(["op"]).with_rule(Arc::new(Moderators));
        let inbox = Inbox::new(policy);
        let mut sub = inbox.subscribe();
        assert_eq!(
            inbox.deliver(msg("1", "mod")).await,
            Admission::Delivered(1)
        );
        // Asked first (as Discord does), then delivered: one decision, one count.
        assert_eq!(inbox.check_sender(&"eve".into()), SenderVerdict::NotAllowed);
        assert_eq!(inbox.check_sender(&"mod".into()), SenderVerdict::Allowed);
        assert_eq!(
            inbox.deliver(msg("2", "mod")).await,
            Admission::Delivered(1)
        );
        assert_eq!(
            inbox.deliver(msg("3", "eve")).await,
            Admission::SenderNotAllowed
        );
        assert_eq!(sub.recv().await.unwrap().message_id.as_str(), "1");
        assert_eq!(sub.recv().await.unwrap().message_id.as_str(), "2");
        assert_eq!(
            inbox.stats(),
            InboxStats {
                delivered: 2,
                duplicates: 0,
                rejected_senders: 2
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

    #[tokio::test]
    async fn deliver_when_subscribed_waits_for_a_subscription() {
        let inbox = Arc::new(Inbox::new(SenderPolicy::allow_list(["op"])));
        let pending = tokio::spawn({
            let inbox = Arc::clone(&inbox);
            async move { inbox.deliver_when_subscribed(msg("1", "op")).await }
        });
        settle().await;
        assert!(!pending.is_finished(), "nobody subscribed: delivery waits");
        assert_eq!(inbox.stats().delivered, 0);
        let mut sub = inbox.subscribe();
        assert_eq!(pending.await.unwrap(), Ok(Admission::Delivered(1)));
        assert_eq!(sub.recv().await.unwrap().message_id.as_str(), "1");
        assert_eq!(inbox.stats().delivered, 1);
    }

    #[tokio::test]
    async fn deliver_when_subscribed_filters_without_waiting() {
        let inbox = Inbox::new(SenderPolicy::allow_list(["op"]).with_own_identity("bot"));
        inbox.note_own_message(&"1".into());
        assert_eq!(
            inbox.deliver_when_subscribed(msg("1", "op")).await,
            Ok(Admission::Duplicate)
        );
        assert_eq!(
            inbox.deliver_when_subscribed(msg("2", "bot")).await,
            Ok(Admission::Own)
        );
        assert_eq!(
            inbox.deliver_when_subscribed(msg("3", "eve")).await,
            Ok(Admission::SenderNotAllowed)
        );
        assert_eq!(inbox.stats().rejected_senders, 1);
    }

    /// The race a backend with a saved position must not lose: the only subscription is live
    /// when delivery starts, then dropped while the message waits for room in its full queue.
    #[tokio::test]
    async fn a_subscription_dropped_during_hand_over_does_not_swallow_the_message() {
        let inbox = Arc::new(Inbox::with_capacities(
            SenderPolicy::allow_list(["op"]),
            1,
            64,
        ));
        let first = inbox.subscribe();
        assert_eq!(
            inbox.deliver_when_subscribed(msg("1", "op")).await,
            Ok(Admission::Delivered(1))
        );
        let pending = tokio::spawn({
            let inbox = Arc::clone(&inbox);
            async move { inbox.deliver_when_subscribed(msg("2", "op")).await }
        });
        settle().await;
        assert!(!pending.is_finished(), "the queue is full: delivery waits");
        drop(first);
        settle().await;
        assert!(
            !pending.is_finished(),
            "nobody took 2, so it must not be reported as delivered"
        );
        assert_eq!(inbox.stats().delivered, 1);
        // Its id stays recorded while it waits: a repeat meanwhile is dropped.
        assert_eq!(
            inbox.try_deliver(msg("2", "op")).await,
            Ok(Admission::Duplicate)
        );
        let mut second = inbox.subscribe();
        assert_eq!(pending.await.unwrap(), Ok(Admission::Delivered(1)));
        assert_eq!(second.recv().await.unwrap().message_id.as_str(), "2");
        assert!(second.try_recv().is_none(), "2 is handed over once");
        assert_eq!(inbox.stats().delivered, 2);
        assert_eq!(
            inbox.deliver_when_subscribed(msg("2", "op")).await,
            Ok(Admission::Duplicate)
        );
    }

    /// The whole story with a saved position: a subscription that goes away while a message
    /// is being handed over, a new subscription, then a restart (a new inbox resuming from the
    /// saved position). Every message arrives exactly once.
    #[tokio::test]
    async fn dropped_mid_hand_over_then_resubscribed_then_restarted_delivers_each_once() {
        let ids: &[&str] = &["1", "2", "3"];
        let position = Arc::new(AtomicUsize::new(0));
        let inbox = Arc::new(Inbox::with_capacities(
            SenderPolicy::allow_list(["op"]),
            1,
            64,
        ));
        let mut first = inbox.subscribe();
        let running = tokio::spawn(reader(Arc::clone(&inbox), ids, Arc::clone(&position)));
        settle().await;
        assert_eq!(
            position.load(Ordering::SeqCst),
            1,
            "1 is queued, 2 waits for room"
        );
        // Unsubscribe during the hand-over of 2 (reading what is queued), then go away.
        first.close();
        settle().await;
        assert_eq!(
            position.load(Ordering::SeqCst),
            1,
            "nobody took 2: the position must not pass it"
        );
        let mut received = Vec::new();
        while let Some(message) = first.try_recv() {
            received.push(message.message_id.as_str().to_owned());
        }
        drop(first);
        let mut second = inbox.subscribe();
        for _ in 0..2 {
            let message = tokio::time::timeout(Duration::from_secs(5), second.recv())
                .await
                .expect("the message in the hand-over is offered to the next subscription")
                .unwrap();
            received.push(message.message_id.as_str().to_owned());
        }
        running.await.unwrap();
        assert_eq!(position.load(Ordering::SeqCst), 3);
        inbox.close();
        assert!(second.recv().await.is_none());

        // Restart: a fresh inbox (nothing remembered) resumes from the saved position.
        let inbox = Arc::new(Inbox::new(SenderPolicy::allow_list(["op"])));
        let mut third = inbox.subscribe();
        reader(
            Arc::clone(&inbox),
            &["1", "2", "3", "4"],
            Arc::clone(&position),
        )
        .await;
        while let Some(message) = third.try_recv() {
            received.push(message.message_id.as_str().to_owned());
        }
        assert_eq!(received, ["1", "2", "3", "4"]);
        assert_eq!(position.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn deliver_when_subscribed_returns_once_closed() {
        let inbox = Arc::new(Inbox::with_capacities(
            SenderPolicy::allow_list(["op"]),
            1,
            64,
        ));
        // Waiting for a subscription.
        let waiting = tokio::spawn({
            let inbox = Arc::clone(&inbox);
            async move { inbox.deliver_when_subscribed(msg("1", "op")).await }
        });
        settle().await;
        assert!(!waiting.is_finished());
        // Waiting for room in a full queue nobody reads.
        let mut stalled = inbox.subscribe();
        assert_eq!(waiting.await.unwrap(), Ok(Admission::Delivered(1)));
        let waiting = tokio::spawn({
            let inbox = Arc::clone(&inbox);
            async move { inbox.deliver_when_subscribed(msg("2", "op")).await }
        });
        settle().await;
        assert!(!waiting.is_finished());
        inbox.close();
        assert_eq!(waiting.await.unwrap(), Err(Closed));
        assert!(inbox.is_closed());
        // Later deliveries answer at once; nothing was counted or remembered for 2.
        assert_eq!(
            inbox.deliver_when_subscribed(msg("3", "op")).await,
            Err(Closed)
        );
        assert_eq!(inbox.stats().delivered, 1);
        assert_eq!(inbox.admit(&"op".into(), &"2".into()), None);
        assert_eq!(stalled.recv().await.unwrap().message_id.as_str(), "1");
        assert!(stalled.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_closed_inbox_with_nobody_subscribed_does_not_hang() {
        let inbox = Arc::new(Inbox::new(SenderPolicy::allow_list(["op"])));
        let waiting = tokio::spawn({
            let inbox = Arc::clone(&inbox);
            async move { inbox.deliver_when_subscribed(msg("1", "op")).await }
        });
        settle().await;
        inbox.close();
        assert_eq!(waiting.await.unwrap(), Err(Closed));
        assert_eq!(inbox.admit(&"op".into(), &"1".into()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_delivery_leaves_dedupe_as_it_was() {
        let inbox = Inbox::new(SenderPolicy::allow_list(["op"]));
        let gave_up = tokio::time::timeout(
            Duration::from_secs(1),
            inbox.deliver_when_subscribed(msg("1", "op")),
        )
        .await;
        assert!(gave_up.is_err(), "nobody subscribed: still waiting");
        assert_eq!(inbox.stats().delivered, 0);
        let mut sub = inbox.subscribe();
        assert_eq!(
            inbox.deliver_when_subscribed(msg("1", "op")).await,
            Ok(Admission::Delivered(1))
        );
        assert_eq!(sub.recv().await.unwrap().message_id.as_str(), "1");
    }
}
