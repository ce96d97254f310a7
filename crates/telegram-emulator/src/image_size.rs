//! The width and height of an uploaded photo, read from a PNG or JPEG header: what
//! `sendPhoto` needs for its `PhotoSize` (and what refuses anything else, as Telegram does).

/// `(width, height)` of a PNG or baseline/progressive JPEG; `None` for anything else.
pub(crate) fn of(data: &[u8]) -> Option<(i64, i64)> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") && data.len() >= 24 {
        let w = u32::from_be_bytes(data[16..20].try_into().ok()?);
        let h = u32::from_be_bytes(data[20..24].try_into().ok()?);
        return Some((i64::from(w), i64::from(h)));
    }
    if !data.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while at + 9 < data.len() {
        if data[at] != 0xFF {
            return None;
        }
        let marker = data[at + 1];
        let length = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            let h = u16::from_be_bytes([data[at + 5], data[at + 6]]);
            let w = u16::from_be_bytes([data[at + 7], data[at + 8]]);
            return Some((i64::from(w), i64::from(h)));
        }
        at += 2 + length;
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn png_and_jpeg_headers_give_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 2]);
        assert_eq!(super::of(&png), Some((3, 2)));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 20, 0, 40, 3, 0, 0, 0];
        assert_eq!(super::of(&jpeg), Some((40, 20)));
        assert_eq!(super::of(b"plain text"), None);
    }
}
