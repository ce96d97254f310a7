//! `cargo xtask release --dry-run`: checks that the workspace is ready to publish, then packages it.
//!
//! Checked for every publishable member: its version is the `[workspace.package]` version; each
//! internal path dependency also carries a version requirement that the workspace version meets
//! (`cargo publish` needs it); its folder has a `CHANGELOG.md` with an entry for the version; its
//! manifest has a description, a licence and a repository; and its name is free on crates.io or
//! already ours there (every version crates.io holds has an entry in our changelog), and the
//! version is not published yet. Then `cargo publish --workspace --dry-run` packages and builds
//! every publishable crate, stopping before the upload. Publishing for real is left to a
//! maintainer.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

use serde_json::Value;

use crate::{Result, cargo, project_root, read, run_step, step};

mod crates_io;

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
    let mut unknown_names = Vec::new();
    for member in &publishable {
        let mut found = check(member, &version);
        let name = match crates_io::published_versions(&member.name) {
            Ok(published) => {
                let ours = fs::read_to_string(member.dir.join("CHANGELOG.md"))
                    .map(|text| changelog_versions(&text))
                    .unwrap_or_default();
                found.extend(
                    name_problem(&member.name, &version, &published, &ours)
                        .map(|problem| (Check::Name, problem)),
                );
                mark(&found, Check::Name)
            }
            Err(why) => {
                unknown_names.push(format!("{}: {why}", member.name));
                "unknown".to_owned()
            }
        };
        rows.push([
            member.name.clone(),
            member.version.clone(),
            mark(&found, Check::Version),
            mark(&found, Check::PathDeps),
            mark(&found, Check::Changelog),
            mark(&found, Check::Metadata),
            name,
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
            "crates.io name",
        ],
        &rows,
    );
    if !unknown_names.is_empty() {
        println!(
            "crates.io's index could not be read, so these names are not checked (a real \
             publish would find out):\n  {}",
            unknown_names.join("\n  ")
        );
    }
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
    forget_unpacked_copies(&publishable);
    let target_dir = verify_target_dir()?;
    forget_stale_builds(&target_dir, &publishable);
    run_step(
        "cargo publish --dry-run",
        cargo()
            .args(["publish", "--workspace", "--dry-run", "--allow-dirty"])
            .arg("--target-dir")
            .arg(&target_dir),
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
    /// The name on crates.io: free, or ours with this version not yet published.
    Name,
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

/// The versions a changelog has entries for (`## [0.1.0] - …` or `## 0.1.0`).
fn changelog_versions(changelog: &str) -> Vec<String> {
    changelog
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .filter_map(|heading| {
            let heading = heading.trim_start();
            let version = match heading.strip_prefix('[') {
                Some(bracketed) => bracketed.split(']').next()?,
                None => heading.split([' ', '\t', '(']).next()?,
            };
            let numeric = version.split('-').next()?;
            (numeric.split('.').count() == 3
                && numeric
                    .split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())))
            .then(|| version.to_owned())
        })
        .collect()
}

/// What is wrong with publishing `name` at `version`, given the versions crates.io holds and
/// those our changelog records. A version on crates.io that our changelog does not know means
/// the name belongs to another project: `cargo publish` would be refused, and worse, users told
/// to `cargo install` it would get someone else's code.
fn name_problem(
    name: &str,
    version: &str,
    published: &[String],
    ours: &[String],
) -> Option<String> {
    let foreign: Vec<&str> = published
        .iter()
        .filter(|published| !ours.contains(published))
        .map(String::as_str)
        .collect();
    if !foreign.is_empty() {
        return Some(format!(
            "crates.io already has `{name}` {}, which no entry of its CHANGELOG.md records: the \
             name belongs to another project; rename the package",
            foreign.join(", ")
        ));
    }
    if published.iter().any(|published| published == version) {
        return Some(format!(
            "{name} {version} is already on crates.io: bump the workspace version"
        ));
    }
    None
}

