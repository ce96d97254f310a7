//! The one persistent control-mode client (`tmux -C …`): command/response correlation,
//! notifications, timeouts and shutdown.
//!
//! Three tasks serve one `tmux -C` child process:
//! * the **writer** owns stdin. Each request is appended to the `pending` queue and its
//!   line written in the same step, so the queue order is the order tmux receives the
//!   commands in. Callers only enqueue and await an answer with a timeout; a caller that
//!   gives up (or is cancelled) leaves its queue slot in place, so later answers still
//!   line up.
//! * the **reader** owns stdout, parses lines ([`crate::protocol`]) and pops the front of
//!   `pending` for every block with the "from this client" flag (tmux runs one client's
//!   commands in order, one block per command). Every notification is forwarded, tagged with
//!   the client's generation. At EOF it marks the client dead and fails every waiting
//!   request, so nothing waits for a server that is gone.
//! * the **stderr** task keeps the last few lines for error messages.
//!
//! We send exactly one command per line and never an empty line (an empty line detaches a
//! control client).
//!
//! **How a client ends.** tmux 3.3a's server dies (`fatal: not enough data`) when a control
//! client is told to exit while pane output is queued for it and more output arrives before the
//! queue is written: the exit flag makes the server skip the new output, and the queued block
//! then points past the pane's data. The server sets that flag when the client's stdin reaches
//! end-of-file — which is what happens when the process holding the pipe ends, however it ends
//! (a one-shot command finishing, Ctrl-C, SIGKILL). A client that simply *dies* is safe: the
//! server notices its socket closing and drops it with everything queued. So the client is
//! started by [`guarded_command`] such that its stdin can never reach end-of-file while it
//! lives: the tmux client process itself holds a second write end of its stdin pipe (fd 9), and
//! on Linux it is killed when the thread that started it goes away (`setpriv --pdeathsig
//! KILL`), so a connector that dies leaves no client behind. A client is ended by
//! [`ControlClient::shutdown`]: pane output to it is turned off (tmux stops writing what it
//! queued for it and queues no more), then it is killed, and tmux drops it when its socket closes. A connector killed with SIGKILL
//! cannot turn output off first; then the client dies with it, and the server sees its socket
//! close and its stdin end together — in the poll round where that happens, new pane output and
//! a due write to the dead client would both have to follow the end of stdin for the old crash
//! to come back (the soak test in `connector-cli` kills connectors mid-output to watch for it).
//! One-shot work uses no control client at all (see [`crate::plain`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tmux_interface::{Tmux, TmuxCommand};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

use crate::error::TmuxError;
use crate::protocol::{Block, Event, Parser};
use crate::quoting::command_line;
use crate::settings::TmuxSettings;

/// The environment a control client keeps: what the tmux client reads (its socket directory,
/// the locale that decides UTF-8, the terminal type, the shell) and what the guard script needs.
/// The server takes one message per variable while it sets the client up — the window in which
/// tmux 3.3a crashes on a session created or closed elsewhere — and, without `-E`, would copy
/// the client's `update-environment` variables into the operator's session. `TMUX` is not kept:
/// the connector may run inside tmux itself.
const CONTROL_CLIENT_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMUX_TMPDIR",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
];

/// A notification from a control client, tagged with that client's generation so events
/// from a replaced client can be told apart.
#[derive(Debug)]
pub(crate) struct Tagged {
    pub generation: u64,
    pub event: Notice,
}

/// What the reader forwards besides command answers.
#[derive(Debug)]
pub(crate) enum Notice {
    /// A notification line.
    Event(Event),
    /// The client is gone (EOF on stdout); `reason` as reported by `%exit` or stderr.
    Closed { reason: String },
}

type Reply = oneshot::Sender<Result<Block, TmuxError>>;

struct Request {
    line: String,
    reply: Reply,
}

#[derive(Default)]
struct Shared {
    alive: AtomicBool,
    pending: Mutex<VecDeque<Reply>>,
    exit_reason: Mutex<Option<String>>,
    stderr_tail: Mutex<String>,
}

