//! Turning `%output` of the panes we care about into inbound lines, tagged with their
//! thread, de-duplicated and numbered; and watching output for verified sends.

use std::collections::HashMap;

use tokio::sync::oneshot;

use crate::ansi::{Piece, Stripper};
use crate::console::parse_report;
use crate::dedupe::{Deduper, LineId, ServerId, SourceKey};
use crate::lines::LineBuffer;

/// One inbound line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaneLine {
    /// The thread (window) it came from; `None` for the main console/pane.
    pub thread: Option<String>,
    /// The text: escape sequences stripped, `\r` applied, no trailing whitespace.
    pub text: String,
    /// Position in this session's inbound stream (1, 2, …), increasing across reconnects.
    pub seq: u64,
    /// The tmux pane id it came from, e.g. `%3`.
    pub pane: String,
    /// Stable identity of the line (server instance, pane, process, line number).
    pub id: LineId,
}

/// How a pane's output becomes lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Console loop: only its OSC line reports are inbound.
    Console,
    /// Program endpoint: every printed line is inbound.
    Endpoint,
}

/// What we know about a pane when we start following it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaneInfo {
    pub pane: String,
    pub window: String,
    pub pid: u32,
    pub role: Role,
    pub thread: Option<String>,
}

struct Watcher {
    needle: String,
    seen: String,
    done: oneshot::Sender<()>,
}

struct PaneState {
    info: PaneInfo,
    stripper: Stripper,
    line: LineBuffer,
    counter: u64,
    bracketed: Option<bool>,
    watchers: Vec<Watcher>,
}

impl PaneState {
    fn new(info: PaneInfo) -> Self {
        Self {
            info,
            stripper: Stripper::default(),
            line: LineBuffer::default(),
            counter: 0,
            bracketed: None,
            watchers: Vec::new(),
        }
    }
}

/// Per-session routing state, shared by the notification task and the API.
#[derive(Default)]
pub(crate) struct Router {
    generation: u64,
    server: Option<ServerId>,
    panes: HashMap<String, PaneState>,
    dedupe: Deduper,
    seq: u64,
}

impl Router {
    /// Starts following `panes` for client `generation` on `server`. A pane that is the
    /// same process on the same server as before keeps its line count.
    pub(crate) fn install(&mut self, generation: u64, server: ServerId, panes: Vec<PaneInfo>) {
        self.generation = generation;
        self.dedupe.retain_server(&server);
        let mut old = std::mem::take(&mut self.panes);
        for info in panes {
            let mut state = PaneState::new(info.clone());
            if let Some(previous) = old.remove(&info.pane)
                && self.server.as_ref() == Some(&server)
                && previous.info.pid == info.pid
            {
                state.counter = previous.counter;
                state.bracketed = previous.bracketed;
            }
            self.panes.insert(info.pane.clone(), state);
        }
        self.server = Some(server);
    }

    /// Follows one more pane (a new thread window).
    pub(crate) fn add_pane(&mut self, info: PaneInfo) {
        self.panes
            .entry(info.pane.clone())
            .or_insert_with(|| PaneState::new(info));
    }

    /// Stops following the panes of a closed window.
    pub(crate) fn remove_window(&mut self, window: &str) {
        self.panes.retain(|_, p| p.info.window != window);
    }

    /// Whether the program in `pane` asked for bracketed paste (`None`: not seen yet).
    pub(crate) fn bracketed_paste(&self, pane: &str) -> Option<bool> {
        self.panes.get(pane).and_then(|p| p.bracketed)
    }

    /// Resolves once `needle` (whitespace ignored) shows up in `pane`'s output.
    pub(crate) fn watch(&mut self, pane: &str, needle: &str) -> oneshot::Receiver<()> {
        let (done, rx) = oneshot::channel();
        let needle: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(state) = self.panes.get_mut(pane) {
            state.watchers.push(Watcher {
                needle,
                seen: String::new(),
                done,
            });
        }
        rx
    }

