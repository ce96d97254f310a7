//! What a sent or edited text becomes: `parse_mode` HTML or explicit `entities`, the limits in
//! UTF-16 code units, and inline keyboards checked the way Telegram checks them.

use serde_json::{Value, json};

use crate::{
    errors::ApiError,
    html, objects,
    params::Params,
    state::{Content, World},
    utf16,
};

/// The longest text of a message (docs, sendMessage: "1-4096 characters after entities
/// parsing").
pub(crate) const MAX_TEXT: usize = 4096;

/// The longest caption (docs, sendDocument: "0-1024 characters after entities parsing").
pub(crate) const MAX_CAPTION: usize = 1024;

/// The longest `callback_data` (docs, InlineKeyboardButton: "1-64 bytes").
const MAX_CALLBACK_DATA: usize = 64;

/// Keeps the well-formed entities that lie within the text; a `text_mention` gets its user.
fn explicit_entities(world: &World, text: &str, entities: &[Value]) -> Vec<Value> {
    let length = utf16::len(text) as u64;
    entities
        .iter()
        .filter(|e| {
            let (Some(offset), Some(len)) = (e["offset"].as_u64(), e["length"].as_u64()) else {
                return false;
            };
            e["type"].is_string() && len > 0 && offset + len <= length
        })
        .filter_map(|e| mention_user(world, e.clone()))
        .collect()
}

/// Resolves a `text_mention`'s user (from `tg://user?id=` or its `user` object); drops it when
/// the bot does not know the user, as Telegram does.
fn mention_user(world: &World, mut entity: Value) -> Option<Value> {
    if entity["type"] != "text_mention" {
        return Some(entity);
    }
    let id = entity["user_id"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| entity["user"]["id"].as_i64())?;
    let user = world.users.get(&id)?;
    entity.as_object_mut()?.remove("user_id");
    entity["user"] = objects::user(user);
    Some(entity)
}

/// Text and entities from a `text`/`caption` parameter with its `parse_mode` and entities
/// parameter. `limit` is [`MAX_TEXT`] or [`MAX_CAPTION`].
pub(crate) fn content(
    world: &World,
    params: &Params,
    (text_param, entities_param): (&str, &str),
    limit: usize,
) -> Result<Content, ApiError> {
    let Some(raw) = params.str(text_param) else {
        return Ok(Content {
            text: None,
            entities: Vec::new(),
            reply_markup: None,
            source: None,
        });
    };
    let parse_mode = params.str("parse_mode").filter(|m| !m.is_empty());
    let (text, entities) = match parse_mode {
        Some(mode) if mode.eq_ignore_ascii_case("html") => {
            let (text, entities) = html::parse(raw).map_err(ApiError::bad_request)?;
            let entities = entities
                .into_iter()
                .filter_map(|e| mention_user(world, e))
                .collect();
            (text, entities)
        }
        Some(mode)
            if mode.eq_ignore_ascii_case("markdownv2") || mode.eq_ignore_ascii_case("markdown") =>
        {
            return Err(ApiError::bad_request(format!(
                "can't parse entities: parse_mode {mode} is not emulated (use HTML or entities)"
            )));
        }
        Some(_) => return Err(ApiError::bad_request("unsupported parse_mode")),
        None => {
            let entities = params
                .get(entities_param)
                .and_then(Value::as_array)
                .map(|list| explicit_entities(world, raw, list))
                .unwrap_or_default();
            (raw.to_owned(), entities)
        }
    };
    if text.trim().is_empty() && text_param == "text" {
        return Err(ApiError::bad_request("message text is empty"));
    }
    if utf16::len(&text) > limit {
        return Err(ApiError::bad_request(if text_param == "text" {
            "message is too long"
        } else {
            "message caption is too long"
        }));
    }
    Ok(Content {
        text: Some(text),
        entities,
        reply_markup: None,
        source: parse_mode.map(|mode| (raw.to_owned(), mode.to_owned())),
    })
}

fn check_button(button: &Value) -> Result<(), ApiError> {
    let unparsable = || {
        ApiError::bad_request(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        )
    };
    let text = button["text"].as_str().ok_or_else(unparsable)?;
    if text.is_empty() {
        return Err(ApiError::bad_request(
            "text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = button.get("callback_data") {
        let data = data.as_str().unwrap_or("");
        if data.is_empty() || data.len() > MAX_CALLBACK_DATA {
            return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
        }
        return Ok(());
    }
    const ACTIONS: &[&str] = &[
        "url",
        "login_url",
        "web_app",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ];
    if !ACTIONS.iter().any(|a| button.get(*a).is_some()) {
        return Err(ApiError::bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    Ok(())
}

/// The inline keyboard of a `reply_markup` parameter, checked; other markups (reply keyboards,
/// `remove_keyboard`, `force_reply`) are accepted and not kept, since `Message.reply_markup`
/// holds inline keyboards only. `inline_only` refuses them (the edit methods).
pub(crate) fn inline_keyboard(
    params: &Params,
    inline_only: bool,
) -> Result<Option<Value>, ApiError> {
    let Some(markup) = params.get("reply_markup") else {
        return Ok(None);
    };
    let Some(rows) = markup.get("inline_keyboard") else {
        if inline_only
            || !["keyboard", "remove_keyboard", "force_reply"]
                .iter()
                .any(|k| markup.get(*k).is_some())
        {
            return Err(ApiError::bad_request(
                "can't parse reply keyboard markup JSON object",
            ));
        }
        return Ok(None);
    };
    let rows = rows
        .as_array()
        .ok_or_else(|| ApiError::bad_request("can't parse reply keyboard markup JSON object"))?;
    for row in rows {
        let row = row.as_array().ok_or_else(|| {
            ApiError::bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
            )
        })?;
        row.iter().try_for_each(check_button)?;
    }
    Ok(Some(json!({ "inline_keyboard": rows })))
}
