//! The example rosters: the JSON schema and the Rust parser accept and reject exactly the same
//! ones, and every rejection names the offending path (snapshots).
#![cfg(feature = "schema")]

use std::path::{Path, PathBuf};

use connector_core::config::ConnectorConfig;
use connector_core::config::schema::connector_schema;

fn examples(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/rosters")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Whether the schema accepts the roster: its top level is a mapping (or empty) and its
/// `connector` block, if any, validates.
fn schema_accepts(validator: &jsonschema::Validator, text: &str) -> Result<(), String> {
    let roster: serde_json::Value = match serde_norway::from_str(text) {
        Ok(value) => value,
        Err(e) => return Err(format!("not YAML: {e}")),
    };
    let block = match &roster {
        serde_json::Value::Null => return Ok(()),
        serde_json::Value::Object(map) => map.get("connector").cloned().unwrap_or_default(),
        _ => return Err("roster is not a mapping".into()),
    };
    if block.is_null() {
        return Ok(());
    }
    let errors: Vec<String> = validator
        .iter_errors(&block)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&connector_schema()).expect("the schema compiles")
}

#[test]
fn valid_examples_are_accepted_by_both() {
    let validator = validator();
    let files = examples("valid");
    assert!(files.len() >= 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy();
        if let Err(e) = ConnectorConfig::from_roster_str(&text) {
            panic!("{name}: Rust parser rejects a valid example:\n{e}");
        }
        if let Err(e) = schema_accepts(&validator, &text) {
            panic!("{name}: schema rejects a valid example: {e}");
        }
    }
}

#[test]
fn invalid_examples_are_rejected_by_both_with_the_path_named() {
    let validator = validator();
    let files = examples("invalid");
    assert!(files.len() >= 20, "at least 20 invalid examples");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let error = match ConnectorConfig::from_roster_str(&text) {
            Ok(config) => panic!("{name}: Rust parser accepts an invalid example: {config:?}"),
            Err(e) => e,
        };
        assert!(
            schema_accepts(&validator, &text).is_err(),
            "{name}: schema accepts an invalid example"
        );
        let message = error.to_string();
        assert!(
            message.starts_with("connector") || message.starts_with("roster"),
            "{name}: the error must start with the offending path: {message}"
        );
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("invalid_roster", message);
        });
    }
}

#[test]
fn secret_keys_name_the_environment_variable() {
    for (file, variable) in [
        ("matrix-access-token.yaml", "MATRIX_ACCESS_TOKEN"),
        ("matrix-password.yaml", "MATRIX_ACCESS_TOKEN"),
        ("discord-bot-token.yaml", "DISCORD_BOT_TOKEN"),
        ("top-level-token.yaml", "DISCORD_BOT_TOKEN"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/rosters/invalid")
            .join(file);
        let error =
            ConnectorConfig::from_roster_str(&std::fs::read_to_string(path).unwrap()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(variable), "{file}: {message}");
        assert!(
            !message.contains("not-a-real-token") && !message.contains("hunter2"),
            "{file} leaks the secret"
        );
    }
}

#[test]
fn every_problem_is_listed_not_just_the_first() {
    let text = "connector:\n  kind: matrix\n  matrix:\n    homeserver_url: x\n    user_id: y\n    room_id: z\n";
    let error = ConnectorConfig::from_roster_str(text).unwrap_err();
    let paths: Vec<_> = error
        .config_problems()
        .iter()
        .map(|p| p.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "connector.allowed_senders",
            "connector.matrix.homeserver_url",
            "connector.matrix.user_id",
            "connector.matrix.room_id"
        ]
    );
}

#[test]
fn committed_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/connector.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == connector_core::config::schema::connector_schema_json(),
        "schemas/connector.schema.json is out of date: run `cargo xtask codegen`"
    );
}
