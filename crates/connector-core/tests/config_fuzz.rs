//! Arbitrary YAML and JSON fed to the config loader never panic.

use connector_core::config::ConnectorConfig;
use proptest::prelude::*;

fn yaml_value() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("connector".to_owned()),
        Just("kind".to_owned()),
        Just("matrix".to_owned()),
        Just("discord".to_owned()),
        Just("tmux".to_owned()),
        Just("allowed_senders".to_owned()),
        Just("allow_any_sender".to_owned()),
        Just("homeserver_url".to_owned()),
        Just("room_id".to_owned()),
        Just("channel_id".to_owned()),
        Just("token".to_owned()),
        "[a-z_]{1,12}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("tmux".to_owned()),
            Just("matrix".to_owned()),
            Just("discord".to_owned()),
            ".{0,24}"
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = ConnectorConfig::from_roster_str(&text);
    }

    #[test]
    fn arbitrary_documents_never_panic(value in yaml_value()) {
        let json = serde_json::to_string(&value).unwrap();
        let _ = ConnectorConfig::from_roster_str(&json);
        let wrapped = serde_json::json!({ "connector": value });
        let _ = ConnectorConfig::from_roster_str(&serde_json::to_string(&wrapped).unwrap());
        if let Ok(yaml) = serde_norway::to_string(&wrapped) {
            let _ = ConnectorConfig::from_roster_str(&yaml);
        }
    }
}
