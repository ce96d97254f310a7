//! Get Guild and Get Guild Member (docs, guild): the roles and member roles a bot reads to work
//! out its permissions.

use hyper::StatusCode;

use super::{Ctx, Reply};
use crate::{errors::ApiError, objects, routes::parse_id};

/// The guild named in the path, if it is the emulated one (10004 otherwise).
fn check_guild(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if parse_id(ctx.params.guild_id.as_ref()) == Some(ctx.world.guild.id) {
        Ok(())
    } else {
        Err(ApiError::unknown_guild())
    }
}

/// `GET /guilds/{guild_id}`: the guild with its roles.
pub(crate) fn get_guild(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    check_guild(ctx)?;
    Ok(Reply::Json(StatusCode::OK, objects::guild(ctx.world)))
}

/// `GET /guilds/{guild_id}/members/{user_id}`: a member with its roles (10007 for a user who is
/// not a member).
pub(crate) fn get_member(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    check_guild(ctx)?;
    let user = parse_id(ctx.params.user_id.as_ref())
        .filter(|id| ctx.world.users.contains_key(id))
        .ok_or_else(ApiError::unknown_member)?;
    Ok(Reply::Json(
        StatusCode::OK,
        objects::member(ctx.world, user, true),
    ))
}
