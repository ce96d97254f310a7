//! [`Link`]: how a session's commands reach tmux — the control client while the pane's output
//! is read, plain short-lived clients otherwise.

use std::sync::Arc;

use tmux_interface::{LoadBuffer, TmuxCommand};

use crate::control::ControlClient;
use crate::error::TmuxError;
use crate::pane;
use crate::plain::PlainLink;

/// Where a command goes.
#[derive(Debug, Clone)]
pub(crate) enum Link {
    /// The session's control client (it also streams pane output).
    Control(Arc<ControlClient>),
    /// One plain tmux client per command ([`crate::plain`]).
    Plain(Arc<PlainLink>),
}

impl Link {
    /// Runs one command and returns the lines of its answer.
    pub(crate) async fn run(&self, command: TmuxCommand<'_>) -> Result<Vec<String>, TmuxError> {
        match self {
            Self::Control(client) => client.run(command).await,
            Self::Plain(plain) => plain.run(command).await,
        }
    }

    /// Puts `text` into the paste buffer `buffer`: quoted on the control client's command line,
    /// or on a plain client's stdin (`load-buffer -`, no length limit of a process argument).
    pub(crate) async fn load_buffer(&self, buffer: &str, text: &str) -> Result<(), TmuxError> {
        match self {
            Self::Control(client) => client.run(pane::set_buffer(buffer, text)).await,
            Self::Plain(plain) => {
                let command = LoadBuffer::new().buffer_name(buffer).path("-").build();
                plain.run_with_input(command, Some(text.as_bytes())).await
            }
        }
        .map(|_| ())
    }

    /// Whether pane output reaches this session through this link.
    pub(crate) fn streams_output(&self) -> bool {
        matches!(self, Self::Control(_))
    }
}
