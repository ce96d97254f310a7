//! The Socket Mode client: `apps.connections.open` with the app-level token, the WebSocket it
//! names, `hello`, envelopes handed on with a way to ack them, and a new connection whenever
//! Slack sends `disconnect` (`refresh_requested`, `link_disabled`, …) or the socket drops.
//!
//! Acks go out on the connection open at the time of the ack (Slack's envelope ids are the
//! app's, not the connection's), so an envelope handed over just before a reconnect is still
//! acked. An envelope whose ack is lost is redelivered by Slack with `retry_attempt` > 0 and
//! dropped by the pump as a repeat.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use connector_core::retry::RetryPolicy;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::web_api::{WebApi, str_of};

/// An envelope from Slack (`events_api`, `interactive`, …).
#[derive(Debug, Clone)]
pub(crate) struct Envelope {
    /// Its `envelope_id`, what the ack names.
    pub(crate) id: String,
    /// The payload (an `event_callback` for `events_api`).
    pub(crate) payload: Value,
    /// How many times Slack sent it before (0 the first time).
    pub(crate) retry_attempt: u64,
}

/// What the socket hands the pump.
#[derive(Debug)]
pub(crate) enum SocketEvent {
    /// A connection said `hello`; `after` is how long the connector was without one (`None` for
    /// the first connection).
    Hello {
        /// Time since the previous connection was lost.
        after: Option<Duration>,
    },
    /// An `events_api` envelope.
    Event(Envelope),
}

/// The socket's state, for health and diagnosis.
#[derive(Debug, Clone, Default)]
pub(crate) struct SocketState {
    /// A connection said `hello` and is open.
    pub(crate) connected: bool,
    /// Some connection ever said `hello`.
    pub(crate) ever_connected: bool,
    /// Why the last connection attempt failed, if it did.
    pub(crate) problem: Option<String>,
    /// The app token was refused: no point retrying until the setup is fixed.
    pub(crate) refused: bool,
}

/// Sends acks on whichever connection is open.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acker {
    current: Arc<Mutex<Option<mpsc::UnboundedSender<String>>>>,
}

impl Acker {
    /// Acks envelope `id`; lost if no connection is open (Slack then redelivers it).
    pub(crate) fn ack(&self, id: &str) {
        let frame = json!({ "envelope_id": id }).to_string();
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = current.as_ref()
            && tx.send(frame).is_ok()
        {
            return;
        }
        tracing::debug!(
            id,
            "no Socket Mode connection to ack on: Slack will redeliver"
        );
    }

    fn set(&self, tx: Option<mpsc::UnboundedSender<String>>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = tx;
    }
}

