//! The faults waiting to happen: plain data the server consults, armed through
//! [`crate::Faults`].

use std::collections::HashMap;

/// What an injected failure answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// HTTP 200 with `{"ok":false,"error":<error>}`, as Slack reports most failures.
    Error(String),
    /// This HTTP status with `{"ok":false,"error":"internal_error"}` (e.g. 500, 503).
    Status(u16),
    /// HTTP 429 with `Retry-After` (seconds) and `{"ok":false,"error":"ratelimited"}`.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after: u64,
    },
}

/// Armed faults.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    /// Per method: how many more calls fail, and how.
    pub(crate) fail_next: HashMap<String, (u32, Failure)>,
    /// Per method: how many more calls take effect but lose their response.
    pub(crate) lose_response: HashMap<String, u32>,
    /// How many more acks from the client are ignored (so the envelopes are redelivered).
    pub(crate) ignore_acks: u32,
}

impl FaultPlan {
    /// Takes one armed failure for `method`.
    pub(crate) fn take_failure(&mut self, method: &str) -> Option<Failure> {
        let (left, failure) = self.fail_next.get_mut(method)?;
        let failure = failure.clone();
        *left -= 1;
        if *left == 0 {
            self.fail_next.remove(method);
        }
        Some(failure)
    }

    /// Takes one armed lost response for `method`.
    pub(crate) fn take_lose(&mut self, method: &str) -> bool {
        let Some(left) = self.lose_response.get_mut(method) else {
            return false;
        };
        *left -= 1;
        if *left == 0 {
            self.lose_response.remove(method);
        }
        true
    }
}
