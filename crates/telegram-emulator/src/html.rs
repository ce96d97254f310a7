//! The `HTML` parse mode: the tags and character references the Bot API docs allow
//! ("Formatting options", HTML style), turned into plain text and `MessageEntity` objects, with
//! the "can't parse entities" errors Telegram gives for malformed markup.

use serde_json::{Value, json};

use crate::utf16;

/// A tag still open while parsing.
struct Open {
    name: String,
    /// Where its text starts, in UTF-16 code units.
    offset: usize,
    entity: Value,
    /// For `<pre>`: the language a nested `<code class="language-…">` named.
    language: Option<String>,
}

/// The entity an allowed start tag opens; `None` when the tag is not allowed.
fn entity_for(name: &str, attributes: &[(String, String)]) -> Option<Value> {
    let attr = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let kind = match name {
        "b" | "strong" => "bold",
        "i" | "em" => "italic",
        "u" | "ins" => "underline",
        "s" | "strike" | "del" => "strikethrough",
        "tg-spoiler" => "spoiler",
        "span" if attr("class") == Some("tg-spoiler") => "spoiler",
        "code" => "code",
        "pre" => "pre",
        "blockquote" if attr("expandable").is_some() => "expandable_blockquote",
        "blockquote" => "blockquote",
        "a" => {
            let href = attr("href").unwrap_or("");
            if let Some(id) = href.strip_prefix("tg://user?id=") {
                return Some(json!({"type": "text_mention", "user_id": id}));
            }
            return Some(json!({"type": "text_link", "url": href}));
        }
        "tg-emoji" => {
            return Some(json!({
                "type": "custom_emoji",
                "custom_emoji_id": attr("emoji-id").unwrap_or(""),
            }));
        }
        _ => return None,
    };
    let mut entity = json!({ "type": kind });
    if name == "code"
        && let Some(language) = attr("class").and_then(|c| c.strip_prefix("language-"))
    {
        entity["language"] = json!(language);
    }
    Some(entity)
}

fn cant_parse(what: String) -> String {
    format!("can't parse entities: {what}")
}

/// Decodes a character reference at `input[at..]` (which starts with `&`): the four named ones
/// the docs list and numeric ones. Answers the character and the bytes it took.
fn reference(input: &str, at: usize) -> Option<(char, usize)> {
    let rest = &input[at + 1..];
    let end = rest.find(';').filter(|&e| e <= 10)?;
    let name = &rest[..end];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 2))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Reads a start tag's attributes up to `>`; answers them and the byte after `>`.
fn attributes(
    input: &str,
    mut at: usize,
    tag_at: usize,
    tag: &str,
) -> Result<(Vec<(String, String)>, usize), String> {
    let bytes = input.as_bytes();
    let unclosed = || cant_parse(format!("Unclosed start tag at byte offset {tag_at}"));
    let mut found = Vec::new();
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        match bytes.get(at) {
            None => return Err(unclosed()),
            Some(b'>') => return Ok((found, at + 1)),
            Some(b'/') if bytes.get(at + 1) == Some(&b'>') => return Ok((found, at + 2)),
            Some(_) => {}
        }
        let name_start = at;
        while input[at..].starts_with(|c: char| is_name_char(c)) {
            at += 1;
        }
        if at == name_start {
            return Err(unclosed());
        }
        let key = input[name_start..at].to_ascii_lowercase();
        if bytes.get(at) != Some(&b'=') {
            found.push((key, String::new()));
            continue;
        }
        at += 1;
        let value = match bytes.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = input[at + 1..].find(quote as char).ok_or_else(|| {
                    cant_parse(format!("Unclosed start tag at byte offset {tag_at}"))
                })?;
                let raw = &input[at + 1..at + 1 + end];
                at += end + 2;
                decode_value(raw)
            }
            Some(_) => {
                let start = at;
                while bytes
                    .get(at)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    at += 1;
                }
                decode_value(&input[start..at])
            }
            None => {
                return Err(cant_parse(format!(
                    "Expected equal sign in declaration of an attribute of the tag \"{tag}\""
                )));
            }
        };
        found.push((key, value));
    }
}

fn decode_value(raw: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    while let Some(c) = raw[at..].chars().next() {
        if c == '&'
            && let Some((decoded, used)) = reference(raw, at)
        {
            out.push(decoded);
            at += used;
        } else {
            out.push(c);
            at += c.len_utf8();
        }
    }
    out
}

