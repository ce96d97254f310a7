//! Get Current User (`/users/@me`) and Get Current Application (`/applications/@me`).

use hyper::StatusCode;

use super::{Ctx, Reply};
use crate::{errors::ApiError, objects};

/// `GET /users/@me`: the bot, or the human user whose token was sent.
pub(crate) fn get_current_user(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::Json(
        StatusCode::OK,
        objects::current_user(ctx.world, ctx.caller_id()),
    ))
}

/// `GET /applications/@me`: the bot's application (its `flags` show the privileged intents
/// switched on); a user token gets 401, as on Discord for a user without an application.
pub(crate) fn get_current_application(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    if !ctx.is_bot() {
        return Err(ApiError::unauthorized());
    }
    Ok(Reply::Json(StatusCode::OK, objects::application(ctx.world)))
}
