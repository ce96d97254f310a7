//! Typing outbound text into an existing pane's program, literally.
//!
//! A send is three commands on the control client:
//!
//! 1. `set-buffer -b <private name> -- "<text>"` — the text travels quoted (see
//!    [`crate::quoting`]); `set-buffer` does not expand formats, and `--` keeps a leading
//!    `-` from being read as a flag;
//! 2. `paste-buffer -d -p -b <name> -t <pane>` — one paste, wrapped in bracketed-paste
//!    markers when the program asked for them, buffer deleted afterwards;
//! 3. `send-keys -t <pane> Enter` — the only key we ever press.
//!
//! The text is neutralised first ([`crate::sanitize`]), so it holds no control character
//! that the program could read as a key (C-c, C-d, Tab, ESC, a bracketed-paste end marker).
//!
//! **Multi-line text.** Outside bracketed paste a line break in pasted text is an Enter
//! key, so each line would be submitted separately — for a shell, several commands. So
//! multi-line text is pasted with its line breaks only when the program has switched
//! bracketed paste on (we follow `ESC [?2004h`/`l` in its output; readline, zsh, fish and
//! most agent CLIs do): it then gets the whole text as **one** paste and decides itself
//! what a newline inside a paste means, and our final Enter submits it. Otherwise, or when
//! we have not seen the program's mode yet, line breaks are folded into
//! [`JOIN_SEPARATOR`](crate::sanitize::JOIN_SEPARATOR) and the message is one line.
//!
//! So a multi-line message **is submitted**, as one unit: agent CLIs take it as one
//! multi-line prompt. A shell with bracketed paste (bash, zsh) takes it as a human paste
//! followed by Enter — it runs the lines it was sent, which is literal delivery; what can
//! never happen is a line break or key the text did not visibly contain (a hidden
//! `ESC [201~`, C-c, `\r`), because those are neutralised first. A shell without bracketed
//! paste (dash) gets one folded line.

use std::sync::atomic::{AtomicU64, Ordering};

use tmux_interface::{PasteBuffer, SendKeys, SetBuffer, TmuxCommand};

use crate::quoting::with_trailing_values;
use crate::sanitize::{Newlines, neutralize};

/// The text exactly as it will be pasted, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// Neutralised text.
    pub text: String,
    /// Whether line breaks were kept (bracketed paste) or folded.
    pub newlines: Newlines,
}

/// Neutralises `text` for a pane whose bracketed-paste state is `bracketed`.
pub(crate) fn prepare(text: &str, bracketed: Option<bool>) -> Prepared {
    let newlines = if bracketed == Some(true) {
        Newlines::Keep
    } else {
        Newlines::Join
    };
    Prepared {
        text: neutralize(text, newlines),
        newlines,
    }
}

/// A buffer name private to this process and send.
pub(crate) fn buffer_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "connector-tmux-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `set-buffer -b <buffer> -- <text>`.
pub(crate) fn set_buffer<'a>(buffer: &'a str, text: &str) -> TmuxCommand<'a> {
    with_trailing_values(
        SetBuffer::new().buffer_name(buffer).build(),
        [text.to_owned()],
    )
}

/// `paste-buffer -d -p -b <buffer> -t <pane>`.
pub(crate) fn paste_buffer<'a>(buffer: &'a str, pane: &'a str) -> TmuxCommand<'a> {
    PasteBuffer::new()
        .delete()
        .bracket_codes()
        .buffer_name(buffer)
        .target_pane(pane)
        .build()
}

/// `send-keys -t <pane> Enter`.
pub(crate) fn press_enter(pane: &str) -> TmuxCommand<'_> {
    SendKeys::new().target_pane(pane).key("Enter").build()
}

/// What a verified send looks for in the pane's output: the start of the first line,
/// without whitespace (terminals and programs re-wrap and re-space text).
pub(crate) fn needle(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(24)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quoting::command_line;

    #[test]
    fn multi_line_is_kept_only_for_bracketed_paste() {
        let text = "echo a\ntouch MARKER";
        assert_eq!(prepare(text, Some(true)).text, "echo a\ntouch MARKER");
        assert_eq!(prepare(text, Some(false)).text, "echo a ⏎ touch MARKER");
        assert_eq!(prepare(text, None).newlines, Newlines::Join);
    }

    #[test]
    fn commands_are_quoted_and_flagged() {
        assert_eq!(
            command_line(&set_buffer("b", "-n x; y")),
            "set-buffer \"-b\" \"b\" \"--\" \"-n x\\073 y\""
        );
        assert_eq!(
            command_line(&paste_buffer("b", "%3")),
            "paste-buffer \"-d\" \"-p\" \"-b\" \"b\" \"-t\" \"%3\""
        );
        assert_eq!(
            command_line(&press_enter("%3")),
            "send-keys \"-t\" \"%3\" \"Enter\""
        );
    }

    #[test]
    fn buffer_names_are_unique() {
        assert_ne!(buffer_name(), buffer_name());
    }

    #[test]
    fn needle_is_the_start_of_the_first_line() {
        assert_eq!(needle("hello big world\nsecond"), "hellobigworld");
        assert_eq!(needle(&"x".repeat(100)).len(), 24);
    }
}
