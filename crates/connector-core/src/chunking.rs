//! Splitting long text into parts that fit a platform's message limit.
//!
//! Splits prefer, in order: a paragraph break, a line break, a space, and only then any
//! grapheme boundary. A split never falls inside a UTF-8 character or a grapheme cluster (an
//! emoji with modifiers, a letter with combining marks), and never inside a code-fence line. A
//! fenced code block cut by a split is closed at the end of its part and reopened, with its
//! language tag, at the start of the next, so every part renders as code.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::error::{Error, Result};

/// How a platform counts a message's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LengthUnit {
    /// UTF-8 bytes (Matrix event size limits).
    Bytes,
    /// Unicode scalar values (Discord's 2000-character limit).
    Chars,
    /// UTF-16 code units (JavaScript string length).
    Utf16,
}

impl LengthUnit {
    /// The length of `text` in this unit.
    pub fn measure(self, text: &str) -> usize {
        match self {
            Self::Bytes => text.len(),
            Self::Chars => text.chars().count(),
            Self::Utf16 => text.encode_utf16().count(),
        }
    }
}

/// One part of a split text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The text to send: the source slice, plus fence lines added to keep code blocks intact.
    pub text: String,
    /// The byte range of the original text this part carries. The ranges of all parts are
    /// contiguous and cover the original.
    pub source: Range<usize>,
}

/// Splits text into parts of at most `limit` units.
///
/// ```
/// use connector_core::chunking::{Chunker, LengthUnit};
/// let chunker = Chunker::new(40, LengthUnit::Chars)?;
/// let parts = chunker.split_text("first paragraph is here\n\nsecond paragraph follows it");
/// assert_eq!(parts, ["first paragraph is here\n\n", "second paragraph follows it"]);
/// # Ok::<(), connector_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunker {
    limit: usize,
    unit: LengthUnit,
}

impl Chunker {
    /// The smallest limit accepted: room for a reopened and a closed fence plus some text.
    pub const MIN_LIMIT: usize = 32;

    /// A chunker for parts of at most `limit` units of `unit`.
    pub fn new(limit: usize, unit: LengthUnit) -> Result<Self> {
        if limit < Self::MIN_LIMIT {
            return Err(Error::InvalidInput {
                field: "limit",
                message: format!(
                    "chunk limit {limit} is below the minimum of {}",
                    Self::MIN_LIMIT
                ),
            });
        }
        Ok(Self { limit, unit })
    }

    /// The limit of one part.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The unit the limit is counted in.
    pub fn unit(&self) -> LengthUnit {
        self.unit
    }

    /// The parts' texts, in order.
    pub fn split_text(&self, text: &str) -> Vec<String> {
        self.split(text).into_iter().map(|c| c.text).collect()
    }

