//! Shared by the CLI's end-to-end tests: the real binary with a clean environment, rosters in
//! a temporary directory, and private tmux servers.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use assert_cmd::Command;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A name no other test of this run uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The `connector` binary with no roster, secret or log setting inherited, and its state kept
/// under `state`.
pub fn connector(state: &Path) -> Command {
    let mut command = Command::cargo_bin("connector").expect("the connector binary is built");
    for variable in [
        "CONNECTOR_ROSTER",
        "RUST_LOG",
        "MATRIX_ACCESS_TOKEN",
        "MATRIX_ACCESS_TOKEN_FILE",
        "DISCORD_BOT_TOKEN",
        "DISCORD_BOT_TOKEN_FILE",
        "DISCORD_API_BASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_TOKEN_FILE",
        "TELEGRAM_API_BASE_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_BOT_TOKEN_FILE",
        "SLACK_APP_TOKEN",
        "SLACK_APP_TOKEN_FILE",
        "SLACK_API_BASE_URL",
        "CREDENTIALS_DIRECTORY",
        "TMUX",
    ] {
        command.env_remove(variable);
    }
    command
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", state)
        .env("HOME", state)
        .timeout(Duration::from_secs(120));
    command
}

/// A directory for one test's rosters and state, removed on drop.
pub struct Dir {
    pub dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::Builder::new()
                .prefix("connector-cli-test-")
                .tempdir()
                .expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` in the directory and answers its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// The binary, its state in this directory.
    pub fn connector(&self) -> Command {
        connector(self.path())
    }
}

/// A private tmux server (`tmux -L NAME`), killed on drop.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// A name for a server; nothing is started yet.
    pub fn named() -> Tmux {
        Tmux {
            socket: unique("ccli"),
        }
    }

    /// A server with session `work` running `cat` in its one pane.
    pub fn with_pane() -> Tmux {
        let tmux = Tmux::named();
        let output = tmux.run(&["new-session", "-d", "-s", "work", "cat"]);
        assert!(output.status.success(), "{output:?}");
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        StdCommand::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The output's stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

/// The output's stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

/// `connector ask` with the question the backends' CLI tests put to their operator.
pub const ASK_MERGE_OR_HOLD: [&str; 8] = [
    "ask",
    "Merge PR #12?",
    "--choice",
    "Merge",
    "--choice",
    "Hold",
    "--timeout",
    "60",
];

/// Runs `command` on a thread of its own, for a test that acts while it runs.
pub fn spawn(mut command: Command) -> std::thread::JoinHandle<Output> {
    std::thread::spawn(move || command.output().expect("run the connector command"))
}

/// Waits up to a minute for `done`, failing the test if `running` ended first.
pub fn wait_until(
    what: &str,
    running: &std::thread::JoinHandle<Output>,
    mut done: impl FnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        assert!(!running.is_finished(), "the command ended before {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(pattern, replacement)` pairs as insta's `filters` setting takes them.
pub fn pairs(filters: &[(String, String)]) -> Vec<(&str, &str)> {
    filters
        .iter()
        .map(|(pattern, replacement)| (pattern.as_str(), replacement.as_str()))
        .collect()
}
