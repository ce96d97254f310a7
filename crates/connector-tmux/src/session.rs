//! [`TmuxSession`]: the public face of this layer — connecting, sending in both modes,
//! threads, inbound lines, health and reconnecting.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tmux_interface::{
    AttachSession, CapturePane, DeleteBuffer, DisplayMessage, ListClients, ListPanes, ListWindows,
    NewSession, NewWindow, SetOption, SwitchClient, TmuxCommand,
};
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::console::{self, console_argv};
use crate::control::{ControlClient, Notice, Tagged, lock};
use crate::dedupe::ServerId;
use crate::error::TmuxError;
use crate::health::Probe;
use crate::link::Link;
use crate::pane;
use crate::plain::PlainLink;
use crate::protocol::Event;
use crate::quoting::with_trailing_values;
use crate::router::{PaneInfo, PaneLine, Role, Router};
use crate::sanitize::{Newlines, neutralize};
use crate::settings::{Mode, TmuxSettings};
use crate::socket::{self, SocketState};
use crate::status_lines;
use crate::threads::{
    self, ROLE_OPTION, THREAD_OPTION, ThreadWindow, WINDOW_FORMAT, WindowRow, encode_id,
};

/// Outcome of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivered {
    /// The pane the text went to.
    pub pane: String,
    /// Whether the text showed up in the pane's output within
    /// [`TmuxSettings::verify_timeout`]; `None` when not verified.
    pub seen: Option<bool>,
    /// Line breaks were folded into one line (pane mode, program without bracketed paste).
    pub folded: bool,
}

/// What the connection found out about the conversation.
#[derive(Debug, Clone)]
struct Conversation {
    server: ServerId,
    server_uid: u32,
    socket_path: PathBuf,
    session_id: String,
    main_pane: String,
    threads: HashMap<String, ThreadWindow>,
}

#[derive(Default)]
struct State {
    router: Router,
    conversation: Option<Conversation>,
}

struct Inner {
    settings: TmuxSettings,
    /// Commands when no control client is wanted (see [`TmuxSession::open_without_output`]).
    plain: Arc<PlainLink>,
    /// Whether a control client is wanted: the pane's output is read.
    streaming: AtomicBool,
    client: Mutex<Option<Arc<ControlClient>>>,
    connecting: tokio::sync::Mutex<()>,
    creating_thread: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    state: Arc<Mutex<State>>,
    notices: mpsc::UnboundedSender<Tagged>,
    lines_tx: mpsc::Sender<PaneLine>,
    lines_rx: Mutex<Option<mpsc::Receiver<PaneLine>>>,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(client) = lock(&self.client).take() {
            client.kill();
        }
    }
}

