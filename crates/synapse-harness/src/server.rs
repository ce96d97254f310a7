//! The Synapse process: starting it on a free port, waiting until it answers, stopping, killing
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
    config::{Layout, RateLimits, SERVER_NAME, secret},
    venv,
};

/// How long Synapse may take to answer its first request (it takes ~1.3 s on a 2-core machine).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long Synapse may take to exit after SIGTERM (it takes well under 2 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often readiness and exit are polled.
const POLL: Duration = Duration::from_millis(50);

/// A real Synapse homeserver on `127.0.0.1`, with its own port, SQLite database and temporary
/// directory, run from the venv `cargo xtask test` provisions.
///
/// Every call panics with a clear message when something goes wrong: this is test support.
/// Dropping it kills the process and removes the directory — unless the thread is panicking (a
/// test failed), in which case the directory is kept and its path printed, for the log.
///
/// ```no_run
/// # async fn demo() {
/// use synapse_harness::Synapse;
///
/// let synapse = Synapse::start().await;
/// let alice = synapse.register("alice").await;
/// let bob = synapse.register("bob").await;
/// let room = synapse.create_room(&alice, &[&bob]).await;
/// synapse.send_text(&bob, &room, "hello", None).await;
/// let messages = synapse.messages(&alice, &room, 10).await;
/// assert_eq!(messages[0]["content"]["body"], "hello");
/// # }
/// ```
pub struct Synapse {
    /// The running process; `None` after [`kill`](Self::kill) or [`stop`](Self::stop).
    child: Option<Child>,
    /// The port of the one HTTP listener, kept across restarts.
    port: u16,
    /// Config, database, media and logs; `None` only once `Drop` decided to keep it.
    dir: Option<TempDir>,
    /// `registration_shared_secret`, for the admin registration API.
    pub(crate) shared_secret: String,
    /// The venv's Python.
    python: PathBuf,
    /// The client every request goes through.
    pub(crate) http: reqwest::Client,
}

impl Synapse {
    /// Starts a homeserver with every rate limit relaxed and waits until
    /// `GET /_matrix/client/versions` answers.
    ///
    /// # Panics
    ///
    /// When the venv is missing (naming the command that provisions it), or when Synapse exits
    /// or does not answer within 60 s (with the tail of its log).
    pub async fn start() -> Synapse {
        Self::start_with(RateLimits::Relaxed).await
    }

    /// As [`start`](Self::start), but `rc_message` stays strict —
    /// [`STRICT_MESSAGE_BURST`](crate::STRICT_MESSAGE_BURST) events at once, then
    /// [`STRICT_MESSAGE_PER_SECOND`](crate::STRICT_MESSAGE_PER_SECOND) — so that a test can see
    /// `429 M_LIMIT_EXCEEDED`. Membership events (joins, invites) count against it too; the
    /// harness's own helpers wait out 429 answers, so setting up a room still works.
    pub async fn start_with_rate_limits() -> Synapse {
        Self::start_with(RateLimits::StrictMessages).await
    }

    async fn start_with(limits: RateLimits) -> Synapse {
        let python = venv::python();
        let dir = tempfile::Builder::new()
            .prefix("synapse-harness-")
            .tempdir()
            .unwrap_or_else(|error| panic!("could not create a temporary directory: {error}"));
        let http = reqwest::Client::builder()
            // Never send requests for 127.0.0.1 through an HTTP(S)_PROXY from the environment.
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|error| panic!("could not build the HTTP client: {error}"));
        let mut synapse = Synapse {
            child: None,
            port: 0,
            dir: Some(dir),
            shared_secret: secret(),
            python,
            http,
        };
        // The free port is released before Synapse binds it, so another process may take it in
        // between; that start fails with "Address already in use" and is retried on a new port.
        for attempt in 1.. {
            synapse.port = free_port();
            let layout = Layout { dir: synapse.dir() };
            if let Err(error) = layout.write(synapse.port, &synapse.shared_secret, limits) {
                panic!("could not write Synapse's configuration: {error}");
            }
            synapse.spawn();
            match synapse.wait_ready().await {
                Ok(()) => break,
                Err(_) if attempt < 3 && synapse.child.is_none() && synapse.port_was_taken() => {}
                Err(error) => synapse.fail(&error),
            }
        }
        synapse
    }

    /// `http://127.0.0.1:PORT`, the homeserver URL to give a Matrix client.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server name: user ids are `@localpart:localhost`.
    pub fn server_name(&self) -> &str {
        SERVER_NAME
    }

    /// The port Synapse listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The temporary directory: `homeserver.yaml`, `homeserver.db`, `homeserver.log` (what
    /// Synapse logs) and `console.log` (its stdout and stderr).
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("the directory is only taken while dropping")
            .path()
    }

    /// Kills the process with SIGKILL — a crash, no clean shutdown — and waits for it to exit.
    /// Does nothing when it is not running.
    pub async fn kill(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if let Err(error) = child.kill() {
            panic!("could not SIGKILL Synapse (pid {}): {error}", child.id());
        }
        if self.wait_exit(STOP_TIMEOUT).await.is_none() {
            self.fail("Synapse did not exit after SIGKILL");
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
                "Synapse did not exit within {}s of SIGTERM",
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

    /// Spawns `python -m synapse.app.homeserver` with stdout and stderr appended to
    /// `console.log`.
    fn spawn(&mut self) {
        let layout = Layout { dir: self.dir() };
        let console = fs::File::options()
            .create(true)
            .append(true)
            .open(layout.console())
            .unwrap_or_else(|error| panic!("could not open Synapse's console log: {error}"));
        let stderr = console
            .try_clone()
            .unwrap_or_else(|error| panic!("could not open Synapse's console log: {error}"));
        let child = Command::new(&self.python)
            .args(["-m", "synapse.app.homeserver", "--config-path"])
            .arg(layout.config())
            .current_dir(layout.dir)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "could not start {} -m synapse.app.homeserver: {error}",
                    self.python.display()
                )
            });
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
                    "Synapse exited ({status}) before answering on port {}",
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
                    "Synapse did not answer GET {url} within {}s",
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
                Err(error) => panic!("could not wait for Synapse (pid {}): {error}", child.id()),
            }
        }
    }

    /// Whether the last start failed because another process took the port first.
    fn port_was_taken(&self) -> bool {
        let layout = Layout { dir: self.dir() };
        [layout.log(), layout.console()].iter().any(|file| {
            fs::read_to_string(file).is_ok_and(|text| text.contains("Address already in use"))
        })
    }

    /// Panics with `what`, the tails of both logs and where they are kept.
    fn fail(&self, what: &str) -> ! {
        let layout = Layout { dir: self.dir() };
        panic!(
            "{what}\n\n--- {} (last lines) ---\n{}\n--- {} (last lines) ---\n{}\n\
             (Synapse's directory is kept for the failing test: {})",
            layout.log().display(),
            tail(&layout.log(), 40),
            layout.console().display(),
            tail(&layout.console(), 20),
            layout.dir.display(),
        )
    }
}

impl Drop for Synapse {
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
                "synapse-harness: kept {} (homeserver.log, homeserver.yaml) for the failing test",
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
