//! Assembling stripped pane output into text lines.
//!
//! Terminal semantics, kept simple: `\r` moves to column 0 and later characters overwrite
//! (so a progress bar redrawn with `\r` yields its last state), backspace moves one column
//! left, `\n` ends the line. A line without its `\n` yet stays buffered; callers flush it
//! explicitly (e.g. when the connection drops).

use crate::ansi::Piece;

/// Longest line kept; longer output is cut into several lines.
const MAX_LINE_CHARS: usize = 16 * 1024;

/// The line being assembled for one pane.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    chars: Vec<char>,
    cursor: usize,
}

impl LineBuffer {
    /// Applies one piece; returns a finished line at `\n` (or when the line gets too long).
    pub(crate) fn push(&mut self, piece: &Piece) -> Option<String> {
        match piece {
            Piece::Char(c) => self.put(*c),
            Piece::Tab => self.put('\t'),
            Piece::CarriageReturn => self.cursor = 0,
            Piece::Backspace => self.cursor = self.cursor.saturating_sub(1),
            Piece::Newline => return Some(self.take()),
            Piece::Osc(_) | Piece::BracketedPaste(_) => {}
        }
        if self.chars.len() >= MAX_LINE_CHARS {
            return Some(self.take());
        }
        None
    }

    /// Takes the unfinished line, if it has any visible text.
    pub(crate) fn take_partial(&mut self) -> Option<String> {
        let line = self.take();
        (!line.is_empty()).then_some(line)
    }

    /// Whether nothing is buffered.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    fn put(&mut self, c: char) {
        if self.cursor < self.chars.len() {
            self.chars[self.cursor] = c;
        } else {
            self.chars.push(c);
        }
        self.cursor += 1;
    }

    fn take(&mut self) -> String {
        let line: String = self.chars.drain(..).collect();
        self.cursor = 0;
        line.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ansi::Stripper;

    fn lines(bytes: &[u8]) -> (Vec<String>, LineBuffer) {
        let mut pieces = Vec::new();
        Stripper::default().feed(bytes, &mut pieces);
        let mut buf = LineBuffer::default();
        let out = pieces.iter().filter_map(|p| buf.push(p)).collect();
        (out, buf)
    }

    #[test]
    fn splits_on_newlines_and_handles_crlf() {
        let (out, buf) = lines(b"one\r\ntwo\nthree");
        assert_eq!(out, ["one", "two"]);
        assert!(!buf.is_empty());
    }

    #[test]
    fn carriage_return_overwrites() {
        let (out, _) = lines(b"10%\r50%\r100%\n");
        assert_eq!(out, ["100%"]);
        let (out, _) = lines(b"abcdef\rXY\n");
        assert_eq!(out, ["XYcdef"]);
    }

    #[test]
    fn backspace_edits() {
        // What a tty echoes when a typed character is erased: "\b \b".
        let (out, _) = lines(b"helx\x08 \x08lo\n");
        assert_eq!(out, ["hello"]);
    }

    #[test]
    fn escapes_do_not_leak_into_lines() {
        let (out, _) = lines(b"\x1b[32m$\x1b[0m ls\r\n\x1b]0;t\x07done\r\n");
        assert_eq!(out, ["$ ls", "done"]);
    }

    #[test]
    fn partial_line_is_flushed_once() {
        let (_, mut buf) = lines(b"prompt> ");
        assert_eq!(buf.take_partial().as_deref(), Some("prompt>"));
        assert_eq!(buf.take_partial(), None);
    }
}
