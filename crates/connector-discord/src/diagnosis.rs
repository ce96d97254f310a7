//! `connector doctor` for Discord: why a bot is deaf or muzzled, one probe per cause, each
//! failure with the fix.
//!
//! | probe | how | depends on |
//! | --- | --- | --- |
//! | REST reachable | `GET /gateway` answers | — |
//! | token accepted | `GET /users/@me` is not 401 | REST reachable |
//! | bot identity | `name#id` from `users/@me` | token accepted |
//! | channel visible | `GET /channels/{id}` (10003 Unknown Channel, 50001 Missing Access) | token |
//! | permission: send messages | SEND_MESSAGES, computed from roles and overwrites | channel visible |
//! | permission: threads | CREATE_PUBLIC_THREADS and SEND_MESSAGES_IN_THREADS | channel visible |
//! | permission: read history | READ_MESSAGE_HISTORY (backfill after a restart) | channel visible |
//! | message content intent | `GET /applications/@me` flags (GATEWAY_MESSAGE_CONTENT 1<<18, _LIMITED 1<<19), close 4014, content seen withheld | token |
//! | gateway connected | the gateway session's state | — |

use std::sync::atomic::Ordering;

use connector_core::Probe;
use serde_json::Value;

use crate::error::{MISSING_ACCESS, UNKNOWN_CHANNEL};
use crate::gateway::{GatewayState, MESSAGE_CONTENT_HINT};
use crate::health::InboundStatus;
use crate::permissions::{self, call};
use crate::rest::{Refusal, Rest};

/// GATEWAY_MESSAGE_CONTENT: a verified app with the intent approved.
pub(crate) const GATEWAY_MESSAGE_CONTENT: u64 = 1 << 18;
/// GATEWAY_MESSAGE_CONTENT_LIMITED: an unverified app (under 100 servers) with the intent on.
pub(crate) const GATEWAY_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;

/// The fix for a refused token.
pub(crate) const TOKEN_FIX: &str =
    "set DISCORD_BOT_TOKEN to the bot token from Developer Portal → Bot → Reset Token";

/// The fix for a withheld message content.
pub(crate) const CONTENT_FIX: &str =
    "enable Message Content Intent in the Developer Portal → Bot → Privileged Gateway Intents";

const REST: &str = "REST reachable";
const TOKEN: &str = "token accepted";
const IDENTITY: &str = "bot identity";
const CHANNEL: &str = "channel visible";
const SEND: &str = "permission: send messages";
const THREADS: &str = "permission: threads";
const HISTORY: &str = "permission: read history";
const INTENT: &str = "message content intent";
const GATEWAY: &str = "gateway connected";

/// Runs every probe for the bot in `channel` (never fails: a probe that cannot run is failed or
/// skipped). Without a `gateway` (the connector could not be opened) the gateway probe is
/// skipped and the REST probes still run.
pub(crate) async fn run(
    rest: &Rest,
    channel: u64,
    gateway: Option<&GatewayState>,
    inbound: &InboundStatus,
) -> Vec<Probe> {
    let mut probes = Vec::new();
    let reachable = call(rest, "/gateway").await;
    match &reachable {
        Ok(_) => probes.push(Probe::pass(REST, "GET /gateway answered")),
        Err(refusal) if refusal.status.is_some() => probes.push(Probe::pass(
            REST,
            format!(
                "Discord answers (GET /gateway: HTTP {})",
                refusal.status.unwrap_or(0)
            ),
        )),
        Err(refusal) => probes.push(Probe::fail(REST, refusal.error.to_string()).with_fix(
            "check the network route to discord.com (proxy, firewall, DNS), or \
                 DISCORD_API_BASE_URL if set",
        )),
    }
    let rest_up = probes[0].passed();
    let me = if rest_up {
        Some(call(rest, "/users/@me").await)
    } else {
        None
    };
    let token_ok = match &me {
        None => {
            probes.push(Probe::skipped(TOKEN, "Discord is unreachable"));
            probes.push(Probe::skipped(IDENTITY, "Discord is unreachable"));
            false
        }
        Some(Ok(user)) => {
            probes.push(Probe::pass(TOKEN, "GET /users/@me accepted the token"));
            probes.push(Probe::pass(IDENTITY, identity(user)));
            true
        }
        Some(Err(refusal)) => {
            let failed = if refusal.status == Some(401) {
                Probe::fail(
                    TOKEN,
                    format!("Discord refused the token: {}", refusal.error),
                )
                .with_fix(TOKEN_FIX)
            } else {
                Probe::fail(TOKEN, format!("GET /users/@me failed: {}", refusal.error))
            };
            probes.push(failed);
            probes.push(Probe::skipped(IDENTITY, "the token was not accepted"));
            false
        }
    };
    let bot = match &me {
        Some(Ok(user)) => user["id"].as_str().and_then(|id| id.parse().ok()),
        _ => None,
    };
    channel_and_permissions(rest, channel, bot.filter(|_| token_ok), &mut probes).await;
    probes.push(if token_ok {
        content_intent(rest, gateway, inbound).await
    } else {
        Probe::skipped(INTENT, "the token was not accepted")
    });
    probes.push(match gateway {
        Some(gateway) => gateway_probe(gateway),
        None => Probe::skipped(GATEWAY, "the connector could not be opened"),
    });
    probes
}

