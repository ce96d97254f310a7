//! What a connector reports about its link to the platform.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The state of a connector's link to its platform, as last probed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectorHealth {
    /// The platform answers (server up, socket present).
    pub reachable: bool,
    /// The platform accepts our credentials and the configured target is ours to use.
    pub authenticated: bool,
    /// When the platform last answered us.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// What failed, or notable facts (e.g. messages dropped from senders not allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Inbound messages dropped because their sender is not in `allowed_senders`.
    #[serde(default)]
    pub rejected_senders: u64,
}

impl ConnectorHealth {
    /// A healthy report: reachable and authenticated, seen now.
    pub fn healthy() -> Self {
        Self {
            reachable: true,
            authenticated: true,
            last_seen: Some(Timestamp::now()),
            ..Self::default()
        }
    }

    /// An unreachable report with the reason.
    pub fn unreachable(reason: impl Into<String>) -> Self {
        Self {
            detail: Some(reason.into()),
            ..Self::default()
        }
    }

    /// A reachable but unauthenticated report with the reason.
    pub fn unauthenticated(reason: impl Into<String>) -> Self {
        Self {
            reachable: true,
            detail: Some(reason.into()),
            ..Self::default()
        }
    }

    /// Reachable and authenticated.
    pub fn is_healthy(&self) -> bool {
        self.reachable && self.authenticated
    }

    /// This report with `count` rejected senders noted in the counter and the detail.
    #[must_use]
    pub fn with_rejected_senders(mut self, count: u64) -> Self {
        self.rejected_senders = count;
        if count > 0 {
            let note = format!("{count} inbound message(s) dropped: sender not in allowed_senders");
            self.detail = Some(match self.detail.take() {
                Some(detail) => format!("{detail}; {note}"),
                None => note,
            });
        }
        self
    }

    /// This report with `detail` set.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
