//! Get Channel and Trigger Typing Indicator (docs, channel).

use hyper::StatusCode;

use super::{Ctx, Reply};
use crate::{errors::ApiError, objects, routes::parse_id};

/// `GET /channels/{channel_id}`: a channel or a thread (with `member` if the caller joined it).
pub(crate) fn get_channel(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = ctx
        .world
        .visible_channel(user, parse_id(ctx.params.channel_id.as_ref()))?;
    Ok(Reply::Json(
        StatusCode::OK,
        objects::channel(ctx.world, channel, user),
    ))
}

/// `POST /channels/{channel_id}/typing`: 204, fires TYPING_START.
pub(crate) fn trigger_typing(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    ctx.world
        .typing(user, parse_id(ctx.params.channel_id.as_ref()))?;
    Ok(Reply::NoContent)
}
