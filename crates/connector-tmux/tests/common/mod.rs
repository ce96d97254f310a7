//! Shared helpers for the integration tests: a private tmux server per test (killed on
//! drop), a scratch directory, and small waiting helpers.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use connector_tmux::{PaneLine, Socket, TmuxSettings};
use tokio::sync::mpsc;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What a test program prints once its terminal is set up: sets the pane title to `ready`.
pub const READY: &str = "printf '\\033]2;ready\\007'";

/// A tmux server of this test's own (`-L <unique name>`, no config file). The server is
/// killed when the guard drops, whatever the test did.
pub struct TestServer {
    pub name: String,
}

impl TestServer {
    /// Chooses a unique socket name; nothing is started yet.
    pub fn new() -> Self {
        Self {
            name: unique("ctmux"),
        }
    }

    /// Runs `tmux -L name -f /dev/null ARGS` and returns stdout (panics on failure).
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.try_tmux(args);
        match out {
            Ok(stdout) => stdout,
            Err(stderr) => panic!("tmux {args:?} failed: {stderr}"),
        }
    }

    /// Like [`tmux`](Self::tmux) but returns stderr on failure.
    pub fn try_tmux(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("tmux")
            .args(["-u", "-L", &self.name, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Starts the server with a detached session running `command` (argv).
    pub fn start_session(&self, session: &str, command: &[&str]) {
        let mut args = vec!["new-session", "-d", "-s", session, "-x", "200", "-y", "50"];
        args.extend_from_slice(command);
        self.tmux(&args);
    }

    /// Starts `script` (run by `sh -c`) in a detached session and waits until the pane's
    /// title reads `ready`: scripts that set up their terminal (`stty -echo`, raw mode) print
    /// [`READY`] once done, so that nothing is typed while the tty still echoes.
    pub async fn start_ready(&self, session: &str, script: &str) {
        self.start_session(session, &["sh", "-c", script]);
        self.wait_ready(&format!("{session}:0.0")).await;
    }

    /// Waits until the pane `target` has set its title to `ready` (see [`READY`]).
    pub async fn wait_ready(&self, target: &str) {
        let ready = || {
            self.try_tmux(&["display-message", "-p", "-t", target, "#{pane_title}"])
                .is_ok_and(|title| title.trim() == "ready")
        };
        assert!(
            wait_until(LONG, ready).await,
            "the program in {target} did not get ready"
        );
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.tmux(&["display-message", "-p", "#{pid}"])
            .trim()
            .parse()
            .expect("pid")
    }

    /// Settings pointing at this server.
    pub fn console_settings(&self, session: &str) -> TmuxSettings {
        let mut s = TmuxSettings::console(session);
        self.apply(&mut s);
        s
    }

    /// Settings for a pane endpoint on this server.
    pub fn pane_settings(&self, target: &str) -> TmuxSettings {
        let mut s = TmuxSettings::pane(target);
        self.apply(&mut s);
        s
    }

    fn apply(&self, s: &mut TmuxSettings) {
        s.socket = Socket::Name(self.name.clone());
        s.config_file = Some("/dev/null".into());
        s.op_timeout = Duration::from_secs(3);
        s.verify_timeout = Duration::from_secs(3);
    }

    /// Types `text` into `target` the way an operator would, then presses Enter.
    pub fn type_line(&self, target: &str, text: &str) {
        self.tmux(&["send-keys", "-t", target, "-l", "--", text]);
        self.tmux(&["send-keys", "-t", target, "Enter"]);
    }

    /// The visible screen of `target`.
    pub fn screen(&self, target: &str) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", target])
    }

    /// Kills the server (`kill-server`); ignores "no server".
    pub fn kill(&self) {
        let _ = self.try_tmux(&["kill-server"]);
        // `kill-server` returns before the server has exited; a client started meanwhile
        // would reach the dying server ("server exited unexpectedly"). Wait until it is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.try_tmux(&["list-sessions"]) {
                // "error connecting" means the socket is still there while the server exits;
                // only "no server running" (the socket is gone) is safe for a new server.
                Err(e) if e.contains("no server running") => return,
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TMUX_ON_PANIC").is_some() && std::thread::panicking() {
            return;
        }
        self.kill();
        if let Some(path) = Socket::Name(self.name.clone()).path() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A scratch directory removed on drop.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(unique("ctmux-scratch"));
        std::fs::create_dir_all(&path).expect("scratch dir");
        Self { path }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn path_str(&self, name: &str) -> String {
        self.file(name).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Polls `condition` until it holds or `timeout` passes.
pub async fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Receives lines until one has `text`, failing after `timeout`. Returns it with every
/// line received on the way.
pub async fn expect_line(
    rx: &mut mpsc::Receiver<PaneLine>,
    text: &str,
    timeout: Duration,
) -> (PaneLine, Vec<PaneLine>) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) if line.text == text => return (line, seen),
            Ok(Some(line)) => seen.push(line),
            Ok(None) => panic!("line channel closed while waiting for {text:?}; got {seen:?}"),
            Err(_) => panic!("no line {text:?} within {timeout:?}; got {seen:?}"),
        }
    }
}

/// Everything that arrives within `window`.
pub async fn drain(rx: &mut mpsc::Receiver<PaneLine>, window: Duration) -> Vec<PaneLine> {
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        out.push(line);
    }
    out
}

/// Whether the file exists after giving any late command a moment to run.
pub async fn appears(path: &Path, within: Duration) -> bool {
    wait_until(within, || path.exists()).await
}

pub const SHORT: Duration = Duration::from_millis(700);
pub const LONG: Duration = Duration::from_secs(5);