/// Removes what earlier dry runs unpacked of our own crates from cargo's cache.
///
/// `cargo publish --workspace --dry-run` verifies each crate against the packages it just made,
/// through a temporary local registry whose crates cargo unpacks under
/// `$CARGO_HOME/registry/src/-<hash>/`. Cargo never unpacks a `name-version` twice, so after the
/// first dry run every later one builds against that first copy of the sources, not the current
/// ones, and fails on anything added since (rust-lang/cargo reuses the folder because a
/// published version cannot change). Only those local-registry folders (their names start with
/// `-`) are touched: crates.io's own cache is left alone.
fn forget_unpacked_copies(members: &[&Member]) {
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let Some(cargo_home) = cargo_home else {
        return;
    };
    for (kind, suffix) in [("src", ""), ("cache", ".crate")] {
        let Ok(registries) = fs::read_dir(cargo_home.join("registry").join(kind)) else {
            continue;
        };
        for registry in registries.flatten() {
            if !registry.file_name().to_string_lossy().starts_with('-') {
                continue;
            }
            for member in members {
                let copy = registry
                    .path()
                    .join(format!("{}-{}{suffix}", member.name, member.version));
                let removed = if copy.is_dir() {
                    fs::remove_dir_all(&copy)
                } else {
                    fs::remove_file(&copy)
                };
                if removed.is_ok() {
                    println!(
                        "removed a stale copy from an earlier dry run: {}",
                        copy.display()
                    );
                }
            }
        }
    }
}

/// Where the dry run builds: a folder of its own inside the workspace's target dir.
///
/// Cargo takes a registry crate's build to be valid for as long as its name and version stay
/// the same, so a build of `connector-core 0.1.0` from an earlier dry run's temporary registry
/// would be reused for every later one. Keeping those builds apart from the test builds lets
/// [`forget_stale_builds`] drop them without making the tests rebuild.
fn verify_target_dir() -> Result<PathBuf> {
    let json = read(cargo().args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let metadata: Value = serde_json::from_str(&json)
        .map_err(|error| format!("cannot parse cargo metadata: {error}"))?;
    let target = metadata["target_directory"]
        .as_str()
        .ok_or("cargo metadata printed no `target_directory`")?;
    Ok(Path::new(target).join("release-dry-run"))
}

/// Removes the dry run's earlier builds of our own crates (their fingerprints), so that each
/// dry run compiles the sources it just packaged; dependencies stay built.
fn forget_stale_builds(target_dir: &Path, members: &[&Member]) {
    let Ok(profiles) = fs::read_dir(target_dir) else {
        return;
    };
    for profile in profiles.flatten() {
        let Ok(units) = fs::read_dir(profile.path().join(".fingerprint")) else {
            continue;
        };
        for unit in units.flatten() {
            let name = unit.file_name().to_string_lossy().into_owned();
            // `connector-core-<16 hex digits>`; `connector-core` must not catch a
            // `connector-core-extra-<hash>`.
            let ours = name.rsplit_once('-').is_some_and(|(crate_name, hash)| {
                hash.len() == 16
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    && members.iter().any(|member| member.name == crate_name)
            });
            if ours {
                let _ = fs::remove_dir_all(unit.path());
            }
        }
    }
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
    fn changelog_versions_are_read_from_headings() {
        let changelog = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2025-01-31\n\
                         ### Added\n## 0.1.0 (first)\n## [0.1.0-rc.1]\n## notes 1.2.3\n";
        assert_eq!(
            changelog_versions(changelog),
            ["0.2.0", "0.1.0", "0.1.0-rc.1"]
        );
    }

    #[test]
    fn names_taken_by_another_project_or_versions_already_out_are_problems() {
        let list = |items: &[&str]| {
            items
                .iter()
                .map(|item| (*item).to_owned())
                .collect::<Vec<_>>()
        };
        // Free on crates.io.
        assert_eq!(name_problem("a", "0.1.0", &[], &list(&["0.1.0"])), None);
        // Ours: every published version is in our changelog, this one is not out yet.
        assert_eq!(
            name_problem("a", "0.2.0", &list(&["0.1.0"]), &list(&["0.2.0", "0.1.0"])),
            None
        );
        // Someone else's: versions we never released.
        let taken = name_problem(
            "connector-cli",
            "0.1.0",
            &list(&["0.5.0", "0.6.0"]),
            &list(&["0.1.0"]),
        )
        .expect("a foreign crate is a problem");
        assert!(taken.contains("0.5.0, 0.6.0"), "{taken}");
        assert!(taken.contains("rename the package"), "{taken}");
        // Ours, but this version is already out.
        let out = name_problem("a", "0.1.0", &list(&["0.1.0"]), &list(&["0.1.0"]))
            .expect("a published version is a problem");
        assert!(out.contains("bump"), "{out}");
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
