//! Waiting for the operator's texts on one receiving path — the connector's subscription or a
//! bench's raw client — and the inbound and burst measurements built on it, for the benches
//! whose two paths cannot listen at once (Telegram gives a bot's updates to one poller, Slack
//! hands an envelope to one connection) and so take turns.

use std::future::Future;
use std::time::{Duration, Instant};

use connector_core::Subscription;

use crate::stats::{Burst, Measured, delivered_in_order};

/// One receiving path: the texts of the operator's messages, in the order they arrive.
pub trait Listener {
    /// The next text to arrive before `deadline`; `None` once it passed or the path closed.
    fn next(&mut self, deadline: tokio::time::Instant) -> impl Future<Output = Option<String>>;

    /// Drops whatever arrived already.
    fn drain(&mut self);
}

/// The connector's path.
impl Listener for Subscription {
    async fn next(&mut self, deadline: tokio::time::Instant) -> Option<String> {
        tokio::time::timeout_at(deadline, self.recv())
            .await
            .ok()
            .flatten()
            .map(|message| message.text)
    }

    fn drain(&mut self) {
        while self.try_recv().is_some() {}
    }
}

/// Posts one operator message; answers when the post began.
pub type Post<'a> = &'a dyn Fn(&str) -> Result<Instant, String>;

/// Waits up to `give_up` for `text`, skipping others; answers when it arrived.
pub async fn wait_for(
    listener: &mut impl Listener,
    text: &str,
    give_up: Duration,
) -> Option<Instant> {
    let deadline = tokio::time::Instant::now() + give_up;
    loop {
        match listener.next(deadline).await {
            Some(got) if got == text => return Some(Instant::now()),
            Some(_) => {}
            None => return None,
        }
    }
}

/// How one block of inbound samples is taken.
#[derive(Debug, Clone, Copy)]
pub struct Samples {
    /// Samples taken first and not counted.
    pub warmup: usize,
    /// Samples counted.
    pub n: usize,
    /// How long one message may take before it counts as failed.
    pub give_up: Duration,
    /// The pause after a settling message arrived, so the listener is idle when the sample is
    /// posted.
    pub settle: Duration,
}

/// Inbound samples through one listener, added to `measured`: before each, a settling message
/// reaches the listener and [`Samples::settle`] passes; then the sample is posted and its
/// latency (post → arrival) recorded, failures at [`Samples::give_up`]. `tag` keeps the texts
/// of different paths and blocks apart.
pub async fn inbound_block(
    listener: &mut impl Listener,
    post: Post<'_>,
    tag: &str,
    samples: Samples,
    measured: &mut Measured,
) -> Result<(), String> {
    for i in 0..samples.warmup + samples.n {
        let text = format!("in-{tag}-{i:06}");
        let settled = format!("{text}-settle");
        post(&settled)?;
        let _ = wait_for(listener, &settled, samples.give_up).await;
        tokio::time::sleep(samples.settle).await;
        let posted = post(&text)?;
        let arrived = wait_for(listener, &text, samples.give_up).await;
        if i >= samples.warmup {
            measured
                .latencies
                .push(arrived.map_or(samples.give_up, |at| at.duration_since(posted)));
            measured.ok += usize::from(arrived.is_some());
        }
    }
    listener.drain();
    Ok(())
}

/// `n` messages posted back to back and received by `listener`, which must deliver each once,
/// in order, within `give_up` of the last post. A `ready` message first lets the listener catch
/// up with anything still on its way.
pub async fn burst(
    listener: &mut impl Listener,
    post: Post<'_>,
    tag: &str,
    n: usize,
    give_up: Duration,
) -> Result<Burst, String> {
    let ready = format!("{tag}-ready");
    post(&ready)?;
    let _ = wait_for(listener, &ready, give_up).await;
    listener.drain();
    let texts: Vec<String> = (0..n).map(|i| format!("{tag}-{i:06}")).collect();
    let mut result = Burst::new(n);
    let started = Instant::now();
    for text in &texts {
        post(text)?;
        result.posted += 1;
    }
    result.posting = started.elapsed();
    let mut received = Vec::with_capacity(n);
    let deadline = tokio::time::Instant::now() + give_up;
    let last = texts.last().cloned().unwrap_or_default();
    let prefix = format!("{tag}-0");
    while received.last() != Some(&last) {
        match listener.next(deadline).await {
            Some(text) if text.starts_with(&prefix) => received.push(text),
            Some(_) => {}
            None => break,
        }
    }
    result.elapsed = started.elapsed();
    result.ok = if received == texts {
        n
    } else {
        delivered_in_order(&texts, &received)
    };
    listener.drain();
    Ok(result)
}
