//! How Discord's answers map onto `connector_core::Error`, so retries and health can act on them.
//!
//! | Discord answer | core error | retried by `RetryPolicy` |
//! | --- | --- | --- |
//! | no connection | `Unreachable` | yes |
//! | request timed out | `Timeout` | yes |
//! | connection lost before the answer | `Transient` | yes (the nonce keeps it single) |
//! | 401 | `Unauthorized` ("token rejected") | no |
//! | 429 | `RateLimited` with the answer's `retry_after` | yes, after it |
//! | 5xx | `Transient` | yes |
//! | other 4xx (50001 Missing Access, 10003 Unknown Channel, …) | `Rejected` with code and message | no |

use std::time::Duration;

use connector_core::Error;
use serde_json::Value;

use crate::KIND;

/// The reason reported when Discord refuses the bot token.
pub(crate) const TOKEN_REJECTED: &str = "token rejected";

/// Discord's JSON error code for "Missing Access" (the bot cannot see the channel).
pub(crate) const MISSING_ACCESS: i64 = 50001;

/// Discord's JSON error code for "Missing Permissions" (the bot lacks a permission it needs).
pub(crate) const MISSING_PERMISSIONS: i64 = 50013;

/// Discord's JSON error code for "Unknown Member".
pub(crate) const UNKNOWN_MEMBER: i64 = 10007;

/// Discord's JSON error code for "Unknown Channel".
pub(crate) const UNKNOWN_CHANNEL: i64 = 10003;

/// Discord's JSON error code for "A thread has already been created for this message".
pub(crate) const THREAD_ALREADY_CREATED: i64 = 160_004;

/// An unsuccessful answer of the REST API, as read from the wire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiFailure {
    /// The HTTP status.
    pub(crate) status: u16,
    /// Discord's JSON error code (0 when it gave none).
    pub(crate) code: i64,
    /// Discord's message.
    pub(crate) message: String,
    /// The wait a 429 asked for: the body's `retry_after`, else the `Retry-After` header.
    pub(crate) retry_after: Option<Duration>,
}

impl ApiFailure {
    /// Reads a failure from its status, `Retry-After` header and body.
    pub(crate) fn parse(status: u16, retry_after_header: Option<&str>, body: &[u8]) -> Self {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let seconds = json
            .get("retry_after")
            .and_then(Value::as_f64)
            .or_else(|| retry_after_header.and_then(|h| h.trim().parse::<f64>().ok()))
            .filter(|s| s.is_finite() && *s >= 0.0);
        Self {
            status,
            code: json.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: json
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| String::from_utf8_lossy(body).into_owned(), str::to_owned),
            retry_after: seconds.map(Duration::from_secs_f64),
        }
    }

    /// The core error for this failure of a request made while doing `what`.
    pub(crate) fn into_error(self, what: &str) -> Error {
        match self.status {
            401 => Error::Unauthorized {
                kind: KIND.into(),
                reason: format!("{TOKEN_REJECTED} ({}: {})", self.code, self.message),
            },
            429 => Error::RateLimited {
                kind: KIND.into(),
                retry_after: self.retry_after,
            },
            500.. => Error::Transient {
                kind: KIND.into(),
                reason: format!("{what}: HTTP {} {}", self.status, self.message),
                source: None,
            },
            _ => Error::Rejected {
                kind: KIND.into(),
                reason: format!("{what}: Discord error {} ({})", self.code, self.message),
            },
        }
    }
}

/// Maps a transport failure of a request made while doing `what`.
pub(crate) fn from_transport(
    what: &str,
    error: serenity_reqwest::Error,
    timeout: Duration,
) -> Error {
    if error.is_timeout() {
        return Error::Timeout {
            operation: format!("discord {what}"),
            after: timeout,
        };
    }
    let reason = format!("{what}: {}", describe(&error));
    if error.is_connect() {
        Error::Unreachable {
            kind: KIND.into(),
            reason,
            source: Some(Box::new(error)),
        }
    } else {
        Error::Transient {
            kind: KIND.into(),
            reason,
            source: Some(Box::new(error)),
        }
    }
}

/// A transport error with its innermost cause, which says what happened.
fn describe(error: &serenity_reqwest::Error) -> String {
    let summary = if error.is_connect() {
        "cannot connect to Discord"
    } else {
        "the connection to Discord failed"
    };
    connector_core::error::with_innermost_cause(summary, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_discord_answers() {
        let limited = ApiFailure::parse(
            429,
            Some("3"),
            br#"{"message":"You are being rate limited.","retry_after":1.5,"global":false,"code":0}"#,
        );
        let limited = limited.into_error("send");
        assert_eq!(limited.retry_after(), Some(Duration::from_millis(1500)));
        assert!(limited.is_retryable());
        let header_only = ApiFailure::parse(429, Some("2"), b"").into_error("send");
        assert_eq!(header_only.retry_after(), Some(Duration::from_secs(2)));

        let missing = ApiFailure::parse(403, None, br#"{"message":"Missing Access","code":50001}"#);
        assert_eq!(missing.code, MISSING_ACCESS);
        let missing = missing.into_error("send");
        assert!(!missing.is_retryable());
        assert_eq!(
            missing.to_string(),
            "discord refused the request: send: Discord error 50001 (Missing Access)"
        );
        let unauthorized =
            ApiFailure::parse(401, None, br#"{"message":"401: Unauthorized","code":0}"#);
        assert!(matches!(
            unauthorized.into_error("x"),
            Error::Unauthorized { .. }
        ));
        let bad_gateway = ApiFailure::parse(502, None, b"<html>").into_error("send");
        assert!(bad_gateway.is_retryable());
    }
}