impl Shared {
    fn reason(&self) -> String {
        let exit = lock(&self.exit_reason).clone();
        let stderr = lock(&self.stderr_tail).trim().to_owned();
        match (exit, stderr.is_empty()) {
            (Some(r), _) if !r.is_empty() => r,
            (_, false) => stderr,
            _ => "control client exited".to_owned(),
        }
    }

    /// Marks the client dead and fails every waiting request.
    fn close(&self) {
        let waiting: Vec<Reply> = {
            let mut pending = lock(&self.pending);
            self.alive.store(false, Ordering::SeqCst);
            pending.drain(..).collect()
        };
        let reason = self.reason();
        for reply in waiting {
            let _ = reply.send(Err(TmuxError::disconnected(reason.clone())));
        }
    }
}

/// A running `tmux -C` client.
pub(crate) struct ControlClient {
    generation: u64,
    timeout: Duration,
    requests: mpsc::UnboundedSender<Request>,
    shared: Arc<Shared>,
    child: Mutex<Option<Child>>,
    /// The tmux client process's id (`#{client_pid}`), while known.
    pid: Option<u32>,
}

impl std::fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlClient")
            .field("generation", &self.generation)
            .field("alive", &self.is_alive())
            .finish_non_exhaustive()
    }
}

impl ControlClient {
    /// Starts `tmux [-f file] [-L|-S socket] -C <start>` and waits (bounded) for the answer
    /// to `start`. Returns the client and the lines of that first block.
    pub(crate) async fn spawn(
        settings: &TmuxSettings,
        start: TmuxCommand<'_>,
        generation: u64,
        notices: mpsc::UnboundedSender<Tagged>,
    ) -> Result<(Self, Vec<String>), TmuxError> {
        let start_name = start.name.as_deref().unwrap_or("tmux").to_owned();
        // A control client never starts a server: the console's is started by a plain client
        // (`run_once`) before this one attaches, so no server inherits this client's pipes.
        let args = process_args(settings, start, true, false);
        tracing::debug!(?args, generation, "starting tmux control client");

        let mut command = guarded_command(settings, &args)?;
        command.env_clear().envs(
            CONTROL_CLIENT_ENV
                .iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (*name, value))),
        );
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| TmuxError::Spawn {
                binary: settings.tmux_binary.clone(),
                source,
            })?;
        let stdin = child.stdin.take().ok_or_else(|| missing_pipe("stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| missing_pipe("stdout"))?;
        let stderr = child.stderr.take().ok_or_else(|| missing_pipe("stderr"))?;

        let shared = Arc::new(Shared::default());
        shared.alive.store(true, Ordering::SeqCst);
        let (handshake_tx, handshake_rx) = oneshot::channel();
        let (requests, request_rx) = mpsc::unbounded_channel();

        tokio::spawn(read_stdout(
            BufReader::new(stdout),
            shared.clone(),
            generation,
            notices,
            handshake_tx,
        ));
        tokio::spawn(write_stdin(stdin, request_rx, shared.clone()));
        tokio::spawn(read_stderr(BufReader::new(stderr), shared.clone()));

        let pid = child.id();
        let client = Self {
            generation,
            timeout: settings.op_timeout,
            requests,
            shared,
            child: Mutex::new(Some(child)),
            pid,
        };
        let first = match tokio::time::timeout(settings.op_timeout, handshake_rx).await {
            Err(_) => {
                client.kill();
                return Err(TmuxError::timeout(start_name, settings.op_timeout));
            }
            Ok(Err(_)) => {
                // Give stderr a moment to arrive: it carries e.g. "no server running".
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(TmuxError::disconnected(client.shared.reason()));
            }
            Ok(Ok(block)) => block,
        };
        if !first.ok {
            let message = first.lines.join("\n");
            client.kill();
            return Err(TmuxError::Command {
                command: start_name,
                message,
            });
        }
        Ok((client, first.lines))
    }

    /// The tmux client process's id, as tmux's `#{client_pid}` shows it.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The generation this client was started with.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the client process is still connected.
    pub(crate) fn is_alive(&self) -> bool {
        self.shared.alive.load(Ordering::SeqCst)
    }

    /// Why the client is not alive (meaningful once it is dead).
    pub(crate) fn reason(&self) -> String {
        self.shared.reason()
    }

    /// Runs one command and returns the lines of its answer. Fails with
    /// [`TmuxError::Command`] on `%error`, [`TmuxError::Timeout`] after the configured
    /// limit, [`TmuxError::Disconnected`] when the client is gone.
    pub(crate) async fn run(&self, command: TmuxCommand<'_>) -> Result<Vec<String>, TmuxError> {
        let name = command.name.as_deref().unwrap_or("?").to_owned();
        let line = command_line(&command);
        self.run_line(name, line).await
    }

    async fn run_line(&self, name: String, line: String) -> Result<Vec<String>, TmuxError> {
        if !self.is_alive() {
            return Err(TmuxError::disconnected(self.reason()));
        }
        debug_assert!(!line.is_empty() && !line.contains('\n'));
        tracing::trace!(command = %name, "tmux command");
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { line, reply })
            .map_err(|_| TmuxError::disconnected(self.reason()))?;
        let block = match tokio::time::timeout(self.timeout, answer).await {
            Err(_) => return Err(TmuxError::timeout(name, self.timeout)),
            Ok(Err(_)) => return Err(TmuxError::disconnected(self.reason())),
            Ok(Ok(result)) => result?,
        };
        if block.ok {
            Ok(block.lines)
        } else {
            Err(TmuxError::Command {
                command: name,
                message: block.lines.join("\n"),
            })
        }
    }

    /// Ends the client the safe way: first turns pane output to it off (`refresh-client -f
    /// no-output`: tmux stops writing what it queued for the client and queues no more),
    /// waiting a moment for the answer, then kills it. Whatever order tmux then sees
    /// the client's socket close and its stdin end in, nothing is left for it to write.
    pub(crate) async fn shutdown(&self) {
        if self.is_alive() {
            let quiet = self.run_line(
                "refresh-client".to_owned(),
                "refresh-client -f no-output".to_owned(),
            );
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, quiet).await;
        }
        self.kill();
    }

    /// Kills the client process (never the server) and fails waiting requests.
    pub(crate) fn kill(&self) {
        if let Some(mut child) = lock(&self.child).take() {
            let _ = child.start_kill();
            // Reap in the background so no zombie is left behind. Without a runtime (a
            // session dropped after its runtime) dropping the child is enough: it was
            // spawned with `kill_on_drop`.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = child.wait().await;
                });
            }
        }
        self.shared.close();
    }
}

