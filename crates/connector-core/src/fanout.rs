//! Fan-out of inbound messages to every live subscription, with back-pressure.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::message::InboundMessage;
use crate::subscription::Subscription;

/// The default number of messages queued per subscription.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

/// Hands each published message to every live [`Subscription`].
///
/// [`publish`](Self::publish) waits while any subscriber's queue is full, so a slow subscriber
/// slows intake instead of losing messages (see [`Subscription`]). Publish from one task to keep
/// the platform's order.
#[derive(Debug, Clone)]
pub struct Fanout {
    senders: Arc<Mutex<Vec<mpsc::Sender<InboundMessage>>>>,
    capacity: usize,
}

impl Default for Fanout {
    fn default() -> Self {
        Self::new(DEFAULT_QUEUE_CAPACITY)
    }
}

impl Fanout {
    /// A fan-out queueing at most `capacity` messages per subscriber (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            senders: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// A new subscription that receives every message published from now on.
    pub fn subscribe(&self) -> Subscription {
        let (sender, receiver) = mpsc::channel(self.capacity);
        self.lock().push(sender);
        Subscription::new(receiver)
    }

    /// Live subscriptions.
    pub fn subscriber_count(&self) -> usize {
        let mut senders = self.lock();
        senders.retain(|s| !s.is_closed());
        senders.len()
    }

    /// Hands `message` to every live subscription, waiting for room in full queues.
    ///
    /// Returns how many subscriptions received it.
    pub async fn publish(&self, message: InboundMessage) -> usize {
        let senders: Vec<_> = {
            let mut senders = self.lock();
            senders.retain(|s| !s.is_closed());
            senders.clone()
        };
        let mut delivered = 0;
        for sender in senders {
            if sender.send(message.clone()).await.is_ok() {
                delivered += 1;
            }
        }
        delivered
    }

    /// Ends every subscription: their streams yield `None` once drained.
    pub fn close(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::Sender<InboundMessage>>> {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jiff::Timestamp;

    use super::*;

    fn msg(n: usize) -> InboundMessage {
        InboundMessage::new(
            format!("m{n}"),
            "op",
            format!("text {n}"),
            Timestamp::UNIX_EPOCH,
        )
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_message() {
        let fanout = Fanout::new(8);
        let mut a = fanout.subscribe();
        let mut b = fanout.subscribe();
        for n in 0..5 {
            assert_eq!(fanout.publish(msg(n)).await, 2);
        }
        for n in 0..5 {
            assert_eq!(a.recv().await.unwrap().text, format!("text {n}"));
            assert_eq!(b.recv().await.unwrap().text, format!("text {n}"));
        }
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes() {
        let fanout = Fanout::new(8);
        let a = fanout.subscribe();
        let mut b = fanout.subscribe();
        drop(a);
        assert_eq!(fanout.subscriber_count(), 1);
        assert_eq!(fanout.publish(msg(1)).await, 1);
        assert_eq!(b.recv().await.unwrap().text, "text 1");
    }

    #[tokio::test]
    async fn slow_subscriber_applies_back_pressure_without_loss() {
        let fanout = Fanout::new(2);
        let mut slow = fanout.subscribe();
        let mut fast = fanout.subscribe();
        let publisher = {
            let fanout = fanout.clone();
            tokio::spawn(async move {
                for n in 0..50 {
                    fanout.publish(msg(n)).await;
                }
            })
        };
        let fast_reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < 50 {
                seen.push(fast.recv().await.unwrap().text);
            }
            seen
        });
        // The slow subscriber reads late and still gets all 50, in order.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !publisher.is_finished(),
            "publisher must wait for the slow subscriber"
        );
        for n in 0..50 {
            assert_eq!(slow.recv().await.unwrap().text, format!("text {n}"));
        }
        publisher.await.unwrap();
        assert_eq!(fast_reader.await.unwrap().len(), 50);
    }
}