/// Parses HTML-formatted `input` into its text and entities (offsets in UTF-16 code units),
/// or Telegram's error description after `Bad Request: `.
pub(crate) fn parse(input: &str) -> Result<(String, Vec<Value>), String> {
    let mut text = String::new();
    let mut length = 0;
    let mut open: Vec<Open> = Vec::new();
    let mut entities = Vec::new();
    let mut at = 0;
    while let Some(c) = input[at..].chars().next() {
        if c == '&'
            && let Some((decoded, used)) = reference(input, at)
        {
            text.push(decoded);
            length += decoded.len_utf16();
            at += used;
            continue;
        }
        if c != '<' {
            text.push(c);
            length += c.len_utf16();
            at += c.len_utf8();
            continue;
        }
        let tag_at = at;
        let closing = input[at + 1..].starts_with('/');
        let name_start = at + 1 + usize::from(closing);
        let name_end = input[name_start..]
            .find(|c: char| !is_name_char(c))
            .map_or(input.len(), |e| name_start + e);
        let name = input[name_start..name_end].to_ascii_lowercase();
        if closing {
            let Some(close) = input[name_end..].find('>') else {
                return Err(cant_parse(format!(
                    "Unclosed end tag at byte offset {tag_at}"
                )));
            };
            at = name_end + close + 1;
            let Some(top) = open.pop() else {
                return Err(cant_parse(format!(
                    "Unexpected end tag at byte offset {tag_at}"
                )));
            };
            if top.name != name {
                return Err(cant_parse(format!(
                    "Unmatched end tag at byte offset {tag_at}, expected \"</{}>\", found \"</{name}>\"",
                    top.name
                )));
            }
            close_tag(top, length, &mut open, &mut entities);
            continue;
        }
        if name_end >= input.len() {
            return Err(cant_parse(format!(
                "Unclosed start tag at byte offset {tag_at}"
            )));
        }
        let attrs = if name.is_empty() {
            Vec::new()
        } else {
            let (attrs, next) = attributes(input, name_end, tag_at, &name)?;
            at = next;
            attrs
        };
        let Some(entity) = entity_for(&name, &attrs) else {
            return Err(cant_parse(format!(
                "Unsupported start tag \"{name}\" at byte offset {tag_at}"
            )));
        };
        open.push(Open {
            name,
            offset: length,
            entity,
            language: None,
        });
    }
    if let Some(top) = open.last() {
        return Err(cant_parse(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            top.name
        )));
    }
    debug_assert_eq!(utf16::len(&text), length);
    entities.sort_by_key(|e: &Value| {
        (
            e["offset"].as_u64().unwrap_or(0),
            std::cmp::Reverse(e["length"].as_u64().unwrap_or(0)),
        )
    });
    Ok((text, entities))
}

/// Ends an open tag at `length`: its entity is kept unless empty; a `<code>` with a language
/// right inside `<pre>` gives the `pre` its language instead.
fn close_tag(top: Open, length: usize, open: &mut [Open], entities: &mut Vec<Value>) {
    let mut entity = top.entity;
    if top.name == "code"
        && let Some(parent) = open.last_mut().filter(|p| p.name == "pre")
    {
        if let Some(language) = entity.get("language").and_then(Value::as_str) {
            parent.language = Some(language.to_owned());
        }
        return;
    }
    if let Some(language) = top.language {
        entity["language"] = json!(language);
    }
    if length > top.offset {
        entity["offset"] = json!(top.offset);
        entity["length"] = json!(length - top.offset);
        entities.push(entity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_entities_in_utf16_units() {
        let (text, entities) = parse(
            "😀 <b>bold <i>both</i></b> &lt;x&gt; <a href=\"https://e.org/?a=1&amp;b\">l</a>",
        )
        .unwrap();
        assert_eq!(text, "😀 bold both <x> l");
        assert_eq!(
            entities[0],
            json!({"type": "bold", "offset": 3, "length": 9})
        );
        assert_eq!(
            entities[1],
            json!({"type": "italic", "offset": 8, "length": 4})
        );
        assert_eq!(entities[2]["url"], "https://e.org/?a=1&b");
    }

    #[test]
    fn pre_takes_the_language_of_its_code() {
        let (text, entities) =
            parse("<pre><code class=\"language-rust\">fn x</code></pre>").unwrap();
        assert_eq!(text, "fn x");
        assert_eq!(
            entities,
            vec![json!({"type": "pre", "offset": 0, "length": 4, "language": "rust"})]
        );
    }

    #[test]
    fn malformed_markup_is_refused_like_telegram_does() {
        let e = |s| parse(s).unwrap_err();
        assert_eq!(
            e("a <foo>x</foo>"),
            "can't parse entities: Unsupported start tag \"foo\" at byte offset 2"
        );
        assert_eq!(
            e("<b>x"),
            "can't parse entities: Can't find end tag corresponding to start tag \"b\""
        );
        assert_eq!(
            e("x</b>"),
            "can't parse entities: Unexpected end tag at byte offset 1"
        );
        assert_eq!(
            e("<b>x</i>"),
            "can't parse entities: Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""
        );
        assert_eq!(
            e("x <b"),
            "can't parse entities: Unclosed start tag at byte offset 2"
        );
        assert_eq!(
            e("1 < 2"),
            "can't parse entities: Unsupported start tag \"\" at byte offset 2"
        );
    }
}
