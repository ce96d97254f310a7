//! Tidy tests: repository-wide conventions, checked by `cargo test` like everything else.
//!
//! Each test lists every offending file at once, so one run tells the whole story.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::{project_root, release};

/// Every Rust file says what it is for in a `//!` first line.
#[test]
fn every_rust_file_starts_with_a_doc_comment() {
    let root = project_root();
    let mut files = Vec::new();
    for dir in ["crates", "xtask"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        !files.is_empty(),
        "tidy found no Rust files under crates/ and xtask/"
    );

    let offenders: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = fs::read_to_string(file).unwrap_or_default();
            !text
                .lines()
                .next()
                .is_some_and(|line| line.starts_with("//!"))
        })
        .map(|file| relative(&root, file))
        .collect();
    assert!(
        offenders.is_empty(),
        "these files do not start with a `//!` line saying what they are for:\n  {}",
        offenders.join("\n  ")
    );
}

/// Every member inherits the edition and the lints from the workspace.
#[test]
fn every_member_inherits_edition_and_lints() {
    let root = project_root();
    let mut offenders = Vec::new();
    for member in release::members().unwrap() {
        let path = member.dir.join("Cargo.toml");
        let text = fs::read_to_string(&path).unwrap();
        let manifest: toml::Table = text.parse().unwrap();
        // `key.workspace = true` and `key = { workspace = true }` parse alike.
        let inherits = |value: Option<&toml::Value>| {
            value
                .and_then(|value| value.get("workspace"))
                .and_then(toml::Value::as_bool)
                == Some(true)
        };
        let mut missing = Vec::new();
        if !inherits(
            manifest
                .get("package")
                .and_then(|package| package.get("edition")),
        ) {
            missing.push("`edition.workspace = true`");
        }
        if !inherits(manifest.get("lints")) {
            missing.push("`lints.workspace = true`");
        }
        if !missing.is_empty() {
            offenders.push(format!(
                "{}: needs {}",
                relative(&root, &path),
                missing.join(" and ")
            ));
        }
    }
    assert!(
        offenders.is_empty(),
        "these manifests do not inherit from [workspace.package] and [workspace.lints]:\n  {}",
        offenders.join("\n  ")
    );
}

/// A path dependency on another member also names a version, or `cargo publish` rejects it.
#[test]
fn internal_path_dependencies_carry_a_version() {
    let root = project_root();
    let mut offenders = Vec::new();
    for member in release::members().unwrap() {
        for (dep, requirement) in &member.path_deps {
            if requirement == "*" {
                offenders.push(format!(
                    "{}: `{dep}` has a path but no version",
                    relative(&root, &member.dir.join("Cargo.toml"))
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "internal path dependencies need a version (put it in [workspace.dependencies]):\n  {}",
        offenders.join("\n  ")
    );
}

/// Collects the `.rs` files under `dir`, skipping build output and hidden folders.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, files);
            }
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
    files.sort();
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
