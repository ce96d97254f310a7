//! `application/x-www-form-urlencoded` bodies and query strings: `key=value&…`, `+` for space,
//! `%XX` escapes.

/// Decodes one component; invalid escapes are kept as they are, invalid UTF-8 is replaced.
fn decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The pairs of a form body or query string, in order.
pub(crate) fn parse(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_plus_signs_are_decoded() {
        assert_eq!(
            parse("chat_id=42&text=a+b%20%F0%9F%98%80&x=%zz&flag"),
            vec![
                ("chat_id".into(), "42".into()),
                ("text".into(), "a b 😀".into()),
                ("x".into(), "%zz".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(parse("t=%4"), vec![("t".into(), "%4".into())]);
    }
}
