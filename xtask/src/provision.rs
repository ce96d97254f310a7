//! Makes sure the tools the test suite needs are installed, installing the missing ones.
//!
//! One function per tool. Each is idempotent: it probes first and installs only when the probe
//! fails, so a machine that already has everything pays a few milliseconds. CI machines may start
//! with nothing installed by hand, which is why this lives in the project and not in a README.
//! A new tool gets its own function here, called from [`all`].

use std::{
    env,
    os::unix::fs::PermissionsExt,
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

/// The environment variable naming the directory Conduit is built and kept in;
/// `conduit-harness` reads the same one and falls back to the same default ([`conduit_cache`]).
pub(crate) const CONDUIT_CACHE_ENV: &str = "CONDUIT_CACHE";

/// How Conduit is built for the tests: SQLite only (no RocksDB and its C++ build), and a profile
/// of our own — `dev` with opt-level 1 (argon2 password hashing and ruma's serde are slow at
/// opt-level 0), no debug info, no LTO, no incremental cache and many codegen units. Part of
/// the cache key: changing a flag rebuilds.
const CONDUIT_BUILD: &[&str] = &[
    "build",
    "--bin",
    "conduit",
    "--no-default-features",
    "--features",
    "backend_sqlite,conduit_bin",
    "--profile",
    CONDUIT_PROFILE,
    "--config",
    "profile.conduit-test.inherits=\"dev\"",
    "--config",
    "profile.conduit-test.opt-level=1",
    "--config",
    "profile.conduit-test.debug=false",
    "--config",
    "profile.conduit-test.incremental=false",
    "--config",
    "profile.conduit-test.codegen-units=256",
    "--config",
    "profile.conduit-test.lto=false",
];

/// The cargo profile of [`CONDUIT_BUILD`] (also the directory its binary lands in).
const CONDUIT_PROFILE: &str = "conduit-test";

/// Appended to the copy of Conduit's `Cargo.toml`: ruma from `../shared/ruma` (copied beside it)
/// instead of git, which the machines cannot reach. Part of the cache key.
const CONDUIT_RUMA_PATCH: &str = "
# Added by orchestrator-connectors' `cargo xtask test`: ruma from ../shared/ruma, not git.
[patch.\"https://github.com/ruma/ruma.git\"]
ruma = { path = \"../ruma/crates/ruma\" }
";

/// What provisioning found out about the optional test runner and where the peers are.
pub(crate) struct Tools {
    /// Whether `cargo nextest` works; when it cannot be installed, `cargo test` runs the tests.
    pub(crate) nextest: bool,
    /// The venv holding Synapse, handed to the test processes as `SYNAPSE_VENV`.
    pub(crate) synapse_venv: PathBuf,
    /// Where Conduit is built, handed to the test processes as `CONDUIT_CACHE`.
    pub(crate) conduit_cache: PathBuf,
}

/// Provisions every tool, failing on the first that cannot be had (except nextest, which has a
/// fallback).
pub(crate) fn all() -> Result<Tools> {
    tmux()?;
    systemd_analyze()?;
    curl()?;
    let synapse_venv = synapse()?;
    let conduit_cache = conduit()?;
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
        conduit_cache,
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

/// Where Conduit is built and kept: `$CONDUIT_CACHE`, else
/// `$HOME/.cache/orchestrator-connectors/conduit` — outside the clone, so that CI runs on the
/// same machine reuse it. Inside: `src/` (writable copies of `../shared/conduit` and
/// `../shared/ruma`, and `src/key`, the key they were copied for), `target/` (Conduit's own target directory, apart from the workspace's) and
/// `bin/conduit` with `bin/conduit.key`, the cache key it was built for.
pub(crate) fn conduit_cache() -> PathBuf {
    if let Some(dir) = env::var_os(CONDUIT_CACHE_ENV).filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    Path::new(&home).join(".cache/orchestrator-connectors/conduit")
}

/// The Conduit homeserver the Matrix tests also run against (see `crates/conduit-harness`),
/// built from `../shared/conduit` with ruma from `../shared/ruma` once per machine, and again
/// only when [`conduit_key`] changes: the sources, the patch, the build flags or the compiler.
/// A build that fails is an error; so, under `CI=true`, is a missing `../shared`. Returns the
/// cache directory.
pub(crate) fn conduit() -> Result<PathBuf> {
    let cache = conduit_cache();
    let shared = crate::project_root().join("../shared");
    let (conduit_src, ruma_src) = (shared.join("conduit"), shared.join("ruma"));
    if !conduit_src.join("Cargo.toml").is_file() || !ruma_src.join("Cargo.toml").is_file() {
        let message = format!(
            "conduit: its source is not at {} and {} (see ../shared/README.md)",
            conduit_src.display(),
            ruma_src.display()
        );
        if env::var("CI").is_ok_and(|ci| ci == "true") {
            return Err(message);
        }
        println!("warning: {message}; the Conduit tests will fail");
        return Ok(cache);
    }
    let rustc = version_of("rustc", &["--version"]).unwrap_or_default();
    let key = conduit_key(&[&conduit_src, &ruma_src], &rustc)
        .map_err(|error| format!("conduit: could not read its source: {error}"))?;
    let binary = cache.join("bin/conduit");
    let stamp = cache.join("bin/conduit.key");
    if binary.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|built| built == key) {
        println!("conduit: built ({key}) in {}", binary.display());
        return Ok(cache);
    }
    println!(
        "conduit: building {key} from {} into {} (once per machine; ~20 min on 2 cores)",
        conduit_src.display(),
        cache.display()
    );
    let started = Instant::now();
    let fail = |what: &str, error: std::io::Error| format!("conduit: {what}: {error}");
    let src = cache.join("src");
    // A copy already made for this key (an earlier build was interrupted) is built as it is:
    // copying again would make cargo rebuild ruma and Conduit from scratch.
    let copied = src.join("key");
    if !std::fs::read_to_string(&copied).is_ok_and(|made| made == key) {
        if src.exists() {
            std::fs::remove_dir_all(&src)
                .map_err(|e| fail(&format!("remove {}", src.display()), e))?;
        }
        for (from, name) in [(&conduit_src, "conduit"), (&ruma_src, "ruma")] {
            copy_tree(from, &src.join(name)).map_err(|e| {
                fail(
                    &format!("copy {} into {}", from.display(), src.display()),
                    e,
                )
            })?;
            // A pinned toolchain this machine cannot fetch; the project's compiler builds it.
            let _ = std::fs::remove_file(src.join(name).join("rust-toolchain.toml"));
        }
        let manifest = src.join("conduit/Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest)
            .map_err(|e| fail(&format!("read {}", manifest.display()), e))?;
        text.push_str(CONDUIT_RUMA_PATCH);
        std::fs::write(&manifest, text)
            .map_err(|e| fail(&format!("write {}", manifest.display()), e))?;
        std::fs::write(&copied, &key)
            .map_err(|e| fail(&format!("write {}", copied.display()), e))?;
    }

    let mut build = crate::cargo();
    build
        .current_dir(src.join("conduit"))
        .env("CARGO_TARGET_DIR", cache.join("target"))
        // The profile decides (no incremental cache); CI's CARGO_INCREMENTAL=0 must not make
        // the same build look different from a developer's.
        .env_remove("CARGO_INCREMENTAL")
        .args(CONDUIT_BUILD);
    println!("$ {}", display(&build));
    let status = build
        .status()
        .map_err(|error| format!("conduit: could not start `cargo build`: {error}"))?;
    if !status.success() {
        return Err(format!("conduit: `cargo build` failed ({status})"));
    }
    let built = cache.join("target").join(CONDUIT_PROFILE).join("conduit");
    std::fs::create_dir_all(cache.join("bin"))
        .map_err(|e| fail(&format!("create {}", cache.join("bin").display()), e))?;
    let partial = cache.join("bin/conduit.partial");
    std::fs::copy(&built, &partial).map_err(|e| fail(&format!("copy {}", built.display()), e))?;
    std::fs::rename(&partial, &binary)
        .map_err(|e| fail(&format!("move it to {}", binary.display()), e))?;
    std::fs::write(&stamp, &key).map_err(|e| fail(&format!("write {}", stamp.display()), e))?;
    println!("conduit: built {key} in {}s", started.elapsed().as_secs());
    Ok(cache)
}

/// The cache key of a Conduit build: FNV-1a (64 bits, stable across compilers) over every file's
/// path and contents under `trees`, the ruma patch, the build flags and `rustc --version`.
fn conduit_key(trees: &[&Path], rustc: &str) -> std::io::Result<String> {
    let mut hash = Fnv::default();
    for tree in trees {
        let mut files = Vec::new();
        list_files(tree, &mut files)?;
        files.sort();
        for file in files {
            let relative = file.strip_prefix(tree).unwrap_or(&file);
            hash.write(relative.to_string_lossy().as_bytes());
            hash.write(&[0]);
            hash.write(&std::fs::read(&file)?);
            hash.write(&[0]);
        }
    }
    hash.write(CONDUIT_RUMA_PATCH.as_bytes());
    for flag in CONDUIT_BUILD {
        hash.write(flag.as_bytes());
        hash.write(&[0]);
    }
    hash.write(rustc.as_bytes());
    Ok(format!("{:016x}", hash.0))
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Every regular file under `dir`, recursively (symbolic links are not followed).
fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            list_files(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Copies the tree `from` to `to` (which must not exist), making every copy writable: CI lays
/// `../shared` out without write bits, and cargo rewrites `Cargo.lock`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            let mut permissions = std::fs::metadata(&target)?.permissions();
            permissions.set_mode(permissions.mode() | 0o200);
            std::fs::set_permissions(&target, permissions)?;
        }
    }
    Ok(())
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
