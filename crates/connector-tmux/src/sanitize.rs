//! Neutralising outbound text so it can only ever be text.
//!
//! Whatever the orchestrator sends must not press a key or drive the terminal: no C-c,
//! C-d, Tab completion, Enter in the middle of a line, no escape sequence that ends a
//! bracketed paste (`ESC [201~`) or opens an OSC/DCS string, and no byte the terminal
//! emulator would answer on the program's input (a device-attributes query, for
//! instance). [`neutralize`] therefore rewrites every control character into visible caret
//! notation, the way `cat -v` shows it:
//!
//! | input                       | output                 |
//! |-----------------------------|------------------------|
//! | C0 control (not `\t` `\n` `\r`) | `^@` … `^_` (ESC is `^[`) |
//! | DEL                         | `^?`                   |
//! | C1 control U+0080–U+009F    | `M-^@` … `M-^_` (CSI is `M-^[`) |
//! | `\t`                        | four spaces            |
//! | `\r\n`, lone `\r`           | `\n`                   |
//! | `\n`                        | kept, or joined with [`JOIN_SEPARATOR`] |
//!
//! With no ESC byte and no C1 control left, no escape sequence can survive: `ESC [201~`
//! becomes the harmless text `^[[201~`. Characters the shell or tmux treat specially
//! (`;`, `$(…)`, backquotes, quotes, `#{…}`, a leading `-`) are ordinary text here;
//! keeping them literal on their way through tmux is the job of the quoting module and of
//! the commands we choose (`set-buffer` + `paste-buffer`, or a write to the tty).

/// What to do with line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newlines {
    /// Keep `\n` (multi-line display, or a bracketed paste the program asked for).
    Keep,
    /// Replace each line break with [`JOIN_SEPARATOR`], so the result is one line and the
    /// only Enter a pane receives is the one we press at the end.
    Join,
}

/// Visible stand-in for a line break folded into a single line.
pub const JOIN_SEPARATOR: &str = " ⏎ ";

/// Rewrites `text` so that it contains no control characters except (optionally) `\n`.
/// Trailing line breaks are dropped.
///
/// ```
/// use connector_tmux::sanitize::{neutralize, Newlines};
/// assert_eq!(neutralize("a\x1b[201~b\x03", Newlines::Keep), "a^[[201~b^C");
/// assert_eq!(neutralize("one\r\ntwo\n", Newlines::Join), "one ⏎ two");
/// ```
pub fn neutralize(text: &str, newlines: Newlines) -> String {
    let text = text.trim_end_matches(['\n', '\r']);
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\r' | '\n' => {
                if ch == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                match newlines {
                    Newlines::Keep => out.push('\n'),
                    Newlines::Join => out.push_str(JOIN_SEPARATOR),
                }
            }
            '\t' => out.push_str("    "),
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(ch as u8 + 0x40));
            }
            '\u{7f}' => out.push_str("^?"),
            '\u{80}'..='\u{9f}' => {
                out.push_str("M-^");
                out.push(char::from((u32::from(ch) - 0x80) as u8 + 0x40));
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Cleans inbound text typed by the operator: drops control characters (keeping tab as a
/// space) so that what reaches the orchestrator is plain text.
pub(crate) fn clean_inbound(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// True when `text` contains nothing a terminal or a tty line discipline acts on.
pub fn is_inert(text: &str, allow_newline: bool) -> bool {
    text.chars()
        .all(|c| !c.is_control() || (allow_newline && c == '\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_visible() {
        assert_eq!(neutralize("\x03\x04\x1a\x7f", Newlines::Keep), "^C^D^Z^?");
        assert_eq!(neutralize("a\0b", Newlines::Keep), "a^@b");
    }

    #[test]
    fn paste_end_and_osc_cannot_survive() {
        let out = neutralize("x\x1b[201~touch MARKER\x1b]0;t\x07", Newlines::Keep);
        assert_eq!(out, "x^[[201~touch MARKER^[]0;t^G");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn c1_controls_get_caret_notation() {
        assert_eq!(neutralize("a\u{9b}201~b", Newlines::Keep), "aM-^[201~b");
        assert_eq!(
            neutralize("\u{9d}\u{90}\u{85}", Newlines::Keep),
            "M-^]M-^PM-^E"
        );
    }

    #[test]
    fn newlines_keep_or_join() {
        assert_eq!(neutralize("a\r\nb\rc\n\n", Newlines::Keep), "a\nb\nc");
        assert_eq!(neutralize("a\nb", Newlines::Join), "a ⏎ b");
        assert_eq!(neutralize("tab\there", Newlines::Join), "tab    here");
    }

    #[test]
    fn shell_and_tmux_syntax_is_plain_text() {
        for text in [
            "-n hi",
            "; kill-server",
            "#{pane_id} #(touch X)",
            "$(touch X) `id` 'q' \"d\" \\;",
        ] {
            assert_eq!(neutralize(text, Newlines::Join), text);
        }
    }

    #[test]
    fn every_control_code_point_is_neutralised() {
        for code in (0u32..0x200).chain([0x2028, 0x2029, 0xFEFF]) {
            let Some(ch) = char::from_u32(code) else {
                continue;
            };
            let input = format!("a{ch}b");
            let joined = neutralize(&input, Newlines::Join);
            assert!(is_inert(&joined, false), "U+{code:04X} -> {joined:?}");
            let kept = neutralize(&input, Newlines::Keep);
            assert!(is_inert(&kept, true), "U+{code:04X} -> {kept:?}");
            assert!(!joined.contains('\u{fffd}'));
        }
    }

    #[test]
    fn inbound_cleaning() {
        assert_eq!(clean_inbound("hi\tthere\x1b\u{9b}"), "hi there");
    }
}