    /// Handles output of `pane` from client `generation`; returns new inbound lines.
    pub(crate) fn output(&mut self, generation: u64, pane: &str, data: &[u8]) -> Vec<PaneLine> {
        if generation != self.generation {
            return Vec::new();
        }
        let Some(server) = self.server.clone() else {
            return Vec::new();
        };
        let Some(state) = self.panes.get_mut(pane) else {
            return Vec::new();
        };
        let mut pieces = Vec::new();
        state.stripper.feed(data, &mut pieces);

        let mut found: Vec<(u32, u64, String)> = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::BracketedPaste(on) => state.bracketed = Some(*on),
                Piece::Osc(payload) if state.info.role == Role::Console => {
                    if let Some(report) = parse_report(payload) {
                        found.push((report.pid, report.number, report.text));
                    }
                }
                _ => {}
            }
            if state.info.role == Role::Endpoint
                && let Some(line) = state.line.push(piece)
            {
                state.counter += 1;
                found.push((state.info.pid, state.counter, line));
            }
        }
        feed_watchers(state, &pieces);

        let info = state.info.clone();
        found
            .into_iter()
            .filter_map(|(process, number, text)| self.emit(&server, &info, process, number, text))
            .collect()
    }

    /// The client of `generation` is gone: flush unfinished endpoint lines once, so that
    /// a later reconnect never glues old and new output together.
    pub(crate) fn closed(&mut self, generation: u64) -> Vec<PaneLine> {
        if generation != self.generation {
            return Vec::new();
        }
        let Some(server) = self.server.clone() else {
            return Vec::new();
        };
        let mut flushed = Vec::new();
        for state in self.panes.values_mut() {
            state.stripper = Stripper::default();
            state.watchers.clear();
            if state.info.role == Role::Endpoint
                && let Some(line) = state.line.take_partial()
            {
                state.counter += 1;
                flushed.push((state.info.clone(), state.counter, line));
            }
        }
        flushed
            .into_iter()
            .filter_map(|(info, number, text)| self.emit(&server, &info, info.pid, number, text))
            .collect()
    }

    fn emit(
        &mut self,
        server: &ServerId,
        info: &PaneInfo,
        process: u32,
        number: u64,
        text: String,
    ) -> Option<PaneLine> {
        let source = SourceKey {
            server: server.clone(),
            pane: info.pane.clone(),
            process,
        };
        if !self.dedupe.admit(&source, number) {
            tracing::debug!(pane = %info.pane, number, "dropping duplicate line");
            return None;
        }
        if text.trim().is_empty() {
            return None;
        }
        self.seq += 1;
        Some(PaneLine {
            thread: info.thread.clone(),
            text,
            seq: self.seq,
            pane: info.pane.clone(),
            id: LineId { source, number },
        })
    }
}

fn feed_watchers(state: &mut PaneState, pieces: &[Piece]) {
    if state.watchers.is_empty() {
        return;
    }
    let visible: String = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Char(c) if !c.is_whitespace() => Some(*c),
            _ => None,
        })
        .collect();
    let watchers = std::mem::take(&mut state.watchers);
    for mut watcher in watchers {
        watcher.seen.push_str(&visible);
        if watcher.seen.contains(&watcher.needle) {
            let _ = watcher.done.send(());
            continue;
        }
        // Keep only what could still be the start of a match.
        let keep = watcher.needle.chars().count().max(1) - 1;
        let total = watcher.seen.chars().count();
        if total > keep {
            watcher.seen = watcher.seen.chars().skip(total - keep).collect();
        }
        if !watcher.done.is_closed() {
            state.watchers.push(watcher);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerId {
        ServerId {
            pid: 1,
            start_time: 2,
        }
    }

    fn endpoint(pane: &str, pid: u32) -> PaneInfo {
        PaneInfo {
            pane: pane.into(),
            window: "@0".into(),
            pid,
            role: Role::Endpoint,
            thread: None,
        }
    }

    fn texts(lines: &[PaneLine]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn endpoint_lines_are_numbered_and_tagged() {
        let mut r = Router::default();
        let mut info = endpoint("%1", 10);
        info.thread = Some("t1".into());
        r.install(1, server(), vec![info]);
        let lines = r.output(1, "%1", b"a\r\nb\r\npart");
        assert_eq!(texts(&lines), ["a", "b"]);
        assert_eq!(lines[1].seq, 2);
        assert_eq!(lines[1].thread.as_deref(), Some("t1"));
        assert!(r.output(1, "%9", b"other pane\n").is_empty());
        assert!(r.output(0, "%1", b"stale generation\n").is_empty());
    }

    #[test]
    fn console_reports_are_the_only_console_lines() {
        let mut r = Router::default();
        let mut info = endpoint("%0", 50);
        info.role = Role::Console;
        r.install(1, server(), vec![info]);
        let lines = r.output(1, "%0", b"hi\r\n\x1b]5522;50;1;6869\x07> ");
        assert_eq!(texts(&lines), ["hi"]);
        // The same report again (e.g. seen by a second client) is dropped.
        let again = r.output(1, "%0", b"\x1b]5522;50;1;6869\x07");
        assert!(again.is_empty());
    }

    #[test]
    fn reconnect_keeps_counts_and_never_repeats() {
        let mut r = Router::default();
        r.install(1, server(), vec![endpoint("%1", 10)]);
        assert_eq!(texts(&r.output(1, "%1", b"one\npartial")), ["one"]);
        let flushed = r.closed(1);
        assert_eq!(texts(&flushed), ["partial"]);
        assert!(r.closed(1).is_empty(), "flushed only once");
        r.install(2, server(), vec![endpoint("%1", 10)]);
        let lines = r.output(2, "%1", b"two\n");
        assert_eq!(texts(&lines), ["two"]);
        assert_eq!(lines[0].id.number, 3);
        assert_eq!(lines[0].seq, 3);
    }

    #[test]
    fn watcher_fires_on_text_split_by_escapes() {
        let mut r = Router::default();
        r.install(1, server(), vec![endpoint("%1", 10)]);
        let mut rx = r.watch("%1", "hello world");
        r.output(1, "%1", b"hel\x1b[1m");
        assert!(rx.try_recv().is_err());
        r.output(1, "%1", b"lo \x1b[0mworld\r\n");
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn bracketed_paste_is_tracked() {
        let mut r = Router::default();
        r.install(1, server(), vec![endpoint("%1", 10)]);
        assert_eq!(r.bracketed_paste("%1"), None);
        r.output(1, "%1", b"\x1b[?2004h$ ");
        assert_eq!(r.bracketed_paste("%1"), Some(true));
    }
}