/// The process arguments for `tmux [-N] -u [-C] [-f file] [-L|-S socket] <command>`.
///
/// `-u`: UTF-8 whatever the locale (with none, tmux replaces tabs and non-ASCII in replies with
/// `_`, breaking the tab-separated formats we parse). `-N` (tmux 3.3a has it; tmux_interface
/// gates it behind 3.4) unless `start_server`: a pane endpoint only attaches to a running server,
/// and a reconnect must not start a server while the old one is still exiting or after the
/// operator stopped it — it waits for one to come back.
pub(crate) fn process_args(
    settings: &TmuxSettings,
    command: TmuxCommand<'_>,
    control: bool,
    start_server: bool,
) -> Vec<String> {
    let mut tmux = Tmux::new().force_utf8();
    if control {
        tmux = tmux.control_mode();
    }
    if let Some(file) = &settings.config_file {
        tmux = tmux.file(file.to_string_lossy());
    }
    let tmux = settings.socket.apply(tmux).command(command);
    // tmux_interface builds the argument vector; its first element is the program name,
    // which we replace by the configured binary. These are process arguments, not a
    // control-mode line, so tmux's command parser does not re-lex them.
    let args = tmux
        .build()
        .to_vec()
        .into_iter()
        .skip(1)
        .map(|a| a.into_owned());
    if start_server {
        args.collect()
    } else {
        std::iter::once("-N".to_owned()).chain(args).collect()
    }
}

