//! Threads: Start Thread from Message, Start Thread without Message, Join and Leave Thread,
//! List Thread Members (docs, channel; topics, threads).

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::{Ctx, Reply, body};
use crate::{
    actions::NewThread,
    errors::{ApiError, FormErrors},
    intents::Intents,
    objects,
    routes::parse_id,
    snowflake::Snowflake,
    state::channel_type,
};

/// `POST /channels/{channel_id}/messages/{message_id}/threads`: 201 with the thread.
pub(crate) fn start_from_message(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = parse_id(ctx.params.channel_id.as_ref());
    ctx.world.visible_channel(user, channel)?;
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let new = new_thread(&body.json, None)?;
    let thread = ctx.world.start_thread_from_message(
        user,
        channel,
        parse_id(ctx.params.message_id.as_ref()),
        new,
    )?;
    Ok(Reply::Json(StatusCode::CREATED, thread))
}

/// `POST /channels/{channel_id}/threads`: 201 with the thread; `type` defaults to
/// PRIVATE_THREAD, as the docs say.
pub(crate) fn start_without_message(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = parse_id(ctx.params.channel_id.as_ref());
    ctx.world.visible_channel(user, channel)?;
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let new = new_thread(&body.json, Some(channel_type::PRIVATE_THREAD))?;
    let thread = ctx.world.start_thread(user, channel, new)?;
    Ok(Reply::Json(StatusCode::CREATED, thread))
}

/// `PUT /channels/{channel_id}/thread-members/@me`: 204.
pub(crate) fn join(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    ctx.world
        .join_thread(user, parse_id(ctx.params.channel_id.as_ref()))?;
    Ok(Reply::NoContent)
}

/// `DELETE /channels/{channel_id}/thread-members/@me`: 204.
pub(crate) fn leave(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    ctx.world
        .leave_thread(user, parse_id(ctx.params.channel_id.as_ref()))?;
    Ok(Reply::NoContent)
}

/// `GET /channels/{channel_id}/thread-members`: needs the GUILD_MEMBERS intent granted to the
/// app; `with_member=true` adds guild members and pages by `after`/`limit`.
pub(crate) fn list_members(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    if ctx.is_bot() && !ctx.world.granted.contains(Intents::GUILD_MEMBERS) {
        return Err(ApiError::missing_access());
    }
    let thread = ctx
        .world
        .visible_thread(user, parse_id(ctx.params.channel_id.as_ref()))?;
    let with_member = matches!(ctx.query("with_member"), Some("true" | "True" | "1"));
    let mut members: Vec<(Snowflake, u64)> = thread
        .thread
        .as_ref()
        .map(|t| t.members.clone())
        .unwrap_or_default();
    if with_member {
        members.sort_by_key(|(id, _)| *id);
        let after = ctx
            .query("after")
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(0);
        let limit = ctx
            .query("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| (1..=100).contains(l))
            .unwrap_or(100);
        members.retain(|(id, _)| id.get() > after);
        members.truncate(limit);
    }
    let list: Vec<Value> = members
        .iter()
        .map(|(member, joined)| {
            objects::thread_member(ctx.world, thread.id, *member, *joined, true, with_member)
        })
        .collect();
    Ok(Reply::Json(StatusCode::OK, Value::Array(list)))
}

/// Checks a thread body; `default_kind` is `Some` for threads without a message.
fn new_thread(json: &Map<String, Value>, default_kind: Option<u8>) -> Result<NewThread, ApiError> {
    let mut errors = FormErrors::default();
    let name = match json.get("name") {
        None | Some(Value::Null) => {
            errors.add(&["name"], "BASE_TYPE_REQUIRED", "This field is required");
            String::new()
        }
        Some(Value::String(s)) if (1..=100).contains(&s.chars().count()) => s.clone(),
        Some(_) => {
            errors.add(
                &["name"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            );
            String::new()
        }
    };
    let auto_archive_duration = match json.get("auto_archive_duration") {
        None | Some(Value::Null) => 1440,
        Some(v) => match v.as_u64().and_then(|d| u32::try_from(d).ok()) {
            Some(d @ (60 | 1440 | 4320 | 10080)) => d,
            _ => {
                errors.add(
                    &["auto_archive_duration"],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {60, 1440, 4320, 10080}.",
                );
                1440
            }
        },
    };
    let rate_limit_per_user = match json.get("rate_limit_per_user") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_u64().and_then(|r| u32::try_from(r).ok()) {
            Some(r) if r <= 21_600 => r,
            _ => {
                errors.add(
                    &["rate_limit_per_user"],
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 21600.",
                );
                0
            }
        },
    };
    let kind = match (default_kind, json.get("type")) {
        (None, _) => channel_type::PUBLIC_THREAD,
        (Some(default), None | Some(Value::Null)) => default,
        (Some(_), Some(v)) => match v.as_u64().and_then(|k| u8::try_from(k).ok()) {
            Some(k @ (10..=12)) => k,
            _ => {
                errors.add(
                    &["type"],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {10, 11, 12}.",
                );
                channel_type::PRIVATE_THREAD
            }
        },
    };
    let invitable = json
        .get("invitable")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    errors.into_result()?;
    Ok(NewThread {
        name,
        auto_archive_duration,
        rate_limit_per_user,
        kind,
        invitable,
    })
}
