//! The benches' command line: flags, `main`'s exit code, and publishing the section.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::report::write_section;

/// Command-line flags of a round-trip bench.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Small N: a smoke test. Also on when cargo did not pass `--bench`
    /// (`cargo test --benches`), as criterion does.
    pub quick: bool,
    /// Where to write the bench's section of the report, resolved against the workspace root.
    pub write: Option<PathBuf>,
}

impl Options {
    /// Parses the arguments after the program name; `None` when help was asked for.
    ///
    /// ```
    /// let options = bench_support::Options::parse(["--bench".to_owned()].into_iter())
    ///     .unwrap()
    ///     .unwrap();
    /// assert!(!options.quick);
    /// ```
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut quick = false;
        let mut write = None;
        // cargo passes `--bench` to harness-less benches under `cargo bench`, not under
        // `cargo test --benches`; like criterion, the latter gets a short smoke run.
        let mut benching = false;
        let mut args = args;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--bench" => benching = true,
                "--write" => {
                    let path = args.next().ok_or("--write needs a path")?;
                    write = Some(PathBuf::from(path));
                }
                "--help" | "-h" => return Ok(None),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Some(Self {
            quick: quick || !benching,
            write: write.map(|path| workspace_root().join(path)),
        }))
    }
}

/// A bench's `--help` text: `summary` on top, `package`'s command line, the flags (`quick` says
/// how long a quick run takes, `section` names the report's section), then `note` if not empty.
pub fn usage(summary: &str, package: &str, quick: &str, section: &str, note: &str) -> String {
    let mut usage = format!(
        "\
roundtrip — {summary}

USAGE:
    cargo bench -p {package} --bench roundtrip -- [--quick] [--write <path>]

    --quick          small N (a smoke test, {quick})
    --write <path>   write the report's {section} section there, keeping the other sections
                     (relative: from the workspace root)
"
    );
    if !note.is_empty() {
        usage.push('\n');
        usage.push_str(note);
        usage.push('\n');
    }
    usage
}

/// A bench's `main`: parses the process's arguments (printing `usage` for `--help` or a bad
/// flag), runs `run` and turns its error into a message on stderr and a failing exit code.
pub fn run_main(usage: &str, run: impl FnOnce(&Options) -> Result<(), String>) -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{usage}");
            return ExitCode::FAILURE;
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the bench's `markdown` and, with `--write`, replaces its `section` of the report.
pub fn publish(options: &Options, section: &str, markdown: &str) -> Result<(), String> {
    println!("\n{markdown}");
    if let Some(path) = &options.write {
        write_section(path, section, markdown)?;
        println!("wrote the `{section}` section of {}", path.display());
    }
    Ok(())
}

/// The workspace root: two folders above this crate (and above every backend crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(args.iter().map(|&a| a.to_owned()))
    }

    #[test]
    fn without_cargos_bench_flag_the_run_is_quick() {
        assert_eq!(
            parse(&[]),
            Ok(Some(Options {
                quick: true,
                write: None
            }))
        );
        assert_eq!(
            parse(&["--bench"]),
            Ok(Some(Options {
                quick: false,
                write: None
            }))
        );
        assert_eq!(
            parse(&["--bench", "--quick"]).map(|o| o.map(|o| o.quick)),
            Ok(Some(true))
        );
    }

    #[test]
    fn a_relative_write_path_is_taken_from_the_workspace_root() {
        let options = parse(&["--bench", "--write", "docs/benchmarks.md"])
            .unwrap()
            .unwrap();
        let path = options.write.unwrap();
        assert_eq!(path, workspace_root().join("docs/benchmarks.md"));
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("crates/bench-support").is_dir());
    }

    #[test]
    fn usage_text() {
        let usage = usage(
            "tmux vs tmux",
            "connector-tmux",
            "a few seconds",
            "tmux",
            "",
        );
        assert_eq!(
            usage,
            "roundtrip — tmux vs tmux\n\nUSAGE:\n    cargo bench -p connector-tmux --bench roundtrip \
             -- [--quick] [--write <path>]\n\n    --quick          small N (a smoke test, a few \
             seconds)\n    --write <path>   write the report's tmux section there, keeping the \
             other sections\n                     (relative: from the workspace root)\n"
        );
        let with_note = super::usage("s", "p", "q", "S", "Needs Synapse.");
        assert!(
            with_note.ends_with("workspace root)\n\nNeeds Synapse.\n"),
            "{with_note}"
        );
    }

    #[test]
    fn help_and_bad_flags() {
        assert_eq!(parse(&["--help"]), Ok(None));
        assert_eq!(parse(&["-h"]), Ok(None));
        assert_eq!(parse(&["--write"]), Err("--write needs a path".to_owned()));
        assert_eq!(
            parse(&["--fast"]),
            Err("unknown argument `--fast`".to_owned())
        );
    }
}