fn identity(user: &Value) -> String {
    format!(
        "{}#{}",
        user["username"].as_str().unwrap_or("?"),
        user["id"].as_str().unwrap_or("?")
    )
}

async fn channel_and_permissions(
    rest: &Rest,
    channel: u64,
    bot: Option<u64>,
    probes: &mut Vec<Probe>,
) {
    let skip_permissions = |probes: &mut Vec<Probe>, why: &str| {
        for name in [SEND, THREADS, HISTORY] {
            probes.push(Probe::skipped(name, why));
        }
    };
    let Some(bot) = bot else {
        probes.push(Probe::skipped(CHANNEL, "the token was not accepted"));
        skip_permissions(probes, "the token was not accepted");
        return;
    };
    let object = match call(rest, &format!("/channels/{channel}")).await {
        Ok(object) => object,
        Err(refusal) => {
            probes.push(channel_failure(channel, &refusal));
            skip_permissions(probes, "the channel is not visible");
            return;
        }
    };
    let name = object["name"].as_str().unwrap_or("?");
    probes.push(Probe::pass(CHANNEL, format!("#{name} ({channel})")));
    let held = match permissions::of_bot(rest, bot, &object).await {
        Ok(held) => held,
        Err(refusal) => {
            let why = format!("cannot read the server's roles: {}", refusal.error);
            for name in [SEND, THREADS, HISTORY] {
                probes.push(Probe::fail(name, why.clone()).with_fix(
                    "check that the bot is still a member of the server (invite it again)",
                ));
            }
            return;
        }
    };
    for (name, needed, label) in [
        (SEND, permissions::SEND_MESSAGES, "Send Messages"),
        (
            THREADS,
            permissions::THREADS,
            "Create Public Threads and Send Messages in Threads",
        ),
        (
            HISTORY,
            permissions::READ_MESSAGE_HISTORY,
            "Read Message History",
        ),
    ] {
        let missing = permissions::missing(held, needed);
        probes.push(if missing.is_empty() {
            Probe::pass(name, format!("granted in channel {channel}"))
        } else {
            Probe::fail(name, crate::health::missing_detail(&missing, channel)).with_fix(format!(
                "allow {label} for the bot's role in channel {channel} (channel settings → \
                 Permissions), or in Server Settings → Roles"
            ))
        });
    }
}

