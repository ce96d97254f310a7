//! The Synapse process: starting it on a free port, waiting until it answers, stopping, killing
//! and restarting it, and cleaning up after it (the process handling both harnesses share is
//! `homeserver_client::process`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use homeserver_client::process::{CONSOLE_LOG, HomeserverProcess, ServerKind, free_port};

use crate::{
    config::{Layout, RateLimits, SERVER_NAME, secret},
    venv,
};

/// What the shared process handling says of Synapse.
const SYNAPSE: ServerKind = ServerKind {
    name: "Synapse",
    harness: "synapse-harness",
    logs: &[("homeserver.log", 40), (CONSOLE_LOG, 20)],
    keeps: "homeserver.log, homeserver.yaml",
};

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
    /// The process and its directory (config, database, media and logs).
    process: HomeserverProcess,
    /// The port of the one HTTP listener, kept across restarts.
    port: u16,
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
        let http = reqwest::Client::builder()
            // Never send requests for 127.0.0.1 through an HTTP(S)_PROXY from the environment.
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|error| panic!("could not build the HTTP client: {error}"));
        let mut synapse = Synapse {
            process: HomeserverProcess::new(SYNAPSE),
            port: 0,
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
                Err(_)
                    if attempt < 3
                        && !synapse.process.is_started()
                        && synapse.process.port_was_taken() => {}
                Err(error) => synapse.process.fail(&error),
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
        self.process.pid()
    }

    /// The temporary directory: `homeserver.yaml`, `homeserver.db`, `homeserver.log` (what
    /// Synapse logs) and `console.log` (its stdout and stderr).
    pub fn dir(&self) -> &Path {
        self.process.dir()
    }

    /// Kills the process with SIGKILL — a crash, no clean shutdown — and waits for it to exit.
    /// Does nothing when it is not running.
    pub async fn kill(&mut self) {
        self.process.kill().await;
    }

    /// Stops the process with SIGTERM, as a service manager would, and waits for it to exit.
    /// Does nothing when it is not running.
    ///
    /// # Panics
    ///
    /// When it has not exited 30 s later (it is then killed).
    pub async fn stop(&mut self) {
        self.process.stop().await;
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
            self.process.fail(&error);
        }
    }

    /// Spawns `python -m synapse.app.homeserver` with its configuration.
    fn spawn(&mut self) {
        let config = Layout { dir: self.dir() }.config();
        let mut command = Command::new(&self.python);
        command
            .args(["-m", "synapse.app.homeserver", "--config-path"])
            .arg(config);
        self.process.spawn(command);
    }

    /// Waits until it answers `GET /_matrix/client/versions`.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let base_url = self.base_url();
        self.process.wait_ready(&self.http, &base_url).await
    }
}
