//! Per-method rate limits in Slack's tiers, the stricter `conversations.history`/`replies` limit
//! Slack applies to some apps since 2025, and the sliding windows that enforce them.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

/// Slack's rate-limit tiers (docs, "Rate limits": per method, per workspace, per app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tier {
    /// 1+ per minute.
    Tier1,
    /// 20+ per minute.
    Tier2,
    /// 50+ per minute.
    Tier3,
    /// 100+ per minute.
    Tier4,
    /// Method-specific (`chat.postMessage`: about one per second per channel, bursts allowed).
    Special,
}

/// How many calls a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Calls allowed per window.
    pub calls: u32,
    /// The window's length.
    pub per: Duration,
}

impl Limit {
    /// `calls` per minute.
    #[must_use]
    pub const fn per_minute(calls: u32) -> Limit {
        Limit {
            calls,
            per: Duration::from_secs(60),
        }
    }
}

impl Tier {
    /// The documented floor of the tier as a limit.
    #[must_use]
    pub const fn limit(self) -> Limit {
        match self {
            Tier::Tier1 => Limit::per_minute(1),
            Tier::Tier2 => Limit::per_minute(20),
            Tier::Tier3 => Limit::per_minute(50),
            Tier::Tier4 => Limit::per_minute(100),
            Tier::Special => Limit::per_minute(60),
        }
    }
}

/// The most messages `conversations.history`/`replies` return per call under the 2025 limits
/// for non-Marketplace apps.
pub const RESTRICTED_HISTORY_PAGE: usize = 15;

/// The rate limits the emulator enforces.
#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    enabled: bool,
    overrides: HashMap<String, Limit>,
    restricted_history: bool,
}

impl RateLimits {
    /// No limits at all (the default: tests call as fast as they like).
    #[must_use]
    pub fn none() -> RateLimits {
        RateLimits::default()
    }

    /// Every method limited by its tier ([`crate::METHODS`]).
    #[must_use]
    pub fn slack() -> RateLimits {
        RateLimits {
            enabled: true,
            ..RateLimits::default()
        }
    }

    /// Overrides one method's limit (and turns limiting on).
    #[must_use]
    pub fn with(mut self, method: &str, limit: Limit) -> RateLimits {
        self.enabled = true;
        self.overrides.insert(method.to_owned(), limit);
        self
    }

    /// The limits Slack applies since 2025 to apps not from the Marketplace:
    /// `conversations.history` and `conversations.replies` at one call per minute and at most
    /// [`RESTRICTED_HISTORY_PAGE`] messages per call.
    #[must_use]
    pub fn restricted_history(mut self) -> RateLimits {
        self.enabled = true;
        self.restricted_history = true;
        self
    }

    /// Whether the 2025 history restriction is on.
    #[must_use]
    pub fn is_history_restricted(&self) -> bool {
        self.restricted_history
    }

    /// The limit for `method`, if limits are on.
    #[must_use]
    pub fn limit_for(&self, method: &str) -> Option<Limit> {
        if !self.enabled {
            return None;
        }
        if let Some(limit) = self.overrides.get(method) {
            return Some(*limit);
        }
        if self.restricted_history
            && matches!(method, "conversations.history" | "conversations.replies")
        {
            return Some(Limit::per_minute(1));
        }
        crate::methods::find(method).map(|m| m.tier.limit())
    }
}

/// The calls seen per method (and per channel for `chat.postMessage`) in the current windows.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    calls: HashMap<String, VecDeque<Instant>>,
}

impl Windows {
    /// Counts a call against `key`; `Err(retry_after)` when the limit is reached.
    pub(crate) fn check(&mut self, key: &str, limit: Limit) -> Result<(), Duration> {
        let now = Instant::now();
        let calls = self.calls.entry(key.to_owned()).or_default();
        while calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limit.per)
        {
            calls.pop_front();
        }
        if calls.len() >= limit.calls as usize {
            let oldest = calls.front().copied().unwrap_or(now);
            return Err(limit.per.saturating_sub(now.duration_since(oldest)));
        }
        calls.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_refuses_past_the_limit() {
        let mut windows = Windows::default();
        let limit = Limit::per_minute(2);
        assert!(windows.check("m", limit).is_ok());
        assert!(windows.check("m", limit).is_ok());
        let retry = windows.check("m", limit).unwrap_err();
        assert!(retry > Duration::from_secs(58));
    }

    #[test]
    fn none_limits_nothing_and_restricted_history_is_one_a_minute() {
        assert_eq!(RateLimits::none().limit_for("chat.postMessage"), None);
        let r = RateLimits::none().restricted_history();
        assert_eq!(
            r.limit_for("conversations.history"),
            Some(Limit::per_minute(1))
        );
    }
}
