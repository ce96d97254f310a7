//! connector-core stays thin: no chat SDK, no tmux crate, at most 33 crates in its normal tree
//! (30, and getrandom with its libc and cfg-if for pairing codes from the OS CSPRNG).

use std::collections::BTreeSet;
use std::process::Command;

/// Crates of chat platforms and terminal multiplexers that must never enter core.
const FORBIDDEN: &[&str] = &[
    "matrix-sdk",
    "ruma",
    "serenity",
    "twilight",
    "tmux_interface",
    "reqwest",
    "hyper",
];

#[test]
fn core_depends_on_no_sdk_and_at_most_33_crates() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "connector-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crates: BTreeSet<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "connector-core")
        .map(str::to_owned)
        .collect();
    for name in &crates {
        assert!(
            !FORBIDDEN.iter().any(|f| name.starts_with(f)),
            "connector-core must not depend on {name}"
        );
    }
    assert!(
        crates.len() <= 33,
        "connector-core pulls in {} crates (budget 33): {crates:?}",
        crates.len()
    );
}
