//! A small validator of Bot API objects against api.json's type definitions: every field known,
//! every required field present, every value of one of the field's types.

use std::sync::OnceLock;

use serde_json::Value;

/// api.json, from `../shared` beside the workspace (see the crate's README).
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/telegram-bot-api-spec/api.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        serde_json::from_str(&text).expect("api.json is JSON")
    })
}

/// The problems of `value` as a `ty` (a spec type such as `Message` or `Array of Update`).
pub fn problems(value: &Value, ty: &str, path: &str) -> Vec<String> {
    let fits = match ty {
        "Integer" => value.is_i64(),
        "Float" => value.is_number(),
        "Boolean" => value.is_boolean(),
        "True" => value == &Value::Bool(true),
        "String" => value.is_string(),
        _ => {
            if let Some(inner) = ty.strip_prefix("Array of ") {
                return match value.as_array() {
                    Some(items) => items
                        .iter()
                        .enumerate()
                        .flat_map(|(i, item)| problems(item, inner, &format!("{path}[{i}]")))
                        .collect(),
                    None => vec![format!("{path}: not an array ({ty})")],
                };
            }
            return object_problems(value, ty, path);
        }
    };
    if fits {
        Vec::new()
    } else {
        vec![format!("{path}: {value} is not {ty}")]
    }
}

fn object_problems(value: &Value, ty: &str, path: &str) -> Vec<String> {
    let Some(def) = spec()["types"].get(ty) else {
        return vec![format!("{path}: the spec has no type {ty}")];
    };
    if let Some(subtypes) = def["subtypes"].as_array() {
        let mut all = Vec::new();
        for subtype in subtypes.iter().filter_map(Value::as_str) {
            let found = problems(value, subtype, path);
            if found.is_empty() {
                return Vec::new();
            }
            all.push(format!("as {subtype}: {}", found.join("; ")));
        }
        return vec![format!(
            "{path}: fits no subtype of {ty} ({})",
            all.join(" | ")
        )];
    }
    let Some(object) = value.as_object() else {
        return vec![format!("{path}: not an object ({ty})")];
    };
    let fields = def["fields"].as_array().cloned().unwrap_or_default();
    let mut found = Vec::new();
    for (key, field_value) in object {
        let Some(field) = fields.iter().find(|f| f["name"] == *key) else {
            found.push(format!("{path}.{key}: {ty} has no such field"));
            continue;
        };
        let types: Vec<&str> = field["types"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let per_type: Vec<Vec<String>> = types
            .iter()
            .map(|t| problems(field_value, t, &format!("{path}.{key}")))
            .collect();
        if per_type.iter().all(|p| !p.is_empty()) {
            found.extend(per_type.into_iter().flatten());
        }
    }
    for field in &fields {
        let name = field["name"].as_str().unwrap();
        if field["required"] == true && !object.contains_key(name) {
            found.push(format!("{path}.{name}: required by {ty}, missing"));
        }
    }
    found
}

/// The problems of a method's `result` against the spec's `returns` of that method.
pub fn result_problems(method: &str, result: &Value) -> Vec<String> {
    let def = spec()["methods"]
        .as_object()
        .unwrap()
        .values()
        .find(|m| {
            m["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(method))
        })
        .unwrap_or_else(|| panic!("the spec has no method {method}"));
    let returns: Vec<&str> = def["returns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let per_type: Vec<Vec<String>> = returns
        .iter()
        .map(|t| problems(result, t, method))
        .collect();
    if per_type.iter().any(Vec::is_empty) {
        Vec::new()
    } else {
        per_type.into_iter().flatten().collect()
    }
}
