//! The control API under `/_emulator` on the emulator's own port: what the library's
//! [`Emulator`](crate::Emulator) handle does (add users and channels, post and react as a user,
//! inject faults, change the rate limits), for tests written in any language against the
//! binary. Bodies are JSON; errors are `{"message", "code"}` as the REST API's are.

use std::{sync::Arc, time::Duration};

use http_body_util::Full;
use hyper::{Method, Response, StatusCode, body::Bytes};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    Shared,
    errors::{ApiError, Error},
    faults::Faults,
    interactions, objects,
    ratelimit::RateLimits,
    responses::{json_response, no_content},
    routes::percent_decode,
    snowflake::Snowflake,
    state::{Seen, World},
};

/// Answers one control request; `path` is what follows `/_emulator` (`state::CONTROL_PATH`).
pub(crate) fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let decoded: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    match answer(shared, method, &segments, body) {
        Ok(Some(value)) => json_response(StatusCode::OK, &value, &[]),
        Ok(None) => no_content(&[]),
        Err(e) => json_response(e.status, &e.body(), &[]),
    }
}

/// A control call's answer: a JSON body, or `None` for 204.
type Answer = Result<Option<Value>, ApiError>;

fn answer(shared: &Arc<Shared>, method: &Method, segments: &[&str], body: &[u8]) -> Answer {
    match (method, segments) {
        (&Method::GET, []) => Ok(Some(shared.lock().info())),
        (&Method::GET, ["stats"]) => {
            let world = shared.lock();
            Ok(Some(json!({
                "rate_limited_count": world.limiter.limited_count,
                "connected_sessions": world.gateway.connected(),
                "identify_count": world.gateway.identifies,
                "requests": world.requests.len(),
            })))
        }
        (&Method::POST, ["users"]) => {
            let NewUser { name } = parse(body)?;
            let user = shared.lock().add_user(&name);
            Ok(Some(
                json!({"id": user.id, "name": user.name, "token": user.token}),
            ))
        }
        (&Method::POST, ["channels"]) => {
            let NewChannel {
                name,
                visible_to_bot,
            } = parse(body)?;
            let id = shared.lock().add_channel(&name, visible_to_bot);
            Ok(Some(json!({"id": id})))
        }
        (&Method::GET, ["channels", channel, "messages"]) => {
            let channel = id(channel, "channel")?;
            let world = shared.lock();
            let messages: Vec<Value> = world
                .channel_messages(channel)
                .iter()
                .map(|m| objects::message(&world, m, world.guild.owner_id))
                .collect();
            Ok(Some(Value::Array(messages)))
        }
        (&Method::POST, ["channels", channel, "messages"]) => {
            let channel = id(channel, "channel")?;
            let Post { user_id, content } = parse(body)?;
            let mut world = shared.lock();
            let message = world.post_as(user(&user_id)?, channel, &content)?;
            Ok(Some(objects::message(&world, &message, message.author_id)))
        }
        (method, ["channels", channel, "messages", message, "reactions", emoji])
            if method == Method::PUT || method == Method::DELETE =>
        {
            let (channel, message) = (id(channel, "channel")?, id(message, "message")?);
            let AsUser { user_id } = parse(body)?;
            let user = user(&user_id)?;
            let mut world = shared.lock();
            if method == Method::PUT {
                world.add_reaction(user, Some(channel), Some(message), emoji)?;
            } else {
                world.remove_reaction(user, Some(channel), Some(message), emoji)?;
            }
            Ok(None)
        }
        (&Method::POST, ["channels", channel, "messages", message, "click"]) => {
            let (channel, message) = (id(channel, "channel")?, id(message, "message")?);
            let Click { user_id, custom_id } = parse(body)?;
            let runtime = tokio::runtime::Handle::current();
            let click = interactions::click(
                shared,
                &runtime,
                user(&user_id)?,
                channel,
                message,
                &custom_id,
            )
            .map_err(refused)?;
            Ok(Some(json!({"id": click.id, "token": click.token})))
        }
        (&Method::GET, ["interactions", interaction, "seen_by", user_id]) => {
            let interaction = id(interaction, "interaction")?;
            let mut world = shared.lock();
            let seen = world.seen_by(user(user_id)?, interaction);
            Ok(Some(seen.iter().map(|s| seen_json(&world, s)).collect()))
        }
        (&Method::PUT, ["rate_limits"]) => {
            let Preset { preset } = parse(body)?;
            let limits = match preset.as_str() {
                "discord" => RateLimits::discord_like(),
                "unlimited" => RateLimits::unlimited(),
                other => {
                    return Err(control_error(format!(
                        "preset: unknown preset `{other}`: use `discord` or `unlimited`"
                    )));
                }
            };
            shared.lock().limiter.set_config(limits);
            Ok(None)
        }
        (&Method::POST, ["bot_token", "reset"]) => {
            let token = shared.lock().reset_bot_token();
            Ok(Some(json!({"token": token})))
        }
        (&Method::POST, ["faults", fault]) => inject(shared, fault, body).map(|()| None),
        _ => Err(ApiError::not_found()),
    }
}

