//! How a Bot API call fails, and what each failure means to connector-core's callers.

use std::time::Duration;

use connector_core::Error;

use crate::KIND;

/// One failed Bot API call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Failure {
    /// Telegram answered `{"ok": false, …}`.
    #[error("{method}: Telegram answered {code} {description}")]
    Api {
        /// The method called.
        method: String,
        /// `error_code` (an HTTP status).
        code: u16,
        /// `description`, e.g. `Bad Request: chat not found`.
        description: String,
        /// `parameters.retry_after`, on 429.
        retry_after: Option<u64>,
        /// `parameters.migrate_to_chat_id`: the group became this supergroup.
        migrate_to: Option<i64>,
    },
    /// The request never reached Telegram (connection refused, DNS): safe to send again.
    #[error("{method}: Telegram could not be reached")]
    NotSent {
        /// The method called.
        method: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The request went out but its answer never came (connection dropped, timed out): it may
    /// have been applied.
    #[error("{method}: the answer never came")]
    Lost {
        /// The method called.
        method: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// An answer that is not the Bot API's JSON (a proxy's HTML error page).
    #[error("{method}: HTTP {status} without a Bot API answer: {body}")]
    Garbled {
        /// The method called.
        method: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

impl Failure {
    /// The HTTP status or `error_code`, when Telegram (or a proxy) answered.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Failure::Api { code, .. } => Some(*code),
            Failure::Garbled { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Telegram's `description`, when it answered one.
    pub(crate) fn description(&self) -> Option<&str> {
        match self {
            Failure::Api { description, .. } => Some(description),
            _ => None,
        }
    }

    /// The wait a 429 asked for.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Api {
                code: 429,
                retry_after: Some(secs),
                ..
            } => Some(Duration::from_secs(*secs)),
            _ => None,
        }
    }

    /// Whether this is 409 Conflict (another poller, or a webhook set).
    pub(crate) fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// Core's error for a call that is safe to repeat (a read, an edit to the same text): a
    /// lost answer is transient, so core's retry policy tries again.
    pub(crate) fn into_error(self, what: &str) -> Error {
        self.classify(what, true)
    }

    /// Core's error for a call that posts something: a lost answer is
    /// [`Error::MaybeDelivered`], never retried, as the Bot API has no idempotency key.
    pub(crate) fn into_send_error(self, what: &str) -> Error {
        self.classify(what, false)
    }

    fn classify(self, what: &str, repeatable: bool) -> Error {
        let reason = format!(
            "{what}: {}",
            connector_core::error::with_innermost_cause(&self.to_string(), &self)
        );
        match self {
            Failure::Api {
                code: 429,
                retry_after,
                ..
            } => Error::RateLimited {
                kind: KIND.into(),
                retry_after: retry_after.map(Duration::from_secs),
            },
            Failure::Api { code: 401, .. } => Error::Unauthorized {
                kind: KIND.into(),
                reason: format!("{reason} (the bot token is wrong or was revoked: ask @BotFather)"),
            },
            Failure::Api { code: 404, .. } => Error::Unauthorized {
                kind: KIND.into(),
                reason: format!("{reason} (the bot token is malformed)"),
            },
            Failure::Api { code, .. } | Failure::Garbled { status: code, .. } if code >= 500 => {
                Error::Transient {
                    kind: KIND.into(),
                    reason,
                    source: None,
                }
            }
            Failure::Api {
                migrate_to: Some(supergroup),
                ..
            } => Error::Rejected {
                kind: KIND.into(),
                reason: format!(
                    "{reason}: the group became supergroup {supergroup}; set \
                     connector.telegram.chat_id to {supergroup}"
                ),
            },
            Failure::Api { .. } | Failure::Garbled { .. } => Error::Rejected {
                kind: KIND.into(),
                reason,
            },
            Failure::NotSent { source, .. } => Error::Unreachable {
                kind: KIND.into(),
                reason,
                source: Some(Box::new(source)),
            },
            Failure::Lost { source, .. } if repeatable => Error::Transient {
                kind: KIND.into(),
                reason,
                source: Some(Box::new(source)),
            },
            Failure::Lost { source, .. } => Error::MaybeDelivered {
                kind: KIND.into(),
                reason,
                source: Some(Box::new(source)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, retry_after: Option<u64>, migrate_to: Option<i64>) -> Failure {
        Failure::Api {
            method: "sendMessage".into(),
            code,
            description: "Bad Request: x".into(),
            retry_after,
            migrate_to,
        }
    }

    #[test]
    fn failures_map_onto_core_errors() {
        assert!(matches!(
            api(429, Some(3), None).into_send_error("send"),
            Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            api(401, None, None).into_error("x"),
            Error::Unauthorized { .. }
        ));
        assert!(api(502, None, None).into_send_error("send").is_retryable());
        assert!(!api(400, None, None).into_send_error("send").is_retryable());
        let migrated = api(400, None, Some(-1_001_234))
            .into_send_error("send")
            .to_string();
        assert!(
            migrated.contains("set connector.telegram.chat_id to -1001234"),
            "{migrated}"
        );
    }
}
