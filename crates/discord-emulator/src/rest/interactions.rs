//! Create Interaction Response, `POST /interactions/{id}/{token}/callback` (docs, receiving and
//! responding): no `Authorization`, the token in the path is the credential.

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::{Ctx, Reply, body, messages};
use crate::{
    errors::{ApiError, FormErrors},
    interactions::{Callback, callback_type},
    routes::parse_id,
    state::message_flag,
};

/// Answers 204, or 200 with the interaction callback response when `with_response` is true.
pub(crate) fn callback(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let data = match body.json.get("data") {
        Some(Value::Object(data)) => data.clone(),
        _ => Map::new(),
    };
    let flags = data.get("flags").and_then(Value::as_u64).unwrap_or(0);
    let data_body = body::Body {
        json: data,
        files: body.files,
    };
    let callback = match body.json.get("type").and_then(Value::as_u64) {
        Some(t) if t == u64::from(callback_type::CHANNEL_MESSAGE_WITH_SOURCE) => {
            let mut new = messages::new_message(data_body).map_err(|e| e.nested("data"))?;
            new.flags &= !message_flag::LOADING;
            Callback::Message(new)
        }
        Some(t) if t == u64::from(callback_type::DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE) => {
            Callback::Defer {
                ephemeral: flags & message_flag::EPHEMERAL != 0,
            }
        }
        Some(t) if t == u64::from(callback_type::DEFERRED_UPDATE_MESSAGE) => Callback::DeferUpdate,
        Some(t) if t == u64::from(callback_type::UPDATE_MESSAGE) => {
            Callback::Update(messages::message_edit(data_body).map_err(|e| e.nested("data"))?)
        }
        None => return Err(field_error("BASE_TYPE_REQUIRED", "This field is required")),
        Some(_) => {
            // PONG, autocomplete results, modals and activities are for other interactions
            // than a button's, or not emulated.
            return Err(field_error(
                "BASE_TYPE_CHOICES",
                "Value must be one of {4, 5, 6, 7}: the emulator answers button clicks with \
                 these callback types only.",
            ));
        }
    };
    let answer = ctx.world.interaction_callback(
        parse_id(ctx.params.owner_id.as_ref()),
        ctx.params.token.as_deref().unwrap_or_default(),
        callback,
    )?;
    // A boolean query string: "True", "true" or "1" (docs, reference, "Boolean Query Strings").
    if matches!(ctx.query("with_response"), Some("true" | "True" | "1")) {
        Ok(Reply::Json(StatusCode::OK, answer))
    } else {
        Ok(Reply::NoContent)
    }
}

fn field_error(code: &str, message: &str) -> ApiError {
    let mut errors = FormErrors::default();
    errors.add(&["type"], code, message);
    ApiError::invalid_form(errors)
}
