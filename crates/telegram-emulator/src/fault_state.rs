//! The faults waiting to happen, kept in the world: failed calls, lost responses, delays.

use std::{collections::HashMap, time::Duration};

/// An injected answer in place of a call's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// 429 with `parameters.retry_after` (seconds).
    RateLimited(u64),
    /// Another status: a JSON error body, or nginx's HTML page for 502 and 504.
    Status(u16),
}

/// Faults for the next calls of a method: its name in lower case (method names are
/// case-insensitive), how many calls are left, and what happens to them.
pub(crate) type Pending<T> = Vec<(String, u32, T)>;

/// Pending faults.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) failures: Pending<Injected>,
    pub(crate) losses: Pending<()>,
    pub(crate) delays: HashMap<String, Duration>,
}

/// Uses up one of a list's entries for `method`, answering its payload.
fn take<T: Copy>(list: &mut Pending<T>, method: &str) -> Option<T> {
    let index = list.iter().position(|(m, n, _)| m == method && *n > 0)?;
    list[index].1 -= 1;
    let payload = list[index].2;
    if list[index].1 == 0 {
        list.remove(index);
    }
    Some(payload)
}

impl FaultState {
    /// The injected answer for the next call of `method`, if one is pending (and uses it up).
    pub(crate) fn take_failure(&mut self, method: &str) -> Option<Injected> {
        take(&mut self.failures, method)
    }

    /// Whether this call's response must be lost (and uses the loss up).
    pub(crate) fn take_loss(&mut self, method: &str) -> bool {
        take(&mut self.losses, method).is_some()
    }

    /// How long to hold the answer of a call of `method` (a method's own delay, else the one
    /// for every method, `*`).
    pub(crate) fn delay(&self, method: &str) -> Duration {
        self.delays
            .get(method)
            .or_else(|| self.delays.get("*"))
            .copied()
            .unwrap_or_default()
    }
}