    /// The parts, in order, with the source range each carries. Empty text gives no part.
    pub fn split(&self, text: &str) -> Vec<Chunk> {
        let fences = Fences::parse(text, self.unit, self.limit / 4);
        let mut chunks = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let prefix = fences.reopening_at(start).unwrap_or_default();
            let room = self.limit - self.unit.measure(&prefix);
            let mut budget = room;
            let (cut, suffix) = loop {
                let cut = self.best_cut(text, start, budget, &fences);
                let suffix = if cut < text.len() {
                    fences.closing_at(cut, &text[start..cut])
                } else {
                    String::new()
                };
                let used = self.unit.measure(&text[start..cut]) + self.unit.measure(&suffix);
                if used <= room || budget <= 1 {
                    break (cut, suffix);
                }
                budget -= (used - room).min(budget - 1);
            };
            chunks.push(Chunk {
                text: format!("{prefix}{}{suffix}", &text[start..cut]),
                source: start..cut,
            });
            start = cut;
        }
        chunks
    }

    /// The end of the next part starting at `start`, at most `budget` units long.
    fn best_cut(&self, text: &str, start: usize, budget: usize, fences: &Fences) -> usize {
        let rest = &text[start..];
        // Grapheme boundaries (relative to `start`) that fit in the budget.
        let mut bounds = Vec::new();
        let mut used = 0;
        let mut whole = true;
        for (offset, grapheme) in rest.grapheme_indices(true) {
            used += self.unit.measure(grapheme);
            if used > budget {
                whole = false;
                break;
            }
            bounds.push((offset + grapheme.len(), grapheme));
        }
        if whole {
            return text.len();
        }
        let Some(&(hard, _)) = bounds.last() else {
            // A single grapheme longer than the budget: split it at a character boundary, the
            // only way to make progress (never inside a UTF-8 character).
            return start + self.char_cut(rest, budget);
        };
        let is_newline = |g: &str| g == "\n" || g == "\r\n";
        let min_piece = hard / 4;
        let paragraph = bounds
            .windows(2)
            .rev()
            .find(|w| is_newline(w[0].1) && is_newline(w[1].1));
        let line = bounds.iter().rev().find(|(_, g)| is_newline(g));
        let word = bounds
            .iter()
            .rev()
            .find(|(_, g)| g.chars().all(char::is_whitespace));
        let preferred = [
            paragraph.map(|w| w[1].0),
            line.map(|b| b.0),
            word.map(|b| b.0),
        ]
        .into_iter()
        .flatten()
        .find(|&end| end >= min_piece && end > 0)
        .unwrap_or(hard);
        let cut = start + preferred;
        match fences.marker_line_around(cut) {
            Some(line_start) if line_start > start => line_start,
            _ => cut,
        }
    }

    fn char_cut(&self, rest: &str, budget: usize) -> usize {
        let mut used = 0;
        let mut end = 0;
        for (offset, ch) in rest.char_indices() {
            used += self.unit.measure(ch.encode_utf8(&mut [0; 4]));
            if used > budget && end > 0 {
                break;
            }
            end = offset + ch.len_utf8();
        }
        end
    }
}

/// The fenced code blocks of a text.
#[derive(Debug, Default)]
struct Fences {
    blocks: Vec<Fence>,
}

#[derive(Debug)]
struct Fence {
    /// The opening line, including its line break.
    open: Range<usize>,
    /// The closing line, including its line break, if the block is closed.
    close: Option<Range<usize>>,
    /// What to write to reopen the block (the opening line), if short enough to repeat.
    reopen: Option<String>,
    /// The marker that closes it (```` ``` ````, `~~~~`, …), if short enough to repeat.
    marker: Option<String>,
}

