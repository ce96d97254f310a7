//! The operator console: a pane running a tiny POSIX `sh` loop that the operator types
//! into, and a display path for outbound text that can never become input.
//!
//! # Inbound: typed lines, reported in a private OSC
//!
//! The pane runs [`CONSOLE_SCRIPT`] (`sh -c SCRIPT connector-tmux-console PROMPT`). The tty
//! stays in canonical mode, so the operator gets the kernel's line editing (backspace,
//! C-u, C-w); C-c only discards the line being typed (the loop ignores SIGINT, SIGQUIT and
//! SIGTSTP), C-d on an empty line is ignored. For every finished line the loop prints
//!
//! ```text
//! ESC ] 5522 ; <pid of the loop> ; <line number> ; <line as lowercase hex> BEL
//! ```
//!
//! tmux's terminal emulator ignores this unknown OSC, so nothing shows on screen, but the
//! raw bytes reach us in `%output`. Hex makes the payload unambiguous whatever the
//! operator typed (quotes, `;`, escape characters entered with C-v); the echo of typed
//! text cannot forge a report because canonical-mode echo shows control characters as
//! `^[` (and only our own loop writes raw bytes to this pane). Only these reports are
//! inbound — the echo, the prompt and our own outbound text on the screen are not.
//! `(pid, line number)` identifies a line for de-duplication across reconnects.
//!
//! # Outbound: written to the output side of the pane's terminal
//!
//! Outbound text is neutralised ([`crate::sanitize`], newlines kept) and written to the
//! pane's terminal device (`#{pane_tty}`, looked up through the control client on every
//! send). Bytes written to a pty's slave side travel towards the terminal emulator — they
//! are *output*, displayed by tmux, and there is no path by which they become input of the
//! loop or of any shell. The one way a terminal turns output into input is by answering a
//! query sequence (device attributes, cursor position, OSC colour queries), and the
//! neutralisation leaves no ESC or C1 byte to start one. Nothing is typed with `send-keys`
//! and nothing is executed.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::error::TmuxError;
use crate::sanitize::{Newlines, clean_inbound, neutralize};

/// OSC number of the console loop's line reports.
pub const REPORT_OSC: &str = "5522";

/// `$0` of the console loop, which also lets us recognise its panes
/// (`#{pane_start_command}`).
pub const CONSOLE_TAG: &str = "connector-tmux-console";

/// The console loop (POSIX `sh`; `$1` is the prompt). One line, no `#`, braces or trailing
/// `;`, so it passes unchanged through tmux's argument handling.
pub const CONSOLE_SCRIPT: &str = concat!(
    "trap '' INT QUIT TSTP; n=0; while :; do printf '%s' \"$1\"; ",
    "if IFS= read -r l; then :; elif [ -z \"$l\" ]; then sleep 1; continue; fi; ",
    "n=$((n+1)); h=$(printf '%s' \"$l\" | od -An -v -tx1 | tr -d ' \\n'); ",
    "printf '\\033]5522;%s;%s;%s\\007' \"$$\" \"$n\" \"$h\"; done"
);

/// Arguments of the console pane's program.
pub(crate) fn console_argv(prompt: &str) -> Vec<String> {
    vec![
        "sh".to_owned(),
        "-c".to_owned(),
        CONSOLE_SCRIPT.to_owned(),
        CONSOLE_TAG.to_owned(),
        prompt.to_owned(),
    ]
}

/// A line the operator typed, as reported by the console loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// PID of the loop that reported it.
    pub pid: u32,
    /// The loop's line counter (1, 2, …).
    pub number: u64,
    /// The typed text, control characters removed.
    pub text: String,
}

/// Parses an OSC payload; `None` if it is not one of our reports.
pub(crate) fn parse_report(osc: &[u8]) -> Option<Report> {
    let text = std::str::from_utf8(osc).ok()?;
    let mut parts = text.splitn(4, ';');
    if parts.next()? != REPORT_OSC {
        return None;
    }
    let pid = parts.next()?.parse().ok()?;
    let number = parts.next()?.parse().ok()?;
    let bytes = crate::hex::decode(parts.next()?)?;
    Some(Report {
        pid,
        number,
        text: clean_inbound(&String::from_utf8_lossy(&bytes)),
    })
}

