//! `cargo xtask test`: the project's one test command, run by CI (`.ci/run`) and by developers.
//!
//! Steps run in order and stop at the first failure, whose name ends up in the error: provision,
//! fmt, clippy, doc tests, tests (nextest), rustdoc, cargo-deny, and the release dry run
//! (`cargo xtask release --dry-run`).
//!
//! The commands that run tests get `SYNAPSE_VENV`, the venv provisioning filled, and
//! `CONDUIT_CACHE`, where it built Conduit, so the Matrix tests find their homeservers (see
//! `crates/synapse-harness` and `crates/conduit-harness`).

use std::{env, path::Path, process::Command, time::Instant};

use crate::{Result, cargo, provision, release, run_step, step};

/// What `cargo xtask test` was asked to do.
pub(crate) struct Options {
    /// Do not look for (or install) tmux, cargo-nextest and cargo-deny.
    pub(crate) skip_provision: bool,
    /// Skip the slow checks that are not tests: clippy, rustdoc, cargo-deny, the release dry run.
    pub(crate) quick: bool,
}

pub(crate) fn run(options: &Options) -> Result<()> {
    let started = Instant::now();
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => println!("CARGO_TARGET_DIR={}", dir.to_string_lossy()),
        None => println!("CARGO_TARGET_DIR is unset: building in ./target"),
    }

    step("provision");
    let (nextest, synapse_venv, conduit_cache) = if options.skip_provision {
        println!("skipped (--skip-provision)");
        // Use nextest when it is there anyway; the fallback is for machines without it.
        let nextest = crate::succeeds(&cargo_program(), &["nextest", "--version"]);
        (
            nextest,
            provision::synapse_venv(),
            provision::conduit_cache(),
        )
    } else {
        let tools = provision::all()?;
        (tools.nextest, tools.synapse_venv, tools.conduit_cache)
    };
    // Every command below that runs tests gets the peers' locations.
    let tests = |args: &[&str]| -> Command {
        let mut command = cargo();
        command.args(args);
        with_peers(&mut command, &synapse_venv, &conduit_cache);
        command
    };

    step("fmt");
    run_step("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;

    if options.quick {
        println!("\n(--quick: skipping clippy, rustdoc and cargo-deny)");
    } else {
        step("clippy");
        run_step(
            "clippy",
            cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }

    // Doc tests first, so that the last test runner to report is the one that ran the most tests
    // (CI reads the closing summary). `cargo test` runs doc tests itself, so the fallback does not
    // need this step.
    if nextest {
        step("doctest");
        run_step(
            "doctest",
            &mut tests(&["test", "--workspace", "--all-features", "--doc"]),
        )?;
    }
    // The Matrix connector as users get it by default (no e2e-encryption): its sync loop
    // differs from the encrypting build's, which the --all-features run below covers. On
    // Synapse and Conduit alike, `connector doctor` and the deploy docs' Conduit steps included.
    step("matrix-default-features");
    run_step(
        "matrix-default-features",
        &mut tests(&["test", "--package", "connector-matrix"]),
    )?;
    run_step(
        "matrix-default-features (cli)",
        &mut tests(&[
            "test",
            "--package",
            "orchestrator-connector-cli",
            "--features",
            "matrix",
            "--test",
            "cli_doctor_matrix",
            "--test",
            "docs_deploy_conduit",
        ]),
    )?;

    // The registry without any backend: the "not compiled in" path, which names the feature.
    step("features");
    run_step(
        "features",
        &mut tests(&[
            "test",
            "--package",
            "connector-registry",
            "--no-default-features",
        ]),
    )?;

    step("test");
    if nextest {
        run_step(
            "test",
            &mut tests(&[
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-fail-fast",
            ]),
        )?;
    } else {
        println!("cargo-nextest is not available: running the tests with `cargo test`");
        run_step(
            "test",
            &mut tests(&["test", "--workspace", "--all-features", "--no-fail-fast"]),
        )?;
    }

    if !options.quick {
        step("doc");
        run_step(
            "doc",
            cargo()
                .args(["doc", "--workspace", "--all-features", "--no-deps"])
                .env("RUSTDOCFLAGS", "-D warnings"),
        )?;

        step("deny");
        run_step(
            "deny",
            cargo().args(["deny", "check", "licenses", "bans", "sources"]),
        )?;
        println!(
            "advisories: skipped — the advisory database cannot be fetched offline; \
             run `cargo deny check advisories` where the network allows"
        );

        // Last, so that a release problem never hides a failing test: the crates as they would
        // be published, each built from its own package.
        release::run(true)?;
    }

    println!("\n==> all steps passed in {}s", started.elapsed().as_secs());
    Ok(())
}

/// Sets `SYNAPSE_VENV` and `CONDUIT_CACHE` on a command that runs tests.
fn with_peers(command: &mut Command, synapse_venv: &Path, conduit_cache: &Path) {
    command
        .env(provision::SYNAPSE_VENV_ENV, synapse_venv)
        .env(provision::CONDUIT_CACHE_ENV, conduit_cache);
}

fn cargo_program() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
