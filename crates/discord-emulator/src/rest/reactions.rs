//! Create Reaction and Delete Own Reaction (docs, message).

use super::{Ctx, Reply};
use crate::{errors::ApiError, routes::parse_id};

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
