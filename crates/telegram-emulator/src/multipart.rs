//! A `multipart/form-data` reader (RFC 7578) for whole, buffered bodies: form fields and file
//! uploads (`sendDocument`, `sendPhoto`).

/// One part of a form: a field when `filename` is `None`, an uploaded file otherwise.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// The `boundary` of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    if !params
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    params.find_map(|param| {
        let (key, value) = param.split_once('=')?;
        let value = value.trim().trim_matches('"');
        (key.trim().eq_ignore_ascii_case("boundary") && !value.is_empty()).then(|| value.to_owned())
    })
}

fn position(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

/// Reads `name` and `filename` from a `Content-Disposition` header value.
fn disposition(value: &str, part: &mut Part) {
    for param in value.split(';').skip(1) {
        if let Some((key, v)) = param.split_once('=') {
            let v = v.trim().trim_matches('"').to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "name" => part.name = v,
                "filename" => part.filename = Some(v),
                _ => {}
            }
        }
    }
}

/// Splits a body into its parts; `None` when it is not well-formed.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let separator = [b"\r\n".as_slice(), &delimiter].concat();
    let mut at = position(body, &delimiter, 0)? + delimiter.len();
    let mut parts = Vec::new();
    while !body.get(at..)?.starts_with(b"--") {
        at = position(body, b"\r\n", at)? + 2;
        let headers_end = position(body, b"\r\n\r\n", at)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let data_end = position(body, &separator, data_start)?;
        let mut part = Part {
            name: String::new(),
            filename: None,
            data: body[data_start..data_end].to_vec(),
        };
        for line in headers.split("\r\n") {
            let (key, value) = line.split_once(':')?;
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                disposition(value, &mut part);
            }
        }
        if part.name.is_empty() {
            return None;
        }
        parts.push(part);
        at = data_end + separator.len();
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_files_are_split() {
        let body = b"--b0\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n\
--b0\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.txt\"\r\n\
Content-Type: text/plain\r\n\r\nline\r\nline\r\n--b0--\r\n";
        let parts = parse(body, "b0").unwrap();
        assert_eq!(parts[0].name, "chat_id");
        assert_eq!(parts[0].data, b"42");
        assert_eq!(parts[1].filename.as_deref(), Some("a.txt"));
        assert_eq!(parts[1].data, b"line\r\nline");
        assert_eq!(
            boundary("multipart/form-data; boundary=\"b0\"").as_deref(),
            Some("b0")
        );
        assert!(parse(b"nothing", "b0").is_none());
    }
}
