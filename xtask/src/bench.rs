//! `cargo xtask bench`: runs the round-trip benchmark and records its table in `docs/benchmarks.md`.
//!
//! The benchmark (`crates/connector-tmux/benches/roundtrip.rs`) measures the tmux connector and,
//! in the same run against the same private tmux server, the baseline of one `tmux` process per
//! operation, then writes the table, the machine it ran on and how to read it. `cargo bench` builds
//! it in the release profile. The file is generated: commit it, do not edit it.

use std::fs;

use crate::{Result, cargo, project_root, run_step, step};

/// Where the table goes, relative to the workspace root (the bench resolves it from there too).
const REPORT: &str = "docs/benchmarks.md";

pub(crate) fn run() -> Result<()> {
    step("bench");
    run_step(
        "bench",
        cargo().args([
            "bench",
            "--package",
            "connector-tmux",
            "--bench",
            "roundtrip",
            "--",
            "--write",
            REPORT,
        ]),
    )?;

    step(REPORT);
    let path = project_root().join(REPORT);
    let report = fs::read_to_string(&path)
        .map_err(|error| format!("bench: could not read {}: {error}", path.display()))?;
    print!("{report}");
    println!("\nCommit {REPORT} with the change it measures.");
    Ok(())
}
