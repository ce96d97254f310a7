//! `diagnose()`: one probe per thing the setup needs, each failure with its fix — the bot token
//! (`auth.test`), the scopes granted to it (Slack names them in the `x-oauth-scopes` header), the
//! app-level token and Socket Mode (`apps.connections.open`), the channel visible with the bot a
//! member (`conversations.info`). On a running connector the socket probe reads the open
//! connection's state instead of asking for another (Slack allows about one
//! `apps.connections.open` a minute), and `connector doctor` adds a round trip: the bot's
//! probe message must come back over Socket Mode.

use connector_core::Probe;
use connector_core::retry::RetryPolicy;
use serde_json::Value;

use crate::socket_mode::SocketState;
use crate::web_api::{WebApi, str_of};

/// How the socket probe learns whether Socket Mode works.
pub(crate) enum SocketCheck<'a> {
    /// No app-level token is set.
    NoAppToken,
    /// No connector is running: ask `apps.connections.open` with the app-level token.
    Open(&'a WebApi),
    /// A running connector's connection, as it is now.
    Running(SocketState),
}

/// The bot token scopes the connector uses, and what for.
pub const REQUIRED_SCOPES: &[(&str, &str)] = &[
    ("chat:write", "post, update and answer privately"),
    (
        "channels:history",
        "read the channel back (backfill, no doubles)",
    ),
    ("channels:read", "check the channel"),
    ("reactions:write", "react"),
    ("reactions:read", "receive the operator's reactions"),
    ("files:write", "upload files"),
    ("files:read", "fetch the operator's files"),
];

/// Names of the probes.
pub(crate) mod names {
    /// The bot token.
    pub(crate) const BOT_TOKEN: &str = "bot token";
    /// The bot token's scopes.
    pub(crate) const SCOPES: &str = "scopes";
    /// The app-level token and Socket Mode.
    pub(crate) const SOCKET_MODE: &str = "socket mode";
    /// The channel.
    pub(crate) const CHANNEL: &str = "channel";
}

/// The fix for a refused bot token.
const BOT_TOKEN_FIX: &str = "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, \
     api.slack.com/apps → your app → OAuth & Permissions), and install the app to the workspace";

/// The fix when Slack does not answer at all.
const UNREACHABLE_FIX: &str = "Slack (or SLACK_API_BASE_URL) does not answer: check the network \
     path to slack.com and the proxy settings";

/// Runs the setup probes (the round trip is added by the connector).
pub(crate) async fn run(bot: &WebApi, socket: SocketCheck<'_>, channel: &str) -> Vec<Probe> {
    let retry = RetryPolicy::default().with_max_attempts(2);
    let mut probes = Vec::new();
    let auth = bot.call_retried(&retry, "auth.test", &[]).await;
    let scopes = match auth {
        Ok(answer) => {
            probes.push(Probe::pass(
                names::BOT_TOKEN,
                format!(
                    "accepted: bot {} ({}) in {}",
                    str_of(&answer.body, "user").unwrap_or("?"),
                    str_of(&answer.body, "user_id").unwrap_or("?"),
                    str_of(&answer.body, "team").unwrap_or("?"),
                ),
            ));
            answer.scopes
        }
        Err(failure) => {
            // Not answering is not refusing: the fix is the network, not the token.
            let (fix, why) = if failure.error.is_retryable() {
                (UNREACHABLE_FIX, "Slack does not answer")
            } else {
                (BOT_TOKEN_FIX, "the bot token was refused")
            };
            probes.push(Probe::fail(names::BOT_TOKEN, failure.error.to_string()).with_fix(fix));
            probes.push(Probe::skipped(names::SCOPES, why));
            probes.push(socket_probe(socket).await);
            probes.push(Probe::skipped(names::CHANNEL, why));
            return probes;
        }
    };
    probes.push(scopes_probe(scopes.as_deref(), channel));
    probes.push(socket_probe(socket).await);
    probes.push(channel_probe(bot, &retry, channel).await);
    probes
}

/// The history scope a conversation id needs: `channels:`, `groups:` or `im:history`.
fn history_scope(channel: &str) -> &'static str {
    match channel.chars().next() {
        Some('G') => "groups:history",
        Some('D') => "im:history",
        _ => "channels:history",
    }
}