/// How long [`ControlClient::shutdown`] waits for tmux to stop pane output to the client.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

/// The shell line that keeps a second write end of the client's stdin open in the client
/// itself (fd 9), then becomes tmux: its stdin cannot reach end-of-file before the client is
/// gone.
const HOLD_STDIN: &str = "exec 9<>/proc/self/fd/0 && exec \"$0\" \"$@\"";

/// [`HOLD_STDIN`] after `setpriv --pdeathsig`: first makes sure the process that started it
/// (`$1`) is still its parent. A parent killed before `setpriv` set the death signal would
/// otherwise leave a client behind that nothing ever ends.
const HOLD_STDIN_WHILE_PARENT_LIVES: &str =
    "[ \"$PPID\" = \"$1\" ] || exit 70; shift; exec 9<>/proc/self/fd/0 && exec \"$0\" \"$@\"";

/// The command that starts a control client: `tmux <args>` wrapped (where the platform has the
/// tools) so that its stdin never reaches end-of-file while it lives and it dies with the thread
/// that started it; see the module docs. Fails with [`TmuxError::Spawn`] when the tmux binary
/// cannot be found, as a plain spawn would.
pub(crate) fn guarded_command(
    settings: &TmuxSettings,
    args: &[String],
) -> Result<Command, TmuxError> {
    let binary = &settings.tmux_binary;
    let resolved = resolve(binary).ok_or_else(|| TmuxError::Spawn {
        binary: binary.clone(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found in PATH"),
    })?;
    let guard = guard_tools();
    let mut command = match guard {
        Some(Guard {
            sh,
            setpriv: Some(setpriv),
        }) => {
            let mut command = Command::new(setpriv);
            command
                .args(["--pdeathsig", "KILL", "--"])
                .arg(sh)
                .arg("-c")
                .arg(HOLD_STDIN_WHILE_PARENT_LIVES)
                .arg(&resolved)
                .arg(std::process::id().to_string())
                .args(args);
            command
        }
        Some(Guard { sh, setpriv: None }) => {
            let mut command = Command::new(sh);
            command.arg("-c").arg(HOLD_STDIN).arg(&resolved).args(args);
            command
        }
        None => {
            let mut command = Command::new(&resolved);
            command.args(args);
            command
        }
    };
    command.kill_on_drop(true);
    Ok(command)
}

/// The helpers [`guarded_command`] wraps tmux in, looked up once.
#[derive(Debug, Clone)]
struct Guard {
    sh: PathBuf,
    setpriv: Option<PathBuf>,
}

/// `sh` (and `setpriv`, if installed) where `/proc/self/fd` exists; `None` elsewhere.
fn guard_tools() -> Option<Guard> {
    static TOOLS: OnceLock<Option<Guard>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            if !Path::new("/proc/self/fd/0").exists() {
                return None;
            }
            let sh = resolve(Path::new("sh"))?;
            Some(Guard {
                sh,
                setpriv: resolve(Path::new("setpriv")),
            })
        })
        .clone()
}

