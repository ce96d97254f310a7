//! The one error type of the tmux layer.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while talking to tmux.
///
/// No variant is ever produced by a panic or a hang: every operation is bounded by
/// [`TmuxSettings::op_timeout`](crate::TmuxSettings::op_timeout) and ends in one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TmuxError {
    /// The `tmux` binary could not be started (not installed, not executable).
    #[error("could not start `{}`", binary.display())]
    Spawn {
        /// The binary that was executed.
        binary: PathBuf,
        /// Why the operating system refused.
        #[source]
        source: io::Error,
    },

    /// The control client is not connected: the server exited or was killed, the
    /// client was detached, or [`TmuxSession::reconnect`](crate::TmuxSession::reconnect)
    /// failed. Call `reconnect()` once the server is back.
    #[error("tmux control client is disconnected: {reason}")]
    Disconnected {
        /// What tmux or the operating system said, e.g. `server exited unexpectedly`.
        reason: String,
    },

    /// An operation did not finish within its time limit.
    #[error("tmux operation `{operation}` timed out after {timeout:?}")]
    Timeout {
        /// The operation that was cut off (a tmux command name or a step such as `connect`).
        operation: String,
        /// The limit that was exceeded.
        timeout: Duration,
    },

    /// tmux answered a command with an `%error` block.
    #[error("tmux command `{command}` failed: {message}")]
    Command {
        /// The tmux command that failed (its name only, never the user's text).
        command: String,
        /// The error text tmux printed inside the block.
        message: String,
    },

    /// The session, window or pane this layer was told to use does not exist.
    #[error("tmux target `{target}` not found: {detail}")]
    TargetNotFound {
        /// The target as configured, e.g. `work:1.0` or `orchestrator`.
        target: String,
        /// What tmux said about it.
        detail: String,
    },

    /// tmux printed something this layer does not understand.
    #[error("unexpected reply from tmux: {0}")]
    Protocol(String),

    /// Writing outbound text to the console pane's terminal failed.
    #[error("could not write to the console terminal {}", tty.display())]
    ConsoleWrite {
        /// The pane's terminal device (`#{pane_tty}`).
        tty: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The operation belongs to the other mode (e.g. `send_to_pane` on an operator console).
    #[error("`{operation}` is not available in {mode} mode")]
    WrongMode {
        /// The operation that was attempted.
        operation: &'static str,
        /// The mode the session was opened in.
        mode: &'static str,
    },

    /// The settings cannot work (empty session name, a session name tmux would rewrite, …).
    #[error("invalid tmux settings: {0}")]
    InvalidSettings(String),

    /// An I/O error on the control client's pipes.
    #[error("I/O error talking to the tmux control client")]
    Io(#[source] io::Error),
}

impl TmuxError {
    pub(crate) fn disconnected(reason: impl Into<String>) -> Self {
        Self::Disconnected {
            reason: reason.into(),
        }
    }

    pub(crate) fn timeout(operation: impl Into<String>, timeout: Duration) -> Self {
        Self::Timeout {
            operation: operation.into(),
            timeout,
        }
    }

    /// Whether retrying after [`TmuxSession::reconnect`](crate::TmuxSession::reconnect)
    /// could help (the connection, not the request, was the problem).
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Self::Disconnected { .. } | Self::Timeout { .. } | Self::Io(_) | Self::Spawn { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_strings_name_the_problem() {
        let cases: Vec<(TmuxError, &str)> = vec![
            (
                TmuxError::disconnected("server exited unexpectedly"),
                "tmux control client is disconnected: server exited unexpectedly",
            ),
            (
                TmuxError::timeout("display-message", Duration::from_millis(1500)),
                "tmux operation `display-message` timed out after 1.5s",
            ),
            (
                TmuxError::Command {
                    command: "paste-buffer".into(),
                    message: "no buffer x".into(),
                },
                "tmux command `paste-buffer` failed: no buffer x",
            ),
            (
                TmuxError::TargetNotFound {
                    target: "work:1.0".into(),
                    detail: "can't find session: work".into(),
                },
                "tmux target `work:1.0` not found: can't find session: work",
            ),
            (
                TmuxError::WrongMode {
                    operation: "send_to_pane",
                    mode: "console",
                },
                "`send_to_pane` is not available in console mode",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn connection_errors_are_flagged() {
        assert!(TmuxError::disconnected("x").is_connection_error());
        assert!(!TmuxError::Protocol("x".into()).is_connection_error());
    }
}
