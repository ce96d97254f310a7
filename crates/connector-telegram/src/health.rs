//! What the poller knows about the inbound path, and the health probe built on it.
//!
//! Health is `getMe` within [`PROBE_TIMEOUT`] (reachable, token accepted) and then the poller's
//! state: a 409 Conflict (another process polls with this token, or a webhook is set) makes
//! the connector deaf, so it is unhealthy with that reason, never "connected"; so is a poll
//! that keeps failing.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use connector_core::{ConnectorHealth, Error};
use serde_json::json;

use crate::api::Api;

/// The longest a health probe takes.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The fix for a 409 Conflict, in every report of it.
pub(crate) const CONFLICT_FIX: &str = "only one process may read a bot's updates: stop the \
     other poller using this token (another connector, `connector listen`, a bot framework), \
     or delete the webhook (`deleteWebhook`) if one is set";

/// The poller's state, shared with health and diagnose.
#[derive(Debug, Default)]
pub(crate) struct InboundStatus {
    state: Mutex<PollState>,
}

#[derive(Debug, Default, Clone)]
struct PollState {
    /// The poller was started (at the first subscription or question).
    started: bool,
    /// The last poll was answered.
    polled: bool,
    /// The last poll was refused with 409 Conflict: Telegram's description.
    conflict: Option<String>,
    /// The last poll failed otherwise: why.
    problem: Option<String>,
    /// Updates that could not be parsed and were skipped.
    unparsable: u64,
    /// The offset could not be saved: why (a restart would repeat updates).
    unsaved: Option<String>,
}

impl InboundStatus {
    fn state(&self) -> std::sync::MutexGuard<'_, PollState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The poller was started.
    pub(crate) fn started(&self) {
        self.state().started = true;
    }

    /// Whether the poller was started.
    pub(crate) fn is_started(&self) -> bool {
        self.state().started
    }

    /// A poll was answered.
    pub(crate) fn polled(&self) {
        let mut state = self.state();
        state.polled = true;
        state.conflict = None;
        state.problem = None;
    }

    /// A poll was refused with 409 Conflict.
    pub(crate) fn conflict(&self, description: &str) {
        let mut state = self.state();
        state.polled = false;
        state.conflict = Some(description.to_owned());
    }

    /// A poll failed otherwise.
    pub(crate) fn failed(&self, problem: String) {
        let mut state = self.state();
        state.polled = false;
        state.conflict = None;
        state.problem = Some(problem);
    }

    /// An update was skipped because it could not be parsed.
    pub(crate) fn unparsable(&self) {
        self.state().unparsable += 1;
    }

    /// Whether the last save of the offset failed, and why.
    pub(crate) fn saved(&self, problem: Option<String>) {
        self.state().unsaved = problem;
    }

    /// How many updates were skipped as unparsable.
    #[cfg(test)]
    pub(crate) fn unparsable_count(&self) -> u64 {
        self.state().unparsable
    }

    /// The 409 Conflict the last poll got, if it did.
    pub(crate) fn conflict_reason(&self) -> Option<String> {
        self.state().conflict.clone()
    }

    /// Why the inbound path is not working now, if it is not.
    pub(crate) fn deaf(&self) -> Option<String> {
        let state = self.state();
        if let Some(conflict) = &state.conflict {
            return Some(format!(
                "getUpdates refused with 409 ({conflict}): the connector receives nothing; \
                 {CONFLICT_FIX}"
            ));
        }
        state
            .problem
            .as_ref()
            .map(|problem| format!("getUpdates is failing: {problem}"))
    }
}

/// Probes Telegram: `getMe`, then the poller's state.
pub(crate) async fn probe(api: &Api, inbound: &InboundStatus) -> ConnectorHealth {
    match tokio::time::timeout(PROBE_TIMEOUT, api.call("getMe", &json!({}))).await {
        Err(_) => {
            return ConnectorHealth::unreachable(format!(
                "Telegram did not answer getMe within {PROBE_TIMEOUT:?}"
            ));
        }
        Ok(Err(failure)) => {
            return match failure.into_error("check the token") {
                Error::RateLimited { .. } => ConnectorHealth::healthy(),
                error @ Error::Unauthorized { .. } => {
                    ConnectorHealth::unauthenticated(error.to_string())
                }
                error => ConnectorHealth::unreachable(error.to_string()),
            };
        }
        Ok(Ok(_)) => {}
    }
    if let Some(deaf) = inbound.deaf() {
        return ConnectorHealth::unreachable(deaf);
    }
    let state = inbound.state().clone();
    let mut notes = Vec::new();
    if let Some(problem) = state.unsaved {
        notes.push(format!(
            "the update offset cannot be saved ({problem}): a restart would deliver again what \
             arrived since"
        ));
    }
    if state.unparsable > 0 {
        notes.push(format!(
            "{} update(s) could not be parsed and were skipped (see the log)",
            state.unparsable
        ));
    }
    if notes.is_empty() {
        ConnectorHealth::healthy()
    } else {
        ConnectorHealth::healthy().with_detail(notes.join("; "))
    }
}
