//! Chats: `getChat`, `getChatMember`, `sendChatAction` (recorded) and `createForumTopic`.

use serde_json::{Value, json};

use super::chat_id;
use crate::{
    delivery,
    errors::ApiError,
    objects,
    params::Params,
    state::{ChatKind, World},
};

/// The actions `sendChatAction` accepts (docs, sendChatAction).
const ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

/// The colours a topic icon may have (docs, createForumTopic).
const ICON_COLORS: &[i64] = &[
    0x6F_B9F0, 0xFF_D67E, 0xCB_86DB, 0x8E_EE98, 0xFF_93B2, 0xFB_6F5F,
];

pub(super) fn get_chat(world: &World, params: &Params) -> Result<Value, ApiError> {
    let id = chat_id(world, params)?;
    Ok(objects::chat_full_info(world, &world.chats[&id]))
}

pub(super) fn get_chat_member(world: &World, params: &Params) -> Result<Value, ApiError> {
    let chat = &world.chats[&chat_id(world, params)?];
    let user_id = params.int("user_id").unwrap_or(0);
    let member = user_id == world.bot_id
        || chat.members.contains(&user_id)
        || (chat.kind == ChatKind::Private && chat.id == user_id);
    if !member {
        return Err(ApiError::bad_request("user not found"));
    }
    Ok(objects::chat_member(world, chat, user_id))
}

pub(super) fn send_chat_action(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let id = chat_id(world, params)?;
    let action = params.str("action").unwrap_or("");
    if !ACTIONS.contains(&action) {
        return Err(ApiError::bad_request("wrong parameter action in request"));
    }
    let thread = params.int("message_thread_id");
    if let Some(chat) = world.chats.get_mut(&id) {
        chat.actions.push((thread, action.to_owned()));
    }
    Ok(json!(true))
}

pub(super) fn create_forum_topic(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let id = chat_id(world, params)?;
    let chat = &world.chats[&id];
    if chat.kind != (ChatKind::Supergroup { forum: true }) {
        return Err(ApiError::bad_request("the chat is not a forum"));
    }
    if !chat.bot_admin {
        return Err(ApiError::bad_request("not enough rights to create a topic"));
    }
    let name = params.str("name").unwrap_or("");
    if name.chars().count() > 128 {
        return Err(ApiError::bad_request("TOPIC_TITLE_INVALID"));
    }
    let icon_color = params.int("icon_color").unwrap_or(ICON_COLORS[0]);
    if !ICON_COLORS.contains(&icon_color) {
        return Err(ApiError::bad_request("TOPIC_COLOR_INVALID"));
    }
    let from = world.bot_id;
    let topic = delivery::create_topic(world, id, from, name, icon_color);
    Ok(
        json!({"message_thread_id": topic.thread_id, "name": topic.name, "icon_color": topic.icon_color}),
    )
}
