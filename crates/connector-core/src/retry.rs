//! Retry with exponential backoff and full jitter, honouring a server's retry-after.

use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};

/// How often and how patiently to retry a failed request.
///
/// ```
/// use std::time::Duration;
/// use connector_core::retry::RetryPolicy;
/// let policy = RetryPolicy::default().with_max_attempts(3);
/// assert!(policy.backoff(1) <= Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles with each attempt.
    pub base_delay: Duration,
    /// No backoff exceeds this.
    pub max_delay: Duration,
    /// The longest retry-after a server may impose before we give up instead of waiting.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// This policy with `attempts` attempts in all.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// This policy with the given base and maximum backoff.
    #[must_use]
    pub fn with_delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// The jittered delay before retry number `retry` (1 for the first retry): uniformly random
    /// in `[0, min(max_delay, base_delay × 2^(retry-1))]` ("full jitter").
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// The upper bound of [`backoff`](Self::backoff) for retry number `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(30));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The delay before retry number `retry` after `error`, or `None` to give up.
    ///
    /// A server's retry-after is honoured as the minimum wait (plus up to 10 % jitter so that
    /// many clients do not return at once); past `max_retry_after` the error is returned.
    pub fn delay_after(&self, error: &Error, retry: u32) -> Option<Duration> {
        if !error.is_retryable() || retry >= self.max_attempts {
            return None;
        }
        match error.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => {
                let jitter = wait.mul_f64(fastrand::f64() * 0.1);
                Some(wait + jitter)
            }
            None => Some(self.backoff(retry)),
        }
    }

    /// Runs `operation` until it succeeds, fails with an error a retry cannot fix, or the
    /// attempts are spent; answers the last error then.
    ///
    /// `operation` is given the attempt number (1 for the first) so it can log it; it must be
    /// idempotent (reuse the same transaction id or nonce on every attempt).
    pub async fn run<T, F, Fut>(&self, mut operation: F) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        loop {
            match operation(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => match self.delay_after(&error, attempt) {
                    Some(delay) => {
                        tracing::debug!(attempt, ?delay, %error, "retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(error),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn transient() -> Error {
        Error::Transient {
            kind: "test".into(),
            reason: "502".into(),
            source: None,
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy =
            RetryPolicy::default().with_delays(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(policy.ceiling(1), Duration::from_millis(100));
        assert_eq!(policy.ceiling(3), Duration::from_millis(400));
        assert_eq!(policy.ceiling(40), Duration::from_secs(1));
        for retry in 1..10 {
            assert!(policy.backoff(retry) <= policy.ceiling(retry));
        }
    }

    #[test]
    fn honours_retry_after_as_minimum() {
        let policy = RetryPolicy::default();
        let limited = Error::RateLimited {
            kind: "x".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        for _ in 0..100 {
            let delay = policy.delay_after(&limited, 1).unwrap();
            assert!(
                delay >= Duration::from_secs(2) && delay <= Duration::from_millis(2200),
                "{delay:?}"
            );
        }
        let too_long = Error::RateLimited {
            kind: "x".into(),
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(policy.delay_after(&too_long, 1), None);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_then_succeeds() {
        let calls = AtomicU32::new(0);
        let result = RetryPolicy::default()
            .run(|attempt| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if attempt < 3 {
                        Err(transient())
                    } else {
                        Ok(attempt)
                    }
                }
            })
            .await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_permanent_errors_and_after_max_attempts() {
        let calls = AtomicU32::new(0);
        let result: Result<()> = RetryPolicy::default()
            .run(|_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(Error::Rejected {
                        kind: "x".into(),
                        reason: "bad".into(),
                    })
                }
            })
            .await;
        assert!(matches!(result, Err(Error::Rejected { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = AtomicU32::new(0);
        let result: Result<()> = RetryPolicy::default()
            .with_max_attempts(4)
            .run(|_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(transient()) }
            })
            .await;
        assert!(matches!(result, Err(Error::Transient { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_the_servers_retry_after() {
        let start = tokio::time::Instant::now();
        let result = RetryPolicy::default()
            .run(|attempt| async move {
                if attempt == 1 {
                    Err(Error::RateLimited {
                        kind: "x".into(),
                        retry_after: Some(Duration::from_secs(5)),
                    })
                } else {
                    Ok(())
                }
            })
            .await;
        assert!(result.is_ok());
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
