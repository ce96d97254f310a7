//! The interaction webhook (docs, receiving and responding, "Followup Messages"):
//! `/webhooks/{application_id}/{interaction_token}` to follow up, and its `messages/@original`
//! and `messages/{message_id}` to read, edit and delete the response and the follow-ups.

use hyper::StatusCode;

use super::{Ctx, Reply, body, messages};
use crate::{errors::ApiError, routes::parse_id, snowflake::Snowflake, state::message_flag};

/// The interaction the URL's application id and token name.
fn interaction(ctx: &mut Ctx<'_>) -> Result<Snowflake, ApiError> {
    let application = parse_id(ctx.params.owner_id.as_ref());
    let token = ctx.params.token.clone().unwrap_or_default();
    ctx.world.interaction_by_token(application, &token)
}

/// `None` for `@original`, else the message id of the path (10008 when it is none).
fn which(ctx: &Ctx<'_>) -> Result<Option<Snowflake>, ApiError> {
    match &ctx.params.message_id {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| ApiError::unknown_message()),
    }
}

/// `POST /webhooks/{application_id}/{token}`: Create Followup Message ("`wait` is always
/// true"), ephemeral with flag 64.
pub(crate) fn followup(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let id = interaction(ctx)?;
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let mut new = messages::new_message(body)?;
    new.flags &= !message_flag::LOADING;
    let message = ctx.world.followup(id, new)?;
    Ok(Reply::Json(StatusCode::OK, ctx.message_json(&message)))
}

/// `GET .../messages/@original` and `GET .../messages/{message_id}`.
pub(crate) fn get(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let id = interaction(ctx)?;
    let message = ctx.world.interaction_message(id, which(ctx)?)?;
    Ok(Reply::Json(StatusCode::OK, ctx.message_json(&message)))
}

/// `PATCH .../messages/@original` and `PATCH .../messages/{message_id}`: fires MESSAGE_UPDATE
/// for a message in the channel.
pub(crate) fn edit(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let id = interaction(ctx)?;
    let which = which(ctx)?;
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let edit = messages::message_edit(body)?;
    let message = ctx.world.edit_interaction_message(id, which, edit)?;
    Ok(Reply::Json(StatusCode::OK, ctx.message_json(&message)))
}

/// `DELETE .../messages/@original` and `DELETE .../messages/{message_id}`: 204.
pub(crate) fn delete(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let id = interaction(ctx)?;
    let which = which(ctx)?;
    ctx.world.delete_interaction_message(id, which)?;
    Ok(Reply::NoContent)
}
