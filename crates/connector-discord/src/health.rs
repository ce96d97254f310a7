//! The health probe: REST answers, token accepted, channel visible, the bot allowed to post
//! there, gateway connected with message content.
//!
//! Bounded requests (`users/@me`, the channel, the guild's roles and the bot's member object)
//! within [`PROBE_TIMEOUT`], then the gateway's state and what the pump noticed; the first
//! problem found is the detail. A bot without SEND_MESSAGES in its channel is muzzled: not
//! healthy. Without the thread permissions it is healthy, with the missing ones in the detail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use connector_core::{ConnectorHealth, Error};
use serenity_reqwest::Method;

use crate::error::MISSING_ACCESS;
use crate::gateway::{GatewayState, MESSAGE_CONTENT_HINT};
use crate::permissions;
use crate::rest::Rest;

/// The longest a health probe takes.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Probes Discord for the bot in `channel`.
pub(crate) async fn probe(
    rest: &Rest,
    channel: u64,
    own_id: u64,
    gateway: &GatewayState,
    inbound: &InboundStatus,
) -> ConnectorHealth {
    let note = match tokio::time::timeout(PROBE_TIMEOUT, rest_steps(rest, channel, own_id)).await {
        Ok(Err(problem)) => return problem,
        Ok(Ok(note)) => note,
        Err(_) => {
            return ConnectorHealth::unreachable(format!(
                "Discord did not answer within {PROBE_TIMEOUT:?}"
            ));
        }
    };
    if let Some(fatal) = &gateway.fatal {
        return ConnectorHealth::unauthenticated(fatal.clone());
    }
    if !gateway.connected {
        return ConnectorHealth::unreachable(
            "the gateway is disconnected (serenity is reconnecting)",
        );
    }
    if inbound.content_withheld.load(Ordering::Relaxed) {
        return ConnectorHealth::unauthenticated(MESSAGE_CONTENT_HINT);
    }
    let health = ConnectorHealth::healthy();
    match inbound.problem().or(note) {
        Some(problem) => health.with_detail(problem),
        None => health,
    }
}

/// `Ok` if REST is fine (with a note on permissions the bot lacks for threads), else the
/// unhealthy report.
async fn rest_steps(
    rest: &Rest,
    channel: u64,
    own_id: u64,
) -> Result<Option<String>, ConnectorHealth> {
    if let Err(failure) = rest.call(Method::GET, "/users/@me", None).await {
        return match failure.into_error("users/@me") {
            // Discord answers, and the token was good enough to be counted against a limit.
            Error::RateLimited { .. } => Ok(None),
            error @ (Error::Unauthorized { .. } | Error::Rejected { .. }) => {
                Err(ConnectorHealth::unauthenticated(error.to_string()))
            }
            error => Err(ConnectorHealth::unreachable(error.to_string())),
        };
    }
    let object = match rest
        .call(Method::GET, &format!("/channels/{channel}"), None)
        .await
    {
        Ok(object) => object,
        Err(crate::rest::Failure::Api(api)) if api.code == MISSING_ACCESS => {
            return Err(ConnectorHealth::unauthenticated(format!(
                "the bot cannot see channel {channel} (Discord error 50001 Missing Access): \
                 add it to the server and allow View Channel there"
            )));
        }
        Err(failure) => {
            return match failure.into_error("the channel") {
                Error::RateLimited { .. } => Ok(None),
                error @ (Error::Unreachable { .. }
                | Error::Timeout { .. }
                | Error::Transient { .. }) => Err(ConnectorHealth::unreachable(error.to_string())),
                error => Err(ConnectorHealth::unauthenticated(error.to_string())),
            };
        }
    };
    let held = match permissions::of_bot(rest, own_id, &object).await {
        Ok(held) => held,
        Err(refusal) => {
            // The check itself could not run (rate limit, a lookup refused): not a verdict.
            tracing::debug!(error = %refusal.error, "health: cannot compute the bot's permissions");
            return Ok(None);
        }
    };
    let muzzled = permissions::missing(held, permissions::SEND_MESSAGES);
    if !muzzled.is_empty() {
        return Err(ConnectorHealth::unauthenticated(missing_detail(
            &muzzled, channel,
        )));
    }
    let threads = permissions::missing(held, permissions::THREADS);
    Ok((!threads.is_empty()).then(|| missing_detail(&threads, channel)))
}

/// "missing permission SEND_MESSAGES in channel 123".
pub(crate) fn missing_detail(missing: &[&str], channel: u64) -> String {
    let noun = if missing.len() == 1 {
        "permission"
    } else {
        "permissions"
    };
    format!("missing {noun} {} in channel {channel}", missing.join(", "))
}

/// What the pump has noticed that health should report.
#[derive(Debug, Default)]
pub(crate) struct InboundStatus {
    /// A message arrived with its content withheld (no Message Content intent).
    pub(crate) content_withheld: AtomicBool,
    /// The last backfill or thread-join failure, cleared by the next success.
    pub(crate) problem: Mutex<Option<String>>,
}

impl InboundStatus {
    pub(crate) fn set_problem(&self, problem: Option<String>) {
        *self.problem.lock().unwrap_or_else(PoisonError::into_inner) = problem;
    }

    /// The last problem, if any.
    pub(crate) fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
