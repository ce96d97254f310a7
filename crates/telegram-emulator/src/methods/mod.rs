//! The Bot API methods the emulator serves (all but `getUpdates`, which waits and lives in
//! [`crate::polling`]), dispatched by name.

mod bot;
mod callbacks;
mod chats;
mod editing;
mod files;
mod formatting;
mod sending;

use serde_json::Value;

use crate::{errors::ApiError, params::Params, state::World};

/// Runs a method whose answer does not wait. `name` is the spec's spelling.
pub(crate) fn call(world: &mut World, name: &str, params: &Params) -> Result<Value, ApiError> {
    match name {
        "getMe" => Ok(bot::get_me(world)),
        "setWebhook" => bot::set_webhook(world, params),
        "deleteWebhook" => Ok(bot::delete_webhook(world, params)),
        "getWebhookInfo" => Ok(bot::webhook_info(world)),
        "sendMessage" => sending::send_message(world, params),
        "sendDocument" => sending::send_file(world, params, "document"),
        "sendPhoto" => sending::send_file(world, params, "photo"),
        "editMessageText" => editing::edit_text(world, params),
        "editMessageReplyMarkup" => editing::edit_reply_markup(world, params),
        "deleteMessage" => editing::delete(world, params),
        "setMessageReaction" => editing::set_reaction(world, params),
        "answerCallbackQuery" => callbacks::answer(world, params),
        "getChat" => chats::get_chat(world, params),
        "getChatMember" => chats::get_chat_member(world, params),
        "sendChatAction" => chats::send_chat_action(world, params),
        "createForumTopic" => chats::create_forum_topic(world, params),
        "getFile" => files::get_file(world, params),
        _ => Err(ApiError::not_found()),
    }
}

/// The chat `chat_id` names: an id, or `@username` of a user's private chat.
fn chat_id(world: &World, params: &Params) -> Result<i64, ApiError> {
    let id = match params.get("chat_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.strip_prefix('@').and_then(|name| {
            world
                .users
                .values()
                .find(|u| u.username.eq_ignore_ascii_case(name))
                .map(|u| u.id)
        }),
        _ => None,
    };
    id.filter(|id| world.chats.contains_key(id))
        .ok_or_else(ApiError::chat_not_found)
}
