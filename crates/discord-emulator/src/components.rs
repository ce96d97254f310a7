//! Message components (docs, components-reference, "Action Row", "Button", "Legacy Message
//! Component Behavior"): checking the `components` of a request with Discord's Invalid Form Body
//! errors, numbering them, and finding the button a user clicks.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::errors::FormErrors;

/// Component types the emulator has (docs, components-reference, "Component Types").
pub mod component_type {
    /// A row of up to 5 buttons.
    pub const ACTION_ROW: u8 = 1;
    /// A button.
    pub const BUTTON: u8 = 2;
}

/// Button styles (docs, components-reference, "Button Styles").
pub mod button_style {
    /// The most important action.
    pub const PRIMARY: u8 = 1;
    /// An alternative action.
    pub const SECONDARY: u8 = 2;
    /// A positive action.
    pub const SUCCESS: u8 = 3;
    /// An irreversible action.
    pub const DANGER: u8 = 4;
    /// Navigates to its `url`; sends no interaction.
    pub const LINK: u8 = 5;
    /// Buys its `sku_id`; sends no interaction.
    pub const PREMIUM: u8 = 6;
}

/// "Legacy messages allow up to 5 action rows as top-level components".
pub(crate) const MAX_ROWS: usize = 5;
/// "An Action Row can contain up to 5 Buttons".
pub(crate) const MAX_BUTTONS: usize = 5;
/// A button's label: "max 80 characters".
pub(crate) const MAX_LABEL: usize = 80;
/// A `custom_id`: "a string of 1 to 100 characters".
pub(crate) const MAX_CUSTOM_ID: usize = 100;
/// A link button's `url`: "max 512 characters".
pub(crate) const MAX_URL: usize = 512;

/// Checks a request's `components` (`null` is none), recording each problem in `errors` under
/// its path (`components.0.components.1.custom_id`), and answers them as messages carry them:
/// only the documented fields, each with its `id` (numbered in order where the request gave
/// none or 0, skipping the ids it did give, as "Anatomy of a Component" says).
pub(crate) fn parse(value: &Value, errors: &mut FormErrors) -> Vec<Value> {
    let rows = match value {
        Value::Null => return Vec::new(),
        Value::Array(rows) => rows,
        _ => {
            errors.add(&["components"], "BASE_TYPE_ARRAY", "Must be an array.");
            return Vec::new();
        }
    };
    // A node of the error tree holds either its own `_errors` or its children's (the spec's
    // `ErrorDetails`), so a list of the wrong length is not looked into.
    if rows.len() > MAX_ROWS {
        errors.add(
            &["components"],
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_ROWS} or fewer in length."),
        );
        return Vec::new();
    }
    let mut custom_ids = BTreeSet::new();
    let mut out = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let r = r.to_string();
        let Some(row) = object(row, &["components", &r], errors) else {
            continue;
        };
        if kind(row, &["components", &r], errors) != Some(component_type::ACTION_ROW) {
            continue;
        }
        let path = ["components", r.as_str(), "components"];
        let children = match row.get("components") {
            Some(Value::Array(children)) => children,
            None | Some(Value::Null) => {
                errors.add(&path, "BASE_TYPE_REQUIRED", "This field is required");
                continue;
            }
            Some(_) => {
                errors.add(&path, "BASE_TYPE_ARRAY", "Must be an array.");
                continue;
            }
        };
        if children.is_empty() || children.len() > MAX_BUTTONS {
            errors.add(
                &path,
                "BASE_TYPE_BAD_LENGTH",
                format!("Must be between 1 and {MAX_BUTTONS} in length."),
            );
            continue;
        }
        let mut buttons = Vec::new();
        for (b, button) in children.iter().enumerate() {
            let b = b.to_string();
            let at = ["components", r.as_str(), "components", b.as_str()];
            if let Some(button) = parse_button(button, &at, &mut custom_ids, errors) {
                buttons.push(button);
            }
        }
        let mut row_json = json!({"type": component_type::ACTION_ROW, "components": buttons});
        if let Some(id) = given_id(row) {
            row_json["id"] = id.into();
        }
        out.push(row_json);
    }
    number(&mut out);
    out
}

fn object<'a>(
    value: &'a Value,
    path: &[&str],
    errors: &mut FormErrors,
) -> Option<&'a Map<String, Value>> {
    let map = value.as_object();
    if map.is_none() {
        errors.add(
            path,
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        );
    }
    map
}

