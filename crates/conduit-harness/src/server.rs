//! The Conduit process: starting it on a free port, waiting until it answers, stopping, killing
//! and restarting it, and cleaning up after it (the process handling both harnesses share is
//! `homeserver_client::process`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use homeserver_client::process::{CONSOLE_LOG, HomeserverProcess, ServerKind, free_port};

use crate::{
    binary,
    config::{self, Layout, SERVER_NAME},
};

/// What the shared process handling says of Conduit.
const CONDUIT: ServerKind = ServerKind {
    name: "Conduit",
    harness: "conduit-harness",
    logs: &[(CONSOLE_LOG, 40)],
    keeps: "console.log, conduit.toml",
};

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
    /// The process and its directory (config, database and logs).
    process: HomeserverProcess,
    /// The port it listens on, kept across restarts.
    port: u16,
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
        let http = reqwest::Client::builder()
            // Never send requests for 127.0.0.1 through an HTTP(S)_PROXY from the environment.
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|error| panic!("could not build the HTTP client: {error}"));
        let mut conduit = Conduit {
            process: HomeserverProcess::new(CONDUIT),
            port: 0,
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
                Err(_)
                    if attempt < 3
                        && !conduit.process.is_started()
                        && conduit.process.port_was_taken() => {}
                Err(error) => conduit.process.fail(&error),
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
        self.process.pid()
    }

    /// The temporary directory: `conduit.toml`, the database under `db/` and `console.log` (what
    /// Conduit logs, and its stderr).
    pub fn dir(&self) -> &Path {
        self.process.dir()
    }

    /// `conduit.toml`, which a test may rewrite before [`restart`](Self::restart)ing.
    pub fn config_path(&self) -> PathBuf {
        Layout { dir: self.dir() }.config()
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

    /// Spawns `conduit` with `CONDUIT_CONFIG` set.
    fn spawn(&mut self) {
        let config = Layout { dir: self.dir() }.config();
        let mut command = Command::new(&self.binary);
        command.env("CONDUIT_CONFIG", config);
        self.process.spawn(command);
    }

    /// Waits until it answers `GET /_matrix/client/versions`.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let base_url = self.base_url();
        self.process.wait_ready(&self.http, &base_url).await
    }
}