/// A conversation over tmux through one persistent control-mode client.
///
/// ```no_run
/// # async fn demo() -> Result<(), connector_tmux::TmuxError> {
/// use connector_tmux::{TmuxSession, TmuxSettings};
///
/// let session = TmuxSession::open(TmuxSettings::console("orchestrator")).await?;
/// let mut lines = session.lines().expect("taken once");
/// session.send_console("Build finished. Deploy? (yes/no)", None).await?;
/// if let Some(line) = lines.recv().await {
///     println!("operator said: {}", line.text);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TmuxSession {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TmuxSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TmuxSession")
            .field("mode", &self.inner.settings.mode)
            .field("socket", &self.inner.settings.socket)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl TmuxSession {
    /// Connects (starting the console session, and the server, if needed in console mode) and
    /// reads the panes' output through a control client: [`lines`](Self::lines) delivers.
    pub async fn open(settings: TmuxSettings) -> Result<Self, TmuxError> {
        let session = Self::new(settings, true)?;
        session.reconnect().await?;
        Ok(session)
    }

    /// Connects for commands only (starting the console session, and the server, if needed in
    /// console mode): every command runs in a short-lived plain tmux client, no control client
    /// is attached and no output is read until [`stream`](Self::stream) is called. What a
    /// one-shot send uses: see the `plain` module for why it must not be a control client.
    pub async fn open_without_output(settings: TmuxSettings) -> Result<Self, TmuxError> {
        let session = Self::new(settings, false)?;
        let link = Link::Plain(session.inner.plain.clone());
        session.ensure_console(true).await?;
        let (conversation, _) = session.discover(&link).await?;
        lock(&session.inner.state).conversation = Some(conversation);
        Ok(session)
    }

    /// Starts reading the panes' output (attaching a control client) if it is not read yet.
    pub async fn stream(&self) -> Result<(), TmuxError> {
        if self.is_connected() {
            return Ok(());
        }
        self.reconnect().await
    }

    /// Without a control client, makes sure the conversation found earlier is still the one
    /// the server has (it may have been restarted since, and a pane id such as `%0` may now be
    /// someone else's pane): one plain command per call, and the conversation is found again
    /// (re-creating the console in a running server) when it changed.
    async fn refresh_plain(&self) -> Result<(), TmuxError> {
        if self.is_streaming() {
            return Ok(());
        }
        let link = Link::Plain(self.inner.plain.clone());
        let known = lock(&self.inner.state).conversation.clone();
        if let Some(known) = known {
            let now = link
                .run(
                    DisplayMessage::new()
                        .print()
                        .target_pane(known.main_pane.as_str())
                        .message("#{pid}\t#{start_time}\t#{pane_id}")
                        .build(),
                )
                .await;
            let expected = format!(
                "{}\t{}\t{}",
                known.server.pid, known.server.start_time, known.main_pane
            );
            if now.is_ok_and(|lines| lines.first() == Some(&expected)) {
                return Ok(());
            }
        }
        self.ensure_console(false).await?;
        let (conversation, _) = self.discover(&link).await?;
        lock(&self.inner.state).conversation = Some(conversation);
        Ok(())
    }

    /// Whether the panes' output is wanted (opened with [`open`](Self::open), or
    /// [`stream`](Self::stream) was called).
    pub fn is_streaming(&self) -> bool {
        self.inner.streaming.load(Ordering::SeqCst)
    }

    fn new(settings: TmuxSettings, streaming: bool) -> Result<Self, TmuxError> {
        settings.validate()?;
        let (notices, notice_rx) = mpsc::unbounded_channel();
        let (lines_tx, lines_rx) = mpsc::channel(settings.line_capacity.max(1));
        let state = Arc::new(Mutex::new(State::default()));
        let task = tokio::spawn(route(notice_rx, state.clone(), lines_tx.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                plain: Arc::new(PlainLink::new(settings.clone())),
                streaming: AtomicBool::new(streaming),
                settings,
                client: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
                creating_thread: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                state,
                notices,
                lines_tx,
                lines_rx: Mutex::new(Some(lines_rx)),
                task,
            }),
        })
    }

    /// The settings this session was opened with.
    pub fn settings(&self) -> &TmuxSettings {
        &self.inner.settings
    }

    /// The inbound lines; `Some` the first time only.
    ///
    /// Console mode: every line the operator typed. Pane mode: every line the program
    /// printed (escape sequences stripped; an unfinished line is delivered when it is
    /// finished, or once when the connection drops). Lines carry their thread and a
    /// sequence number; none is delivered twice, reconnects included.
    pub fn lines(&self) -> Option<mpsc::Receiver<PaneLine>> {
        lock(&self.inner.lines_rx).take()
    }

    /// Whether the control client is connected.
    pub fn is_connected(&self) -> bool {
        lock(&self.inner.client)
            .as_ref()
            .is_some_and(|c| c.is_alive())
    }

    /// The pane of the main conversation (console pane or the target pane), once connected.
    pub fn main_pane(&self) -> Option<String> {
        lock(&self.inner.state)
            .conversation
            .as_ref()
            .map(|c| c.main_pane.clone())
    }

    /// Whether the program in `pane` has asked for bracketed paste, as last seen in its
    /// output (`None`: not seen since we attached, treated as "no").
    pub fn bracketed_paste(&self, pane: &str) -> Option<bool> {
        lock(&self.inner.state).router.bracketed_paste(pane)
    }

    /// Sends through whichever path the mode uses: shown on the console, or typed into
    /// the pane.
    pub async fn send(
        &self,
        text: &str,
        thread: Option<&str>,
        verify: bool,
    ) -> Result<Delivered, TmuxError> {
        match self.inner.settings.mode {
            Mode::Console { .. } => self.show_console(text, thread, verify).await,
            Mode::Pane { .. } => self.send_to_pane(text, thread, verify).await,
        }
    }

    /// Shows `text` to the operator on the console (or the thread's window). Never
    /// executed; see [`crate::console`].
    pub async fn send_console(&self, text: &str, thread: Option<&str>) -> Result<(), TmuxError> {
        self.show_console(text, thread, false).await.map(|_| ())
    }

    async fn show_console(
        &self,
        text: &str,
        thread: Option<&str>,
        verify: bool,
    ) -> Result<Delivered, TmuxError> {
        let (link, pane, tty) = self.console_terminal("send_console", thread).await?;
        let bytes = console::render(text, &self.inner.settings.console_prompt);
        let watch = match verify {
            true => Some(
                self.watch(
                    &link,
                    &pane,
                    pane::needle(&neutralize(text, Newlines::Keep)),
                )
                .await,
            ),
            false => None,
        };
        console::write_tty(
            std::path::Path::new(&tty),
            &bytes,
            self.inner.settings.op_timeout,
        )
        .await?;
        let seen = self.await_seen(&link, watch).await;
        Ok(Delivered {
            pane,
            seen,
            folded: false,
        })
    }

    /// Console mode: shows `shown` (already made safe by `status_lines::line`) in status
    /// line `slot` (1 to [`status_lines::SLOTS`]) of the console's session, with `lines`
    /// status lines in all (tmux's `status` option: 2 or more).
    pub async fn show_status_line(
        &self,
        slot: usize,
        shown: &str,
        lines: usize,
    ) -> Result<(), TmuxError> {
        let Mode::Console { session } = &self.inner.settings.mode else {
            return Err(self.wrong_mode("show_status_line"));
        };
        self.refresh_plain().await?;
        let link = self.link()?;
        let target = format!("={session}:");
        let set = |option: String, value: String| {
            let target = target.clone();
            let link = link.clone();
            async move {
                let command: TmuxCommand<'_> = SetOption::new()
                    .target_pane(target)
                    .option(option)
                    .value(value)
                    .build();
                link.run(command).await.map(|_| ())
            }
        };
        // The value first, then the line that shows it, then the number of lines.
        set(status_lines::option_name(slot), shown.to_owned()).await?;
        set(format!("status-format[{slot}]"), status_lines::format(slot)).await?;
        set("status".to_owned(), lines.to_string()).await
    }

    /// Console mode: the link, the console pane (or the thread's) and its terminal device, for
    /// `operation`.
    async fn console_terminal(
        &self,
        operation: &'static str,
        thread: Option<&str>,
    ) -> Result<(Link, String, String), TmuxError> {
        if !matches!(self.inner.settings.mode, Mode::Console { .. }) {
            return Err(self.wrong_mode(operation));
        }
        self.refresh_plain().await?;
        let link = self.link()?;
        let pane = self.pane_for(thread).await?;
        let tty = pane_fields(&link, &pane, "#{pane_tty}")
            .await?
            .ok_or_else(|| TmuxError::TargetNotFound {
                target: pane.clone(),
                detail: "the console pane is gone".into(),
            })?;
        Ok((link, pane, tty))
    }

    /// Console mode: writes a round-trip probe carrying `text` to the console's terminal (see
    /// `console::probe_report`); it comes back as an inbound line once the session streams.
    pub async fn probe_console(&self, number: u64, text: &str) -> Result<(), TmuxError> {
        let (_, _, tty) = self.console_terminal("probe_console", None).await?;
        console::write_tty(
            std::path::Path::new(&tty),
            &console::probe_report(number, text),
            self.inner.settings.op_timeout,
        )
        .await
    }

    /// Types `text` into the endpoint pane (or the thread's window) as one paste and then
    /// presses Enter; with `verify`, reports whether the text appeared in the pane's output
    /// afterwards. See [`crate::pane`] for what reaches the program.
    pub async fn send_to_pane(
        &self,
        text: &str,
        thread: Option<&str>,
        verify: bool,
    ) -> Result<Delivered, TmuxError> {
        if !matches!(self.inner.settings.mode, Mode::Pane { .. }) {
            return Err(self.wrong_mode("send_to_pane"));
        }
        self.refresh_plain().await?;
        let link = self.link()?;
        let pane = self.pane_for(thread).await?;
        let prepared = pane::prepare(text, self.inner.settings.line_breaks);
        let folded = prepared.newlines == Newlines::Join
            && prepared.text != neutralize(text, Newlines::Keep);
        let watch = match verify {
            true => Some(self.watch(&link, &pane, pane::needle(&prepared.text)).await),
            false => None,
        };
        if !prepared.text.is_empty() {
            let buffer = pane::buffer_name();
            link.load_buffer(&buffer, &prepared.text).await?;
            if let Err(e) = link.run(pane::paste_buffer(&buffer, &pane)).await {
                let _ = link
                    .run(DeleteBuffer::new().buffer_name(buffer.as_str()).build())
                    .await;
                return Err(e);
            }
            // Not even a zero sleep: tokio's timer rounds deadlines up to the next
            // millisecond tick, which would cost up to 1 ms per send for nothing.
            if !self.inner.settings.submit_delay.is_zero() {
                tokio::time::sleep(self.inner.settings.submit_delay).await;
            }
        }
        link.run(pane::press_enter(&pane)).await?;
        let seen = self.await_seen(&link, watch).await;
        Ok(Delivered { pane, seen, folded })
    }

    /// Starts watching `pane` for `needle`: in the streamed output, or — without a control
    /// client — by counting it on the pane's screen and history before the send.
    async fn watch(&self, link: &Link, pane: &str, needle: String) -> Watch {
        if link.streams_output() {
            return Watch::Output(lock(&self.inner.state).router.watch(pane, &needle));
        }
        let before = count_on_screen(link, pane, &needle).await.unwrap_or(0);
        Watch::Screen {
            pane: pane.to_owned(),
            needle,
            before,
        }
    }

    /// Whether the watched text showed up within the verify timeout.
    async fn await_seen(&self, link: &Link, watch: Option<Watch>) -> Option<bool> {
        let limit = self.inner.settings.verify_timeout;
        Some(match watch? {
            Watch::Output(rx) => matches!(tokio::time::timeout(limit, rx).await, Ok(Ok(()))),
            Watch::Screen {
                pane,
                needle,
                before,
            } => {
                let deadline = tokio::time::Instant::now() + limit;
                loop {
                    if count_on_screen(link, &pane, &needle)
                        .await
                        .is_ok_and(|now| now > before)
                    {
                        break true;
                    }
                    if tokio::time::Instant::now() >= deadline {
                        break false;
                    }
                    tokio::time::sleep(SCREEN_POLL).await;
                }
            }
        })
    }

    /// The window of `thread` in the conversation's session: found by its
    /// `@connector_thread` marker, or created (named after the sanitised id) on first use.
    pub async fn ensure_thread_window(&self, thread: &str) -> Result<ThreadWindow, TmuxError> {
        if let Some(found) = self.cached_thread(thread) {
            return Ok(found);
        }
        let _one_at_a_time = self.inner.creating_thread.lock().await;
        if let Some(found) = self.cached_thread(thread) {
            return Ok(found);
        }
        let link = self.link()?;
        let session_id = self.conversation()?.session_id;
        let rows = list_windows(&link, &session_id).await?;
        if let Some(row) = rows.iter().find(|r| r.thread.as_deref() == Some(thread)) {
            return Ok(self.remember_thread(thread, row.clone()));
        }

        let name = threads::window_name(thread);
        let target = format!("{session_id}:");
        let mut command = NewWindow::new()
            .detached()
            .print()
            .format("#{window_id}\t#{pane_id}\t#{pane_pid}")
            .target_window(target.as_str())
            .window_name(name.as_str())
            .build();
        let argv = match self.inner.settings.mode {
            Mode::Console { .. } => Some(console_argv(&self.inner.settings.console_prompt)),
            Mode::Pane { .. } => self.inner.settings.thread_command.clone(),
        };
        if let Some(argv) = argv {
            command = with_trailing_values(command, argv);
        }
        let created = first_line(link.run(command).await?)?;
        let mut fields = created.split('\t');
        let (Some(window_id), Some(pane_id), Some(pid)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(TmuxError::Protocol(format!(
                "new-window printed {created:?}"
            )));
        };
        set_window_option(&link, window_id, ROLE_OPTION, "thread").await?;
        set_window_option(&link, window_id, THREAD_OPTION, &encode_id(thread)).await?;
        let row = WindowRow {
            window_id: window_id.to_owned(),
            pane_id: pane_id.to_owned(),
            pane_pid: pid.parse().unwrap_or(0),
            pane_dead: false,
            role: "thread".into(),
            thread: Some(thread.to_owned()),
            runs_console: matches!(self.inner.settings.mode, Mode::Console { .. }),
            name,
        };
        Ok(self.remember_thread(thread, row))
    }

    fn cached_thread(&self, thread: &str) -> Option<ThreadWindow> {
        lock(&self.inner.state)
            .conversation
            .as_ref()
            .and_then(|c| c.threads.get(thread).cloned())
    }

    fn remember_thread(&self, thread: &str, row: WindowRow) -> ThreadWindow {
        let window = ThreadWindow {
            thread: thread.to_owned(),
            window_id: row.window_id.clone(),
            pane_id: row.pane_id.clone(),
            name: row.name.clone(),
        };
        let mut state = lock(&self.inner.state);
        state.router.add_pane(PaneInfo {
            pane: row.pane_id,
            window: row.window_id,
            pid: row.pane_pid,
            role: self.role(),
            thread: Some(thread.to_owned()),
        });
        if let Some(conversation) = state.conversation.as_mut() {
            conversation
                .threads
                .insert(thread.to_owned(), window.clone());
        }
        window
    }

    async fn pane_for(&self, thread: Option<&str>) -> Result<String, TmuxError> {
        match thread {
            Some(thread) => Ok(self.ensure_thread_window(thread).await?.pane_id),
            None => Ok(self.conversation()?.main_pane),
        }
    }

    /// Checks the server and the conversation's pane. Never fails; a problem is in the
    /// answer. With the control client down it spawns no tmux process and only tries the
    /// socket; without one wanted it asks the server through a plain client.
    pub async fn health(&self) -> Probe {
        if let Err(e) = self.refresh_plain().await {
            tracing::debug!(error = %e, "finding the conversation again failed");
        }
        let Some(link) = self.live_link() else {
            return self.offline_probe();
        };
        let format = "#{pid}\t#{uid}\t#{socket_path}";
        let mut ask = DisplayMessage::new().print().message(format);
        let main_pane = self.main_pane();
        if let Some(pane) = &main_pane {
            ask = ask.target_pane(pane.as_str());
        }
        let server = match link.run(ask.build()).await {
            Ok(lines) => lines.into_iter().next().unwrap_or_default(),
            Err(TmuxError::Disconnected { .. }) => return self.offline_probe(),
            Err(e) => return Probe::unreachable(format!("tmux server does not answer: {e}")),
        };
        let mut fields = server.split('\t');
        let (pid, uid, socket_path) = (
            fields.next().unwrap_or_default().to_owned(),
            fields.next().and_then(|u| u.parse::<u32>().ok()),
            fields.next().map(PathBuf::from),
        );
        let me = socket::current_uid();
        if uid.is_none() || uid != me {
            return Probe::unusable(format!(
                "tmux server runs as uid {uid:?}, this process as {me:?}"
            ));
        }
        if let Some(path) = &socket_path
            && socket::owner_uid(path) != me
        {
            return Probe::unusable(format!(
                "socket {} is not owned by uid {me:?}",
                path.display()
            ));
        }
        let what = match &self.inner.settings.mode {
            Mode::Console { session } => format!("console of session `{session}`"),
            Mode::Pane { target } => format!("pane `{target}`"),
        };
        let Some(pane) = self.main_pane() else {
            return Probe::unusable(format!("{what} is not set up"));
        };
        match pane_fields(&link, &pane, "#{pane_dead}").await {
            Ok(Some(dead)) if dead == "1" => {
                Probe::unusable(format!("{what} ({pane}) exists but its program has exited"))
            }
            Ok(Some(_)) => {
                Probe::healthy(format!("tmux server pid {pid}; {what} ({pane}) is ready"))
            }
            Ok(None) => Probe::unusable(format!("{what} ({pane}) no longer exists")),
            Err(e) => Probe::unreachable(format!("checking {what} failed: {e}")),
        }
    }

    /// How commands reach tmux now: the control client when it is connected, plain clients
    /// when none is wanted; `None` when the control client is wanted but down.
    pub(crate) fn live_link(&self) -> Option<Link> {
        self.link().ok()
    }

    /// Whether commands go through plain clients (no control client wanted).
    pub(crate) fn is_plain(&self) -> bool {
        !self.is_streaming()
    }

    /// Why the control client is down, when it is.
    pub(crate) fn down_reason(&self) -> String {
        lock(&self.inner.client)
            .as_ref()
            .map(|c| c.reason())
            .unwrap_or_else(|| "not connected".to_owned())
    }

    /// The socket file of the server attached to, else the one the settings name.
    pub(crate) fn socket_file(&self) -> Option<PathBuf> {
        lock(&self.inner.state)
            .conversation
            .as_ref()
            .map(|c| c.socket_path.clone())
            .or_else(|| self.inner.settings.socket.path())
    }

    fn offline_probe(&self) -> Probe {
        let reason = lock(&self.inner.client)
            .as_ref()
            .map(|c| c.reason())
            .unwrap_or_else(|| "not connected".to_owned());
        let path = lock(&self.inner.state)
            .conversation
            .as_ref()
            .map(|c| c.socket_path.clone())
            .or_else(|| self.inner.settings.socket.path());
        let Some(path) = path else {
            return Probe::unreachable(format!(
                "control client down ({reason}); socket path unknown"
            ));
        };
        match socket::probe(&path) {
            SocketState::Listening => Probe::unusable(format!(
                "control client down ({reason}); a server listens on {} — call reconnect()",
                path.display()
            )),
            SocketState::Missing => Probe::unreachable(format!(
                "control client down ({reason}); no server: {} does not exist",
                path.display()
            )),
            SocketState::Unreachable(e) => Probe::unreachable(format!(
                "control client down ({reason}); no server answers on {}: {e}",
                path.display()
            )),
        }
    }

    /// Replaces the control client with a new one (e.g. after the server came back). The old
    /// client, if any, is killed first, so two clients never stream the same output. From now
    /// on the session streams (see [`stream`](Self::stream)).
    pub async fn reconnect(&self) -> Result<(), TmuxError> {
        let _one_at_a_time = self.inner.connecting.lock().await;
        self.inner.streaming.store(true, Ordering::SeqCst);
        let old = lock(&self.inner.client).take();
        if let Some(old) = old {
            old.shutdown().await;
            self.wait_until_dropped(old.pid()).await;
            let flushed = lock(&self.inner.state).router.closed(old.generation());
            for line in flushed {
                let _ = self.inner.lines_tx.send(line).await;
            }
        }
        let generation = self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let (client, conversation, panes) = self.connect(generation).await?;
        {
            let mut state = lock(&self.inner.state);
            state
                .router
                .install(generation, conversation.server.clone(), panes);
            state.conversation = Some(conversation);
        }
        *lock(&self.inner.client) = Some(client);
        Ok(())
    }

    /// Disconnects the control client the safe way (the server and its panes keep running):
    /// pane output to it is turned off, then it is killed — never told to exit; see the
    /// `control` module for why.
    pub async fn shutdown(&self) {
        let client = lock(&self.inner.client).take();
        if let Some(client) = client {
            client.shutdown().await;
        }
    }

    /// Disconnects the control client at once (the server and its panes keep running): it is
    /// killed, never told to exit. Prefer [`shutdown`](Self::shutdown) where you can await.
    pub fn close(&self) {
        if let Some(client) = lock(&self.inner.client).take() {
            client.kill();
        }
    }

    /// Waits (up to the operation timeout) until the server has dropped the client with process
    /// id `pid`. tmux 3.3a announces a leaving client to every control client, and crashes when
    /// one of them is still being set up, so a new control client is started only once the old
    /// one is gone. Asked through plain clients, which that announcement never reaches.
    async fn wait_until_dropped(&self, pid: Option<u32>) {
        let Some(pid) = pid.map(|pid| pid.to_string()) else {
            return;
        };
        let deadline = tokio::time::Instant::now() + self.inner.settings.op_timeout;
        while tokio::time::Instant::now() < deadline {
            let clients = self
                .inner
                .plain
                .run(ListClients::new().format("#{client_pid}").build())
                .await;
            match clients {
                Ok(pids) if pids.contains(&pid) => {}
                _ => return,
            }
            tokio::time::sleep(DROP_POLL).await;
        }
        tracing::debug!(%pid, "tmux still lists the old control client");
    }

    /// Console mode: creates the console's session (and, with `start_server`, the server) with
    /// a short-lived plain client. tmux 3.3a's server crashes when two control clients create the
    /// same session at once (`new-session -A` from two connectors reconnecting together); plain
    /// clients racing are safe, the loser answering "duplicate session". The console loop only
    /// starts in a session created here.
    async fn ensure_console(&self, start_server: bool) -> Result<(), TmuxError> {
        let settings = &self.inner.settings;
        let Mode::Console { session } = &settings.mode else {
            return Ok(());
        };
        let create = NewSession::new()
            .detached()
            .session_name(session.as_str())
            .window_name("console")
            .build();
        let create = with_trailing_values(create, console_argv(&settings.console_prompt));
        match crate::control::run_once(settings, create, start_server).await {
            Ok(()) => Ok(()),
            Err(TmuxError::Command { message, .. }) if message.contains("duplicate session") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Attaches a new control client and finds the conversation through it.
    async fn connect(
        &self,
        generation: u64,
    ) -> Result<(Arc<ControlClient>, Conversation, Vec<PaneInfo>), TmuxError> {
        let settings = &self.inner.settings;
        let notices = self.inner.notices.clone();
        self.ensure_console(generation <= 1).await?;
        // The conversation must exist before a control client is set up, checked through plain
        // clients: while it is gone (an agent's session being restarted), the supervisor's
        // retries then start no control client at all. tmux 3.3a crashes when a session is
        // created or closed, or a client detaches, while a control client is being set up
        // (see the `control` module), so every set-up is a risk taken only when it can succeed.
        self.discover(&Link::Plain(self.inner.plain.clone()))
            .await?;
        let client = match &settings.mode {
            Mode::Console { session } => {
                let start = AttachSession::new()
                    .not_update_env()
                    .target_session(format!("={session}"))
                    .build();
                ControlClient::spawn(settings, start, generation, notices).await?
            }
            Mode::Pane { target } => {
                // Attach without a target: `attach-session -t session:window` would make that
                // window current for the operator too. We switch to the pane's session in
                // `discover`.
                let start = AttachSession::new().not_update_env().build();
                ControlClient::spawn(settings, start, generation, notices)
                    .await
                    .map_err(|e| not_found(target, e))?
            }
        };
        let client = Arc::new(client.0);
        let found = self.discover(&Link::Control(client.clone())).await;
        match found {
            Ok((conversation, panes)) => {
                tracing::debug!(
                    generation,
                    session = %conversation.session_id,
                    pane = %conversation.main_pane,
                    uid = conversation.server_uid,
                    "tmux control client connected"
                );
                Ok((client, conversation, panes))
            }
            Err(e) => {
                client.kill();
                Err(e)
            }
        }
    }

    /// Finds the conversation (server, session, main pane, thread windows) through `link`; a
    /// control client is switched to the pane's session so that it streams that session's panes.
    async fn discover(&self, link: &Link) -> Result<(Conversation, Vec<PaneInfo>), TmuxError> {
        let settings = &self.inner.settings;
        let mut main_pane = None;
        let info_target = match &settings.mode {
            Mode::Console { session } => format!("={session}:"),
            Mode::Pane { target } => target.clone(),
        };
        if let Mode::Pane { target } = &settings.mode {
            // `display-message -t` silently falls back to the current pane when the target
            // does not exist (its target is "can fail"); `capture-pane -t` does not, so it
            // checks the target first (printing one line, changing nothing).
            link.run(
                CapturePane::new()
                    .stdout()
                    .start_line("0")
                    .end_line("0")
                    .target_pane(target.as_str())
                    .build(),
            )
            .await
            .map_err(|e| not_found(target, e))?;
            let lines = link
                .run(
                    DisplayMessage::new()
                        .print()
                        .target_pane(target.as_str())
                        .message("#{session_id}\t#{pane_id}")
                        .build(),
                )
                .await
                .map_err(|e| not_found(target, e))?;
            let line = first_line(lines)?;
            let (session_id, pane_id) = line
                .split_once('\t')
                .ok_or_else(|| TmuxError::Protocol(format!("display-message printed {line:?}")))?;
            if link.streams_output() {
                link.run(SwitchClient::new().target_session(session_id).build())
                    .await?;
            }
            main_pane = Some(pane_id.to_owned());
        }

        let info = first_line(
            link.run(
                DisplayMessage::new()
                    .print()
                    .target_pane(info_target.as_str())
                    .message("#{pid}\t#{start_time}\t#{uid}\t#{socket_path}\t#{session_id}")
                    .build(),
            )
            .await?,
        )?;
        let f: Vec<&str> = info.splitn(5, '\t').collect();
        let [pid, start_time, uid, socket_path, session_id] = f[..] else {
            return Err(TmuxError::Protocol(format!(
                "display-message printed {info:?}"
            )));
        };
        let server = ServerId {
            pid: pid.parse().unwrap_or(0),
            start_time: start_time.parse().unwrap_or(0),
        };

        let rows = list_windows(link, session_id).await?;
        let role = self.role();
        let mut panes = Vec::new();
        let mut threads_found = HashMap::new();
        for row in &rows {
            if let Some(thread) = &row.thread {
                threads_found.insert(
                    thread.clone(),
                    ThreadWindow {
                        thread: thread.clone(),
                        window_id: row.window_id.clone(),
                        pane_id: row.pane_id.clone(),
                        name: row.name.clone(),
                    },
                );
                panes.push(PaneInfo {
                    pane: row.pane_id.clone(),
                    window: row.window_id.clone(),
                    pid: row.pane_pid,
                    role,
                    thread: Some(thread.clone()),
                });
            }
        }

        let main_pane = match main_pane {
            Some(pane) => pane,
            None => console_pane(link, session_id, &rows, &settings.console_prompt).await?,
        };
        let (main_window, main_pid) = match rows.iter().find(|r| r.pane_id == main_pane) {
            Some(row) => (row.window_id.clone(), row.pane_pid),
            None => pane_identity(link, &main_pane).await?,
        };
        panes.push(PaneInfo {
            pane: main_pane.clone(),
            window: main_window,
            pid: main_pid,
            role,
            thread: None,
        });

        let conversation = Conversation {
            server,
            server_uid: uid.parse().unwrap_or(u32::MAX),
            socket_path: PathBuf::from(socket_path),
            session_id: session_id.to_owned(),
            main_pane,
            threads: threads_found,
        };
        Ok((conversation, panes))
    }

    fn role(&self) -> Role {
        match self.inner.settings.mode {
            Mode::Console { .. } => Role::Console,
            Mode::Pane { .. } => Role::Endpoint,
        }
    }

    fn link(&self) -> Result<Link, TmuxError> {
        match lock(&self.inner.client).as_ref() {
            Some(client) if client.is_alive() => Ok(Link::Control(client.clone())),
            _ if !self.is_streaming() => Ok(Link::Plain(self.inner.plain.clone())),
            Some(client) => Err(TmuxError::disconnected(client.reason())),
            None => Err(TmuxError::disconnected("not connected")),
        }
    }

    fn conversation(&self) -> Result<Conversation, TmuxError> {
        lock(&self.inner.state)
            .conversation
            .clone()
            .ok_or_else(|| TmuxError::disconnected("not connected"))
    }

    fn wrong_mode(&self, operation: &'static str) -> TmuxError {
        TmuxError::WrongMode {
            operation,
            mode: self.inner.settings.mode.name(),
        }
    }
}

/// The console window's pane: the window marked `@connector_role console`, else a window
/// running the console loop that we just created with `new-session`, else a new window.
async fn console_pane(
    link: &Link,
    session_id: &str,
    rows: &[WindowRow],
    prompt: &str,
) -> Result<String, TmuxError> {
    let usable = |r: &&WindowRow| !r.pane_dead && r.runs_console;
    if let Some(row) = rows.iter().filter(usable).find(|r| r.role == "console") {
        return Ok(row.pane_id.clone());
    }
    if let Some(row) = rows
        .iter()
        .filter(usable)
        .find(|r| r.role.is_empty() && r.thread.is_none())
    {
        set_window_option(link, &row.window_id, ROLE_OPTION, "console").await?;
        return Ok(row.pane_id.clone());
    }
    let target = format!("{session_id}:");
    let command = NewWindow::new()
        .detached()
        .print()
        .format("#{window_id}\t#{pane_id}")
        .target_window(target.as_str())
        .window_name("console")
        .build();
    let created = first_line(
        link.run(with_trailing_values(command, console_argv(prompt)))
            .await?,
    )?;
    let (window_id, pane_id) = created
        .split_once('\t')
        .ok_or_else(|| TmuxError::Protocol(format!("new-window printed {created:?}")))?;
    set_window_option(link, window_id, ROLE_OPTION, "console").await?;
    Ok(pane_id.to_owned())
}

async fn pane_identity(link: &Link, pane: &str) -> Result<(String, u32), TmuxError> {
    let line = first_line(
        link.run(
            DisplayMessage::new()
                .print()
                .target_pane(pane)
                .message("#{window_id}\t#{pane_pid}")
                .build(),
        )
        .await?,
    )?;
    let (window, pid) = line
        .split_once('\t')
        .ok_or_else(|| TmuxError::Protocol(format!("display-message printed {line:?}")))?;
    Ok((window.to_owned(), pid.parse().unwrap_or(0)))
}

/// One pane's fields by pane id (`%N`), or `None` when no such pane exists. A filtered
/// `list-panes -a` is used because `display-message -t` answers for the current pane when
/// the target is missing.
pub(crate) async fn pane_fields(
    link: &Link,
    pane: &str,
    format: &str,
) -> Result<Option<String>, TmuxError> {
    if !(pane.starts_with('%') && pane.len() > 1 && pane[1..].bytes().all(|b| b.is_ascii_digit())) {
        return Err(TmuxError::Protocol(format!("not a pane id: {pane:?}")));
    }
    let filter = format!("#{{==:#{{pane_id}},{pane}}}");
    let lines = link
        .run(
            ListPanes::new()
                .all()
                .format(format)
                .filter(filter.as_str())
                .build(),
        )
        .await?;
    Ok(lines.into_iter().next())
}

async fn list_windows(link: &Link, session_id: &str) -> Result<Vec<WindowRow>, TmuxError> {
    let lines = link
        .run(
            ListWindows::new()
                .format(WINDOW_FORMAT)
                .target_session(session_id)
                .build(),
        )
        .await?;
    Ok(lines
        .iter()
        .filter_map(|l| threads::parse_window(l))
        .collect())
}

async fn set_window_option(
    link: &Link,
    window: &str,
    option: &str,
    value: &str,
) -> Result<(), TmuxError> {
    let command: TmuxCommand<'_> = SetOption::new()
        .window()
        .target_pane(window)
        .option(option)
        .value(value)
        .build();
    link.run(command).await.map(|_| ())
}

fn first_line(lines: Vec<String>) -> Result<String, TmuxError> {
    lines
        .into_iter()
        .next()
        .ok_or_else(|| TmuxError::Protocol("tmux printed nothing".into()))
}

fn not_found(target: &str, error: TmuxError) -> TmuxError {
    match error {
        TmuxError::Command { message, .. } => TmuxError::TargetNotFound {
            target: target.to_owned(),
            detail: message,
        },
        other => other,
    }
}

/// How often a reconnect looks whether tmux has dropped the old control client.
const DROP_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// How a verified send looks for its text.
enum Watch {
    /// In the streamed output (the router answers once it passes by).
    Output(oneshot::Receiver<()>),
    /// On the pane's screen and history: seen once it is there more often than `before`.
    Screen {
        pane: String,
        needle: String,
        before: usize,
    },
}

/// How often a verified send without a control client looks at the pane again.
const SCREEN_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// How many times `needle` (whitespace removed) is on `pane`'s screen and in its history.
async fn count_on_screen(link: &Link, pane: &str, needle: &str) -> Result<usize, TmuxError> {
    if needle.is_empty() {
        return Ok(0);
    }
    let lines = link
        .run(
            CapturePane::new()
                .stdout()
                .join()
                .start_line("-")
                .target_pane(pane)
                .build(),
        )
        .await?;
    let screen: String = lines
        .iter()
        .flat_map(|line| line.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(screen.matches(needle).count())
}

/// The notification task: `%output` to lines, window closes to forgotten threads, a lost
/// client to a flush of unfinished lines.
async fn route(
    mut notices: mpsc::UnboundedReceiver<Tagged>,
    state: Arc<Mutex<State>>,
    lines: mpsc::Sender<PaneLine>,
) {
    while let Some(Tagged { generation, event }) = notices.recv().await {
        let out = match event {
            Notice::Event(Event::Output { pane, data }) => {
                lock(&state).router.output(generation, &pane, &data)
            }
            Notice::Event(Event::WindowClose { window }) => {
                let mut state = lock(&state);
                state.router.remove_window(&window);
                if let Some(c) = state.conversation.as_mut() {
                    c.threads.retain(|_, w| w.window_id != window);
                }
                Vec::new()
            }
            Notice::Closed { reason } => {
                tracing::info!(generation, %reason, "tmux control client disconnected");
                lock(&state).router.closed(generation)
            }
            Notice::Event(other) => {
                tracing::trace!(?other, "tmux notification");
                Vec::new()
            }
        };
        for line in out {
            if lines.send(line).await.is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn session_is_shareable() {
        assert_send_sync::<TmuxSession>();
        assert_send_sync::<PaneLine>();
        assert_send_sync::<TmuxError>();
    }

    #[test]
    fn not_found_maps_command_errors_only() {
        let e = not_found(
            "x:1",
            TmuxError::Command {
                command: "display-message".into(),
                message: "can't find session: x".into(),
            },
        );
        assert!(matches!(e, TmuxError::TargetNotFound { .. }));
        let e = not_found("x:1", TmuxError::disconnected("gone"));
        assert!(matches!(e, TmuxError::Disconnected { .. }));
    }
}
