//! `docs/deploy-slack.md` asks for what the connector needs: its app manifest grants every
//! scope the connector checks for, subscribes to the events it reads, and turns on Socket Mode
//! and interactivity.

use connector_slack::REQUIRED_SCOPES;

/// The manifest: the first YAML block of the guide.
fn manifest() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/deploy-slack.md");
    let text = std::fs::read_to_string(path).expect("the Slack deploy guide");
    let start = text.find("```yaml\n").expect("a manifest") + "```yaml\n".len();
    let end = start + text[start..].find("```").expect("the manifest's end");
    text[start..end].to_owned()
}

/// The manifest's list items under `key:` (up to the next key at the same or a lower indent).
fn items(manifest: &str, key: &str) -> Vec<String> {
    let mut lines = manifest
        .lines()
        .skip_while(|l| l.trim() != format!("{key}:"));
    let Some(head) = lines.next() else {
        return Vec::new();
    };
    let indent = head.len() - head.trim_start().len();
    lines
        .take_while(|l| l.len() - l.trim_start().len() > indent || l.trim_start().starts_with("- "))
        .filter_map(|l| l.trim().strip_prefix("- ").map(str::to_owned))
        .collect()
}

#[test]
fn the_manifest_grants_every_scope_the_connector_checks() {
    let manifest = manifest();
    let scopes = items(&manifest, "bot");
    assert!(!scopes.is_empty(), "no bot scopes in the manifest");
    for (scope, why) in REQUIRED_SCOPES {
        assert!(
            scopes.iter().any(|s| s == scope),
            "docs/deploy-slack.md's manifest lacks {scope} ({why})"
        );
    }
    // Private channels need the groups: twins of the channels: scopes.
    for scope in ["groups:history", "groups:read"] {
        assert!(scopes.iter().any(|s| s == scope), "{scope}");
    }
}

#[test]
fn the_manifest_subscribes_to_the_events_and_turns_on_socket_mode() {
    let manifest = manifest();
    let events = items(&manifest, "bot_events");
    for event in [
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
    ] {
        assert!(events.iter().any(|e| e == event), "{event}: {events:?}");
    }
    assert!(manifest.contains("socket_mode_enabled: true"));
    assert!(manifest.contains("interactivity:\n    is_enabled: true"));
}
