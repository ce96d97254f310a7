//! The Bot API objects the emulator answers with and sends in updates (`User`, `Chat`,
//! `ChatFullInfo`, `Message`, `ChatMember`, `File`…), rendered from the world's state.

use serde_json::{Value, json};

use crate::state::{Chat, ChatKind, Media, Message, StoredFile, UserHandle, World};

/// A human user as a `User` object.
pub(crate) fn user(user: &UserHandle) -> Value {
    json!({
        "id": user.id,
        "is_bot": false,
        "first_name": user.first_name,
        "username": user.username,
        "language_code": "en",
    })
}

/// The bot as a `User` object (in messages it sent).
pub(crate) fn bot(world: &World) -> Value {
    json!({
        "id": world.bot_id,
        "is_bot": true,
        "first_name": world.bot_name,
        "username": world.bot_username,
    })
}

/// The bot as `getMe` answers: with the fields only `getMe` returns.
pub(crate) fn me(world: &World) -> Value {
    let mut me = bot(world);
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(!world.privacy_mode);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

/// A sender by id: the bot or a known user.
pub(crate) fn sender(world: &World, id: i64) -> Value {
    match world.users.get(&id) {
        Some(u) => user(u),
        None => bot(world),
    }
}

/// A `Chat` object.
pub(crate) fn chat(world: &World, chat: &Chat) -> Value {
    match chat.kind {
        ChatKind::Private => {
            let mut value = json!({"id": chat.id, "type": "private", "first_name": chat.title});
            if let Some(u) = world.users.get(&chat.id) {
                value["username"] = json!(u.username);
            }
            value
        }
        ChatKind::Group => json!({"id": chat.id, "type": "group", "title": chat.title}),
        ChatKind::Supergroup { forum } => {
            let mut value = json!({"id": chat.id, "type": "supergroup", "title": chat.title});
            if forum {
                value["is_forum"] = json!(true);
            }
            value
        }
    }
}

/// A `ChatFullInfo` object (`getChat`).
pub(crate) fn chat_full_info(world: &World, c: &Chat) -> Value {
    let mut value = chat(world, c);
    value["accent_color_id"] = json!(0);
    value["max_reaction_count"] = json!(11);
    value["accepted_gift_types"] = json!({
        "unlimited_gifts": false,
        "limited_gifts": false,
        "unique_gifts": false,
        "premium_subscription": false,
        "gifts_from_channels": false,
    });
    if c.kind != ChatKind::Private {
        value["permissions"] = json!({"can_send_messages": true});
    }
    value
}

/// A `ChatMember` object: `administrator` for the bot where it is one, `member` otherwise.
pub(crate) fn chat_member(world: &World, c: &Chat, user_id: i64) -> Value {
    let member = sender(world, user_id);
    if user_id == world.bot_id && c.bot_admin {
        json!({
            "status": "administrator",
            "user": member,
            "can_be_edited": false,
            "is_anonymous": false,
            "can_manage_chat": true,
            "can_delete_messages": true,
            "can_manage_video_chats": false,
            "can_restrict_members": false,
            "can_promote_members": false,
            "can_change_info": false,
            "can_invite_users": true,
            "can_post_stories": false,
            "can_edit_stories": false,
            "can_delete_stories": false,
            "can_pin_messages": true,
            "can_manage_topics": true,
        })
    } else {
        json!({"status": "member", "user": member})
    }
}

/// A `File` object.
pub(crate) fn file(file: &StoredFile) -> Value {
    json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.data.len(),
        "file_path": file.file_path,
    })
}

fn document(file: &StoredFile) -> Value {
    json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_name": file.file_name,
        "file_size": file.data.len(),
    })
}

/// A `Message` object; `reply_to_message` is rendered one level deep, as Telegram does.
pub(crate) fn message(world: &World, c: &Chat, m: &Message) -> Value {
    message_at_depth(world, c, m, true)
}

fn message_at_depth(world: &World, c: &Chat, m: &Message, with_reply: bool) -> Value {
    let mut value = json!({
        "message_id": m.message_id,
        "from": sender(world, m.from),
        "chat": chat(world, c),
        "date": m.date,
    });
    if let Some(thread_id) = m.thread_id {
        value["message_thread_id"] = json!(thread_id);
        value["is_topic_message"] = json!(true);
    }
    let (text_key, entities_key) = match m.media {
        Media::None => ("text", "entities"),
        _ => ("caption", "caption_entities"),
    };
    if let Some(text) = &m.content.text {
        value[text_key] = json!(text);
    }
    if !m.content.entities.is_empty() {
        value[entities_key] = json!(m.content.entities);
    }
    match &m.media {
        Media::None => {}
        Media::Document(file_id) => {
            if let Some(f) = world.files.get(file_id) {
                value["document"] = document(f);
            }
        }
        Media::Photo(file_id, width, height) => {
            if let Some(f) = world.files.get(file_id) {
                value["photo"] = json!([{
                    "file_id": f.file_id,
                    "file_unique_id": f.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": f.data.len(),
                }]);
            }
        }
        Media::TopicCreated(topic) => {
            value["forum_topic_created"] =
                json!({"name": topic.name, "icon_color": topic.icon_color});
        }
    }
    if let Some(markup) = &m.content.reply_markup {
        value["reply_markup"] = markup.clone();
    }
    if let Some(edit_date) = m.edit_date {
        value["edit_date"] = json!(edit_date);
    }
    if with_reply && let Some(replied) = m.reply_to.and_then(|id| c.messages.get(&id)) {
        value["reply_to_message"] = message_at_depth(world, c, replied, false);
    }
    value
}
