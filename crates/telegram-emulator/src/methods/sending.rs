//! `sendMessage`, `sendDocument` and `sendPhoto`: where the message lands (chat, forum topic,
//! reply), its text or caption, its inline keyboard and its file.

use serde_json::Value;

use super::{chat_id, formatting};
use crate::{
    delivery::{self, NewMessage},
    errors::ApiError,
    image_size, objects,
    params::Params,
    state::{ChatKind, Media, World},
};

/// Where a sent message goes.
struct Target {
    chat_id: i64,
    thread_id: Option<i64>,
    reply_to: Option<i64>,
}

/// The General topic's `message_thread_id` (docs, Forum topics: messages there carry none).
pub(crate) const GENERAL_TOPIC: i64 = 1;

/// The chat, topic and replied-to message of a send. A reply without `message_thread_id` lands
/// in the topic of the message it replies to.
fn target(world: &World, params: &Params) -> Result<Target, ApiError> {
    let chat_id = chat_id(world, params)?;
    let chat = &world.chats[&chat_id];
    let forum = matches!(chat.kind, ChatKind::Supergroup { forum: true });
    let thread_id = match params.int("message_thread_id") {
        None => None,
        Some(GENERAL_TOPIC) if forum => None,
        Some(t) if forum && chat.topics.contains_key(&t) => Some(t),
        Some(_) => return Err(ApiError::message_thread_not_found()),
    };
    let Some(reply) = params.get("reply_parameters") else {
        return Ok(Target {
            chat_id,
            thread_id,
            reply_to: None,
        });
    };
    let Some(reply_id) = reply["message_id"].as_i64() else {
        return Err(ApiError::bad_request(
            "can't parse ReplyParameters: Field \"message_id\" must be of type Integer",
        ));
    };
    let same_chat = reply
        .get("chat_id")
        .is_none_or(|c| c.as_i64() == Some(chat_id) || c.as_str() == Some(&chat_id.to_string()));
    let replied = chat.messages.get(&reply_id).filter(|_| same_chat);
    let without_reply = reply["allow_sending_without_reply"]
        .as_bool()
        .unwrap_or(false);
    match replied {
        Some(m) if params.int("message_thread_id").is_some() && m.thread_id != thread_id => {
            Err(ApiError::reply_not_found())
        }
        Some(m) => Ok(Target {
            chat_id,
            thread_id: m.thread_id,
            reply_to: Some(reply_id),
        }),
        None if without_reply => Ok(Target {
            chat_id,
            thread_id,
            reply_to: None,
        }),
        None => Err(ApiError::reply_not_found()),
    }
}

fn send(world: &mut World, target: Target, content: crate::state::Content, media: Media) -> Value {
    let from = world.bot_id;
    let message_id = delivery::add(
        world,
        target.chat_id,
        NewMessage {
            from,
            thread_id: target.thread_id,
            reply_to: target.reply_to,
            content,
            media,
        },
    );
    let chat = &world.chats[&target.chat_id];
    objects::message(world, chat, &chat.messages[&message_id])
}

pub(super) fn send_message(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let target = target(world, params)?;
    let mut content =
        formatting::content(world, params, ("text", "entities"), formatting::MAX_TEXT)?;
    content.reply_markup = formatting::inline_keyboard(params, false)?;
    Ok(send(world, target, content, Media::None))
}

/// `sendDocument` (`field` = `document`) and `sendPhoto` (`photo`): an upload, or the
/// `file_id` of a file the emulator has. URLs cannot be fetched offline.
pub(super) fn send_file(
    world: &mut World,
    params: &Params,
    field: &str,
) -> Result<Value, ApiError> {
    let target = target(world, params)?;
    let mut content = formatting::content(
        world,
        params,
        ("caption", "caption_entities"),
        formatting::MAX_CAPTION,
    )?;
    content.reply_markup = formatting::inline_keyboard(params, false)?;
    let file_id = match (params.upload(field), params.str(field)) {
        (Some(upload), _) => {
            let folder = if field == "photo" {
                "photos"
            } else {
                "documents"
            };
            if field == "photo" && image_size::of(&upload.data).is_none() {
                return Err(ApiError::bad_request("IMAGE_PROCESS_FAILED"));
            }
            world.store_file(&upload.filename, upload.data.clone(), folder)
        }
        (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
            return Err(ApiError::bad_request("failed to get HTTP URL content"));
        }
        (None, Some(id)) if world.files.contains_key(id) => id.to_owned(),
        _ => {
            return Err(ApiError::bad_request(
                "wrong file identifier/HTTP URL specified",
            ));
        }
    };
    let media = if field == "photo" {
        let (w, h) = image_size::of(&world.files[&file_id].data).unwrap_or((0, 0));
        Media::Photo(file_id, w, h)
    } else {
        Media::Document(file_id)
    };
    Ok(send(world, target, content, media))
}