/// The Socket Mode connection supervisor.
pub(crate) struct SocketMode {
    /// The app-level token's client (`apps.connections.open`).
    pub(crate) app_api: WebApi,
    pub(crate) acker: Acker,
    pub(crate) events: mpsc::UnboundedSender<SocketEvent>,
    /// `interactive` envelopes, handled apart so a click is acked in time even while the pump
    /// waits for a subscriber.
    pub(crate) interactive: mpsc::UnboundedSender<Envelope>,
    pub(crate) state: watch::Sender<SocketState>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Why a connection ended.
enum Ended {
    /// Slack asked for a new connection, or the socket dropped.
    Reconnect,
    /// The connector is closing.
    Shutdown,
}

impl SocketMode {
    /// Keeps a connection open until the connector closes.
    pub(crate) async fn run(mut self) {
        let backoff =
            RetryPolicy::default().with_delays(Duration::from_millis(100), Duration::from_secs(30));
        let mut failures = 0u32;
        let mut lost_at: Option<Instant> = None;
        loop {
            if *self.shutdown.borrow() {
                return;
            }
            let mut wait = None;
            let outcome = match self.open().await {
                Ok(url) => self.connect(&url, &mut lost_at, &mut failures).await,
                Err((problem, retry_after)) => {
                    wait = retry_after;
                    Err(problem)
                }
            };
            match outcome {
                Ok(Ended::Shutdown) => return,
                Ok(Ended::Reconnect) => {
                    lost_at.get_or_insert_with(Instant::now);
                    // A refresh is reconnected at once; a drop after a short, growing wait.
                    continue;
                }
                Err(problem) => {
                    lost_at.get_or_insert_with(Instant::now);
                    failures += 1;
                    tracing::warn!(%problem, failures, "Socket Mode connection failed");
                    self.state.send_modify(|s| {
                        s.connected = false;
                        s.problem = Some(problem);
                    });
                    // apps.connections.open is Tier 1: a 429's Retry-After is waited out.
                    let delay = wait.unwrap_or_else(|| {
                        backoff
                            .backoff(failures.min(10))
                            .max(Duration::from_millis(50))
                    });
                    tokio::select! {
                        _ = self.shutdown.wait_for(|c| *c) => return,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// `apps.connections.open`: the WebSocket URL, or why not and how long to wait.
    async fn open(&self) -> Result<String, (String, Option<Duration>)> {
        match self.app_api.call("apps.connections.open", &[]).await {
            Ok(answer) => str_of(&answer.body, "url")
                .map(str::to_owned)
                .ok_or_else(|| ("apps.connections.open answered no url".to_owned(), None)),
            Err(failure) => {
                let refused = matches!(
                    failure.code.as_deref(),
                    Some(
                        "invalid_auth" | "not_authed" | "not_allowed_token_type" | "token_revoked"
                    )
                );
                self.state.send_modify(|s| s.refused = refused);
                Err((failure.error.to_string(), failure.error.retry_after()))
            }
        }
    }

    /// One connection, from its handshake to its end.
    async fn connect(
        &mut self,
        url: &str,
        lost_at: &mut Option<Instant>,
        failures: &mut u32,
    ) -> Result<Ended, String> {
        let tls = crate::tls::client_config().map_err(|e| e.to_string())?;
        let connector = tokio_tungstenite::Connector::Rustls(tls);
        let (ws, _) =
            tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector))
                .await
                .map_err(|e| format!("cannot open the Socket Mode WebSocket: {e}"))?;
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let mut ended = Ended::Reconnect;
        loop {
            tokio::select! {
                () = closing(&mut self.shutdown) => {
                    let _ = sink.send(Frame::Close(None)).await;
                    ended = Ended::Shutdown;
                    break;
                }
                Some(ack) = rx.recv() => {
                    if sink.send(Frame::text(ack)).await.is_err() {
                        break;
                    }
                }
                frame = stream.next() => match frame {
                    Some(Ok(Frame::Text(text))) => {
                        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                            continue;
                        };
                        match str_of(&frame, "type").unwrap_or_default() {
                            "hello" => {
                                *failures = 0;
                                self.acker.set(Some(tx.clone()));
                                let after = self.state.borrow().ever_connected
                                    .then(|| lost_at.take().map(|t| t.elapsed()).unwrap_or_default());
                                lost_at.take();
                                self.state.send_modify(|s| {
                                    s.connected = true;
                                    s.ever_connected = true;
                                    s.problem = None;
                                    s.refused = false;
                                });
                                let _ = self.events.send(SocketEvent::Hello { after });
                            }
                            "disconnect" => {
                                let reason = str_of(&frame, "reason").unwrap_or_default();
                                tracing::debug!(reason, "Slack asked for a new connection");
                                if reason != "warning" {
                                    break;
                                }
                            }
                            kind => {
                                let Some(id) = str_of(&frame, "envelope_id") else {
                                    continue;
                                };
                                let envelope = Envelope {
                                    id: id.to_owned(),
                                    payload: frame.get("payload").cloned().unwrap_or_default(),
                                    retry_attempt: frame.get("retry_attempt").and_then(Value::as_u64).unwrap_or(0),
                                };
                                let handed = if kind == "interactive" {
                                    self.interactive.send(envelope).is_ok()
                                } else if kind == "events_api" {
                                    self.events.send(SocketEvent::Event(envelope)).is_ok()
                                } else {
                                    // Slash commands and the like: not ours to handle.
                                    self.acker.ack(id);
                                    true
                                };
                                if !handed {
                                    ended = Ended::Shutdown;
                                    break;
                                }
                            }
                        }
                    }
                    Some(Ok(Frame::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        self.acker.set(None);
        self.state.send_modify(|s| s.connected = false);
        Ok(ended)
    }
}

/// Resolves once the connector closes.
async fn closing(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|c| *c).await;
}
