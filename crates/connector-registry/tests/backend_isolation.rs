//! Each backend feature compiles in that backend alone: no other backend's crate or SDK.

use std::process::Command;

use connector_registry::KNOWN_KINDS;

/// The crates that mark a backend as compiled in: its own crate and its platform SDK.
fn marker_crates(kind: &str) -> &'static [&'static str] {
    match kind {
        "tmux" => &["connector-tmux", "tmux_interface"],
        "matrix" => &["connector-matrix", "matrix-sdk"],
        "discord" => &["connector-discord", "serenity"],
        // No SDK: their own reqwest (and, for Slack, tokio-tungstenite) calls.
        "telegram" => &["connector-telegram"],
        "slack" => &["connector-slack"],
        other => panic!("no marker crates listed for kind {other}: add them here"),
    }
}

fn tree(features: &[&str]) -> Vec<String> {
    let mut args = vec![
        "tree",
        "-p",
        "connector-registry",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--offline",
        "--no-default-features",
    ];
    let joined = features.join(",");
    if !features.is_empty() {
        args.extend(["--features", &joined]);
    }
    let output = Command::new(env!("CARGO"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn each_backend_feature_brings_only_its_own_backend() {
    for known in KNOWN_KINDS.iter().filter(|k| k.released) {
        let crates = tree(&[known.feature]);
        for other in KNOWN_KINDS.iter() {
            for marker in marker_crates(other.kind) {
                let present = crates.iter().any(|c| c == marker);
                if other.kind == known.kind {
                    assert!(present, "feature {} must bring {marker}", known.feature);
                } else {
                    assert!(
                        !present,
                        "feature {} must not bring {marker} (a {} crate)",
                        known.feature, other.kind
                    );
                }
            }
        }
    }
}

#[test]
fn no_features_means_no_backend() {
    let crates = tree(&[]);
    for known in KNOWN_KINDS {
        for marker in marker_crates(known.kind) {
            assert!(
                !crates.iter().any(|c| c == marker),
                "no backend feature, yet {marker} is in the tree"
            );
        }
    }
}
