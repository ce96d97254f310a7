//! Typing outbound text into an existing pane's program, literally.
//!
//! A send is three commands, on the control client or on plain clients (see the `link` module):
//!
//! 1. `set-buffer -b <private name> -- "<text>"` on the control client — the text travels
//!    quoted (see [`crate::quoting`]); `set-buffer` does not expand formats, and `--` keeps a
//!    leading `-` from being read as a flag — or `load-buffer -b <name> -` on a plain client,
//!    the text on its stdin;
//! 2. `paste-buffer -d -p -b <name> -t <pane>` — one paste, wrapped in bracketed-paste
//!    markers when the program asked for them, buffer deleted afterwards;
//! 3. `send-keys -t <pane> Enter` — the only key we ever press.
//!
//! The text is neutralised first ([`crate::sanitize`]), so it holds no control character
//! that the program could read as a key (C-c, C-d, Tab, ESC, a bracketed-paste end marker).
//!
//! **Line breaks** follow one rule, chosen per target in the roster
//! (`connector.tmux.line_breaks`, [`LineBreaks`]) and the same on every path — a one-shot
//! `connector send`, a long-running `mcp` or `bridge`, the library:
//!
//! * `fold` (the default): every line break — `\n`, `\r\n` or a lone `\r` — is folded into
//!   [`JOIN_SEPARATOR`](crate::sanitize::JOIN_SEPARATOR), so a message is **one line** of input
//!   and the only Enter the program receives is the one we press. A shell or REPL can never be
//!   made to run a second command by a line break.
//! * `paste`: line breaks are pasted as they are, as one paste (`paste-buffer -p` brackets it
//!   when the program has turned bracketed paste on — tmux itself tracks that), then Enter is
//!   pressed: an agent CLI gets one multi-line prompt. A shell runs every line it was sent, and
//!   a program without bracketed paste (`dash`) takes each line as submitted on its own; this is
//!   the operator's explicit choice for that target.
//!
//! Either way no key or line break can come from anything the text does not visibly contain: a
//! hidden `ESC [201~`, C-c or any other control is neutralised first.

use std::sync::atomic::{AtomicU64, Ordering};

use tmux_interface::{PasteBuffer, SendKeys, SetBuffer, TmuxCommand};

use crate::quoting::with_trailing_values;
use crate::sanitize::{Newlines, neutralize};
use crate::settings::LineBreaks;

/// The text exactly as it will be pasted, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prepared {
    /// Neutralised text.
    pub text: String,
    /// Whether line breaks were kept (bracketed paste) or folded.
    pub newlines: Newlines,
}

/// Neutralises `text` for a pane whose line-break rule is `rule`.
pub(crate) fn prepare(text: &str, rule: LineBreaks) -> Prepared {
    let newlines = match rule {
        LineBreaks::Paste => Newlines::Keep,
        LineBreaks::Fold => Newlines::Join,
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
    fn line_breaks_follow_the_rule_alone() {
        let text = "echo a\ntouch MARKER\rtouch OTHER";
        assert_eq!(
            prepare(text, LineBreaks::Paste).text,
            "echo a\ntouch MARKER\ntouch OTHER"
        );
        assert_eq!(
            prepare(text, LineBreaks::Fold).text,
            "echo a ⏎ touch MARKER ⏎ touch OTHER"
        );
        assert_eq!(
            prepare(text, LineBreaks::default()).newlines,
            Newlines::Join
        );
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