fn scopes_probe(granted: Option<&str>, channel: &str) -> Probe {
    let Some(granted) = granted else {
        return Probe::skipped(
            names::SCOPES,
            "Slack did not name the granted scopes (no x-oauth-scopes header)",
        );
    };
    let granted: Vec<&str> = granted.split(',').map(str::trim).collect();
    let history = history_scope(channel);
    let missing: Vec<String> = REQUIRED_SCOPES
        .iter()
        .map(|(scope, why)| {
            let scope = if *scope == "channels:history" {
                history
            } else {
                scope
            };
            (scope, why)
        })
        .filter(|(scope, _)| !granted.contains(scope))
        .map(|(scope, why)| format!("{scope} ({why})"))
        .collect();
    if missing.is_empty() {
        return Probe::pass(names::SCOPES, format!("granted: {}", granted.join(", ")));
    }
    Probe::fail(names::SCOPES, format!("missing: {}", missing.join(", "))).with_fix(
        "add the missing scopes under Bot Token Scopes (api.slack.com/apps → your app → OAuth & \
         Permissions), then reinstall the app to the workspace",
    )
}

async fn socket_probe(socket: SocketCheck<'_>) -> Probe {
    let app = match socket {
        SocketCheck::NoAppToken => {
            return Probe::fail(names::SOCKET_MODE, "SLACK_APP_TOKEN is not set").with_fix(
                "create an app-level token with the connections:write scope (api.slack.com/apps \
                 → your app → Basic Information → App-Level Tokens) and set SLACK_APP_TOKEN to \
                 it (xapp-…)",
            );
        }
        SocketCheck::Running(state) if state.connected => {
            return Probe::pass(names::SOCKET_MODE, "connected: Slack said hello");
        }
        SocketCheck::Running(state) => {
            let why = state.problem.unwrap_or_else(|| "reconnecting".to_owned());
            return Probe::fail(names::SOCKET_MODE, format!("not connected: {why}")).with_fix(
                "turn Socket Mode on for the app (api.slack.com/apps → your app → Socket Mode), \
                 check SLACK_APP_TOKEN (xapp-…, scope connections:write) and that Slack is \
                 reachable",
            );
        }
        SocketCheck::Open(app) => app,
    };
    match app.call("apps.connections.open", &[]).await {
        Ok(_) => Probe::pass(
            names::SOCKET_MODE,
            "apps.connections.open gave a WebSocket URL",
        ),
        Err(failure) => {
            let fix = match failure.code.as_deref() {
                Some("invalid_auth" | "not_authed" | "token_revoked") => {
                    "set SLACK_APP_TOKEN to a valid app-level token (xapp-…, Basic Information → \
                     App-Level Tokens, scope connections:write)"
                }
                Some("not_allowed_token_type") => {
                    "SLACK_APP_TOKEN holds a bot or user token: use the app-level token (xapp-…) \
                     with the connections:write scope"
                }
                Some("missing_scope") => {
                    "give the app-level token the connections:write scope (Basic Information → \
                     App-Level Tokens)"
                }
                _ if failure.error.is_retryable() => UNREACHABLE_FIX,
                _ => {
                    "turn Socket Mode on for the app (api.slack.com/apps → your app → Socket \
                     Mode) and check that Slack is reachable"
                }
            };
            Probe::fail(names::SOCKET_MODE, failure.error.to_string()).with_fix(fix)
        }
    }
}

async fn channel_probe(bot: &WebApi, retry: &RetryPolicy, channel: &str) -> Probe {
    let form = vec![("channel", channel.to_owned())];
    match bot.call_retried(retry, "conversations.info", &form).await {
        Ok(answer) => {
            let info = answer.body.get("channel").cloned().unwrap_or_default();
            let name = str_of(&info, "name").unwrap_or(channel).to_owned();
            let member = info.get("is_member").and_then(Value::as_bool);
            if member == Some(false) && !channel.starts_with('D') {
                Probe::fail(
                    names::CHANNEL,
                    format!("the bot is not a member of #{name} ({channel})"),
                )
                .with_fix(format!(
                    "invite the bot: type /invite @<bot name> in #{name}, or add the app under the \
                     channel's Integrations"
                ))
            } else {
                Probe::pass(
                    names::CHANNEL,
                    format!("#{name} ({channel}), the bot is a member"),
                )
            }
        }
        Err(failure) => {
            let fix = match failure.code.as_deref() {
                Some("channel_not_found") => format!(
                    "check connector.slack.channel_id ({channel}: the id at the bottom of the \
                     channel's details); for a private channel invite the bot first"
                ),
                Some("missing_scope") => {
                    "add the channels:read scope (groups:read for a private channel) and \
                     reinstall the app"
                        .to_owned()
                }
                _ => "check that Slack is reachable".to_owned(),
            };
            Probe::fail(names::CHANNEL, failure.error.to_string()).with_fix(fix)
        }
    }
}

/// What to do when the probe message does not come back.
pub(crate) const DEAF_FIX: &str = "no message events arrive: subscribe the app to \
     `message.channels` (and `message.groups` / `message.im` for private channels and direct \
     messages) under Event Subscriptions → Subscribe to bot events, with Socket Mode on, then \
     reinstall the app";
