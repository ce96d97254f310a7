//! The bytes of an upload: the raw body, or the first file part of a `multipart/form-data` body
//! (both are how Slack's SDKs POST to an upload URL).

/// The uploaded bytes in `body`.
pub(crate) fn file_bytes(content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let boundary = content_type
        .filter(|c| c.starts_with("multipart/form-data"))
        .and_then(|c| {
            c.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| format!("--{}", b.trim_matches('"')));
    boundary
        .and_then(|b| first_part(body, b.as_bytes()))
        .unwrap_or_else(|| body.to_vec())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn first_part(body: &[u8], boundary: &[u8]) -> Option<Vec<u8>> {
    let start = find(body, boundary)? + boundary.len();
    let rest = &body[start..];
    let headers_end = find(rest, b"\r\n\r\n")? + 4;
    let content = &rest[headers_end..];
    let end = find(content, boundary)?;
    let content = &content[..end];
    Some(content.strip_suffix(b"\r\n").unwrap_or(content).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_multipart_bodies() {
        assert_eq!(file_bytes(None, b"abc"), b"abc");
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nhello\r\n--xyz--\r\n";
        assert_eq!(
            file_bytes(Some("multipart/form-data; boundary=xyz"), body),
            b"hello"
        );
    }
}
