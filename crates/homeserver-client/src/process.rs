//! A homeserver's process, as both harnesses run it: spawned with its output in `console.log`
//! of its temporary directory, awaited until it answers, stopped with SIGTERM or killed with
//! SIGKILL, and cleaned up — its directory kept, and its path printed, when a test fails.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a homeserver may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a homeserver may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often readiness and exit are polled.
const POLL: Duration = Duration::from_millis(50);

/// The file, in the process's directory, that its stdout and stderr are appended to.
pub const CONSOLE_LOG: &str = "console.log";

/// What a harness tells about its server, for messages and for the failure report.
#[derive(Debug, Clone, Copy)]
pub struct ServerKind {
    /// The server's name in messages: `Synapse`, `Conduit`.
    pub name: &'static str,
    /// The harness, for the line printed when the directory is kept.
    pub harness: &'static str,
    /// The logs worth reading when it fails, in its directory, with how many last lines of
    /// each to show (the console log among them).
    pub logs: &'static [(&'static str, usize)],
    /// What the kept directory holds, for the printed line.
    pub keeps: &'static str,
}

/// One homeserver process and its temporary directory (see the module docs).
#[derive(Debug)]
pub struct HomeserverProcess {
    kind: ServerKind,
    child: Option<Child>,
    /// `None` only once `Drop` decided to keep it.
    dir: Option<TempDir>,
}

impl HomeserverProcess {
    /// A process of `kind` (not started yet) with a fresh temporary directory.
    ///
    /// # Panics
    ///
    /// When the directory cannot be created.
    pub fn new(kind: ServerKind) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", kind.harness))
            .tempdir()
            .unwrap_or_else(|error| panic!("could not create a temporary directory: {error}"));
        Self {
            kind,
            child: None,
            dir: Some(dir),
        }
    }

    /// The temporary directory (configuration, database, logs).
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("the directory is only taken while dropping")
            .path()
    }

    /// The process id, while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether a process was started and has not been seen to exit.
    pub fn is_started(&self) -> bool {
        self.child.is_some()
    }

    /// Spawns `command` in the directory, with stdin closed and stdout and stderr appended to
    /// [`CONSOLE_LOG`].
    ///
    /// # Panics
    ///
    /// When the log cannot be opened or the program cannot be started.
    pub fn spawn(&mut self, mut command: Command) {
        let console = fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir().join(CONSOLE_LOG))
            .unwrap_or_else(|error| {
                panic!("could not open {}'s console log: {error}", self.kind.name)
            });
        let stderr = console.try_clone().unwrap_or_else(|error| {
            panic!("could not open {}'s console log: {error}", self.kind.name)
        });
        let child = command
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "could not start {} ({:?}): {error}",
                    self.kind.name,
                    command.get_program()
                )
            });
        self.child = Some(child);
    }

    /// Polls `GET {base_url}/_matrix/client/versions` until it answers 200, the process exits,
    /// or a minute passes.
    ///
    /// # Errors
    ///
    /// What went wrong, for [`fail`](Self::fail).
    pub async fn wait_ready(
        &mut self,
        http: &reqwest::Client,
        base_url: &str,
    ) -> Result<(), String> {
        let started = Instant::now();
        let url = format!("{base_url}/_matrix/client/versions");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "{} exited ({status}) before answering on {base_url}",
                    self.kind.name
                ));
            }
            let answer = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "{} did not answer GET {url} within {}s",
                    self.kind.name,
                    READY_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Kills the process with SIGKILL — a crash, no clean shutdown — and waits for it to exit.
    /// Does nothing when it is not running.
    pub async fn kill(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if let Err(error) = child.kill() {
            panic!(
                "could not SIGKILL {} (pid {}): {error}",
                self.kind.name,
                child.id()
            );
        }
        if self.wait_exit(STOP_TIMEOUT).await.is_none() {
            self.fail(&format!("{} did not exit after SIGKILL", self.kind.name));
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
                "{} did not exit within {}s of SIGTERM",
                self.kind.name,
                STOP_TIMEOUT.as_secs()
            ));
        }
        self.child = None;
    }

    /// Waits until the process exits; `None` if it still runs after `timeout`.
    async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        let name = self.kind.name;
        let child = self.child.as_mut()?;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if started.elapsed() < timeout => tokio::time::sleep(POLL).await,
                Ok(None) => return None,
                Err(error) => panic!("could not wait for {name} (pid {}): {error}", child.id()),
            }
        }
    }

    /// Whether the last start failed because another process took the port first.
    pub fn port_was_taken(&self) -> bool {
        self.kind.logs.iter().any(|(file, _)| {
            fs::read_to_string(self.dir().join(file))
                .is_ok_and(|text| text.contains("Address already in use"))
        })
    }

    /// Panics with `what`, the tails of the logs and where they are kept.
    pub fn fail(&self, what: &str) -> ! {
        let mut report = format!("{what}\n");
        for (file, lines) in self.kind.logs {
            let path = self.dir().join(file);
            report.push_str(&format!(
                "\n--- {} (last lines) ---\n{}\n",
                path.display(),
                tail(&path, *lines)
            ));
        }
        panic!(
            "{report}({}'s directory is kept for the failing test: {})",
            self.kind.name,
            self.dir().display()
        )
    }
}

impl Drop for HomeserverProcess {
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
                "{}: kept {} ({}) for the failing test",
                self.kind.harness,
                kept.display(),
                self.kind.keeps
            );
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago: bind port 0, read the port, release it.
///
/// # Panics
///
/// When no port can be bound.
pub fn free_port() -> u16 {
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
