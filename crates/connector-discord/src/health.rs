//! The health probe: REST answers, token accepted, channel visible, gateway connected with
//! message content.
//!
//! Two bounded requests (`users/@me`, the channel) within [`PROBE_TIMEOUT`], then the gateway's
//! state and what the pump noticed; the first problem found is the detail.

use std::sync::atomic::Ordering;
use std::time::Duration;

use connector_core::{ConnectorHealth, Error};
use serenity_reqwest::Method;

use crate::errors::MISSING_ACCESS;
use crate::gateway::{GatewayState, MESSAGE_CONTENT_HINT};
use crate::pump::InboundStatus;
use crate::rest::Rest;

/// The longest a health probe takes.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Probes Discord for the bot in `channel`.
pub(crate) async fn probe(
    rest: &Rest,
    channel: u64,
    gateway: &GatewayState,
    inbound: &InboundStatus,
) -> ConnectorHealth {
    match tokio::time::timeout(PROBE_TIMEOUT, rest_steps(rest, channel)).await {
        Ok(Some(problem)) => return problem,
        Ok(None) => {}
        Err(_) => {
            return ConnectorHealth::unreachable(format!(
                "Discord did not answer within {PROBE_TIMEOUT:?}"
            ));
        }
    }
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
    match inbound.problem() {
        Some(problem) => health.with_detail(problem),
        None => health,
    }
}

/// `None` if REST is fine, else the unhealthy report.
async fn rest_steps(rest: &Rest, channel: u64) -> Option<ConnectorHealth> {
    if let Err(failure) = rest.call(Method::GET, "/users/@me", None).await {
        return match failure.into_error("users/@me") {
            // Discord answers, and the token was good enough to be counted against a limit.
            Error::RateLimited { .. } => None,
            error @ (Error::Unauthorized { .. } | Error::Rejected { .. }) => {
                Some(ConnectorHealth::unauthenticated(error.to_string()))
            }
            error => Some(ConnectorHealth::unreachable(error.to_string())),
        };
    }
    match rest
        .call(Method::GET, &format!("/channels/{channel}"), None)
        .await
    {
        Ok(_) => None,
        Err(crate::rest::Failure::Api(api)) if api.code == MISSING_ACCESS => {
            Some(ConnectorHealth::unauthenticated(format!(
                "the bot cannot see channel {channel} (Discord error 50001 Missing Access): \
                 add it to the server and allow View Channel there"
            )))
        }
        Err(failure) => match failure.into_error("the channel") {
            Error::RateLimited { .. } => None,
            error @ (Error::Unreachable { .. }
            | Error::Timeout { .. }
            | Error::Transient { .. }) => Some(ConnectorHealth::unreachable(error.to_string())),
            error => Some(ConnectorHealth::unauthenticated(error.to_string())),
        },
    }
}
