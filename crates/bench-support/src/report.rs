//! The report file, `docs/benchmarks.md`: one marked section per bench.

use std::io::ErrorKind;
use std::path::Path;

/// The top of a report file that does not exist yet.
pub const REPORT_HEADER: &str = "# Benchmarks\n\n\
Written by `cargo xtask bench`. Each section belongs to one bench, which replaces it (between its \
`<!-- bench:… -->` markers) on every run and leaves the others alone; do not edit by hand.\n";

/// The report text `old` with bench `name`'s section — the text between
/// `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` — replaced by `section`,
/// keeping the rest. A section not there yet is appended; a text without any section markers
/// (or an empty one) is started afresh with [`REPORT_HEADER`].
///
/// ```
/// let report = bench_support::replace_section("", "tmux", "## tmux\n");
/// assert!(report.ends_with("<!-- bench:tmux:start -->\n## tmux\n<!-- bench:tmux:end -->\n"));
/// ```
pub fn replace_section(old: &str, name: &str, section: &str) -> String {
    let start = format!("<!-- bench:{name}:start -->");
    let end = format!("<!-- bench:{name}:end -->");
    let block = format!("{start}\n{}\n{end}\n", section.trim_end());
    match (old.find(&start), old.find(&end)) {
        (Some(from), Some(to)) if from < to => {
            let after = &old[to + end.len()..];
            format!(
                "{}{block}{}",
                &old[..from],
                after.strip_prefix('\n').unwrap_or(after)
            )
        }
        _ if old.contains("<!-- bench:") => format!("{}\n\n{block}", old.trim_end()),
        _ => format!("{REPORT_HEADER}\n{block}"),
    }
}

/// Replaces bench `name`'s section of the report at `path` with `section` (see
/// [`replace_section`]), creating the file and its folder when missing.
pub fn write_section(path: &Path, name: &str, section: &str) -> Result<(), String> {
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("could not read {}: {e}", path.display())),
    };
    let new = replace_section(&old, name, section);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, new).map_err(|e| format!("could not write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_report_starts_with_the_header() {
        assert_eq!(
            replace_section("", "tmux", "## tmux\n\nfigures\n\n"),
            format!(
                "{REPORT_HEADER}\n<!-- bench:tmux:start -->\n## tmux\n\nfigures\n\
                 <!-- bench:tmux:end -->\n"
            )
        );
        // A file without markers (hand-written) is started afresh too.
        assert!(replace_section("# Old notes\n", "tmux", "x").starts_with(REPORT_HEADER));
    }

    #[test]
    fn a_section_is_replaced_in_place_and_the_others_kept() {
        let old = replace_section("", "tmux", "tmux v1");
        let old = replace_section(&old, "matrix", "matrix v1");
        assert!(old.ends_with(
            "<!-- bench:tmux:end -->\n\n<!-- bench:matrix:start -->\nmatrix v1\n\
             <!-- bench:matrix:end -->\n"
        ));
        let new = replace_section(&old, "tmux", "tmux v2\n\n");
        assert_eq!(new, old.replace("tmux v1", "tmux v2"));
        // Replacing again with the same text changes nothing.
        assert_eq!(replace_section(&new, "tmux", "tmux v2"), new);
    }

    #[test]
    fn writes_the_file_creating_its_folder() {
        let dir = std::env::temp_dir().join(format!("bench-support-{}", std::process::id()));
        let path = dir.join("docs/benchmarks.md");
        write_section(&path, "discord", "## Discord").unwrap();
        write_section(&path, "matrix", "## Matrix").unwrap();
        write_section(&path, "discord", "## Discord 2").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            text,
            replace_section(
                &replace_section("", "discord", "## Discord 2"),
                "matrix",
                "## Matrix"
            )
        );
    }
}
