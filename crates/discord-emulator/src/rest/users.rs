//! Get Current User (`/users/@me`).

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
