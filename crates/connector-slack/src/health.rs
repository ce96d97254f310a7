//! Health: the token still accepted (`auth.test`), the Socket Mode connection open, the
//! inbound side without a standing problem.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use connector_core::{ConnectorHealth, Error};

use crate::socket_mode::SocketState;
use crate::web_api::WebApi;

/// How long a health probe may take.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the inbound side reports.
#[derive(Debug, Default)]
pub(crate) struct InboundStatus {
    problem: Mutex<Option<String>>,
    /// Some event ever arrived over Socket Mode.
    pub(crate) any_event: AtomicBool,
}

impl InboundStatus {
    /// Sets (or clears) the standing problem.
    pub(crate) fn set_problem(&self, problem: Option<String>) {
        *self.problem.lock().unwrap_or_else(PoisonError::into_inner) = problem;
    }

    /// The standing problem.
    pub(crate) fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Notes that an event arrived.
    pub(crate) fn event_arrived(&self) {
        self.any_event.store(true, Ordering::Relaxed);
    }
}

/// Probes Slack and the socket.
pub(crate) async fn probe(
    api: &WebApi,
    socket: &SocketState,
    inbound: &InboundStatus,
) -> ConnectorHealth {
    let answer = tokio::time::timeout(PROBE_TIMEOUT, api.call("auth.test", &[])).await;
    let mut health = match answer {
        Err(_) => {
            return ConnectorHealth::unreachable(format!(
                "auth.test did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ));
        }
        Ok(Err(failure)) => {
            return match failure.error {
                Error::Unauthorized { reason, .. } => ConnectorHealth::unauthenticated(format!(
                    "Slack refused the bot token ({reason}): set SLACK_BOT_TOKEN to the app's \
                     Bot User OAuth Token (xoxb-…)"
                )),
                error => ConnectorHealth::unreachable(error.to_string()),
            };
        }
        Ok(Ok(_)) => ConnectorHealth::healthy(),
    };
    if !socket.connected {
        let why = socket
            .problem
            .clone()
            .unwrap_or_else(|| "reconnecting".to_owned());
        return ConnectorHealth::unreachable(format!("Socket Mode is not connected: {why}"));
    }
    if let Some(problem) = inbound.problem() {
        health = health.with_detail(problem);
    }
    health
}
