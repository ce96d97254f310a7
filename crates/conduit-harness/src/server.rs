//! The Conduit process: starting it on a free port, waiting until it answers, stopping, killing
//! and restarting it, and cleaning up after it.

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

use crate::{
    binary,
    config::{self, Layout, SERVER_NAME},
};

/// How long Conduit may take to answer its first request (it takes ~0.2 s on a 2-core machine).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long Conduit may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often readiness and exit are polled.
const POLL: Duration = Duration::from_millis(50);

/// A real Conduit homeserver on `127.0.0.1`, with its own port, SQLite database and temporary
/// directory, run from the binary `cargo xtask test` builds.
///
/// Every call panics with a clear message when something goes wrong: this is test support.
/// Dropping it kills the process and removes the directory — unless the thread is panicking (a
/// test failed), in which case the directory is kept and its path printed, for the log.
///
/// ```no_run
/// # async fn demo() {
/// use conduit_harness::Conduit;
///
/// let conduit = Conduit::start().await;
/// let alice = conduit.register("alice").await;
/// let bob = conduit.register("bob").await;
/// let room = conduit.create_room(&alice, &[&bob]).await;
/// conduit.send_text(&bob, &room, "hello", None).await;
/// let messages = conduit.messages(&alice, &room, 10).await;
/// assert_eq!(messages[0]["content"]["body"], "hello");
/// # }
/// ```
pub struct Conduit {
    /// The running process; `None` after [`kill`](Self::kill) or [`stop`](Self::stop).
    child: Option<Child>,
    /// The port it listens on, kept across restarts.
    port: u16,
    /// Config, database and logs; `None` only once `Drop` decided to keep it.
    dir: Option<TempDir>,
    /// The `conduit` binary.
    binary: PathBuf,
    /// The client every request goes through.
    pub(crate) http: reqwest::Client,
}

impl Conduit {
    /// Starts a homeserver and waits until `GET /_matrix/client/versions` answers.
    ///
    /// # Panics
    ///
    /// When the binary is missing (naming the command that builds it), or when Conduit exits
    /// or does not answer within 60 s (with the tail of its log).
    pub async fn start() -> Conduit {
        Self::start_with_config(config::harness_config).await
    }

