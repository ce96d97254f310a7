//! The `connector.pairing` block: admitting an operator by a code approved at the machine
//! instead of a user id looked up and written into `allowed_senders` (see [`crate::pairing`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `connector.pairing`: whether strangers who write to the bot are offered a pairing code,
/// and its limits.
///
/// ```yaml
/// connector:
///   kind: discord
///   pairing: { enabled: true }        # codes last 60 minutes, at most 3 pending
///   discord: { channel_id: "223456789012345678" }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PairingConfig {
    /// Offer a code to senders not on the allow-list (default false: they are dropped).
    pub enabled: bool,
    /// Minutes a code stays valid (1 to 1440, default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1440)))]
    pub code_minutes: Option<u32>,
    /// Codes pending at once for this connector (1 to 20, default 3); senders beyond them get
    /// no code until one is approved, denied or expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 20)))]
    pub max_pending: Option<u32>,
}

impl PairingConfig {
    /// How long a code lasts when the roster does not say.
    pub const DEFAULT_CODE_MINUTES: u32 = 60;
    /// How many codes may be pending when the roster does not say.
    pub const DEFAULT_MAX_PENDING: u32 = 3;

    /// Pairing switched on, with the default limits.
    pub fn enabled() -> Self {
        Self {
            enabled: true,
            code_minutes: None,
            max_pending: None,
        }
    }

    /// How long a code stays valid.
    pub fn code_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.code_minutes.unwrap_or(Self::DEFAULT_CODE_MINUTES)) * 60)
    }

    /// How many codes may be pending at once.
    pub fn max_pending(&self) -> usize {
        self.max_pending.unwrap_or(Self::DEFAULT_MAX_PENDING) as usize
    }
}
