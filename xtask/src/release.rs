//! `cargo xtask release --dry-run`: checks that the workspace is ready to publish, then packages it.
//!
//! Checked for every publishable member: its version is the `[workspace.package]` version; each
//! internal path dependency also carries a version requirement that the workspace version meets
//! (`cargo publish` needs it); its folder has a `CHANGELOG.md` with an entry for the version; its
//! manifest has a description, a licence and a repository. Then `cargo publish --workspace
//! --dry-run` packages and builds every publishable crate, stopping before the upload. Publishing
//! for real is left to a maintainer.

use std::{fs, path::Path};

use serde_json::Value;

use crate::{Result, cargo, project_root, read, run_step, step};

/// One workspace member as `cargo metadata` describes it, with what the checks need.
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) publishable: bool,
    /// The folder holding its `Cargo.toml`.
    pub(crate) dir: std::path::PathBuf,
    pub(crate) description: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) repository: Option<String>,
    /// Dependencies on other workspace members (those with a `path`): name and requirement.
    pub(crate) path_deps: Vec<(String, String)>,
}

pub(crate) fn run(dry_run: bool) -> Result<()> {
    if !dry_run {
        return Err(
            "xtask does not publish: real publishing is done by a maintainer with \
                    `cargo publish --workspace`. Run `cargo xtask release --dry-run` to check \
                    that a release would go through."
                .to_owned(),
        );
    }

    step("release checks");
    let version = workspace_version()?;
    println!("[workspace.package] version = {version}");
    let members = members()?;
    let publishable: Vec<&Member> = members.iter().filter(|member| member.publishable).collect();
    if publishable.is_empty() {
        return Err("no publishable workspace member found".to_owned());
    }

    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for member in &publishable {
        let found = check(member, &version);
        rows.push([
            member.name.clone(),
            member.version.clone(),
            mark(&found, Check::Version),
            mark(&found, Check::PathDeps),
            mark(&found, Check::Changelog),
            mark(&found, Check::Metadata),
        ]);
        problems.extend(
            found
                .into_iter()
                .map(|(_, problem)| format!("{}: {problem}", member.name)),
        );
    }
    print_table(
        &[
            "crate",
            "version",
            "= workspace",
            "path deps",
            "changelog",
            "metadata",
        ],
        &rows,
    );
    let skipped: Vec<&str> = members
        .iter()
        .filter(|member| !member.publishable)
        .map(|member| member.name.as_str())
        .collect();
    if !skipped.is_empty() {
        println!("not published (publish = false): {}", skipped.join(", "));
    }
    if !problems.is_empty() {
        return Err(format!(
            "release checks failed:\n  {}",
            problems.join("\n  ")
        ));
    }

    // The maintainer's own command, stopped before the upload: it packages every publishable
    // member, builds each from its packaged sources (catching files left out of a package) and
    // resolves internal dependencies against the packages just made, not against crates.io.
    step("cargo publish --dry-run");
    run_step(
        "cargo publish --dry-run",
        cargo().args(["publish", "--workspace", "--dry-run", "--allow-dirty"]),
    )?;

    println!(
        "\nrelease {version}: {} crate(s) checked, packaged and built. A maintainer publishes \
         with `cargo publish --workspace`.",
        publishable.len()
    );
    Ok(())
}

/// The kinds of release check, for the summary table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Check {
    Version,
    PathDeps,
    Changelog,
    Metadata,
}

/// Every problem `member` has, tagged with the check that found it.
fn check(member: &Member, version: &str) -> Vec<(Check, String)> {
    let mut problems = Vec::new();
    if member.version != version {
        problems.push((
            Check::Version,
            format!(
                "version {} is not the workspace version {version}",
                member.version
            ),
        ));
    }
    for (dep, requirement) in &member.path_deps {
        if requirement == "*" {
            problems.push((
                Check::PathDeps,
                format!("path dependency `{dep}` has no version requirement"),
            ));
        } else if !requirement_matches(requirement, version) {
            problems.push((
                Check::PathDeps,
                format!("path dependency `{dep}` requires `{requirement}`, not {version}"),
            ));
        }
    }
    let changelog = member.dir.join("CHANGELOG.md");
    match fs::read_to_string(&changelog) {
        Ok(text) if has_entry(&text, version) => {}
        Ok(_) => problems.push((
            Check::Changelog,
            format!("CHANGELOG.md has no `## [{version}]` entry"),
        )),
        Err(_) => problems.push((Check::Changelog, "no CHANGELOG.md in its folder".to_owned())),
    }
    for (field, value) in [
        ("description", &member.description),
        ("license", &member.license),
        ("repository", &member.repository),
    ] {
        if value.as_deref().is_none_or(|value| value.trim().is_empty()) {
            problems.push((Check::Metadata, format!("Cargo.toml has no `{field}`")));
        }
    }
    problems
}

fn mark(problems: &[(Check, String)], check: Check) -> String {
    if problems.iter().any(|(kind, _)| *kind == check) {
        "FAIL"
    } else {
        "ok"
    }
    .to_owned()
}

/// Whether a changelog has a `## [VERSION]` or `## VERSION` heading (anything may follow it,
/// such as ` - 2025-01-31`).
fn has_entry(changelog: &str, version: &str) -> bool {
    changelog.lines().any(|line| {
        let Some(heading) = line.strip_prefix("## ") else {
            return false;
        };
        let heading = heading.trim_start();
        let rest = if let Some(bracketed) = heading.strip_prefix('[') {
            match bracketed.strip_prefix(version) {
                Some(rest) => rest.strip_prefix(']'),
                None => None,
            }
        } else {
            heading.strip_prefix(version)
        };
        // `## 0.1.0` must not count as an entry for 0.1.0-rc.1 or match `## 0.1.01`.
        rest.is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '(']))
    })
}