fn channel_failure(channel: u64, refusal: &Refusal) -> Probe {
    match refusal.code {
        Some(UNKNOWN_CHANNEL) => Probe::fail(
            CHANNEL,
            format!("Discord knows no channel {channel} (error 10003 Unknown Channel)"),
        )
        .with_fix(format!(
            "set connector.discord.channel_id to the channel's id (Developer Mode → right-click \
             the channel → Copy Channel ID); {channel} is not one"
        )),
        Some(MISSING_ACCESS) => Probe::fail(
            CHANNEL,
            format!("the bot cannot see channel {channel} (error 50001 Missing Access)"),
        )
        .with_fix(format!(
            "add the bot to the server and allow it View Channel in channel {channel} (channel \
             settings → Permissions)"
        )),
        _ => Probe::fail(
            CHANNEL,
            format!("GET /channels/{channel} failed: {}", refusal.error),
        ),
    }
}

async fn content_intent(
    rest: &Rest,
    gateway: Option<&GatewayState>,
    inbound: &InboundStatus,
) -> Probe {
    if gateway.and_then(|g| g.fatal.as_deref()) == Some(MESSAGE_CONTENT_HINT) {
        return Probe::fail(
            INTENT,
            "the gateway refused the Message Content intent (close 4014)",
        )
        .with_fix(CONTENT_FIX);
    }
    let flags = match call(rest, "/applications/@me").await {
        Ok(app) => app["flags"].as_u64().unwrap_or(0),
        Err(refusal) => {
            return Probe::fail(
                INTENT,
                format!("cannot read the application's flags: {}", refusal.error),
            );
        }
    };
    if flags & (GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED) == 0 {
        return Probe::fail(
            INTENT,
            format!("the application's flags ({flags}) have no GATEWAY_MESSAGE_CONTENT"),
        )
        .with_fix(CONTENT_FIX);
    }
    if inbound.content_withheld.load(Ordering::Relaxed) {
        return Probe::fail(
            INTENT,
            "the intent is on, but the last operator message arrived without its content (the \
             session identified before it was switched on)",
        )
        .with_fix(format!("{CONTENT_FIX}, then restart the connector"));
    }
    let which = if flags & GATEWAY_MESSAGE_CONTENT != 0 {
        "GATEWAY_MESSAGE_CONTENT"
    } else {
        "GATEWAY_MESSAGE_CONTENT_LIMITED"
    };
    Probe::pass(INTENT, format!("application flag {which}"))
}

fn gateway_probe(gateway: &GatewayState) -> Probe {
    match (&gateway.fatal, gateway.connected) {
        (Some(fatal), _) => {
            Probe::fail(GATEWAY, fatal.clone()).with_fix(if fatal == MESSAGE_CONTENT_HINT {
                format!("{CONTENT_FIX}, then restart the connector")
            } else {
                format!("{TOKEN_FIX}, then restart the connector")
            })
        }
        (None, true) => Probe::pass(GATEWAY, "session established, events flow"),
        (None, false) => Probe::fail(
            GATEWAY,
            "the gateway is disconnected (serenity is reconnecting)",
        )
        .with_fix("check the network route to gateway.discord.gg (WebSocket, port 443)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_failures_carry_their_fix() {
        let down = gateway_probe(&GatewayState::default());
        assert!(down.failed());
        let refused = gateway_probe(&GatewayState {
            fatal: Some(MESSAGE_CONTENT_HINT.to_owned()),
            ..GatewayState::default()
        });
        assert!(refused.fix.unwrap().starts_with(CONTENT_FIX));
        let token = gateway_probe(&GatewayState {
            fatal: Some("the gateway rejected the bot token (close 4004)".to_owned()),
            ..GatewayState::default()
        });
        assert!(token.fix.unwrap().starts_with(TOKEN_FIX));
    }

    #[test]
    fn an_unknown_channel_names_the_config_key() {
        let refusal = Refusal {
            error: connector_core::Error::Rejected {
                kind: "discord".into(),
                reason: "Unknown Channel".into(),
            },
            status: Some(404),
            code: Some(UNKNOWN_CHANNEL),
        };
        let probe = channel_failure(42, &refusal);
        assert!(probe.failed());
        let fix = probe.fix.unwrap();
        assert!(fix.contains("connector.discord.channel_id"), "{fix}");
    }
}