impl Fences {
    fn parse(text: &str, unit: LengthUnit, max_repeat: usize) -> Self {
        let mut blocks: Vec<Fence> = Vec::new();
        let mut open: Option<(Fence, char, usize)> = None;
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let range = line_start..line_start + line.len();
            line_start = range.end;
            let content = line.trim_end_matches(['\n', '\r']);
            let indent = content.len() - content.trim_start_matches(' ').len();
            if indent > 3 {
                continue;
            }
            let body = &content[indent..];
            let Some(ch) = body.chars().next().filter(|c| *c == '`' || *c == '~') else {
                continue;
            };
            let run = body.len() - body.trim_start_matches(ch).len();
            if run < 3 {
                continue;
            }
            match open.take() {
                None => {
                    let info = &body[run..];
                    if ch == '`' && info.contains('`') {
                        continue;
                    }
                    let fits = |s: &str| unit.measure(s) < max_repeat;
                    let marker = &body[..run];
                    let fence = Fence {
                        open: range,
                        close: None,
                        reopen: Some(content.to_owned())
                            .filter(|s| fits(s))
                            .or_else(|| Some(marker.to_owned()).filter(|s| fits(s))),
                        marker: Some(marker.to_owned()).filter(|s| fits(s)),
                    };
                    open = Some((fence, ch, run));
                }
                Some((mut fence, open_ch, open_run)) => {
                    if ch == open_ch && run >= open_run && body[run..].trim().is_empty() {
                        fence.close = Some(range);
                        blocks.push(fence);
                    } else {
                        open = Some((fence, open_ch, open_run));
                    }
                }
            }
        }
        blocks.extend(open.map(|(fence, _, _)| fence));
        Self { blocks }
    }

    /// The block a split at `at` falls inside of (after its opening line, up to its closing
    /// line's start).
    fn open_at(&self, at: usize) -> Option<&Fence> {
        self.blocks
            .iter()
            .find(|f| f.open.end <= at && f.close.as_ref().is_none_or(|close| at <= close.start))
    }

    /// What to write at the start of a part that begins at `at`.
    fn reopening_at(&self, at: usize) -> Option<String> {
        let reopen = self.open_at(at)?.reopen.as_ref()?;
        Some(format!("{reopen}\n"))
    }

    /// What to write at the end of a part `body` that ends at `at`.
    fn closing_at(&self, at: usize, body: &str) -> String {
        let Some(fence) = self.open_at(at) else {
            return String::new();
        };
        let (Some(marker), Some(_)) = (&fence.marker, &fence.reopen) else {
            return String::new();
        };
        if body.ends_with('\n') {
            marker.clone()
        } else {
            format!("\n{marker}")
        }
    }

    /// If `at` falls strictly inside a fence line (where a split would break the marker), the
    /// start of that line.
    fn marker_line_around(&self, at: usize) -> Option<usize> {
        self.blocks
            .iter()
            .flat_map(|f| std::iter::once(&f.open).chain(f.close.as_ref()))
            .find(|line| line.start < at && at < line.end)
            .map(|line| line.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(limit: usize) -> Chunker {
        Chunker::new(limit, LengthUnit::Chars).unwrap()
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(chars(100).split_text("hello"), ["hello"]);
        assert!(chars(100).split_text("").is_empty());
    }

    #[test]
    fn prefers_lines_then_words() {
        let text = "alpha beta gamma delta\nepsilon zeta eta theta iota kappa";
        assert_eq!(
            chars(40).split_text(text),
            [
                "alpha beta gamma delta\n",
                "epsilon zeta eta theta iota kappa"
            ]
        );
        let words = "one two three four five six seven eight nine ten eleven";
        let parts = chars(32).split_text(words);
        assert_eq!(
            parts,
            [
                "one two three four five six ",
                "seven eight nine ten eleven"
            ]
        );
    }

    #[test]
    fn code_fence_is_closed_and_reopened_with_language() {
        let code: String = (0..12).map(|i| format!("let x{i} = {i};\n")).collect();
        let text = format!("Here:\n```rust\n{code}```\nDone.");
        let parts = chars(80).split_text(&text);
        assert!(parts.len() > 2, "{parts:#?}");
        for part in &parts {
            assert!(part.chars().count() <= 80);
            assert_eq!(part.matches("```").count() % 2, 0, "unbalanced: {part:?}");
        }
        assert!(parts[1].starts_with("```rust\n"), "{:?}", parts[1]);
    }

    #[test]
    fn never_splits_a_grapheme() {
        let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
        let text = family.repeat(20);
        for part in chars(32).split_text(&text) {
            assert_eq!(part.len() % family.len(), 0);
        }
    }

    #[test]
    fn counts_in_the_platforms_unit() {
        let text = "𝄞".repeat(40); // 1 char, 2 UTF-16 units, 4 bytes each
        assert!(
            Chunker::new(40, LengthUnit::Chars)
                .unwrap()
                .split(&text)
                .len()
                == 1
        );
        assert_eq!(
            Chunker::new(40, LengthUnit::Utf16)
                .unwrap()
                .split(&text)
                .len(),
            2
        );
        assert_eq!(
            Chunker::new(40, LengthUnit::Bytes)
                .unwrap()
                .split(&text)
                .len(),
            4
        );
    }

    #[test]
    fn rejects_tiny_limits() {
        assert!(Chunker::new(8, LengthUnit::Chars).is_err());
    }
}