/// The "process" a round-trip probe's report names: no console loop has pid 0.
pub(crate) const PROBE_PROCESS: u32 = 0;

/// A round-trip probe: a report in the console loop's own form, written to the output side of
/// the console's terminal by the connector, carrying `text` as line `number` of
/// [`PROBE_PROCESS`]. From the terminal on it travels as the operator's lines do (tmux parses
/// it and ignores it on screen, the control client reads it in `%output`, the router reports
/// it); only the loop reading the keyboard is not part of its way.
pub(crate) fn probe_report(number: u64, text: &str) -> Vec<u8> {
    format!(
        "\x1b]{REPORT_OSC};{PROBE_PROCESS};{number};{}\x07",
        crate::hex::encode(text.as_bytes())
    )
    .into_bytes()
}

/// The bytes written to the console terminal for one outbound message: the neutralised
/// text on lines of its own, then the prompt again (the loop is still waiting in `read`).
pub(crate) fn render(text: &str, prompt: &str) -> Vec<u8> {
    let body = neutralize(text, Newlines::Keep).replace('\n', "\r\n");
    format!("\r\n{body}\r\n{prompt}").into_bytes()
}

/// Writes `bytes` to the output side of the terminal `tty`, within `timeout`.
pub(crate) async fn write_tty(
    tty: &Path,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), TmuxError> {
    let fail = |source| TmuxError::ConsoleWrite {
        tty: tty.to_owned(),
        source,
    };
    let meta = tokio::fs::metadata(tty).await.map_err(fail)?;
    if !tty.starts_with("/dev/") || !meta.file_type().is_char_device() {
        return Err(fail(std::io::Error::other("not a terminal device")));
    }
    let write = async {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            // Never become our controlling terminal.
            .custom_flags(libc::O_NOCTTY)
            .open(tty)
            .await?;
        file.write_all(bytes).await?;
        file.flush().await
    };
    match tokio::time::timeout(timeout, write).await {
        Err(_) => Err(TmuxError::timeout("write console terminal", timeout)),
        Ok(result) => result.map_err(fail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_report_parses_as_a_report_of_process_zero() {
        let bytes = probe_report(7, "round-trip probe 0123456789abcdef");
        let osc = &bytes[2..bytes.len() - 1];
        let report = parse_report(osc).expect("a report");
        assert_eq!(report.pid, PROBE_PROCESS);
        assert_eq!(report.number, 7);
        assert_eq!(report.text, "round-trip probe 0123456789abcdef");
    }

    #[test]
    fn reports_round_trip() {
        let report = parse_report(b"5522;4242;7;68656c6c6f202428746f756368204d29").unwrap();
        assert_eq!(
            report,
            Report {
                pid: 4242,
                number: 7,
                text: "hello $(touch M)".into()
            }
        );
        assert_eq!(parse_report(b"5522;1;2;").unwrap().text, "");
    }

    #[test]
    fn other_osc_strings_are_not_reports() {
        assert_eq!(parse_report(b"0;window title"), None);
        assert_eq!(parse_report(b"5522;x;1;00"), None);
        assert_eq!(parse_report(b"5522;1;1;0g"), None);
        assert_eq!(parse_report(b"5522;1;1;abc"), None);
    }

    #[test]
    fn script_survives_tmux_argument_handling() {
        assert!(!CONSOLE_SCRIPT.contains(['#', '{', '}', '\n']));
        assert!(!CONSOLE_SCRIPT.trim_end().ends_with(';'));
        assert!(CONSOLE_SCRIPT.contains(REPORT_OSC));
    }

    #[test]
    fn rendered_text_has_no_escape() {
        let bytes = render("hi\x1b[201~\nthere\x03", "> ");
        assert_eq!(bytes, b"\r\nhi^[[201~\r\nthere^C\r\n> ");
    }
}
