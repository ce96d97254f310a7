//! Turning a `tmux_interface` command into one control-mode input line that tmux's command
//! parser reads back as exactly the same arguments.
//!
//! A control client's stdin goes through tmux's command parser (`cmd-parse.y`), which
//! splits on spaces and `;`, starts a new command at a newline, treats `#` as a comment,
//! expands `$VAR`/`${VAR}` and `~` (outside single quotes), opens `{ … }` blocks, and reads
//! `%if`. `tmux_interface` joins arguments with spaces and quotes nothing, so its
//! `Display` output cannot carry user text; we take its argument vector (`to_vec()`) and
//! quote every argument ourselves:
//!
//! * each argument is put in double quotes;
//! * inside them only ASCII letters, digits, space, `-_.,:/@%=+` and non-ASCII characters
//!   stay as they are; every other byte — `"`, `\`, `$`, `~`, `#`, `;`, `{`, `}`, `'`,
//!   backquote, newline, control characters — becomes a three-digit octal escape `\ooo`,
//!   which the parser turns back into that byte without expanding anything (escapes are
//!   handled before `$` and `~` get a chance, see `yylex_token_escape`).
//!
//! Format expansion (`#{…}`, `#(…)`) is a separate, per-command step: `set-buffer`,
//! `send-keys -l` and `set-option` (without `-F`) never expand their value, and we never
//! pass user text to a command that does (`display-message`, `new-window -n`).

use std::fmt::Write as _;

use tmux_interface::TmuxCommand;

/// Renders `command` as one line for a control client (without the trailing newline).
///
/// The command name stays bare; every other argument is quoted with [`quote_arg`].
pub(crate) fn command_line(command: &TmuxCommand<'_>) -> String {
    let mut line = String::new();
    for (i, arg) in command.to_vec().iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        if i == 0 && is_bare_word(arg) {
            line.push_str(arg);
        } else {
            line.push_str(&quote_arg(arg));
        }
    }
    line
}

/// Appends `--` and then `values` to a command built by `tmux_interface`, so values starting
/// with `-` are never read as flags (its builders put values last but add no `--`).
pub(crate) fn with_trailing_values<'a>(
    mut command: TmuxCommand<'a>,
    values: impl IntoIterator<Item = String>,
) -> TmuxCommand<'a> {
    command.push_param("--");
    for value in values {
        command.push_param(value);
    }
    command
}

/// Quotes one argument so tmux's parser yields exactly `arg` (see the module docs).
///
/// ```
/// use connector_tmux::quoting::quote_arg;
/// assert_eq!(quote_arg("$(x); y"), r#""\044\050x\051\073 y""#);
/// ```
pub fn quote_arg(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for ch in arg.chars() {
        if is_plain(ch) {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for byte in ch.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\{byte:03o}");
            }
        }
    }
    out.push('"');
    out
}

fn is_plain(ch: char) -> bool {
    ch.is_ascii_alphanumeric()
        || matches!(ch, ' ' | '-' | '_' | '.' | ',' | ':' | '/' | '@' | '%' | '=' | '+')
        // Non-ASCII printable characters are not special to the parser. C1 controls
        // (U+0080..U+009F) are escaped anyway to keep the line plain.
        || (!ch.is_ascii() && !ch.is_control())
}

fn is_bare_word(arg: &str) -> bool {
    !arg.is_empty() && arg.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use tmux_interface::{SetBuffer, SetOption};

    #[test]
    fn plain_text_stays_readable() {
        assert_eq!(quote_arg("hello, world"), "\"hello, world\"");
        assert_eq!(quote_arg("%3"), "\"%3\"");
    }

    #[test]
    fn parser_specials_become_octal_escapes() {
        assert_eq!(quote_arg("$HOME"), "\"\\044HOME\"");
        assert_eq!(quote_arg("~"), "\"\\176\"");
        assert_eq!(quote_arg("a;b"), "\"a\\073b\"");
        assert_eq!(quote_arg("#{pane_id}"), "\"\\043\\173pane_id\\175\"");
        assert_eq!(quote_arg("\"'\\`"), "\"\\042\\047\\134\\140\"");
        assert_eq!(quote_arg("a\nb"), "\"a\\012b\"");
    }

    #[test]
    fn unicode_passes_through_and_c1_is_escaped() {
        assert_eq!(quote_arg("wörld ✓"), "\"wörld ✓\"");
        assert_eq!(quote_arg("\u{9b}"), "\"\\302\\233\"");
    }

    #[test]
    fn quoted_lines_never_contain_a_raw_separator() {
        let nasty = "; kill-server \\; run-shell \"touch X\"\n#(touch X) $(x) `x` {a} ~root";
        let quoted = quote_arg(nasty);
        let inner = &quoted[1..quoted.len() - 1];
        for forbidden in [
            ';', '\n', '"', '\\', /* only as escape lead */
            '#', '$', '~',
        ] {
            if forbidden == '\\' {
                continue;
            }
            assert!(!inner.contains(forbidden), "{forbidden:?} in {quoted}");
        }
    }

    #[test]
    fn builds_set_buffer_with_end_of_flags() {
        let cmd = with_trailing_values(
            SetBuffer::new().buffer_name("b1").build(),
            ["-a x".to_owned()],
        );
        let line = command_line(&cmd);
        assert_eq!(line, "set-buffer \"-b\" \"b1\" \"--\" \"-a x\"");
    }

    #[test]
    fn builds_set_option_for_a_window() {
        let cmd = SetOption::new()
            .window()
            .target_pane("@3")
            .option("@connector_thread")
            .value("6869")
            .build();
        assert_eq!(
            command_line(&cmd),
            "set-option \"-w\" \"-t\" \"@3\" \"@connector_thread\" \"6869\""
        );
    }
}
