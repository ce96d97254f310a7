//! `answerCallbackQuery`: records what the user who clicked saw (a toast, an alert, a URL, or
//! just the spinner stopping); a query answered twice or too late is refused.

use serde_json::{Value, json};

use crate::{
    errors::ApiError,
    params::Params,
    state::{CallbackAnswer, World},
};

/// The longest notification text (docs, answerCallbackQuery: "0-200 characters").
const MAX_TEXT: usize = 200;

pub(super) fn answer(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let id = params.str("callback_query_id").unwrap_or("");
    let now = world.now();
    let lifetime = world.callback_lifetime.as_secs();
    let record = world
        .callbacks
        .get_mut(id)
        .filter(|r| r.answer.is_none() && now.saturating_sub(r.created) <= lifetime)
        .ok_or_else(ApiError::query_too_old)?;
    let text = params.str("text").filter(|t| !t.is_empty());
    if text.is_some_and(|t| crate::utf16::len(t) > MAX_TEXT) {
        return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
    }
    record.answer = Some(CallbackAnswer {
        text: text.map(str::to_owned),
        show_alert: params.flag("show_alert"),
        url: params.str("url").map(str::to_owned),
    });
    Ok(json!(true))
}
