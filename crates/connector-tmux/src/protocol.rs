//! Parsing what a control client prints: `%begin … %end/%error` response blocks and
//! notifications such as `%output`, `%exit` and `%window-close`.
//!
//! Single lines are classified by `tmux_interface`'s control-mode parser
//! ([`ControlModeLine`]). Its block iterator (`ControlModeOutput`) is not used, because it
//! is blocking (`std::io::BufRead`), unwraps every line as UTF-8 (`%output` carries raw
//! bytes ≥ 0x80, so a multibyte character split between two notifications would panic),
//! keeps only the last data line of a block, and takes any data line that starts with `%`
//! for a notification. Instead, [`Parser`] keeps the block state itself: inside a block
//! only `%end`/`%error` with the block's own command number closes it; everything else is
//! data.

use tmux_interface::control_mode::control_mode::{ControlModeLine, Response};

/// A complete response block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// tmux's command number (server-wide counter, not ours).
    pub number: usize,
    /// `flags & 1`: the command came from this client's stdin. The block for the command
    /// the client was started with (e.g. `attach-session`) has flags 0.
    pub from_client: bool,
    /// `%end` (true) or `%error` (false).
    pub ok: bool,
    /// The lines between `%begin` and `%end` (lossy UTF-8).
    pub lines: Vec<String>,
}

/// One parsed unit of control-mode output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// A finished response block.
    Block(Block),
    /// `%output %<pane> <data>`, with the octal escapes decoded.
    Output { pane: String, data: Vec<u8> },
    /// `%exit [reason]`: the client is about to exit.
    Exit { reason: Option<String> },
    /// `%window-close @<id>` or `%unlinked-window-close @<id>`.
    WindowClose { window: String },
    /// `%session-changed $<id> <name>`: the client is now attached to that session.
    SessionChanged { session: String },
    /// Any other notification; kept for tracing only.
    Other(String),
}

#[derive(Debug)]
struct OpenBlock {
    number: usize,
    flags: usize,
    lines: Vec<String>,
}

/// Line-by-line state machine over the control client's stdout.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    open: Option<OpenBlock>,
}

impl Parser {
    /// Feeds one line (without its `\n`). Returns an event once one is complete.
    pub(crate) fn push_line(&mut self, raw: &[u8]) -> Option<Event> {
        if let Some(open) = &mut self.open {
            if raw.starts_with(b"%end ") || raw.starts_with(b"%error ") {
                let closing = String::from_utf8_lossy(raw);
                match closing.control_mode_line() {
                    Ok(Response::OutputBlockEnd { num, flags, .. })
                    | Ok(Response::OutputBlockError { num, flags, .. })
                        if num == open.number && flags == open.flags =>
                    {
                        let open = self.open.take()?;
                        return Some(Event::Block(Block {
                            number: open.number,
                            from_client: open.flags & 1 == 1,
                            ok: raw.starts_with(b"%end "),
                            lines: open.lines,
                        }));
                    }
                    _ => {}
                }
            }
            open.lines.push(String::from_utf8_lossy(raw).into_owned());
            return None;
        }

        let text = parser_text(raw);
        match text.control_mode_line() {
            Ok(Response::OutputBlockBegin { num, flags, .. }) => {
                self.open = Some(OpenBlock {
                    number: num,
                    flags,
                    lines: Vec::new(),
                });
                None
            }
            Ok(Response::Output { pane_id, value }) => Some(Event::Output {
                pane: pane_id,
                data: decode_octal(value.as_bytes()),
            }),
            Ok(Response::Exit(reason)) => Some(Event::Exit { reason }),
            Ok(Response::WindowClose(window)) | Ok(Response::UnlinkedWindowClose(window)) => {
                Some(Event::WindowClose { window })
            }
            Ok(Response::SessionChanged { session_id, .. }) => Some(Event::SessionChanged {
                session: session_id,
            }),
            // Unknown notifications come back as `OutputBlockData`, unparsable ones as
            // errors (e.g. `%layout-change` of another shape); neither matters to us.
            _ => Some(Event::Other(text)),
        }
    }

    /// Whether a response block is currently open.
    #[cfg(test)]
    pub(crate) fn in_block(&self) -> bool {
        self.open.is_some()
    }
}