    /// As [`start`](Self::start), but with the `conduit.toml` that `config` writes for a
    /// database directory and a port — for tests that run a configuration as documented. The
    /// helpers that register users assume `registration_token` is
    /// [`REGISTRATION_TOKEN`](crate::REGISTRATION_TOKEN).
    pub async fn start_with_config(config: impl Fn(&Path, u16) -> String) -> Conduit {
        let binary = binary::conduit();
        let dir = tempfile::Builder::new()
            .prefix("conduit-harness-")
            .tempdir()
            .unwrap_or_else(|error| panic!("could not create a temporary directory: {error}"));
        let http = reqwest::Client::builder()
            // Never send requests for 127.0.0.1 through an HTTP(S)_PROXY from the environment.
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|error| panic!("could not build the HTTP client: {error}"));
        let mut conduit = Conduit {
            child: None,
            port: 0,
            dir: Some(dir),
            binary,
            http,
        };
        // The free port is released before Conduit binds it, so another process may take it in
        // between; that start fails with "Address already in use" and is retried on a new port.
        for attempt in 1.. {
            conduit.port = free_port();
            let layout = Layout { dir: conduit.dir() };
            if let Err(error) = layout.write(&config(&layout.database(), conduit.port)) {
                panic!("could not write Conduit's configuration: {error}");
            }
            conduit.spawn();
            match conduit.wait_ready().await {
                Ok(()) => break,
                Err(_) if attempt < 3 && conduit.child.is_none() && conduit.port_was_taken() => {}
                Err(error) => conduit.fail(&error),
            }
        }
        conduit
    }

    /// `http://127.0.0.1:PORT`, the homeserver URL to give a Matrix client.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server name: user ids are `@localpart:localhost`.
    pub fn server_name(&self) -> &str {
        SERVER_NAME
    }

    /// The port Conduit listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The temporary directory: `conduit.toml`, the database under `db/` and `console.log` (what
    /// Conduit logs, and its stderr).
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("the directory is only taken while dropping")
            .path()
    }

    /// `conduit.toml`, which a test may rewrite before [`restart`](Self::restart)ing.
    pub fn config_path(&self) -> PathBuf {
        Layout { dir: self.dir() }.config()
    }

    /// Kills the process with SIGKILL — a crash, no clean shutdown — and waits for it to exit.
    /// Does nothing when it is not running.
    pub async fn kill(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if let Err(error) = child.kill() {
            panic!("could not SIGKILL Conduit (pid {}): {error}", child.id());
        }
        if self.wait_exit(STOP_TIMEOUT).await.is_none() {
            self.fail("Conduit did not exit after SIGKILL");
        }
        self.child = None;
    }

    /// Stops the process with SIGTERM, as a service manager would, and waits for it to exit.
    /// Does nothing when it is not running.
    ///
    /// # Panics
    ///
    /// When it has not exited 30 s later (it is then killed).
    pub async fn stop(&mut self) {
        let Some(pid) = self.pid() else {
            return;
        };
        // std can only SIGKILL; the shell's `kill` builtin sends SIGTERM without unsafe code.
        let sent = Command::new("sh")
            .args(["-c", "kill -TERM \"$1\"", "sh", &pid.to_string()])
            .status();
        match sent {
            Ok(status) if status.success() => {}
            Ok(status) => panic!("`kill -TERM {pid}` failed ({status})"),
            Err(error) => panic!("could not run `sh -c 'kill -TERM {pid}'`: {error}"),
        }
        if self.wait_exit(STOP_TIMEOUT).await.is_none() {
            if let Some(child) = self.child.as_mut() {
                let _ = child.kill();
            }
            self.fail(&format!(
                "Conduit did not exit within {}s of SIGTERM",
                STOP_TIMEOUT.as_secs()
            ));
        }
        self.child = None;
    }

    /// Starts the homeserver again on the same port and database — stopping it first with
    /// SIGTERM if it still runs — and waits until it answers.
    ///
    /// # Panics
    ///
    /// As [`start`](Self::start).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn();
        if let Err(error) = self.wait_ready().await {
            self.fail(&error);
        }
    }

    /// Spawns `conduit` with `CONDUIT_CONFIG` set and stdout and stderr appended to
    /// `console.log`.
    fn spawn(&mut self) {
        let layout = Layout { dir: self.dir() };
        let console = fs::File::options()
            .create(true)
            .append(true)
            .open(layout.console())
            .unwrap_or_else(|error| panic!("could not open Conduit's console log: {error}"));
        let stderr = console
            .try_clone()
            .unwrap_or_else(|error| panic!("could not open Conduit's console log: {error}"));
        let child = Command::new(&self.binary)
            .env("CONDUIT_CONFIG", layout.config())
            .current_dir(layout.dir)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {}: {error}", self.binary.display()));
        self.child = Some(child);
    }

    /// Polls `GET /_matrix/client/versions` until it answers 200, the process exits, or
    /// [`READY_TIMEOUT`] passes.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let url = format!("{}/_matrix/client/versions", self.base_url());
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "Conduit exited ({status}) before answering on port {}",
                    self.port
                ));
            }
            let answer = self
                .http
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "Conduit did not answer GET {url} within {}s",
                    READY_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the process exits; `None` if it still runs after `timeout`.
    async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        let child = self.child.as_mut()?;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if started.elapsed() < timeout => tokio::time::sleep(POLL).await,
                Ok(None) => return None,
                Err(error) => panic!("could not wait for Conduit (pid {}): {error}", child.id()),
            }
        }
    }

    /// Whether the last start failed because another process took the port first.
    fn port_was_taken(&self) -> bool {
        let layout = Layout { dir: self.dir() };
        fs::read_to_string(layout.console())
            .is_ok_and(|text| text.contains("Address already in use"))
    }

    /// Panics with `what`, the tail of the log and where it is kept.
    fn fail(&self, what: &str) -> ! {
        let layout = Layout { dir: self.dir() };
        panic!(
            "{what}\n\n--- {} (last lines) ---\n{}\n\
             (Conduit's directory is kept for the failing test: {})",
            layout.console().display(),
            tail(&layout.console(), 40),
            layout.dir.display(),
        )
    }
}

impl Drop for Conduit {
    #[allow(
        clippy::print_stderr,
        reason = "a failing test's output is read by a person"
    )]
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL ends it within milliseconds, so waiting here does not stall the runtime.
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!(
                "conduit-harness: kept {} (console.log, conduit.toml) for the failing test",
                kept.display()
            );
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago: bind port 0, read the port, release it.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|error| panic!("could not bind 127.0.0.1:0 to find a free port: {error}"));
    listener
        .local_addr()
        .unwrap_or_else(|error| panic!("could not read the free port: {error}"))
        .port()
}

/// The last `lines` lines of a file, or why it could not be read.
fn tail(file: &Path, lines: usize) -> String {
    match fs::read_to_string(file) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(error) => format!("(could not read it: {error})"),
    }
}
