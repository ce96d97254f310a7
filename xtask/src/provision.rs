//! Makes sure the tools the test suite needs are installed, installing the missing ones.
//!
//! One function per tool. Each is idempotent: it probes first and installs only when the probe
//! fails, so a machine that already has everything pays a few milliseconds. CI machines may start
//! with nothing installed by hand, which is why this lives in the project and not in a README.
//! A new tool gets its own function here, called from [`all`].

use std::{
    env,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::{Result, display, succeeds};

/// The cargo-deny release `cargo xtask test` installs and expects; `deny.toml` is written for it.
/// 0.20 needs Rust 1.88, below our 1.95.
pub(crate) const CARGO_DENY_VERSION: &str = "0.20.2";

/// The cargo-nextest release installed when none is present (any installed release is used as is).
/// It needs Rust 1.91.
pub(crate) const CARGO_NEXTEST_VERSION: &str = "0.9.143";

/// The Synapse release the Matrix tests run against, installed from PyPI as a prebuilt wheel.
/// Bump it on purpose, re-run `cargo xtask test`, and the venv is upgraded in place.
pub(crate) const SYNAPSE_VERSION: &str = "1.163.2";

/// The environment variable naming the Synapse venv; `synapse-harness` reads the same one and
/// falls back to the same default ([`synapse_venv`]).
pub(crate) const SYNAPSE_VENV_ENV: &str = "SYNAPSE_VENV";

/// What provisioning found out about the optional test runner and where the peers are.
pub(crate) struct Tools {
    /// Whether `cargo nextest` works; when it cannot be installed, `cargo test` runs the tests.
    pub(crate) nextest: bool,
    /// The venv holding Synapse, handed to the test processes as `SYNAPSE_VENV`.
    pub(crate) synapse_venv: PathBuf,
}

/// Provisions every tool, failing on the first that cannot be had (except nextest, which has a
/// fallback).
pub(crate) fn all() -> Result<Tools> {
    tmux()?;
    systemd_analyze()?;
    curl()?;
    let synapse_venv = synapse()?;
    let nextest = match cargo_nextest() {
        Ok(()) => true,
        Err(error) => {
            println!("warning: {error}; the tests will run under `cargo test` instead");
            false
        }
    };
    cargo_deny()?;
    Ok(Tools {
        nextest,
        synapse_venv,
    })
}

/// tmux, which the tmux connector's tests drive for real.
fn tmux() -> Result<()> {
    debian_tool("tmux", &["-V"], "tmux")
}

/// `systemd-analyze`, which the CLI's tests use to verify the unit `connector systemd` prints.
fn systemd_analyze() -> Result<()> {
    debian_tool("systemd-analyze", &["--version"], "systemd")
}

/// curl, with which the release dry run reads crates.io's index (is each name free or ours?).
fn curl() -> Result<()> {
    debian_tool("curl", &["--version"], "curl")
}

/// `program`, installed with apt (Debian package `package`) when `program version_args` fails.
fn debian_tool(program: &str, version_args: &[&str], package: &str) -> Result<()> {
    if let Some(version) = version_of(program, version_args) {
        println!("{program}: {version}");
        return Ok(());
    }
    println!("{program}: missing, installing the Debian package {package} with apt-get");
    apt_install(&[package])?;
    match version_of(program, version_args) {
        Some(version) => {
            println!("{program}: installed {version}");
            Ok(())
        }
        None => Err(format!(
            "{program}: apt-get reported success but `{program} {}` still fails",
            version_args.join(" ")
        )),
    }
}

/// Where the Synapse venv lives: `$SYNAPSE_VENV`, else
/// `$HOME/.cache/orchestrator-connectors/synapse-venv` — outside the clone, so that CI runs on the
/// same machine reuse it, like the target directory in `.ci/run`.
pub(crate) fn synapse_venv() -> PathBuf {
    if let Some(dir) = env::var_os(SYNAPSE_VENV_ENV).filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    Path::new(&home).join(".cache/orchestrator-connectors/synapse-venv")
}

/// A Synapse homeserver at [`SYNAPSE_VERSION`] in a Python venv, which the Matrix tests start
/// on 127.0.0.1 (see `crates/synapse-harness`). Created with `python3 -m venv` and filled with
/// `pip install` when the venv is missing or holds another release; returns the venv.
pub(crate) fn synapse() -> Result<PathBuf> {
    let venv = synapse_venv();
    let python = venv.join("bin/python");
    let probe = || {
        version_of(
            &python.to_string_lossy(),
            &["-c", "import synapse; print(synapse.__version__)"],
        )
    };
    match probe() {
        Some(version) if version == SYNAPSE_VERSION => {
            println!("synapse: {version} in {}", venv.display());
            return Ok(venv);
        }
        Some(version) => println!(
            "synapse: found {version} in {}, installing {SYNAPSE_VERSION}",
            venv.display()
        ),
        None => println!(
            "synapse: missing, installing {SYNAPSE_VERSION} from PyPI into {}",
            venv.display()
        ),
    }
    let started = Instant::now();
    // A venv whose interpreter no longer starts (the system Python was upgraded) is rebuilt.
    let python_runs = version_of(&python.to_string_lossy(), &["--version"]).is_some();
    if !python_runs && venv.join("pyvenv.cfg").is_file() {
        std::fs::remove_dir_all(&venv).map_err(|error| {
            format!(
                "synapse: could not remove the broken venv {}: {error}",
                venv.display()
            )
        })?;
    }
    if !python_runs {
        python3_venv()?;
        if let Some(parent) = venv.parent() {
            std::fs::create_dir_all(parent).map_err(|error| {
                format!("synapse: could not create {}: {error}", parent.display())
            })?;
        }
        crate::read(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .map_err(|error| format!("synapse: {error}"))?;
    }
    let requirement = format!("matrix-synapse=={SYNAPSE_VERSION}");
    crate::read(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                // Synapse is Python around a Rust core: never fall back to compiling it.
                "--only-binary=matrix-synapse",
            ])
            .arg(&requirement)
            .stdin(Stdio::null()),
    )
    .map_err(|error| format!("synapse: {error}"))?;
    match probe() {
        Some(version) if version == SYNAPSE_VERSION => {
            println!(
                "synapse: installed {version} in {}s",
                started.elapsed().as_secs()
            );
            Ok(venv)
        }
        other => Err(format!(
            "synapse: pip installed {requirement} into {} but `import synapse` reports {other:?}",
            venv.display()
        )),
    }
}

/// Python 3 with its `venv` module (Debian ships it apart, as `python3-venv`); installed with
/// apt when missing.
fn python3_venv() -> Result<()> {
    if succeeds("python3", &["-m", "venv", "--help"]) {
        return Ok(());
    }
    println!("python3-venv: missing, installing with apt-get");
    apt_install(&["python3", "python3-venv"])?;
    if succeeds("python3", &["-m", "venv", "--help"]) {
        Ok(())
    } else {
        Err("python3-venv: apt-get reported success but `python3 -m venv` still fails".to_owned())
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
    let started = Instant::now();
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
