//! The one error type of `connector-core`, shared by every backend.

use std::time::Duration;

use crate::capability::Capability;

/// A boxed error from a backend or an I/O layer, kept as the `source` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when configuring or using a connector.
///
/// Backends map their platform errors onto these variants (keeping the original as the
/// `source`), so callers can react to *what happened* without naming any chat SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration has one or more problems, each naming the offending key.
    ///
    /// Displayed one problem a line, e.g. `connector.matrix.homeserver_url: must start with …`.
    #[error("{}", ConfigProblem::join(problems))]
    Config {
        /// Every problem found, in document order.
        problems: Vec<ConfigProblem>,
    },

    /// A secret the connector needs could not be read from the environment.
    #[error("{variable}: {message}")]
    Secret {
        /// The environment variable the secret is read from (e.g. `MATRIX_ACCESS_TOKEN`).
        variable: String,
        /// What is wrong and how to provide it.
        message: String,
    },

    /// The roster file could not be read.
    #[error("cannot read roster {path}: {source}")]
    Io {
        /// The file that could not be read.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The connector does not offer this capability.
    #[error("the {kind} connector does not support {capability}")]
    Unsupported {
        /// The connector kind, e.g. `tmux`.
        kind: String,
        /// The capability that was asked for.
        capability: Capability,
    },

    /// A message or argument handed to the connector is not acceptable.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The offending field, e.g. `text` or `thread_id`.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },

    /// The chat platform could not be reached (network down, server stopped, socket gone).
    #[error("{kind} unreachable: {reason}")]
    Unreachable {
        /// The connector kind.
        kind: String,
        /// Why, in words an operator can act on.
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The platform rejected the connector's credentials.
    #[error("{kind} rejected the credentials: {reason}")]
    Unauthorized {
        /// The connector kind.
        kind: String,
        /// Why, e.g. `token rejected (M_UNKNOWN_TOKEN)`.
        reason: String,
    },

    /// The platform asked the connector to slow down.
    #[error("{kind} rate limited the request; retry after {retry_after:?}")]
    RateLimited {
        /// The connector kind.
        kind: String,
        /// How long the server asked us to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// The platform refused the request for a reason retrying will not fix.
    #[error("{kind} refused the request: {reason}")]
    Rejected {
        /// The connector kind.
        kind: String,
        /// The platform's reason (error code and message).
        reason: String,
    },

    /// The platform failed in a way that may succeed on retry (5xx, dropped connection).
    #[error("{kind} failed transiently: {reason}")]
    Transient {
        /// The connector kind.
        kind: String,
        /// What failed.
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// An operation did not finish within its time bound.
    #[error("{operation} timed out after {after:?}")]
    Timeout {
        /// What was being done.
        operation: String,
        /// The bound that was exceeded.
        after: Duration,
    },

    /// A long message was split into parts and only some of them were sent.
    #[error("sent {sent} of {total} parts before failing: {source}")]
    PartialSend {
        /// Parts delivered, in order, before the failure.
        sent: usize,
        /// Parts the message was split into.
        total: usize,
        /// Why the next part failed.
        #[source]
        source: Box<Error>,
    },

    /// A send may have reached the platform, but its answer never came back (the connection
    /// dropped or timed out after the request went out), and the platform offers no way to
    /// make a second attempt safe (Telegram's Bot API has no idempotency key).
    ///
    /// Retrying blindly could post the message twice, so this is not
    /// [retryable](Self::is_retryable): the caller decides, after looking at the
    /// conversation, whether to send it again.
    #[error(
        "{kind} may have delivered the message: {reason}; it was not retried, so as not to post \
         it twice: look at the conversation before sending it again"
    )]
    MaybeDelivered {
        /// The connector kind.
        kind: String,
        /// What was lost, e.g. `the answer to sendMessage never came (connection reset)`.
        reason: String,
        /// The transport error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The connector was shut down.
    #[error("the {kind} connector is closed")]
    Closed {
        /// The connector kind.
        kind: String,
    },

    /// A [state file](crate::state_file) could not be read or written, or is corrupt; the
    /// message says what to do.
    #[error("state file {path}: {problem}")]
    StateFile {
        /// The file.
        path: String,
        /// What went wrong and, for a corrupt file, what to do about it.
        problem: String,
        /// The underlying I/O error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// `connector pair` refused a code or a sender: the code is unknown, expired or already
    /// used, or the sender is not paired. The message says what to do instead.
    #[error("{subject}: {refusal}")]
    PairingRefused {
        /// The code or the sender, as given (`pairing code K7M3QX9P`, `sender 8035…`).
        subject: String,
        /// Why.
        refusal: crate::pairing::Refusal,
    },

    /// Any other backend failure, boxed so that core names no platform SDK.
    #[error("{kind}: {message}")]
    Backend {
        /// The connector kind.
        kind: String,
        /// A short description of what was being done.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// A [`Error::Config`] error with one problem at `path`.
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            problems: vec![ConfigProblem::new(path, message)],
        }
    }

    /// The configuration problems this error reports (empty for other errors).
    pub fn config_problems(&self) -> &[ConfigProblem] {
        match self {
            Self::Config { problems } => problems,
            _ => &[],
        }
    }

    /// An [`Error::Backend`] error: the connector of `kind` failed while `message` (what it
    /// was doing), because of its own `source` error.
    pub fn backend(
        kind: impl Into<String>,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Backend {
            kind: kind.into(),
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An [`Error::Backend`] error with no underlying error of the backend's to carry.
    pub fn backend_message(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Backend {
            kind: kind.into(),
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Unsupported`] error for a connector of `kind`.
    pub fn unsupported(kind: impl Into<String>, capability: Capability) -> Self {
        Self::Unsupported {
            kind: kind.into(),
            capability,
        }
    }

    /// Whether retrying the same request may succeed.
    ///
    /// True for [`Error::Unreachable`], [`Error::RateLimited`], [`Error::Transient`] and
    /// [`Error::Timeout`]; false for everything a retry cannot fix.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. }
                | Self::RateLimited { .. }
                | Self::Transient { .. }
                | Self::Timeout { .. }
        )
    }

    /// The delay the server asked for before the next attempt, if it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What actually went wrong behind `error`: the message of the innermost error in its
/// [`source`](std::error::Error::source) chain, or `None` when it has no source. Transport
/// errors (reqwest's, hyper's) say little themselves; their innermost cause ("Connection
/// refused", "dns error: …") is what an operator can act on.
pub fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = error.source();
    let mut innermost = None;
    while let Some(next) = cause {
        innermost = Some(next.to_string());
        cause = next.source();
    }
    innermost
}

/// `summary`, followed by `error`'s [`innermost_cause`] in parentheses when it has one:
/// "cannot connect to the homeserver (Connection refused (os error 111))".
pub fn with_innermost_cause(summary: &str, error: &(dyn std::error::Error + 'static)) -> String {
    match innermost_cause(error) {
        Some(cause) => format!("{summary} ({cause})"),
        None => summary.to_owned(),
    }
}

/// One problem in a configuration: the dotted path of the offending key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    /// Dotted path of the offending key inside the roster, e.g. `connector.matrix.room_id`.
    pub path: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl ConfigProblem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    fn join(problems: &[ConfigProblem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_cause_says_what_happened() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = Error::backend("tmux", "connecting", refused);
        assert_eq!(innermost_cause(&outer).as_deref(), Some("refused"));
        assert_eq!(
            with_innermost_cause("cannot connect", &outer),
            "cannot connect (refused)"
        );
        let alone = Error::backend_message("tmux", "no lines");
        assert_eq!(innermost_cause(&alone), None);
        assert_eq!(with_innermost_cause("x", &alone), "x");
    }

    #[test]
    fn display_strings() {
        let cases = [
            (
                Error::config(
                    "connector.matrix.homeserver_url",
                    "must start with http:// or https://",
                ),
                "connector.matrix.homeserver_url: must start with http:// or https://",
            ),
            (
                Error::unsupported("tmux", Capability::Reactions),
                "the tmux connector does not support reactions",
            ),
            (
                Error::RateLimited {
                    kind: "discord".into(),
                    retry_after: Some(Duration::from_millis(1500)),
                },
                "discord rate limited the request; retry after Some(1.5s)",
            ),
            (
                Error::PartialSend {
                    sent: 2,
                    total: 5,
                    source: Box::new(Error::Rejected {
                        kind: "discord".into(),
                        reason: "50035".into(),
                    }),
                },
                "sent 2 of 5 parts before failing: discord refused the request: 50035",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn retryable_classification() {
        assert!(
            Error::Transient {
                kind: "x".into(),
                reason: "502".into(),
                source: None
            }
            .is_retryable()
        );
        assert!(
            Error::RateLimited {
                kind: "x".into(),
                retry_after: None
            }
            .is_retryable()
        );
        assert!(
            !Error::Rejected {
                kind: "x".into(),
                reason: "no".into()
            }
            .is_retryable()
        );
        assert!(
            !Error::Unauthorized {
                kind: "x".into(),
                reason: "no".into()
            }
            .is_retryable()
        );
    }
}
