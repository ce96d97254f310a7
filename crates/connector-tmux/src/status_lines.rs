//! The console's status lines: where an edited message's newest text is shown, redrawn in
//! place by tmux — the console itself cannot change what it printed.
//!
//! A console message that is [edited](connector_core::OrchestratorConnector::edit) (a live
//! message's updates, `connector send --live`) keeps its first text in the scrollback, and its
//! newest text is shown in one of [`SLOTS`] extra status lines at the bottom of the console's
//! session (tmux's `status` set to 2…4, `status-format[N]`). tmux redraws a status line in
//! place whenever its value changes, in every window of the session, and never scrolls it
//! away. The most recently edited messages keep a line; an older one gives its line up.
//!
//! The text reaches tmux only as the value of a user option (`@connector_status_N`), set
//! without `-F`, so it is never expanded as a format: `#{…}` and `#(…)` in it are text. The
//! constant `status-format[N]` shows it with `#{@connector_status_N}`, which tmux does not
//! expand again. tmux does draw style markup (`#[…]`) found in the line, so every `#` is
//! doubled (`##`, which tmux draws as one `#`); control characters are neutralised first
//! ([`crate::sanitize`]) and line breaks folded.

use crate::sanitize::{Newlines, neutralize};

/// Status lines the connector may use below tmux's own (status line 0).
pub const SLOTS: usize = 3;

/// The longest text shown in a status line (tmux cuts it at the terminal's width anyway).
const MAX_CHARS: usize = 500;

/// The user option holding slot `slot`'s text (1-based).
pub(crate) fn option_name(slot: usize) -> String {
    format!("@connector_status_{slot}")
}

/// The status format of slot `slot`: its option's value, left-aligned.
pub(crate) fn format(slot: usize) -> String {
    format!("#[align=left]#{{{}}}", option_name(slot))
}

/// `text` as a status line shows it: control characters neutralised, line breaks folded,
/// every `#` doubled, at most [`MAX_CHARS`] characters.
pub(crate) fn line(label: &str, text: &str) -> String {
    let flat = neutralize(&format!("{label}{text}"), Newlines::Join);
    let mut shown: String = flat.chars().take(MAX_CHARS).collect();
    if flat.chars().count() > MAX_CHARS {
        shown.push('…');
    }
    shown.replace('#', "##")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_formats_stay_text() {
        assert_eq!(
            line("▸ ", "#[fg=red]x #(touch /tmp/p) #{pane_id}\n\x1b[2Jok"),
            "▸ ##[fg=red]x ##(touch /tmp/p) ##{pane_id} ⏎ ^[[2Jok"
        );
        assert_eq!(format(2), "#[align=left]#{@connector_status_2}");
    }
}
