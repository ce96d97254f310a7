//! `cargo xtask`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! Run `cargo xtask help` for the list of commands. Each command lives in its own module; this file
//! only parses arguments and holds the few helpers they share (running a command, finding the
//! workspace root, printing step headers).

// xtask talks to a person at a terminal: printing is its job, not an accident.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod codegen;
mod provision;
mod release;
mod test;
#[cfg(test)]
mod tidy;

use std::{
    env,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

/// Errors are messages for a person: xtask prints them and exits non-zero.
pub(crate) type Result<T, E = String> = std::result::Result<T, E>;

const HELP: &str = "\
cargo xtask — project automation

USAGE:
    cargo xtask <COMMAND> [OPTIONS]

COMMANDS:
    test [--skip-provision] [--quick]
        The project's one test command: provision tools, then fmt, clippy, tests, docs, cargo-deny
        and the release dry run.
        --skip-provision  do not check for or install tmux, cargo-nextest, cargo-deny
        --quick           skip clippy, rustdoc, cargo-deny and the release dry run
    codegen [--check]
        Write schemas/connector.schema.json from the Rust config types;
        with --check, fail when the committed file is out of date.
    release --dry-run
        Check versions, changelogs and manifest metadata, then package every publishable crate.
    bench [tmux|matrix|discord ...]
        Run the tmux, Matrix and Discord benchmarks (or only those named) and write their
        sections of docs/benchmarks.md.
    help
        Print this message.
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    // `bench` takes the names of the benches to run; every other command takes flags only.
    let (names, rest): (Vec<String>, Vec<String>) = if command == "bench" {
        rest.iter().cloned().partition(|arg| !arg.starts_with("--"))
    } else {
        (Vec::new(), rest.to_vec())
    };
    let mut flags = Flags::parse(&rest)?;
    match command {
        "test" => {
            let options = test::Options {
                skip_provision: flags.take("--skip-provision"),
                quick: flags.take("--quick"),
            };
            flags.finish(command)?;
            test::run(&options)
        }
        "codegen" => {
            let mode = if flags.take("--check") {
                codegen::Mode::Check
            } else {
                codegen::Mode::Write
            };
            flags.finish(command)?;
            codegen::run(mode)
        }
        "release" => {
            let dry_run = flags.take("--dry-run");
            flags.finish(command)?;
            release::run(dry_run)
        }
        "bench" => {
            flags.finish(command)?;
            bench::run(&names)
        }
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`; run `cargo xtask help`")),
    }
}

/// Hand-parsed `--flag` arguments: each command takes the flags it knows, and any left over are an
/// error rather than silently ignored.
struct Flags {
    given: Vec<String>,
}

impl Flags {
    fn parse(args: &[String]) -> Result<Self> {
        if let Some(positional) = args.iter().find(|arg| !arg.starts_with("--")) {
            return Err(format!(
                "unexpected argument `{positional}`; run `cargo xtask help`"
            ));
        }
        Ok(Self {
            given: args.to_vec(),
        })
    }

    /// Whether `flag` was given; it is consumed either way.
    fn take(&mut self, flag: &str) -> bool {
        let before = self.given.len();
        self.given.retain(|arg| arg != flag);
        self.given.len() != before
    }

    /// Fails when flags were given that the command did not take.
    fn finish(self, command: &str) -> Result<()> {
        let left = self.given;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "`cargo xtask {command}` does not take {}; run `cargo xtask help`",
                left.join(" ")
            ))
        }
    }
}

/// The workspace root: the parent of this crate's folder.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the workspace root")
        .to_path_buf()
}

/// The cargo that runs us, so every step uses the same toolchain as `cargo xtask` itself.
pub(crate) fn cargo() -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(project_root());
    command
}

/// Prints the `==> step` header that starts each step of a command.
pub(crate) fn step(name: &str) {
    println!("\n==> {name}");
}

/// Runs `command` with inherited stdio; an unsuccessful exit becomes an error naming `what`.
pub(crate) fn run_step(what: &str, command: &mut Command) -> Result<()> {
    println!("$ {}", display(command));
    let status = command
        .status()
        .map_err(|error| format!("{what}: could not start `{}`: {error}", display(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Runs `command` and returns its stdout, or an error with its stderr.
pub(crate) fn read(command: &mut Command) -> Result<String> {
    let output = command
        .output()
        .map_err(|error| format!("could not start `{}`: {error}", display(command)))?;
    if output.status.success() {
        String::from_utf8(output.stdout)
            .map_err(|_| format!("`{}` printed something that is not UTF-8", display(command)))
    } else {
        Err(format!(
            "`{}` failed ({}):\n{}",
            display(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ))
    }
}

/// Whether `program args…` can be started and exits successfully (used to probe for tools).
pub(crate) fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A command line as a person would type it, for logs and error messages.
pub(crate) fn display(command: &Command) -> String {
    let mut line = String::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            line.push_str(&key.to_string_lossy());
            line.push('=');
            line.push_str(&quoted(&value.to_string_lossy()));
            line.push(' ');
        }
    }
    let program = Path::new(command.get_program());
    // `$CARGO` is an absolute path into the toolchain; show it as the `cargo` a person types.
    let program = match program.file_name() {
        Some(name) if name == "cargo" => "cargo".into(),
        _ => program.to_string_lossy(),
    };
    line.push_str(&program);
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&quoted(&arg.to_string_lossy()));
    }
    line
}

/// `word` as a shell would need it: in double quotes when it has spaces.
fn quoted(word: &str) -> String {
    if word.contains(char::is_whitespace) {
        format!("\"{word}\"")
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn unknown_commands_and_flags_are_errors() {
        let error = run(&args(&["frobnicate"])).unwrap_err();
        assert!(error.contains("unknown command `frobnicate`"), "{error}");

        let error = run(&args(&["bench", "--fast"])).unwrap_err();
        assert!(error.contains("does not take --fast"), "{error}");

        let error = run(&args(&["bench", "discord", "irc"])).unwrap_err();
        assert!(error.contains("unknown bench `irc`"), "{error}");

        let error = run(&args(&["codegen", "schemas"])).unwrap_err();
        assert!(error.contains("unexpected argument `schemas`"), "{error}");
    }

    #[test]
    fn commands_display_as_typed() {
        let mut command = Command::new("/opt/rust/bin/cargo");
        command
            .args(["doc", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            display(&command),
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc --no-deps"
        );
    }

    #[test]
    fn release_refuses_to_publish_for_real() {
        let error = run(&args(&["release"])).unwrap_err();
        assert!(error.contains("cargo publish --workspace"), "{error}");
    }
}
