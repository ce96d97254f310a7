//! Request bodies: JSON, `multipart/form-data` (`payload_json` + `files[n]`) and url-encoded
//! forms, turned into one JSON object and a list of files.

use serde_json::{Map, Value, json};

use crate::{
    errors::{ApiError, FormErrors},
    multipart,
    routes::query_pairs,
};

/// A file part of a multipart body.
#[derive(Debug)]
pub(crate) struct FilePart {
    /// `n` of `files[n]`, or the part's position.
    pub(crate) index: usize,
    pub(crate) filename: String,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// A parsed body.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub(crate) json: Map<String, Value>,
    pub(crate) files: Vec<FilePart>,
}

/// Parses a body by its content type. An empty body is an empty object.
pub(crate) fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Body, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::default());
    }
    let kind = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match kind.as_str() {
        "application/json" => Ok(Body {
            json: json_object(bytes)?,
            files: Vec::new(),
        }),
        "multipart/form-data" => multipart_body(content_type.unwrap_or_default(), bytes),
        "application/x-www-form-urlencoded" => {
            let text = String::from_utf8_lossy(bytes);
            let json = query_pairs(Some(&text))
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            Ok(Body {
                json,
                files: Vec::new(),
            })
        }
        _ => {
            let mut errors = FormErrors::default();
            errors.add(
                &[],
                "CONTENT_TYPE_INVALID",
                "Expected \"Content-Type\" header to be one of {'application/json', \
                 'multipart/form-data', 'application/x-www-form-urlencoded'}.",
            );
            Err(ApiError::invalid_form(errors))
        }
    }
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => {
            let mut errors = FormErrors::default();
            errors.add(
                &[],
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            );
            Err(ApiError::invalid_form(errors))
        }
        Err(_) => Err(ApiError::invalid_json()),
    }
}

fn multipart_body(content_type: &str, bytes: &[u8]) -> Result<Body, ApiError> {
    let parts = multipart::boundary(content_type)
        .and_then(|b| multipart::parse(bytes, &b))
        .ok_or_else(|| {
            let mut errors = FormErrors::default();
            errors.add(&[], "MULTIPART_INVALID", "The multipart body is malformed.");
            ApiError::invalid_form(errors)
        })?;
    let mut body = Body::default();
    let mut payload = None;
    for (position, part) in parts.into_iter().enumerate() {
        if let Some(filename) = part.filename {
            let index = part
                .name
                .strip_prefix("files[")
                .and_then(|n| n.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
                .unwrap_or(position);
            body.files.push(FilePart {
                index,
                filename,
                content_type: part.content_type,
                data: part.data,
            });
        } else if part.name == "payload_json" {
            payload = Some(json_object(&part.data)?);
        } else {
            let text = String::from_utf8_lossy(&part.data).into_owned();
            body.json.insert(part.name, json!(text));
        }
    }
    if let Some(payload) = payload {
        // "JSON-encoded body of non-file params": it is the body.
        body.json = payload;
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_by_content_type() {
        assert!(
            parse(Some("application/json"), b"")
                .unwrap()
                .json
                .is_empty()
        );
        let b = parse(
            Some("application/json; charset=utf-8"),
            br#"{"content":"x"}"#,
        )
        .unwrap();
        assert_eq!(b.json["content"], "x");
        assert_eq!(
            parse(Some("application/json"), b"{nope").unwrap_err().code,
            50109
        );
        assert_eq!(
            parse(Some("application/json"), b"[1]").unwrap_err().code,
            50035
        );
        assert_eq!(parse(Some("text/plain"), b"hi").unwrap_err().code, 50035);
        let form = parse(Some("application/x-www-form-urlencoded"), b"content=a+b").unwrap();
        assert_eq!(form.json["content"], "a b");
    }
}