/// Makes a line acceptable to the `&str` parser without losing bytes: valid UTF-8 is kept,
/// otherwise bytes ≥ 0x80 are written as the same `\ooo` escapes tmux uses for control
/// bytes, which [`decode_octal`] turns back into the original bytes.
fn parser_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(raw.len() * 2);
            for &byte in raw {
                if byte.is_ascii() {
                    out.push(byte as char);
                } else {
                    out.push_str(&format!("\\{byte:03o}"));
                }
            }
            out
        }
    }
}

/// Decodes tmux's `%output` escaping: `\ooo` (three octal digits) is one byte, everything
/// else is literal. A malformed escape is kept literally rather than dropped.
pub(crate) fn decode_octal(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'\\' && i + 3 < value.len() && is_octal_triplet(&value[i + 1..i + 4]) {
            let d = &value[i + 1..i + 4];
            let byte = (u32::from(d[0] - b'0') << 6)
                | (u32::from(d[1] - b'0') << 3)
                | u32::from(d[2] - b'0');
            out.push((byte & 0xff) as u8);
            i += 4;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    out
}

fn is_octal_triplet(digits: &[u8]) -> bool {
    digits.len() == 3 && digits.iter().all(|d| (b'0'..=b'7').contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(parser: &mut Parser, text: &str) -> Vec<Event> {
        text.lines()
            .filter_map(|l| parser.push_line(l.as_bytes()))
            .collect()
    }

    #[test]
    fn octal_escapes_decode_to_bytes() {
        assert_eq!(decode_octal(br"hi\015\012"), b"hi\r\n");
        assert_eq!(decode_octal(br"\033]5522;1\007"), b"\x1b]5522;1\x07");
        assert_eq!(decode_octal(br"back\134slash"), b"back\\slash");
        assert_eq!(decode_octal(br"\377"), [0xff]);
        assert_eq!(decode_octal(br"odd\9x\01"), br"odd\9x\01");
    }

    #[test]
    fn block_collects_all_lines_and_correlates_by_number() {
        let mut p = Parser::default();
        let events = feed(
            &mut p,
            "%begin 1 268 1\nline one\n%output %1 not-a-notification\n%end 1 999 1\n%end 1 268 1\n",
        );
        assert_eq!(
            events,
            vec![Event::Block(Block {
                number: 268,
                from_client: true,
                ok: true,
                lines: vec![
                    "line one".into(),
                    "%output %1 not-a-notification".into(),
                    "%end 1 999 1".into()
                ],
            })]
        );
        assert!(!p.in_block());
    }

    #[test]
    fn error_block_and_initial_block() {
        let mut p = Parser::default();
        let events = feed(
            &mut p,
            "%begin 9 264 0\ncan't find session: nosuch\n%error 9 264 0\n%exit\n",
        );
        assert_eq!(
            events,
            vec![
                Event::Block(Block {
                    number: 264,
                    from_client: false,
                    ok: false,
                    lines: vec!["can't find session: nosuch".into()],
                }),
                Event::Exit { reason: None },
            ]
        );
    }

    #[test]
    fn notifications() {
        let mut p = Parser::default();
        let events = feed(
            &mut p,
            "%output %12 a\\033[1mb\\015\\012\n%exit server exited unexpectedly\n%window-close @4\n%unlinked-window-close @5\n%session-changed $1 orch\n%layout-change @0 a,1 a,1 *\n",
        );
        assert_eq!(
            events,
            vec![
                Event::Output {
                    pane: "%12".into(),
                    data: b"a\x1b[1mb\r\n".to_vec()
                },
                Event::Exit {
                    reason: Some("server exited unexpectedly".into())
                },
                Event::WindowClose {
                    window: "@4".into()
                },
                Event::WindowClose {
                    window: "@5".into()
                },
                Event::SessionChanged {
                    session: "$1".into()
                },
                Event::Other("%layout-change @0 a,1 a,1 *".into()),
            ]
        );
    }

    #[test]
    fn output_with_split_utf8_is_kept_byte_exact() {
        let mut p = Parser::default();
        // "ö" is C3 B6; tmux may cut between the two bytes.
        let first = p.push_line(b"%output %1 w\xc3");
        let second = p.push_line(b"%output %1 \xb6rld");
        assert_eq!(
            first,
            Some(Event::Output {
                pane: "%1".into(),
                data: b"w\xc3".to_vec()
            })
        );
        assert_eq!(
            second,
            Some(Event::Output {
                pane: "%1".into(),
                data: b"\xb6rld".to_vec()
            })
        );
    }
}
