//! Latency samples and their percentiles, and bursts.

use std::time::Duration;

/// The nearest-rank percentile `p` (0 to 1) of `latencies`; zero when there are none.
///
/// ```
/// use std::time::Duration;
/// let ms = |n| Duration::from_millis(n);
/// assert_eq!(bench_support::percentile(&[ms(3), ms(1), ms(2), ms(4)], 0.5), ms(2));
/// ```
pub fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// `connector ÷ raw` of two durations (a zero `raw` counts as the smallest float).
pub fn ratio(connector: Duration, raw: Duration) -> f64 {
    connector.as_secs_f64() / raw.as_secs_f64().max(f64::EPSILON)
}

/// One path's N sequential messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Messages sent or expected.
    pub n: usize,
    /// Confirmed (sends) or delivered exactly once (inbound).
    pub ok: usize,
    /// One latency per message, failures at the time they gave up.
    pub latencies: Vec<Duration>,
}

impl Measured {
    /// No samples yet, room for `n`.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            ok: 0,
            latencies: Vec::with_capacity(n),
        }
    }

    /// Nearest-rank percentile of the latencies (see [`percentile`]).
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    /// The median latency.
    pub fn p50(&self) -> Duration {
        self.percentile(0.50)
    }
}

/// How many of `sent` were delivered once each and in order: the length of the longest common
/// prefix of `sent` and `received`, less every extra delivery (a duplicate, or something that
/// was not sent). All of them exactly when `received == sent`. The one definition of "arrived
/// in order" every bench reports.
pub fn delivered_in_order<T: Eq + std::hash::Hash>(sent: &[T], received: &[T]) -> usize {
    let prefix = sent
        .iter()
        .zip(received)
        .take_while(|(sent, received)| sent == received)
        .count();
    let expected: std::collections::HashSet<&T> = sent.iter().collect();
    let mut seen = std::collections::HashSet::new();
    let extras = received
        .iter()
        .filter(|item| !expected.contains(item) || !seen.insert(*item))
        .count();
    prefix.saturating_sub(extras)
}

/// One burst of N messages posted back to back by the operator's side.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    /// Messages in the burst.
    pub n: usize,
    /// Accepted by the peer (the homeserver, the emulator).
    pub posted: usize,
    /// Delivered once each, in order.
    pub ok: usize,
    /// First post → last delivery.
    pub elapsed: Duration,
    /// First post → the last post returned.
    pub posting: Duration,
}

impl Burst {
    /// Nothing posted or delivered yet.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            posted: 0,
            ok: 0,
            elapsed: Duration::ZERO,
            posting: Duration::ZERO,
        }
    }

    /// Delivered messages a second, end to end.
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// How long after the last post returned the last message was delivered: what the
    /// receiving side adds once the operator is done.
    pub fn lag(&self) -> Duration {
        self.elapsed.saturating_sub(self.posting)
    }

    /// Messages the operator posted a second.
    pub fn posted_per_second(&self) -> f64 {
        self.posted as f64 / self.posting.as_secs_f64().max(f64::EPSILON)
    }
}

#[cfg(test)]
mod tests {
    use super::delivered_in_order;

    #[test]
    fn in_order_means_exactly_what_was_sent() {
        let sent = ["a", "b", "c"];
        assert_eq!(delivered_in_order(&sent, &["a", "b", "c"]), 3);
        assert_eq!(delivered_in_order(&sent, &["a", "c", "b"]), 1);
        assert_eq!(delivered_in_order(&sent, &["a", "b"]), 2);
        assert_eq!(delivered_in_order(&sent, &["a", "b", "b", "c"]), 1);
        assert_eq!(delivered_in_order(&sent, &["a", "b", "c", "x"]), 2);
        assert_eq!(delivered_in_order::<&str>(&sent, &[]), 0);
    }

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Vec<Duration> = (1..=100).rev().map(ms).collect();
        assert_eq!(percentile(&latencies, 0.50), ms(50));
        assert_eq!(percentile(&latencies, 0.99), ms(99));
        assert_eq!(percentile(&latencies, 1.0), ms(100));
        assert_eq!(percentile(&latencies, 0.0), ms(1));
        assert_eq!(percentile(&[ms(7)], 0.99), ms(7));
        assert_eq!(percentile(&[ms(1), ms(9)], 0.5), ms(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn measured_takes_its_percentiles_from_its_latencies() {
        let mut measured = Measured::new(3);
        measured.latencies.extend([ms(30), ms(10), ms(20)]);
        assert_eq!(measured.p50(), ms(20));
        assert_eq!(measured.percentile(0.99), ms(30));
        assert_eq!(Measured::new(0).p50(), Duration::ZERO);
    }

    #[test]
    fn ratios_and_burst_rates() {
        assert_eq!(ratio(ms(3), ms(2)), 1.5);
        assert!(ratio(ms(1), Duration::ZERO) > 1e12);

        let burst = Burst {
            n: 100,
            posted: 100,
            ok: 50,
            elapsed: ms(500),
            posting: ms(250),
        };
        assert_eq!(burst.per_second(), 100.0);
        assert_eq!(burst.posted_per_second(), 400.0);
        assert_eq!(burst.lag(), ms(250));
        let empty = Burst::new(10);
        assert_eq!(empty.per_second(), 0.0);
        assert_eq!(empty.lag(), Duration::ZERO);
    }
}
