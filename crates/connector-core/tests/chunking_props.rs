//! Property tests of the chunker: limits, order, content, fences and graphemes.

use std::collections::HashSet;

use connector_core::chunking::{Chunker, LengthUnit};
use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

/// Text built from pieces that stress every rule: words, spaces, line and paragraph breaks,
/// fenced code with and without a language, multi-code-point graphemes, wide characters.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z]{1,12}",
        3 => Just(" ".to_owned()),
        2 => Just("\n".to_owned()),
        1 => Just("\n\n".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => prop_oneof![Just("rust"), Just("python"), Just(""), Just("sh")]
            .prop_map(|lang| format!("\n```{lang}\n")),
        1 => Just("\n~~~~\n".to_owned()),
        1 => Just("👨\u{200d}👩\u{200d}👧\u{200d}👦".to_owned()),
        1 => Just("e\u{301}\u{302}".to_owned()),
        1 => Just("🇫🇷".to_owned()),
        1 => Just("𝄞".to_owned()),
        1 => Just("漢字".to_owned()),
        1 => "[a-z]{40,90}".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..400).prop_map(|pieces| pieces.concat())
}

fn unit() -> impl Strategy<Value = LengthUnit> {
    prop_oneof![
        Just(LengthUnit::Bytes),
        Just(LengthUnit::Chars),
        Just(LengthUnit::Utf16)
    ]
}

/// Fence marker lines of a text, as the chunker recognises them (no indentation in our
/// generator): a line of 3+ backticks or tildes.
fn fence_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("```") || l.starts_with("~~~"))
        .count()
}

/// Whether `chunk` is `source`, with at most one reopened fence line before it and one closing
/// fence after it.
fn is_source_with_fence_repairs(chunk: &str, source: &str) -> bool {
    let first_line = chunk.split_inclusive('\n').next().unwrap_or("");
    let prefixes = ["", first_line];
    prefixes.iter().any(|prefix| {
        let is_fence = prefix.is_empty() || (prefix.ends_with('\n') && fence_lines(prefix) == 1);
        let Some(rest) = chunk
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix(source))
        else {
            return false;
        };
        let suffix = rest.strip_prefix('\n').unwrap_or(rest);
        is_fence && (rest.is_empty() || (fence_lines(suffix) == 1 && !suffix.contains('\n')))
    })
}

/// Whether the fences of `text` are balanced: every opener has a closer of the same kind.
fn balanced(text: &str) -> bool {
    let mut open: Option<(char, usize)> = None;
    for line in text.lines() {
        let Some(ch) = line.chars().next().filter(|c| *c == '`' || *c == '~') else {
            continue;
        };
        let run = line.len() - line.trim_start_matches(ch).len();
        if run < 3 {
            continue;
        }
        match open {
            None => open = Some((ch, run)),
            Some((c, r)) if c == ch && run >= r && line[run..].trim().is_empty() => open = None,
            Some(_) => {}
        }
    }
    open.is_none()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn chunks_respect_every_rule(text in text(), limit in 64usize..400, unit in unit()) {
        // From 64 units up, half the limit (what remains after a reopened and a closing fence)
        // holds the longest grapheme the generator makes (25 bytes).
        let chunker = Chunker::new(limit, unit).unwrap();
        let chunks = chunker.split(&text);
        let boundaries: HashSet<usize> = text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();

        // Content and order: the source ranges are contiguous and cover the text.
        let mut at = 0;
        for chunk in &chunks {
            prop_assert_eq!(chunk.source.start, at);
            prop_assert!(chunk.source.end > chunk.source.start, "no empty chunk");
            at = chunk.source.end;
        }
        prop_assert_eq!(at, text.len());

        for chunk in &chunks {
            // Within the limit as the platform counts it.
            prop_assert!(unit.measure(&chunk.text) <= limit, "{} > {limit}: {:?}", unit.measure(&chunk.text), chunk.text);
            // The chunk is its source, plus at most a reopened fence before and a closing after.
            let source = &text[chunk.source.clone()];
            prop_assert!(is_source_with_fence_repairs(&chunk.text, source), "chunk {:?} is not its source {:?} plus fence lines", chunk.text, source);
            // Never inside a grapheme (hence never inside a UTF-8 character).
            prop_assert!(boundaries.contains(&chunk.source.start) && boundaries.contains(&chunk.source.end),
                "split inside a grapheme at {:?}", chunk.source);
        }

        // Fences balanced per chunk whenever they are balanced in the text.
        if balanced(&text) {
            for chunk in &chunks {
                prop_assert!(balanced(&chunk.text), "unbalanced chunk {:?}", chunk.text);
            }
        }
    }

    #[test]
    fn a_grapheme_longer_than_the_limit_is_split_at_characters(marks in 40usize..200, limit in 32usize..64) {
        // Pathological: one base letter with hundreds of combining marks. The only way to make
        // progress is between characters; the chunker must still never exceed the limit nor
        // split a UTF-8 character.
        let text = format!("a{}", "\u{301}".repeat(marks));
        let chunks = Chunker::new(limit, LengthUnit::Bytes).unwrap().split(&text);
        prop_assert_eq!(chunks.iter().map(|c| c.text.as_str()).collect::<String>(), text.clone());
        for chunk in &chunks {
            prop_assert!(chunk.text.len() <= limit);
            prop_assert!(text.is_char_boundary(chunk.source.start) && text.is_char_boundary(chunk.source.end));
        }
    }

    #[test]
    fn short_text_is_untouched(text in "[ -~]{1,31}") {
        let chunks = Chunker::new(32, LengthUnit::Bytes).unwrap().split_text(&text);
        prop_assert_eq!(chunks, vec![text]);
    }
}