/// The component's `type`; a missing one is required, one the emulator does not have (select
/// menus, Components V2 layouts) is refused by name rather than ignored.
fn kind(map: &Map<String, Value>, path: &[&str], errors: &mut FormErrors) -> Option<u8> {
    let mut at = path.to_vec();
    at.push("type");
    let expected = if path.len() > 2 {
        component_type::BUTTON
    } else {
        component_type::ACTION_ROW
    };
    match map.get("type").and_then(Value::as_u64) {
        None => {
            errors.add(&at, "BASE_TYPE_REQUIRED", "This field is required");
            None
        }
        Some(t) if t == u64::from(expected) => Some(expected),
        Some(t) => {
            errors.add(
                &at,
                "BASE_TYPE_CHOICES",
                format!(
                    "Value must be one of {{{expected}}}: the emulator has action rows (1) of \
                     buttons (2) only, not type {t}."
                ),
            );
            None
        }
    }
}

/// A non-zero `id` the request gave.
fn given_id(map: &Map<String, Value>) -> Option<u64> {
    map.get("id").and_then(Value::as_u64).filter(|id| *id != 0)
}

fn parse_button(
    value: &Value,
    path: &[&str],
    custom_ids: &mut BTreeSet<String>,
    errors: &mut FormErrors,
) -> Option<Value> {
    let map = object(value, path, errors)?;
    kind(map, path, errors)?;
    let field = |name: &'static str| {
        let mut at = path.to_vec();
        at.push(name);
        at
    };
    let text = |name: &'static str| map.get(name).and_then(Value::as_str);
    let style = map.get("style").and_then(Value::as_u64);
    let style = match style.and_then(|s| u8::try_from(s).ok()) {
        Some(s @ button_style::PRIMARY..=button_style::PREMIUM) => s,
        None if map.get("style").is_none_or(Value::is_null) => {
            errors.add(
                &field("style"),
                "BASE_TYPE_REQUIRED",
                "This field is required",
            );
            return None;
        }
        _ => {
            errors.add(
                &field("style"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3, 4, 5, 6}.",
            );
            return None;
        }
    };
    let mut button = json!({"type": component_type::BUTTON, "style": style});
    if let Some(id) = given_id(map) {
        button["id"] = id.into();
    }
    if let Some(label) = text("label") {
        if label.chars().count() > MAX_LABEL {
            errors.add(
                &field("label"),
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_LABEL} or fewer in length."),
            );
        }
        button["label"] = label.into();
    }
    if let Some(emoji) = map.get("emoji").and_then(Value::as_object) {
        let mut e = Map::new();
        for key in ["id", "name", "animated"] {
            if let Some(v) = emoji.get(key).filter(|v| !v.is_null()) {
                e.insert(key.to_owned(), v.clone());
            }
        }
        button["emoji"] = Value::Object(e);
    }
    if let Some(disabled) = map.get("disabled").and_then(Value::as_bool) {
        button["disabled"] = disabled.into();
    }
    let custom_id = text("custom_id");
    let url = text("url");
    let sku_id = text("sku_id");
    // "Non-link and non-premium buttons must have a custom_id, and cannot have a url or a
    // sku_id. Link buttons must have a url, and cannot have a custom_id."
    let (wants, refuses): (&[&str], &[&str]) = match style {
        button_style::LINK => (&["url"], &["custom_id", "sku_id"]),
        button_style::PREMIUM => (&["sku_id"], &["custom_id", "url", "label", "emoji"]),
        _ => (&["custom_id"], &["url", "sku_id"]),
    };
    for name in wants {
        if map.get(*name).is_none_or(Value::is_null) {
            errors.add(&field(name), "BASE_TYPE_REQUIRED", "This field is required");
        }
    }
    for name in refuses {
        if map.get(*name).is_some_and(|v| !v.is_null()) {
            errors.add(
                &field(name),
                "COMPONENT_FIELD_NOT_ALLOWED",
                format!("A button of style {style} cannot have a {name}."),
            );
        }
    }
    if let Some(custom_id) = custom_id.filter(|_| wants.contains(&"custom_id")) {
        let length = custom_id.chars().count();
        if length == 0 || length > MAX_CUSTOM_ID {
            errors.add(
                &field("custom_id"),
                "BASE_TYPE_BAD_LENGTH",
                format!("Must be between 1 and {MAX_CUSTOM_ID} in length."),
            );
        } else if !custom_ids.insert(custom_id.to_owned()) {
            // The wire's wording (discord-api-docs issue #3673).
            errors.add(
                &field("custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id was already specified",
            );
        }
        button["custom_id"] = custom_id.into();
    }
    if let Some(url) = url.filter(|_| style == button_style::LINK) {
        let scheme_ok = ["http://", "https://", "discord://"]
            .iter()
            .any(|s| url.starts_with(s));
        if url.chars().count() > MAX_URL {
            errors.add(
                &field("url"),
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_URL} or fewer in length."),
            );
        } else if !scheme_ok {
            errors.add(
                &field("url"),
                "URL_TYPE_INVALID_URL",
                "Not a well formed URL.",
            );
        }
        button["url"] = url.into();
    }
    if let Some(sku) = sku_id.filter(|_| style == button_style::PREMIUM) {
        button["sku_id"] = sku.into();
    }
    Some(button)
}

