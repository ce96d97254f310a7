//! The emulator's parameter table ([`telegram_emulator::METHODS`]) against api.json: every
//! served method has exactly the spec's parameters, types and required flags.

mod common;

use serde_json::Value;

#[test]
fn the_parameter_table_matches_the_spec() {
    let spec = common::spec::spec();
    assert_eq!(spec["version"], "Bot API 10.1");
    for method in telegram_emulator::METHODS {
        let def = &spec["methods"][method.name];
        assert!(def.is_object(), "the spec has no method {}", method.name);
        let fields = def["fields"].as_array().cloned().unwrap_or_default();
        let from_spec: Vec<(String, Vec<String>, bool)> = fields
            .iter()
            .map(|f| {
                let types = f["types"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                (
                    f["name"].as_str().unwrap().to_owned(),
                    types,
                    f["required"] == true,
                )
            })
            .collect();
        let ours: Vec<(String, Vec<String>, bool)> = method
            .params
            .iter()
            .map(|p| {
                (
                    p.name.to_owned(),
                    p.types.iter().map(|t| (*t).to_owned()).collect(),
                    p.required,
                )
            })
            .collect();
        assert_eq!(
            ours, from_spec,
            "{}: src/method_params.rs drifted from api.json",
            method.name
        );
    }
}
