//! Makes sure the tools the test suite needs are installed, installing the missing ones.
//!
//! One function per tool. Each is idempotent: it probes first and installs only when the probe
//! fails, so a machine that already has everything pays a few milliseconds. CI machines may start
//! with nothing installed by hand, which is why this lives in the project and not in a README.
//! A new tool (say, a Python venv with a Synapse homeserver for the Matrix tests) gets its own
//! function here, called from [`all`].

use std::process::{Command, Stdio};

use crate::{Result, display, succeeds};

/// The cargo-deny release `cargo xtask test` installs and expects; `deny.toml` is written for it.
/// 0.20 needs Rust 1.88, below our 1.95.
pub(crate) const CARGO_DENY_VERSION: &str = "0.20.2";

/// The cargo-nextest release installed when none is present (any installed release is used as is).
/// It needs Rust 1.91.
pub(crate) const CARGO_NEXTEST_VERSION: &str = "0.9.143";

/// What provisioning found out about the optional test runner.
pub(crate) struct Tools {
    /// Whether `cargo nextest` works; when it cannot be installed, `cargo test` runs the tests.
    pub(crate) nextest: bool,
}

/// Provisions every tool, failing on the first that cannot be had (except nextest, which has a
/// fallback).
pub(crate) fn all() -> Result<Tools> {
    tmux()?;
    let nextest = match cargo_nextest() {
        Ok(()) => true,
        Err(error) => {
            println!("warning: {error}; the tests will run under `cargo test` instead");
            false
        }
    };
    cargo_deny()?;
    Ok(Tools { nextest })
}

/// tmux, which the tmux connector's tests drive for real. Installed with apt when missing.
pub(crate) fn tmux() -> Result<()> {
    if let Some(version) = version_of("tmux", &["-V"]) {
        println!("tmux: {version}");
        return Ok(());
    }
    println!("tmux: missing, installing with apt-get");
    apt_install(&["tmux"])?;
    match version_of("tmux", &["-V"]) {
        Some(version) => {
            println!("tmux: installed {version}");
            Ok(())
        }
        None => Err("tmux: apt-get reported success but `tmux -V` still fails".to_owned()),
    }
}

/// cargo-nextest, the test runner. Installed from crates.io when missing.
pub(crate) fn cargo_nextest() -> Result<()> {
    if let Some(version) = cargo_subcommand_version(&["nextest", "--version"]) {
        println!("cargo-nextest: {version}");
        return Ok(());
    }
    println!("cargo-nextest: missing, installing {CARGO_NEXTEST_VERSION} from crates.io");
    cargo_install("cargo-nextest", CARGO_NEXTEST_VERSION)
}

/// cargo-deny, which checks licences, bans and sources. Installed from crates.io, at the pinned
/// release, when missing or at another release.
pub(crate) fn cargo_deny() -> Result<()> {
    match cargo_subcommand_version(&["deny", "--version"]) {
        Some(version) if version.split_whitespace().nth(1) == Some(CARGO_DENY_VERSION) => {
            println!("cargo-deny: {version}");
            return Ok(());
        }
        Some(version) => println!(
            "cargo-deny: found {version}, but deny.toml is written for {CARGO_DENY_VERSION}; installing it"
        ),
        None => println!("cargo-deny: missing, installing {CARGO_DENY_VERSION} from crates.io"),
    }
    cargo_install("cargo-deny", CARGO_DENY_VERSION)
}

/// The first line `program args…` prints, if it runs and succeeds.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    Some(stdout.lines().next().unwrap_or_default().trim().to_owned())
}

/// The version a cargo subcommand reports, asked through the cargo that runs us.
fn cargo_subcommand_version(args: &[&str]) -> Option<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    version_of(&cargo, args)
}

/// `cargo install --locked NAME --version VERSION`, with cargo's progress shown (it takes minutes).
fn cargo_install(name: &str, version: &str) -> Result<()> {
    let started = std::time::Instant::now();
    let mut install = crate::cargo();
    // Build the tool in its own temporary target directory, not in the workspace's, so that the
    // workspace's CARGO_TARGET_DIR keeps only the project's artefacts.
    install.env_remove("CARGO_TARGET_DIR");
    install.args(["install", "--locked", name, "--version", version]);
    println!("$ {}", display(&install));
    let status = install
        .status()
        .map_err(|error| format!("{name}: could not start `cargo install`: {error}"))?;
    if !status.success() {
        return Err(format!("{name}: `cargo install` failed ({status})"));
    }
    println!(
        "{name}: installed {version} in {}s",
        started.elapsed().as_secs()
    );
    Ok(())
}

/// `apt-get update && apt-get install -y PACKAGES`, quietly, through sudo when not root.
fn apt_install(packages: &[&str]) -> Result<()> {
    let root = is_root();
    if !root && !succeeds("sudo", &["-n", "true"]) {
        return Err(format!(
            "{} is missing and installing it needs root: run `sudo apt-get install {}`",
            packages.join(", "),
            packages.join(" ")
        ));
    }
    let apt = |args: &[&str]| -> Result<()> {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "--preserve-env=DEBIAN_FRONTEND", "apt-get"]);
            sudo
        };
        command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        // Quiet on success; everything apt said is shown when it fails.
        crate::read(&mut command).map(drop)
    };
    apt(&["-qq", "update"])?;
    let mut install = vec!["-qq", "-y", "--no-install-recommends", "install"];
    install.extend_from_slice(packages);
    apt(&install)
}

fn is_root() -> bool {
    version_of("id", &["-u"]).is_some_and(|uid| uid == "0")
}
