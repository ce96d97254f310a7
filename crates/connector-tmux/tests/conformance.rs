//! The conformance suite on a real tmux server: the operator console, driven by an operator
//! who types into its panes and reads its screens.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::TestServer;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{
    Capability, Error, MessageId, OrchestratorConnector, QuestionReceipt, Result, SenderPolicy,
    ThreadId,
};
use connector_tmux::TmuxConnector;

const SESSION: &str = "orchestrator";
const PROMPT: &str = "> ";

/// The operator at the console: types with `send-keys`, reads with `capture-pane`.
struct ConsoleOperator {
    server: TestServer,
    /// Lines already read, per window.
    read: Mutex<HashMap<String, usize>>,
    /// What the operator typed: its echo is on the screen too, with or without the prompt
    /// (the loop may not have printed its prompt yet when the keys arrive).
    typed: Mutex<Vec<String>>,
}

struct Window {
    id: String,
    thread: Option<String>,
    console: bool,
}

fn decode_hex(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

impl ConsoleOperator {
    fn windows(&self) -> Vec<Window> {
        let Ok(listing) = self.server.try_tmux(&[
            "list-windows",
            "-t",
            SESSION,
            "-F",
            "#{window_id}\t#{@connector_thread}\t#{m:*connector-tmux-console*,#{pane_start_command}}",
        ]) else {
            return Vec::new();
        };
        listing
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let id = fields.next()?.to_owned();
                let thread = fields.next().filter(|t| !t.is_empty()).and_then(decode_hex);
                let console = fields.next() == Some("1");
                Some(Window {
                    id,
                    thread,
                    console,
                })
            })
            .collect()
    }

    fn window_for(&self, thread: Option<&ThreadId>) -> Option<String> {
        self.windows()
            .into_iter()
            .find(|w| w.console && w.thread.as_deref() == thread.map(ThreadId::as_str))
            .map(|w| w.id)
    }

    /// Lines a message put on the window's screen: not blank, not the prompt or what the
    /// operator typed after it.
    fn message_lines(&self, window: &str) -> Vec<String> {
        let screen = self
            .server
            .try_tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", window])
            .unwrap_or_default();
        screen
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with(PROMPT) && *l != PROMPT.trim_end())
            .filter(|l| {
                !self
                    .typed
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|t| l.ends_with(t.as_str()))
            })
            .map(str::to_owned)
            .collect()
    }
}

#[async_trait]
impl Peer for ConsoleOperator {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        let window = self.window_for(thread).ok_or_else(|| Error::InvalidInput {
            field: "thread",
            message: format!("no console window for {thread:?}"),
        })?;
        self.typed.lock().unwrap().push(text.to_owned());
        self.server.type_line(&window, text);
        Ok(())
    }

    async fn post_as_stranger(&self, _text: &str) -> Result<()> {
        // Whoever can reach the tmux server is the operator: there is no second sender.
        Err(Error::unsupported("tmux", Capability::Threads))
    }

    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            for window in self.windows().into_iter().filter(|w| w.console) {
                let lines = self.message_lines(&window.id);
                let mut read = self.read.lock().unwrap();
                let seen = read.entry(window.id.clone()).or_insert(0);
                if lines.len() > *seen {
                    let text = lines[*seen].clone();
                    *seen += 1;
                    return Ok(Some(Posted {
                        text,
                        thread_id: window.thread.map(ThreadId::new),
                    }));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn take_down(&self) -> Result<()> {
        self.server.kill();
        Ok(())
    }

    /// Types `<number> <question id>`: unambiguous on a console shared by two connectors.
    /// What the console then prints about the answer (a refusal) is what the operator was told.
    async fn answer_as_operator(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let thread = receipt.thread_id.as_ref();
        let window = self.window_for(thread).ok_or_else(|| Error::InvalidInput {
            field: "thread",
            message: format!("no console window for {thread:?}"),
        })?;
        let before = self.message_lines(&window).len();
        let line = format!("{} {}", choice + 1, receipt.question_id);
        self.post_as_operator(&line, thread).await?;
        // A refusal is printed at once; an accepted answer prints its outcome instead.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while tokio::time::Instant::now() < deadline {
            let lines = self.message_lines(&window);
            if let Some(told) = lines.iter().skip(before).find(|l| l.contains("not taken")) {
                return Ok(Some(told.clone()));
            }
            if lines
                .iter()
                .skip(before)
                .any(|l| l.contains(receipt.question_id.as_str()))
            {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(None)
    }

    /// The question's window as the operator sees it: the question, and below it its outcome.
    async fn shown_text(&self, _message: &MessageId) -> Result<String> {
        Ok(self
            .windows()
            .into_iter()
            .filter(|w| w.console)
            .flat_map(|w| self.message_lines(&w.id))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    async fn bring_up(&self) -> Result<()> {
        // A new server, as an operator restarting tmux would start it; the connector must find
        // it and re-create its console there.
        self.read.lock().unwrap().clear();
        self.server.start_session("placeholder", &[]);
        Ok(())
    }
}

async fn setup() -> Fixture {
    let server = TestServer::new();
    let connector = TmuxConnector::with_settings(
        server.console_settings(SESSION),
        SenderPolicy::allow_any(),
        1024,
    )
    .await
    .expect("open the console");
    let strict = TmuxConnector::with_settings(
        server.console_settings(SESSION),
        SenderPolicy::allow_list(["tmux:someone-else"]),
        1024,
    )
    .await
    .expect("open a strict console on the same session");
    let operator = ConsoleOperator {
        server,
        read: Mutex::new(HashMap::new()),
        typed: Mutex::new(Vec::new()),
    };
    let connector: Arc<dyn OrchestratorConnector> = Arc::new(connector);
    let strict: Arc<dyn OrchestratorConnector> = Arc::new(strict);
    Fixture::new(connector, operator).with_strict(strict)
}

connector_conformance::suite!(setup);