/// Whether a dependency requirement as `cargo metadata` prints it (`^0.1.0`, `=0.1.0`, `^0.1`)
/// accepts `version`. Only the forms the workspace uses are understood; anything else is
/// reported so that a person looks at it.
fn requirement_matches(requirement: &str, version: &str) -> bool {
    let requirement = requirement.trim();
    if let Some(exact) = requirement.strip_prefix('=') {
        return exact.trim() == version;
    }
    let wanted = requirement.strip_prefix('^').unwrap_or(requirement).trim();
    let parse = |text: &str| -> Option<Vec<u64>> {
        text.split('.').map(|part| part.parse().ok()).collect()
    };
    let (Some(wanted), Some(have)) = (parse(wanted), parse(version)) else {
        return false;
    };
    if wanted.is_empty() || wanted.len() > 3 || have.len() != 3 {
        return false;
    }
    // Caret semantics: the leftmost non-zero component of the requirement must match exactly,
    // and the version must not be lower than the requirement.
    let significant = wanted
        .iter()
        .position(|part| *part != 0)
        .unwrap_or(wanted.len() - 1);
    let same_prefix = wanted[..=significant] == have[..=significant];
    let padded: Vec<u64> = wanted.iter().copied().chain([0, 0, 0]).take(3).collect();
    same_prefix && have >= padded
}

/// `[workspace.package] version` from the root manifest.
pub(crate) fn workspace_version() -> Result<String> {
    let path = project_root().join("Cargo.toml");
    let text =
        fs::read_to_string(&path).map_err(|error| format!("cannot read Cargo.toml: {error}"))?;
    let manifest: toml::Table = text
        .parse()
        .map_err(|error| format!("Cargo.toml is not valid TOML: {error}"))?;
    manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("package"))
        .and_then(|package| package.get("version"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.toml has no [workspace.package] version".to_owned())
}

/// The workspace members, from `cargo metadata --format-version 1 --no-deps`.
pub(crate) fn members() -> Result<Vec<Member>> {
    let json = read(cargo().args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let metadata: Value = serde_json::from_str(&json)
        .map_err(|error| format!("cannot parse cargo metadata: {error}"))?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata printed no `packages`")?;
    packages.iter().map(member).collect()
}

fn member(package: &Value) -> Result<Member> {
    let text = |key: &str| package[key].as_str().map(str::to_owned);
    let name = text("name").ok_or("a package in cargo metadata has no name")?;
    let manifest = text("manifest_path").ok_or_else(|| format!("{name} has no manifest_path"))?;
    let dir = Path::new(&manifest)
        .parent()
        .ok_or_else(|| format!("{name}: manifest path {manifest} has no folder"))?
        .to_path_buf();
    // `publish` is null when the crate may go to any registry, a list of registries otherwise;
    // `publish = false` shows as an empty list.
    let publishable = package["publish"]
        .as_array()
        .is_none_or(|registries| !registries.is_empty());
    let path_deps = package["dependencies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|dep| dep["path"].is_string())
        // `cargo publish` strips versionless path dev-dependencies (the unpublished conformance
        // kit), so only those with a version, and all normal ones, must match.
        .filter(|dep| !(dep["kind"].as_str() == Some("dev") && dep["req"].as_str() == Some("*")))
        .map(|dep| {
            (
                dep["name"].as_str().unwrap_or("?").to_owned(),
                dep["req"].as_str().unwrap_or("*").to_owned(),
            )
        })
        .collect();
    Ok(Member {
        version: text("version").unwrap_or_default(),
        publishable,
        dir,
        description: text("description"),
        license: text("license"),
        repository: text("repository"),
        path_deps,
        name,
    })
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    let rules = widths.map(|width| "-".repeat(width));
    line(rules.iter().map(String::as_str).collect());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_entries() {
        let changelog = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2025-01-31\n\n## 0.1.0\n";
        assert!(has_entry(changelog, "0.2.0"));
        assert!(has_entry(changelog, "0.1.0"));
        assert!(!has_entry(changelog, "0.3.0"));
        assert!(!has_entry("## [0.1.0-rc.1]\n", "0.1.0"));
        assert!(!has_entry("## 0.1.01\n", "0.1.0"));
        assert!(!has_entry("### [0.1.0]\n", "0.1.0"));
    }

    #[test]
    fn requirements() {
        for (requirement, version, matches) in [
            ("^0.1.0", "0.1.0", true),
            ("^0.1", "0.1.3", true),
            ("0.1.0", "0.1.0", true),
            ("=0.1.0", "0.1.0", true),
            ("=0.1.0", "0.1.1", false),
            ("^0.1.0", "0.2.0", false),
            ("^0.1.2", "0.1.0", false),
            ("^1.0.0", "1.4.0", true),
            ("^1.0.0", "2.0.0", false),
            (">=0.1, <0.3", "0.1.0", false),
        ] {
            assert_eq!(
                requirement_matches(requirement, version),
                matches,
                "{requirement} vs {version}"
            );
        }
    }

    #[test]
    fn the_workspace_has_a_version() {
        let version = workspace_version().unwrap();
        assert_eq!(version.split('.').count(), 3, "{version}");
    }
}
