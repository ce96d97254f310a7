//! A Web API call's arguments, from a form-urlencoded or JSON body and the query string.

use serde_json::{Map, Value};

/// The arguments of one call.
#[derive(Debug, Default)]
pub(crate) struct Params(Map<String, Value>);

impl Params {
    /// Reads the query string and the body (JSON when the content type says so, else a form).
    pub(crate) fn parse(
        content_type: Option<&str>,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Params, &'static str> {
        let mut map = Map::new();
        if let Some(query) = query {
            decode_form(query, &mut map);
        }
        let is_json = content_type.is_some_and(|c| c.starts_with("application/json"));
        if is_json {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(o)) => map.extend(o),
                Ok(_) => return Err("json_not_object"),
                Err(_) => return Err("invalid_json"),
            }
        } else if !body.is_empty() {
            let text = std::str::from_utf8(body).map_err(|_| "invalid_form_data")?;
            decode_form(text, &mut map);
        }
        Ok(Params(map))
    }

    /// A string argument (numbers and booleans as their text); empty strings count as absent.
    pub(crate) fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A JSON argument: taken as is from a JSON body, parsed from a form's string.
    pub(crate) fn json(&self, name: &str) -> Result<Option<Value>, ()> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// A boolean argument (`true`, `1`).
    pub(crate) fn bool(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            Some(Value::String(s)) => s == "true" || s == "1",
            _ => false,
        }
    }
}

fn decode_form(text: &str, map: &mut Map<String, Value>) {
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(percent_decode(key), Value::String(percent_decode(value)));
    }
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_json_bodies() {
        let p = Params::parse(None, Some("a=1"), b"text=hi+there%21&blocks=%5B%5D&x=%zz").unwrap();
        assert_eq!(p.str("text").as_deref(), Some("hi there!"));
        assert_eq!(p.json("blocks"), Ok(Some(Value::Array(vec![]))));
        assert_eq!(p.str("a").as_deref(), Some("1"));
        assert_eq!(p.str("x").as_deref(), Some("%zz"));
        let p = Params::parse(Some("application/json"), None, br#"{"ok":true}"#).unwrap();
        assert!(p.bool("ok"));
        assert!(Params::parse(Some("application/json"), None, b"[1]").is_err());
    }
}