/// `POST /_emulator/faults/{fault}`: the [`Faults`] handle's methods by name.
fn inject(shared: &Arc<Shared>, fault: &str, body: &[u8]) -> Result<(), ApiError> {
    let faults = Faults {
        shared: Arc::clone(shared),
        runtime: tokio::runtime::Handle::current(),
    };
    match fault {
        "fail_next" => {
            let FailNext {
                route,
                count,
                status,
                retry_after_ms,
                global,
            } = parse(body)?;
            let injected = match retry_after_ms {
                Some(ms) => {
                    faults.fail_next_rate_limited(&route, count, Duration::from_millis(ms), global)
                }
                None => faults.fail_next(&route, count, status),
            };
            injected.map_err(refused)
        }
        "lose_next_response" => {
            let Route { route } = parse(body)?;
            faults.lose_next_response(&route).map_err(refused)
        }
        "drop_gateway_connections" => {
            faults.drop_gateway_connections();
            Ok(())
        }
        "send_reconnect" => {
            faults.send_reconnect();
            Ok(())
        }
        "withhold_dispatches" => {
            let Switch { on } = parse(body)?;
            faults.withhold_dispatches(on);
            Ok(())
        }
        "delay_interactions" => {
            let Delay { ms } = parse(body)?;
            faults.delay_interactions(Duration::from_millis(ms));
            Ok(())
        }
        "send_invalid_session" => {
            let InvalidSession { resumable } = parse(body)?;
            faults.send_invalid_session(resumable);
            Ok(())
        }
        "clear" => {
            faults.clear();
            Ok(())
        }
        _ => Err(ApiError::not_found()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewChannel {
    name: String,
    #[serde(default = "yes")]
    visible_to_bot: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Post {
    user_id: String,
    content: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsUser {
    user_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Click {
    user_id: String,
    custom_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Preset {
    preset: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNext {
    route: String,
    #[serde(default = "one")]
    count: u32,
    #[serde(default = "server_error")]
    status: u16,
    /// A 429 with this `retry_after` (and `global`) instead of `status`.
    retry_after_ms: Option<u64>,
    #[serde(default)]
    global: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Route {
    route: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    on: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidSession {
    resumable: bool,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

fn server_error() -> u16 {
    500
}

/// The body as `T`; a missing or wrong field is a 400 naming it.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| control_error(format!("body: {e}")))
}

/// A snowflake in the path.
fn id(text: &str, what: &str) -> Result<Snowflake, ApiError> {
    text.parse()
        .map_err(|_| control_error(format!("{what}: `{text}` is not a snowflake")))
}

/// A user id in a body.
fn user(text: &str) -> Result<Snowflake, ApiError> {
    text.parse()
        .map_err(|_| control_error(format!("user_id: `{text}` is not a snowflake")))
}

/// A refused call: a Discord error as the REST call would have got it; otherwise (a route
/// pattern that names no route, a status that is not an error, a click on no button) 400.
fn refused(error: Error) -> ApiError {
    match error {
        Error::Api {
            status,
            code,
            message,
        } => ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message,
        ),
        other => control_error(other.to_string()),
    }
}

/// One thing a user saw of an interaction: `{"kind": "failed" | "thinking" | "message" |
/// "edited" | "deleted", ...}`.
fn seen_json(world: &World, seen: &Seen) -> Value {
    let viewer = world.guild.owner_id;
    match seen {
        Seen::Failed => json!({"kind": "failed"}),
        Seen::Thinking { ephemeral } => json!({"kind": "thinking", "ephemeral": ephemeral}),
        Seen::Message(m) => {
            json!({"kind": "message", "message": objects::message(world, m, viewer)})
        }
        Seen::Edited(m) => json!({"kind": "edited", "message": objects::message(world, m, viewer)}),
        Seen::Deleted(id) => json!({"kind": "deleted", "id": id}),
    }
}

/// A control call that is malformed: 400, code 0, the reason as the message.
fn control_error(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, 0, message)
}
