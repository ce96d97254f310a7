//! Streaming removal of terminal escape sequences from pane output.
//!
//! Pane output arrives in arbitrary chunks (`%output` notifications), so a sequence or a
//! UTF-8 character can be cut anywhere; [`Stripper`] keeps its state between chunks. It
//! turns bytes into [`Piece`]s: printable characters and the few controls that shape a
//! line (`\n`, `\r`, backspace, tab). CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes
//! and C1 controls (8-bit or as UTF-8 U+0080–U+009F) are dropped — except that finished
//! OSC strings are handed out (the console pane reports typed lines through a private
//! OSC), and `CSI ? 2004 h/l` is reported so we know whether the program asked for
//! bracketed paste.

/// One meaningful unit of pane output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A printable character.
    Char(char),
    /// Line feed.
    Newline,
    /// Carriage return (cursor to column 0).
    CarriageReturn,
    /// Backspace (cursor one column left).
    Backspace,
    /// Horizontal tab.
    Tab,
    /// The payload of a finished OSC string (between `ESC ]` and BEL/ST).
    Osc(Vec<u8>),
    /// The program switched bracketed paste mode on (`true`) or off.
    BracketedPaste(bool),
}

const MAX_STRING: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    Escape,
    EscapeIntermediate,
    Csi,
    Osc,
    OscEscape,
    /// DCS, SOS, PM, APC: skipped up to the string terminator.
    Skip,
    SkipEscape,
}

/// The streaming stripper; one per pane.
#[derive(Debug)]
pub(crate) struct Stripper {
    state: State,
    params: Vec<u8>,
    osc: Vec<u8>,
    utf8: Vec<u8>,
    utf8_need: usize,
}

impl Default for Stripper {
    fn default() -> Self {
        Self {
            state: State::Ground,
            params: Vec::new(),
            osc: Vec::new(),
            utf8: Vec::with_capacity(4),
            utf8_need: 0,
        }
    }
}

impl Stripper {
    /// Feeds a chunk of raw pane output, appending what it means to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<Piece>) {
        for &byte in bytes {
            self.byte(byte, out);
        }
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<Piece>) {
        // Finish or abandon a pending UTF-8 character first.
        if self.utf8_need > 0 {
            if byte & 0xC0 == 0x80 {
                self.utf8.push(byte);
                if self.utf8.len() == self.utf8_need {
                    let ch = std::str::from_utf8(&self.utf8)
                        .ok()
                        .and_then(|s| s.chars().next())
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    self.utf8.clear();
                    self.utf8_need = 0;
                    self.char(ch, out);
                }
                return;
            }
            self.utf8.clear();
            self.utf8_need = 0;
            self.char(char::REPLACEMENT_CHARACTER, out);
        }
        if byte >= 0x80 {
            let need = match byte {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                // Stray continuation byte, overlong lead or raw 8-bit C1: not text.
                _ => {
                    self.c1(u32::from(byte), out);
                    return;
                }
            };
            self.utf8.push(byte);
            self.utf8_need = need;
            return;
        }
        self.ascii(byte, out);
    }

    fn char(&mut self, ch: char, out: &mut Vec<Piece>) {
        let code = u32::from(ch);
        if (0x80..=0x9F).contains(&code) {
            self.c1(code, out);
            return;
        }
        match self.state {
            State::Ground => out.push(Piece::Char(ch)),
            State::Osc => self.push_osc_char(ch),
            // Non-ASCII inside other sequences is ignored; it cannot end them.
            _ => {}
        }
    }

    /// C1 controls act like their 7-bit `ESC x` forms.
    fn c1(&mut self, code: u32, out: &mut Vec<Piece>) {
        match code {
            0x9B => self.enter(State::Csi),
            0x9D => self.enter(State::Osc),
            0x90 | 0x98 | 0x9E | 0x9F => self.enter(State::Skip),
            0x9C => match self.state {
                State::Osc | State::OscEscape => self.finish_osc(out),
                State::Skip | State::SkipEscape => self.state = State::Ground,
                _ => {}
            },
            _ => {}
        }
    }

    fn enter(&mut self, state: State) {
        self.params.clear();
        self.osc.clear();
        self.state = state;
    }

    fn ascii(&mut self, byte: u8, out: &mut Vec<Piece>) {
        // CAN and SUB abort any sequence.
        if matches!(byte, 0x18 | 0x1A) {
            self.state = State::Ground;
            return;
        }
        match self.state {
            State::Ground => match byte {
                0x1B => self.enter(State::Escape),
                b'\n' | 0x0B | 0x0C => out.push(Piece::Newline),
                b'\r' => out.push(Piece::CarriageReturn),
                0x08 => out.push(Piece::Backspace),
                b'\t' => out.push(Piece::Tab),
                0x20..=0x7E => out.push(Piece::Char(byte as char)),
                _ => {} // other C0 controls and DEL are invisible
            },
            State::Escape => match byte {
                b'[' => self.enter(State::Csi),
                b']' => self.enter(State::Osc),
                b'P' | b'X' | b'^' | b'_' => self.enter(State::Skip),
                0x1B => {}
                0x20..=0x2F => self.state = State::EscapeIntermediate,
                _ => self.state = State::Ground,
            },
            State::EscapeIntermediate => match byte {
                0x20..=0x2F => {}
                0x1B => self.enter(State::Escape),
                _ => self.state = State::Ground,
            },
            State::Csi => match byte {
                0x20..=0x3F if self.params.len() < 256 => self.params.push(byte),
                0x20..=0x3F => {}
                0x40..=0x7E => {
                    self.csi_final(byte, out);
                    self.state = State::Ground;
                }
                0x1B => self.enter(State::Escape),
                _ => {} // C0 inside CSI: ignored
            },
            State::Osc => match byte {
                0x07 => self.finish_osc(out),
                0x1B => self.state = State::OscEscape,
                _ => self.push_osc_byte(byte),
            },
            State::OscEscape => {
                if byte == b'\\' {
                    self.finish_osc(out);
                } else {
                    // An unterminated OSC followed by a new escape: drop the OSC.
                    self.enter(State::Escape);
                    self.ascii(byte, out);
                }
            }
            State::Skip => {
                if byte == 0x1B {
                    self.state = State::SkipEscape;
                }
            }
            State::SkipEscape => {
                self.state = if byte == b'\\' {
                    State::Ground
                } else {
                    State::Skip
                };
            }
        }
    }

    fn csi_final(&mut self, final_byte: u8, out: &mut Vec<Piece>) {
        if (final_byte == b'h' || final_byte == b'l') && self.params.first() == Some(&b'?') {
            let enabled = final_byte == b'h';
            if self.params[1..].split(|&b| b == b';').any(|p| p == b"2004") {
                out.push(Piece::BracketedPaste(enabled));
            }
        }
    }

    fn push_osc_byte(&mut self, byte: u8) {
        if self.osc.len() < MAX_STRING {
            self.osc.push(byte);
        }
    }

    fn push_osc_char(&mut self, ch: char) {
        let mut buf = [0u8; 4];
        for &b in ch.encode_utf8(&mut buf).as_bytes() {
            self.push_osc_byte(b);
        }
    }

    fn finish_osc(&mut self, out: &mut Vec<Piece>) {
        out.push(Piece::Osc(std::mem::take(&mut self.osc)));
        self.state = State::Ground;
    }
}

