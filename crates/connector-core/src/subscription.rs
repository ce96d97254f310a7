//! A stream of inbound messages that unsubscribes when dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use crate::message::InboundMessage;

/// One subscriber's stream of the operator's messages.
///
/// Use [`recv`](Self::recv) or the [`futures_core::Stream`] implementation. Dropping the
/// subscription unsubscribes; the connector stops queueing for it at once.
///
/// # Memory and the slow subscriber
/// Each subscription has its own queue of at most `capacity` messages (the connector's
/// `queue_capacity`, 1024 by default). A subscriber that does not keep up is never skipped and
/// never loses messages: when its queue is full, the connector stops taking messages from the
/// platform until there is room again (back-pressure), and the platform keeps them meanwhile
/// (Matrix and Discord resume from their saved position; tmux holds pane output). Memory is
/// therefore bounded by `capacity × subscribers × message size`. The price is that one stalled
/// subscriber delays the others: drop subscriptions you no longer read.
#[derive(Debug)]
pub struct Subscription {
    receiver: mpsc::Receiver<InboundMessage>,
}

impl Subscription {
    pub(crate) fn new(receiver: mpsc::Receiver<InboundMessage>) -> Self {
        Self { receiver }
    }

    /// The next message, or `None` once the connector is closed.
    pub async fn recv(&mut self) -> Option<InboundMessage> {
        self.receiver.recv().await
    }

    /// Unsubscribes now: messages already queued can still be read, then [`recv`](Self::recv)
    /// answers `None`.
    pub fn close(&mut self) {
        self.receiver.close();
    }

    /// The next message if one is already queued.
    pub fn try_recv(&mut self) -> Option<InboundMessage> {
        self.receiver.try_recv().ok()
    }
}

impl futures_core::Stream for Subscription {
    type Item = InboundMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}
