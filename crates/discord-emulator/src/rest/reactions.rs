//! Create Reaction, Delete Own Reaction and Get Reactions (docs, message).

use hyper::StatusCode;
use serde_json::Value;

use super::{Ctx, Reply, messages::query_limit};
use crate::{
    errors::{ApiError, FormErrors},
    objects,
    routes::parse_id,
    snowflake::Snowflake,
};

/// Get Reactions' `type` values (docs, message, "Reaction Types").
mod reaction_type {
    pub(super) const NORMAL: u64 = 0;
    pub(super) const BURST: u64 = 1;
}

/// `PUT .../reactions/{emoji}/@me`: 204, fires MESSAGE_REACTION_ADD.
pub(crate) fn add(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let emoji = ctx.params.emoji.clone().unwrap_or_default();
    ctx.world.add_reaction(
        user,
        parse_id(ctx.params.channel_id.as_ref()),
        parse_id(ctx.params.message_id.as_ref()),
        &emoji,
    )?;
    Ok(Reply::NoContent)
}

/// `DELETE .../reactions/{emoji}/@me`: 204, fires MESSAGE_REACTION_REMOVE.
pub(crate) fn remove(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let emoji = ctx.params.emoji.clone().unwrap_or_default();
    ctx.world.remove_reaction(
        user,
        parse_id(ctx.params.channel_id.as_ref()),
        parse_id(ctx.params.message_id.as_ref()),
        &emoji,
    )?;
    Ok(Reply::NoContent)
}

/// `GET .../reactions/{emoji}?type=&after=&limit=`: the users who reacted with the emoji, by
/// ascending id, at most `limit` (1–100, default 25) after the user id `after`. The emulator
/// has no super reactions, so `type=1` (BURST) answers an empty list.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let mut errors = FormErrors::default();
    let limit = query_limit(ctx.query("limit"), 25, &mut errors);
    let kind = match ctx.query("type") {
        None => reaction_type::NORMAL,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n @ (reaction_type::NORMAL | reaction_type::BURST)) => n,
            Ok(_) => {
                errors.add(
                    &["type"],
                    "ENUM_TYPE_COERCE",
                    format!("Value \"{raw}\" is not a valid enum value."),
                );
                reaction_type::NORMAL
            }
            Err(_) => {
                errors.add(
                    &["type"],
                    "NUMBER_TYPE_COERCE",
                    format!("Value \"{raw}\" is not int."),
                );
                reaction_type::NORMAL
            }
        },
    };
    let after = match ctx.query("after") {
        None => Snowflake(0),
        Some(raw) => raw.parse::<u64>().map(Snowflake).unwrap_or_else(|_| {
            errors.add(
                &["after"],
                "NUMBER_TYPE_COERCE",
                format!("Value \"{raw}\" is not snowflake."),
            );
            Snowflake(0)
        }),
    };
    errors.into_result()?;
    let emoji = ctx.params.emoji.clone().unwrap_or_default();
    let mut users = ctx.world.reaction_users(
        ctx.caller_id(),
        parse_id(ctx.params.channel_id.as_ref()),
        parse_id(ctx.params.message_id.as_ref()),
        &emoji,
    )?;
    if kind == reaction_type::BURST {
        users.clear();
    }
    users.sort_unstable();
    let page: Vec<Value> = users
        .into_iter()
        .filter(|u| *u > after)
        .take(limit)
        .map(|u| objects::user(ctx.world, u))
        .collect();
    Ok(Reply::Json(StatusCode::OK, page.into()))
}
