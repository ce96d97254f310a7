//! `cargo xtask bench`: runs the workspace's benchmarks.
//!
//! For now this is `cargo bench --workspace` and nothing more. Measured figures, with the machine
//! and commit they came from, are recorded by hand in `docs/benchmarks.md`.

use crate::{Result, cargo, run_step, step};

pub(crate) fn run() -> Result<()> {
    step("bench");
    run_step("bench", cargo().args(["bench", "--workspace"]))?;
    println!(
        "\nRecord the figures that matter in docs/benchmarks.md, with the machine and commit they \
         were measured on."
    );
    Ok(())
}