/// Strips a complete byte string in one go (convenience for tests and one-off text).
#[cfg(test)]
pub(crate) fn strip_to_string(bytes: &[u8]) -> String {
    let mut pieces = Vec::new();
    Stripper::default().feed(bytes, &mut pieces);
    pieces
        .into_iter()
        .filter_map(|p| match p {
            Piece::Char(c) => Some(c),
            Piece::Newline => Some('\n'),
            Piece::Tab => Some('\t'),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_sgr_and_cursor_moves() {
        assert_eq!(
            strip_to_string(b"\x1b[1;31mred\x1b[0m \x1b[2K\x1b[10Gok"),
            "red ok"
        );
    }

    #[test]
    fn strips_osc_title_and_hands_it_out() {
        let mut pieces = Vec::new();
        Stripper::default().feed(b"a\x1b]0;title\x07b\x1b]5522;1;2;68\x1b\\c", &mut pieces);
        assert_eq!(
            pieces,
            vec![
                Piece::Char('a'),
                Piece::Osc(b"0;title".to_vec()),
                Piece::Char('b'),
                Piece::Osc(b"5522;1;2;68".to_vec()),
                Piece::Char('c'),
            ]
        );
    }

    #[test]
    fn sequences_split_across_chunks() {
        let mut s = Stripper::default();
        let mut pieces = Vec::new();
        for chunk in [
            &b"x\x1b"[..],
            b"[3",
            b"1mY\xc3",
            b"\xb6\x1b]55",
            b"22;z\x07",
        ] {
            s.feed(chunk, &mut pieces);
        }
        assert_eq!(
            pieces,
            vec![
                Piece::Char('x'),
                Piece::Char('Y'),
                Piece::Char('ö'),
                Piece::Osc(b"5522;z".to_vec())
            ]
        );
    }

    #[test]
    fn dcs_and_apc_are_skipped() {
        assert_eq!(
            strip_to_string(b"a\x1bPq#0;1\x1b\\b\x1b_hidden\x1b\\c"),
            "abc"
        );
    }

    #[test]
    fn c1_controls_in_utf8_act_as_escapes() {
        // U+009B is CSI, U+009D is OSC (terminated by U+009C).
        assert_eq!(
            strip_to_string("a\u{9b}31mb\u{9d}0;t\u{9c}c".as_bytes()),
            "abc"
        );
    }

    #[test]
    fn bracketed_paste_mode_is_reported() {
        let mut pieces = Vec::new();
        Stripper::default().feed(b"\x1b[?2004h$ \x1b[?1;2004l", &mut pieces);
        assert_eq!(
            pieces,
            vec![
                Piece::BracketedPaste(true),
                Piece::Char('$'),
                Piece::Char(' '),
                Piece::BracketedPaste(false)
            ]
        );
    }

    #[test]
    fn controls_that_shape_lines_survive() {
        let mut pieces = Vec::new();
        Stripper::default().feed(b"a\x08\tb\r\n\x07\x7f", &mut pieces);
        assert_eq!(
            pieces,
            vec![
                Piece::Char('a'),
                Piece::Backspace,
                Piece::Tab,
                Piece::Char('b'),
                Piece::CarriageReturn,
                Piece::Newline
            ]
        );
    }

    #[test]
    fn invalid_utf8_becomes_replacement() {
        assert_eq!(strip_to_string(b"a\xc3b"), "a\u{fffd}b");
    }
}