/// `program` as the OS would find it: a path with a slash as is, a bare name through `PATH`.
fn resolve(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 || program.is_absolute() {
        return program.is_file().then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs one command in a short-lived `tmux` client (not the control client), within
/// `settings.op_timeout`; answers its stderr on failure.
///
/// Used only where the control client cannot be: creating the console's session before
/// attaching to it. tmux 3.3a crashes (a null dereference in the server) when two control
/// clients create the same session at once, which two connectors reconnecting to one server
/// do; plain clients racing `new-session` are safe (one gets "duplicate session").
pub(crate) async fn run_once(
    settings: &TmuxSettings,
    command: TmuxCommand<'_>,
    start_server: bool,
) -> Result<(), TmuxError> {
    let name = command.name.as_deref().unwrap_or("tmux").to_owned();
    let args = process_args(settings, command, false, start_server);
    let output = Command::new(&settings.tmux_binary)
        .args(&args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(settings.op_timeout, output).await {
        Err(_) => Err(TmuxError::timeout(name, settings.op_timeout)),
        Ok(Err(source)) => Err(TmuxError::Spawn {
            binary: settings.tmux_binary.clone(),
            source,
        }),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(TmuxError::Command {
            command: name,
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }),
    }
}

impl Drop for ControlClient {
    fn drop(&mut self) {
        if let Some(mut child) = lock(&self.child).take() {
            let _ = child.start_kill();
        }
    }
}

async fn write_stdin(
    mut stdin: ChildStdin,
    mut requests: mpsc::UnboundedReceiver<Request>,
    shared: Arc<Shared>,
) {
    while let Some(Request { mut line, reply }) = requests.recv().await {
        {
            let mut pending = lock(&shared.pending);
            if !shared.alive.load(Ordering::SeqCst) {
                drop(pending);
                let _ = reply.send(Err(TmuxError::disconnected(shared.reason())));
                continue;
            }
            pending.push_back(reply);
        }
        line.push('\n');
        let written = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.flush().await
        };
        if let Err(e) = written.await {
            tracing::debug!(error = %e, "writing to tmux control client failed");
            shared.close();
            break;
        }
    }
    // Dropping stdin makes tmux end the client.
}

async fn read_stdout(
    mut stdout: BufReader<tokio::process::ChildStdout>,
    shared: Arc<Shared>,
    generation: u64,
    notices: mpsc::UnboundedSender<Tagged>,
    handshake: oneshot::Sender<Block>,
) {
    let mut handshake = Some(handshake);
    let mut parser = Parser::default();
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        match stdout.read_until(b'\n', &mut line).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "reading tmux control client failed");
                break;
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let Some(event) = parser.push_line(&line) else {
            continue;
        };
        match event {
            Event::Block(block) if block.from_client => {
                let reply = lock(&shared.pending).pop_front();
                match reply {
                    Some(reply) => {
                        let _ = reply.send(Ok(block));
                    }
                    None => tracing::warn!(number = block.number, "unexpected tmux answer"),
                }
            }
            Event::Block(block) => match handshake.take() {
                Some(tx) => {
                    let _ = tx.send(block);
                }
                None => tracing::debug!(number = block.number, "tmux block not from us"),
            },
            Event::Exit { reason } => {
                // The reason travels with the `Closed` notice sent at EOF.
                *lock(&shared.exit_reason) =
                    Some(reason.unwrap_or_else(|| "tmux client exited".to_owned()));
            }
            other => {
                let _ = notices.send(Tagged {
                    generation,
                    event: Notice::Event(other),
                });
            }
        }
    }
    // Let stderr catch up so the reason is informative.
    tokio::time::sleep(Duration::from_millis(20)).await;
    shared.close();
    let _ = notices.send(Tagged {
        generation,
        event: Notice::Closed {
            reason: shared.reason(),
        },
    });
}

async fn read_stderr(mut stderr: BufReader<tokio::process::ChildStderr>, shared: Arc<Shared>) {
    let mut line = String::new();
    loop {
        line.clear();
        match stderr.read_line(&mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let mut tail = lock(&shared.stderr_tail);
                tail.push_str(&line);
                if tail.len() > 2048 {
                    let cut = tail.len() - 2048;
                    let cut = (cut..tail.len())
                        .find(|&i| tail.is_char_boundary(i))
                        .unwrap_or(tail.len());
                    tail.drain(..cut);
                }
            }
        }
    }
}

fn missing_pipe(which: &str) -> TmuxError {
    TmuxError::Io(std::io::Error::other(format!("tmux {which} was not piped")))
}

/// Locks a std mutex, recovering from poisoning (a panic elsewhere must not wedge us).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
