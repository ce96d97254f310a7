//! Changing what is already sent: `editMessageText`, `editMessageReplyMarkup` (with the "message
//! is not modified" refusal and the edit history), `deleteMessage`, `setMessageReaction`.

use serde_json::{Value, json};

use super::{chat_id, formatting};
use crate::{
    errors::ApiError,
    objects,
    params::Params,
    state::{ChatKind, Content, Media, World},
};

/// The chat and id of the message an edit names; inline messages are not emulated.
fn edited(world: &World, params: &Params) -> Result<(i64, i64), ApiError> {
    if params.str("inline_message_id").is_some() {
        return Err(ApiError::bad_request("message to edit not found"));
    }
    if params.get("chat_id").is_none() {
        return Err(ApiError::bad_request("chat_id is empty"));
    }
    let chat = chat_id(world, params)?;
    let id = params
        .int("message_id")
        .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;
    let message = world.chats[&chat]
        .messages
        .get(&id)
        .ok_or_else(|| ApiError::bad_request("message to edit not found"))?;
    if message.from != world.bot_id {
        return Err(ApiError::bad_request("message can't be edited"));
    }
    Ok((chat, id))
}

/// Replaces a message's content, keeping the old one in its history.
fn replace(world: &mut World, (chat, id): (i64, i64), content: Content) -> Result<Value, ApiError> {
    let now = world.now();
    let message = world
        .chats
        .get_mut(&chat)
        .and_then(|c| c.messages.get_mut(&id))
        .ok_or_else(|| ApiError::bad_request("message to edit not found"))?;
    if message.content.text == content.text
        && message.content.entities == content.entities
        && message.content.reply_markup == content.reply_markup
    {
        return Err(ApiError::not_modified());
    }
    let old = std::mem::replace(&mut message.content, content);
    message.history.push(old);
    message.edit_date = Some(now);
    let chat = &world.chats[&chat];
    Ok(objects::message(world, chat, &chat.messages[&id]))
}

pub(super) fn edit_text(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let at = edited(world, params)?;
    if world.chats[&at.0].messages[&at.1].media != Media::None {
        return Err(ApiError::bad_request(
            "there is no text in the message to edit",
        ));
    }
    let mut content =
        formatting::content(world, params, ("text", "entities"), formatting::MAX_TEXT)?;
    content.reply_markup = formatting::inline_keyboard(params, true)?;
    replace(world, at, content)
}

pub(super) fn edit_reply_markup(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let at = edited(world, params)?;
    let mut content = world.chats[&at.0].messages[&at.1].content.clone();
    content.reply_markup = formatting::inline_keyboard(params, true)?;
    replace(world, at, content)
}

pub(super) fn delete(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let chat_id = chat_id(world, params)?;
    let id = params.int("message_id").unwrap_or(0);
    let bot_id = world.bot_id;
    let chat = world
        .chats
        .get_mut(&chat_id)
        .ok_or_else(ApiError::chat_not_found)?;
    let message = chat
        .messages
        .get(&id)
        .ok_or_else(|| ApiError::bad_request("message to delete not found"))?;
    let allowed = message.from == bot_id || chat.kind == ChatKind::Private || chat.bot_admin;
    if !allowed || matches!(message.media, Media::TopicCreated(_)) {
        return Err(ApiError::bad_request("message can't be deleted"));
    }
    chat.messages.remove(&id);
    Ok(json!(true))
}

pub(super) fn set_reaction(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let chat_id = chat_id(world, params)?;
    let id = params.int("message_id").unwrap_or(0);
    let mut emoji = Vec::new();
    for reaction in params
        .get("reaction")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match (reaction["type"].as_str(), reaction["emoji"].as_str()) {
            (Some("emoji"), Some(e)) if !e.is_empty() => emoji.push(e.to_owned()),
            _ => return Err(ApiError::bad_request("REACTION_INVALID")),
        }
    }
    let message = world
        .chats
        .get_mut(&chat_id)
        .and_then(|c| c.messages.get_mut(&id))
        .ok_or_else(|| ApiError::bad_request("MESSAGE_ID_INVALID"))?;
    message.bot_reaction = emoji;
    Ok(json!(true))
}
