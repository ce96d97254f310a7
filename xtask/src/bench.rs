//! `cargo xtask bench`: runs the round-trip benchmarks and records their tables in
//! `docs/benchmarks.md`.
//!
//! Five benches, one after the other (or only those named: `cargo xtask bench discord`), each
//! owning its own section of the file (between `<!-- bench:<name>:start/end -->` markers, so one
//! bench's run leaves the others' figures alone):
//!
//! * `crates/connector-tmux/benches/roundtrip.rs` — the tmux connector and, against the same
//!   private tmux server, one `tmux` process per operation;
//! * `crates/connector-matrix/benches/roundtrip.rs` — the Matrix connector and plain HTTP
//!   against the same Synapse, which it starts from the venv `provision::synapse` fills (passed
//!   on as `SYNAPSE_VENV`, as `cargo xtask test` does);
//! * `crates/connector-discord/benches/roundtrip.rs` — the Discord connector against raw HTTP
//!   and a raw gateway reader on the same `discord-emulator`, which it runs in-process;
//! * `crates/connector-telegram/benches/roundtrip.rs` — the Telegram connector against a raw
//!   `sendMessage` and a raw `getUpdates` loop on the same in-process `telegram-emulator`;
//! * `crates/connector-slack/benches/roundtrip.rs` — the Slack connector against a raw
//!   `chat.postMessage` and a raw Socket Mode reader on the same in-process `slack-emulator`.
//!
//! `cargo bench` builds them in the release profile. The file is generated: commit it, do not
//! edit it.

use std::fs;

use crate::{Result, cargo, project_root, provision, run_step, step};

/// Where the tables go, relative to the workspace root (the benches resolve it from there too).
const REPORT: &str = "docs/benchmarks.md";

/// The benches, in the order they run.
const BENCHES: &[&str] = &["tmux", "matrix", "discord", "telegram", "slack"];

/// Runs the benches named in `names` (all of them when empty).
pub(crate) fn run(names: &[String]) -> Result<()> {
    if let Some(unknown) = names.iter().find(|n| !BENCHES.contains(&n.as_str())) {
        return Err(format!(
            "unknown bench `{unknown}`: choose from {}",
            BENCHES.join(", ")
        ));
    }
    let selected = |name: &str| names.is_empty() || names.iter().any(|n| n == name);

    if selected("tmux") {
        step("bench tmux");
        run_step("bench tmux", &mut bench("connector-tmux"))?;
    }

    if selected("matrix") {
        step("provision");
        let synapse_venv = provision::synapse()?;
        step("bench matrix");
        run_step(
            "bench matrix",
            bench("connector-matrix").env(provision::SYNAPSE_VENV_ENV, &synapse_venv),
        )?;
    }

    for (name, package) in [
        ("discord", "connector-discord"),
        ("telegram", "connector-telegram"),
        ("slack", "connector-slack"),
    ] {
        if selected(name) {
            step(&format!("bench {name}"));
            run_step(&format!("bench {name}"), &mut bench(package))?;
        }
    }

    step(REPORT);
    let path = project_root().join(REPORT);
    let report = fs::read_to_string(&path)
        .map_err(|error| format!("bench: could not read {}: {error}", path.display()))?;
    print!("{report}");
    println!("\nCommit {REPORT} with the change it measures.");
    Ok(())
}

/// `cargo bench` of one crate's `roundtrip` bench, writing its section of [`REPORT`].
fn bench(package: &str) -> std::process::Command {
    let mut command = cargo();
    command.args([
        "bench",
        "--package",
        package,
        "--bench",
        "roundtrip",
        "--",
        "--write",
        REPORT,
    ]);
    command
}