/// Gives every component without an `id` the next free number, in document order.
fn number(rows: &mut [Value]) {
    let mut taken = BTreeSet::new();
    for row in rows.iter() {
        taken.extend(row["id"].as_u64());
        for button in row["components"].as_array().into_iter().flatten() {
            taken.extend(button["id"].as_u64());
        }
    }
    let mut next = 0;
    let mut fresh = || {
        next += 1;
        while taken.contains(&next) {
            next += 1;
        }
        next
    };
    for row in rows.iter_mut() {
        if row["id"].is_null() {
            row["id"] = fresh().into();
        }
        for button in row["components"].as_array_mut().into_iter().flatten() {
            if button["id"].is_null() {
                button["id"] = fresh().into();
            }
        }
    }
}

/// The button with this `custom_id` among stored components.
pub(crate) fn find_button<'a>(components: &'a [Value], custom_id: &str) -> Option<&'a Value> {
    components
        .iter()
        .filter_map(|row| row["components"].as_array())
        .flatten()
        .find(|c| c["custom_id"].as_str() == Some(custom_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &Value) -> (Vec<Value>, Option<Value>) {
        let mut errors = FormErrors::default();
        let parsed = parse(value, &mut errors);
        let body = errors
            .into_result()
            .err()
            .and_then(|e| e.body().get("errors").cloned());
        (parsed, body)
    }

    #[test]
    fn rows_of_buttons_are_numbered_like_the_docs_example() {
        let (rows, errors) = check(&json!([{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Click me!", "custom_id": "click_me"},
            {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"},
        ]}]));
        assert_eq!(errors, None);
        assert_eq!(rows[0]["id"], 1);
        assert_eq!(rows[0]["components"][0]["id"], 2);
        assert_eq!(rows[0]["components"][1]["id"], 3);
        assert_eq!(
            find_button(&rows, "click_me").unwrap()["label"],
            "Click me!"
        );
        assert!(find_button(&rows, "nope").is_none());
    }

    #[test]
    fn given_ids_are_kept_and_skipped() {
        let (rows, _) = check(&json!([{"type": 1, "components": [
            {"type": 2, "style": 2, "custom_id": "a"},
            {"type": 2, "style": 2, "custom_id": "b", "id": 1},
        ]}]));
        assert_eq!(rows[0]["id"], 2);
        assert_eq!(rows[0]["components"][0]["id"], 3);
        assert_eq!(rows[0]["components"][1]["id"], 1);
    }

    #[test]
    fn each_rule_names_its_path() {
        let (_, errors) = check(&json!([{"type": 1, "components": [
            {"type": 2, "style": 1, "custom_id": "x", "label": "l".repeat(81)},
            {"type": 2, "style": 1, "custom_id": "x"},
            {"type": 2, "style": 5, "custom_id": "y"},
            {"type": 3, "custom_id": "select"},
        ]}]));
        let errors = errors.unwrap();
        let row = &errors["components"]["0"]["components"];
        assert_eq!(
            row["0"]["label"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );
        assert_eq!(
            row["1"]["custom_id"]["_errors"][0]["code"],
            "COMPONENT_CUSTOM_ID_DUPLICATED"
        );
        assert_eq!(row["2"]["url"]["_errors"][0]["code"], "BASE_TYPE_REQUIRED");
        assert_eq!(
            row["2"]["custom_id"]["_errors"][0]["code"],
            "COMPONENT_FIELD_NOT_ALLOWED"
        );
        assert_eq!(row["3"]["type"]["_errors"][0]["code"], "BASE_TYPE_CHOICES");
        let (_, too_many) = check(&json!(vec![json!({"type": 1, "components": []}); 6]));
        let too_many = too_many.unwrap();
        assert_eq!(
            too_many["components"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );
        assert!(too_many["components"].get("0").is_none(), "{too_many}");
        let (_, empty_row) = check(&json!([{"type": 1, "components": []}]));
        assert_eq!(
            empty_row.unwrap()["components"]["0"]["components"]["_errors"][0]["code"],
            "BASE_TYPE_BAD_LENGTH"
        );
        assert_eq!(check(&Value::Null), (Vec::new(), None));
    }
}
