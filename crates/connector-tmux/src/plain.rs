//! Commands run by short-lived plain `tmux` clients, for work that reads no pane output.
//!
//! A plain client (`tmux -N … <command>`) sends its command, prints the answer and exits. It is
//! never attached to a session and is not a control client, so tmux 3.3a's two control-mode
//! crashes cannot involve it: no pane output is ever queued for it (see [`crate::control`]),
//! and it neither announces a detach to the other control clients when it leaves nor is it
//! half set up as a control client when another client's detach is announced (tmux 3.3a
//! writes that notice to every client flagged as a control client, including one whose control
//! state does not exist yet, and crashes). A one-shot `connector send` therefore runs on
//! plain clients only; the control client is started when someone reads the pane's output
//! ([`TmuxSession::stream`](crate::TmuxSession::stream)).

use std::process::Stdio;

use tmux_interface::TmuxCommand;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::control::process_args;
use crate::error::TmuxError;
use crate::settings::TmuxSettings;

/// Runs commands for a session in plain tmux clients, one process per command.
#[derive(Debug, Clone)]
pub(crate) struct PlainLink {
    settings: TmuxSettings,
}

impl PlainLink {
    pub(crate) fn new(settings: TmuxSettings) -> Self {
        Self { settings }
    }

    /// Runs `command` and returns the lines it printed.
    pub(crate) async fn run(&self, command: TmuxCommand<'_>) -> Result<Vec<String>, TmuxError> {
        self.run_with_input(command, None).await
    }

    /// Runs `command` with `input` on its stdin (for `load-buffer -`), bounded by the
    /// settings' operation timeout. Never starts a server (`-N`).
    pub(crate) async fn run_with_input(
        &self,
        command: TmuxCommand<'_>,
        input: Option<&[u8]>,
    ) -> Result<Vec<String>, TmuxError> {
        let settings = &self.settings;
        let name = command.name.as_deref().unwrap_or("tmux").to_owned();
        let args = process_args(settings, command, false, false);
        let mut child = Command::new(&settings.tmux_binary)
            .args(&args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| TmuxError::Spawn {
                binary: settings.tmux_binary.clone(),
                source,
            })?;
        let run = async {
            if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
                stdin.write_all(input).await?;
                stdin.shutdown().await?;
            }
            child.wait_with_output().await
        };
        let output = match tokio::time::timeout(settings.op_timeout, run).await {
            Err(_) => return Err(TmuxError::timeout(name, settings.op_timeout)),
            Ok(Err(source)) => return Err(TmuxError::Io(source)),
            Ok(Ok(output)) => output,
        };
        if output.status.success() {
            let stdout = String::from_utf8_lossy(&output.stdout);
            return Ok(stdout.lines().map(str::to_owned).collect());
        }
        let message = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Err(classify(name, message))
    }
}

/// A failed plain client: no server to talk to, or the command's own error.
fn classify(command: String, message: String) -> TmuxError {
    const GONE: [&str; 3] = [
        "no server running",
        "error connecting to",
        "server exited unexpectedly",
    ];
    if GONE.iter().any(|gone| message.contains(gone)) {
        TmuxError::disconnected(message)
    } else {
        TmuxError::Command { command, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_is_a_disconnect() {
        let gone = classify(
            "list-panes".into(),
            "no server running on /tmp/tmux-1000/x".into(),
        );
        assert!(matches!(gone, TmuxError::Disconnected { .. }), "{gone}");
        let refused = classify(
            "list-panes".into(),
            "error connecting to /tmp/tmux-1000/x (No such file or directory)".into(),
        );
        assert!(
            matches!(refused, TmuxError::Disconnected { .. }),
            "{refused}"
        );
        let failed = classify("paste-buffer".into(), "can't find pane: %9".into());
        assert!(matches!(failed, TmuxError::Command { .. }), "{failed}");
    }
}
