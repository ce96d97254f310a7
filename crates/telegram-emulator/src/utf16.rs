//! Lengths and offsets in UTF-16 code units, the unit of the Bot API's text limits and of
//! `MessageEntity.offset`/`length`.

/// The length of `text` in UTF-16 code units (an emoji outside the BMP counts two).
pub(crate) fn len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn astral_characters_count_twice() {
        assert_eq!(super::len("a😀é"), 4);
    }
}
