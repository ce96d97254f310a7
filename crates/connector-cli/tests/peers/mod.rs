//! Shared by the bridge and MCP tests: an agent program in a pane of a private tmux server, and
//! the `connector` binary run as a long-lived child process.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses part of this module"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for something to arrive.
pub const PATIENCE: Duration = Duration::from_secs(30);

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A program that answers each line it reads with `ack: <line>`; the terminal echoes the input,
/// as it does for an agent CLI.
pub const ACK_PROGRAM: &str =
    "printf 'agent ready\\n'; while IFS= read -r l; do printf 'ack: %s\\n' \"$l\"; done";

/// A private tmux server whose session `agent` runs a program in pane `agent:0.0`; killed on
/// drop.
pub struct Tmux {
    pub socket: String,
    pub dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts a server whose pane runs `program` (with `sh -c`), and waits for its first line.
    pub fn start(program: &str) -> Tmux {
        let socket = format!(
            "ccli-peer-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let tmux = Tmux {
            socket,
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        let status = tmux
            .command()
            .args([
                "new-session",
                "-d",
                "-s",
                "agent",
                "-x",
                "200",
                "-y",
                "50",
                "sh",
                "-c",
                program,
            ])
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        eventually("the agent program to start", || {
            tmux.screen().contains("agent ready").then_some(())
        });
        tmux
    }

    /// Starts session `agent` running `program` again (on a server that lost it, or a new server
    /// on the same socket), and waits for its first line.
    pub fn restart_agent(&self, program: &str) {
        let status = self
            .command()
            .args([
                "new-session",
                "-d",
                "-s",
                "agent",
                "-x",
                "200",
                "-y",
                "50",
                "sh",
                "-c",
                program,
            ])
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        eventually("the agent program to start again", || {
            self.screen().contains("agent ready").then_some(())
        });
    }

    /// Runs `tmux ARGS` on this server; answers whether it succeeded.
    pub fn run(&self, args: &[&str]) -> bool {
        self.command()
            .args(args)
            .status()
            .expect("run tmux")
            .success()
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    /// The pane's text (joined wrapped lines), scrollback included.
    pub fn screen(&self) -> String {
        let output = self
            .command()
            .args(["capture-pane", "-p", "-J", "-S", "-", "-t", "=agent:0.0"])
            .output()
            .expect("run tmux capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// How many lines of the pane are exactly `line`.
    pub fn count_lines(&self, line: &str) -> usize {
        self.screen()
            .lines()
            .filter(|l| l.trim_end() == line)
            .count()
    }

    /// Types `line` and Enter into the pane, as a person at the keyboard would.
    pub fn type_line(&self, line: &str) {
        self.type_line_into("=agent:0.0", line);
    }

    /// Types `line` and Enter into pane `target`.
    pub fn type_line_into(&self, target: &str, line: &str) {
        for keys in [vec!["-l", "--", line], vec!["Enter"]] {
            let status = self
                .command()
                .args(["send-keys", "-t", target])
                .args(&keys)
                .status()
                .expect("run tmux send-keys");
            assert!(status.success());
        }
    }

    /// A roster making the pane a tmux pane endpoint (the agent's side of a bridge).
    pub fn pane_roster(&self) -> PathBuf {
        self.write_roster(
            "pane.yaml",
            &format!(
                "connector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n    mode: pane\n    target: \"agent:0.0\"\n",
                self.socket
            ),
        )
    }

    /// `discord.yaml`: the Discord connector on `channel` of the emulator, `operator` its only
    /// allowed sender, its state in this test's directory; `top` comes before the block (e.g.
    /// `"agents: [builder]\n"`).
    pub fn discord_roster(
        &self,
        top: &str,
        operator: discord_emulator::Snowflake,
        channel: discord_emulator::Snowflake,
    ) -> PathBuf {
        self.write_roster(
            "discord.yaml",
            &format!(
                "{top}connector:\n  kind: discord\n  allowed_senders: ['{operator}']\n  \
                 discord:\n    channel_id: '{channel}'\n    state_dir: '{}'\n",
                self.dir.path().join("discord-state").display()
            ),
        )
    }

    /// Writes `text` as a file of this test's directory.
    pub fn write_roster(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write the roster");
        path
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

/// The environment that points the connector at `emulator`.
pub fn discord_env(emulator: &discord_emulator::Emulator) -> [(String, String); 2] {
    [
        (
            "DISCORD_BOT_TOKEN".to_owned(),
            emulator.bot_token().to_owned(),
        ),
        ("DISCORD_API_BASE_URL".to_owned(), emulator.base_url()),
    ]
}

/// The `connector` binary running as a child process; its stderr is collected, and it is killed
/// on drop.
pub struct Running {
    pub child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `connector ARGS` with `env`, and waits until its stderr shows `ready`.
    pub fn start(args: &[&str], env: &[(String, String)], ready: &str) -> Running {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("connector"));
        command
            .args(args)
            .env_remove("CONNECTOR_ROSTER")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start connector");
        let stderr = Arc::new(Mutex::new(String::new()));
        let reader = BufReader::new(child.stderr.take().expect("stderr"));
        {
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in reader.lines().map_while(Result::ok) {
                    let mut all = stderr.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
        }
        let mut running = Running { child, stderr };
        let deadline = Instant::now() + PATIENCE;
        while !running.stderr().contains(ready) {
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!("connector exited with {status}:\n{}", running.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "connector not ready:\n{}",
                running.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }

    /// Everything it printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for it to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for connector") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "connector ignored SIGTERM:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `probe` every 50 ms until it answers `Some`, failing after [`PATIENCE`].
pub fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `--state PATH` arguments for a bridge state file in `dir`.
pub fn state_file(dir: &Path) -> String {
    dir.join("bridge-state.json").display().to_string()
}
