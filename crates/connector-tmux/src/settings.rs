//! What a [`TmuxSession`](crate::TmuxSession) connects to and how long it waits.

use std::path::PathBuf;
use std::time::Duration;

use connector_core::config::TmuxConfig;

use crate::error::TmuxError;
use crate::socket::Socket;

/// Default name of the operator console session (the roster's default, from connector-core).
pub const DEFAULT_CONSOLE_SESSION: &str = TmuxConfig::DEFAULT_SESSION;

/// Which of the two ways of talking through tmux to use.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// A session of our own whose pane the operator reads and types in. Outbound text is
    /// shown, never executed; every line the operator types is one inbound message.
    Console {
        /// Session name; created when missing, reused when present.
        session: String,
    },
    /// An existing pane (e.g. an agent CLI) addressed by a tmux target such as
    /// `work:1.0` or `%3`. Outbound text is typed into the program as one paste plus Enter;
    /// the lines it prints are inbound.
    Pane {
        /// The tmux target of the pane.
        target: String,
    },
}

impl Mode {
    /// `"console"` or `"pane"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Console { .. } => "console",
            Self::Pane { .. } => "pane",
        }
    }
}

/// Settings for [`TmuxSession::open`](crate::TmuxSession::open).
///
/// ```
/// use connector_tmux::{Socket, TmuxSettings};
/// use std::time::Duration;
///
/// let mut settings = TmuxSettings::console("orchestrator");
/// settings.socket = Socket::Name("orchestrator".into());
/// settings.op_timeout = Duration::from_secs(3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TmuxSettings {
    /// The `tmux` executable (default `tmux`, found through `PATH`).
    pub tmux_binary: PathBuf,
    /// Which server: `-L name`, `-S path`, or the user's default.
    pub socket: Socket,
    /// `-f file` for a server this client starts (tests pass `/dev/null`).
    pub config_file: Option<PathBuf>,
    /// Console or pane endpoint.
    pub mode: Mode,
    /// Limit for every single operation (one command round trip, connecting, writing to
    /// the console terminal).
    pub op_timeout: Duration,
    /// How long a verified send watches the pane's output for the text.
    pub verify_timeout: Duration,
    /// Pause between the paste and the Enter key in pane mode, so programs that read the
    /// paste and the key in one chunk still see a separate Enter.
    pub submit_delay: Duration,
    /// Capacity of the inbound line channel.
    pub line_capacity: usize,
    /// Program for new thread windows in pane mode (argv; `None` = tmux's default shell).
    /// Console-mode thread windows always run the console loop.
    pub thread_command: Option<Vec<String>>,
    /// Prompt the console loop prints before each line the operator types.
    pub console_prompt: String,
    /// Pane mode: what a line break in outbound text becomes (see [`LineBreaks`]).
    pub line_breaks: LineBreaks,
}

/// What a line break in outbound text becomes in pane mode; the roster's
/// `connector.tmux.line_breaks`. The rule depends on this setting alone, so a message means the
/// same whichever path delivers it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineBreaks {
    /// Folded into [`JOIN_SEPARATOR`](crate::sanitize::JOIN_SEPARATOR): one line of input.
    #[default]
    Fold,
    /// Pasted as they are, in one (bracketed, if the program asked for it) paste.
    Paste,
}

impl TmuxSettings {
    /// Operator console in `session` (created if missing).
    pub fn console(session: impl Into<String>) -> Self {
        Self::with_mode(Mode::Console {
            session: session.into(),
        })
    }

    /// Endpoint for the existing pane `target` (e.g. `work:1.0`).
    pub fn pane(target: impl Into<String>) -> Self {
        Self::with_mode(Mode::Pane {
            target: target.into(),
        })
    }

    fn with_mode(mode: Mode) -> Self {
        Self {
            tmux_binary: PathBuf::from("tmux"),
            socket: Socket::Default,
            config_file: None,
            mode,
            op_timeout: Duration::from_secs(5),
            verify_timeout: Duration::from_secs(2),
            submit_delay: Duration::from_millis(u64::from(TmuxConfig::DEFAULT_SUBMIT_DELAY_MS)),
            line_capacity: 1024,
            thread_command: None,
            console_prompt: "> ".to_owned(),
            line_breaks: LineBreaks::Fold,
        }
    }

    /// Checks what tmux would reject or silently rewrite.
    pub(crate) fn validate(&self) -> Result<(), TmuxError> {
        match &self.mode {
            Mode::Console { session } => {
                if session.is_empty() || session.contains([':', '.']) {
                    return Err(TmuxError::InvalidSettings(format!(
                        "console session name {session:?} must be non-empty and contain no ':' or '.'"
                    )));
                }
                // Process arguments ending in `;` separate tmux commands.
                if session.ends_with(';') {
                    return Err(TmuxError::InvalidSettings(format!(
                        "console session name {session:?} must not end with ';'"
                    )));
                }
                if session.chars().any(char::is_control) {
                    return Err(TmuxError::InvalidSettings(
                        "console session name contains control characters".into(),
                    ));
                }
            }
            Mode::Pane { target } => {
                if target.is_empty() || target.chars().any(char::is_control) {
                    return Err(TmuxError::InvalidSettings(format!(
                        "pane target {target:?} must be non-empty printable text"
                    )));
                }
            }
        }
        if self.op_timeout.is_zero() {
            return Err(TmuxError::InvalidSettings(
                "op_timeout must be positive".into(),
            ));
        }
        if !crate::sanitize::is_inert(&self.console_prompt, false)
            || self.console_prompt.ends_with(';')
        {
            return Err(TmuxError::InvalidSettings(
                "console_prompt must not contain control characters or end with ';'".into(),
            ));
        }
        Ok(())
    }
}

impl Default for TmuxSettings {
    fn default() -> Self {
        Self::console(DEFAULT_CONSOLE_SESSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_orchestrator_console() {
        let s = TmuxSettings::default();
        assert_eq!(
            s.mode,
            Mode::Console {
                session: "orchestrator".into()
            }
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn rejects_names_tmux_would_rewrite() {
        assert!(TmuxSettings::console("a:b").validate().is_err());
        assert!(TmuxSettings::console("a.b").validate().is_err());
        assert!(TmuxSettings::console("").validate().is_err());
        assert!(TmuxSettings::pane("").validate().is_err());
        assert!(TmuxSettings::console("a;").validate().is_err());
        assert!(TmuxSettings::pane("work:1.0").validate().is_ok());
        let s = TmuxSettings {
            console_prompt: "\x1b[31m> ".into(),
            ..TmuxSettings::default()
        };
        assert!(s.validate().is_err());
    }
}
