//! Putting messages into chats and turning what users do into updates for the bot: privacy
//! mode, the implicit reply to a topic's first message, and never an update for the bot's own
//! messages.

use serde_json::json;

use crate::{
    objects,
    state::{ChatKind, Content, Media, Message, Topic, World},
};

/// What a new message holds; [`add`] gives it an id and a date.
pub(crate) struct NewMessage {
    pub(crate) from: i64,
    pub(crate) thread_id: Option<i64>,
    pub(crate) reply_to: Option<i64>,
    pub(crate) content: Content,
    pub(crate) media: Media,
}

/// Adds a message to a chat (which must exist) and answers its id. In a forum topic, a message
/// that replies to nothing replies to the topic's first message, as Telegram shows it.
pub(crate) fn add(world: &mut World, chat_id: i64, new: NewMessage) -> i64 {
    let date = world.now();
    let Some(chat) = world.chats.get_mut(&chat_id) else {
        return 0;
    };
    let message_id = chat.next_message_id;
    chat.next_message_id += 1;
    let reply_to = new.reply_to.or(new
        .thread_id
        .filter(|_| matches!(chat.kind, ChatKind::Supergroup { forum: true })));
    chat.messages.insert(
        message_id,
        Message {
            message_id,
            chat_id,
            from: new.from,
            date,
            thread_id: new.thread_id,
            reply_to,
            content: new.content,
            history: Vec::new(),
            edit_date: None,
            media: new.media,
            bot_reaction: Vec::new(),
            user_reactions: std::collections::BTreeMap::new(),
        },
    );
    message_id
}

/// Whether privacy mode lets the bot see this message (docs, Privacy mode: commands, replies
/// to the bot's messages, mentions, service messages; everything in private chats and where the
/// bot is an administrator).
fn bot_sees(world: &World, chat_id: i64, message: &Message) -> bool {
    let Some(chat) = world.chats.get(&chat_id) else {
        return false;
    };
    if chat.kind == ChatKind::Private || chat.bot_admin || !world.privacy_mode {
        return true;
    }
    if matches!(message.media, Media::TopicCreated(_)) {
        return true;
    }
    let text = message.content.text.as_deref().unwrap_or("");
    let mention = format!("@{}", world.bot_username);
    let command = text.starts_with('/')
        && text
            .split_whitespace()
            .next()
            .and_then(|c| c.split_once('@'))
            .is_none_or(|(_, to)| to.eq_ignore_ascii_case(&world.bot_username));
    let replies_to_bot = message
        .reply_to
        .filter(|id| Some(*id) != message.thread_id)
        .and_then(|id| chat.messages.get(&id))
        .is_some_and(|m| m.from == world.bot_id);
    command || replies_to_bot || text.contains(&mention)
}

/// Sends a user's new or edited message to the bot as `message` / `edited_message`, unless it
/// is the bot's own or privacy mode hides it.
pub(crate) fn notify(world: &mut World, chat_id: i64, message_id: i64, kind: &'static str) {
    let Some(chat) = world.chats.get(&chat_id) else {
        return;
    };
    let Some(message) = chat.messages.get(&message_id) else {
        return;
    };
    if message.from == world.bot_id || !bot_sees(world, chat_id, message) {
        return;
    }
    let payload = objects::message(world, chat, message);
    let now = world.now();
    world.updates.push(now, kind, payload);
}

/// Sends a `message_reaction` update (docs, Update: only when `allowed_updates` names it; in
/// groups only where the bot is an administrator).
pub(crate) fn notify_reaction(
    world: &mut World,
    chat_id: i64,
    message_id: i64,
    user_id: i64,
    old: &[String],
    new: &[String],
) {
    let Some(chat) = world.chats.get(&chat_id) else {
        return;
    };
    if chat.kind != ChatKind::Private && !chat.bot_admin {
        return;
    }
    let emoji = |list: &[String]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|e| json!({"type": "emoji", "emoji": e}))
            .collect()
    };
    let now = world.now();
    let payload = json!({
        "chat": objects::chat(world, chat),
        "message_id": message_id,
        "user": objects::sender(world, user_id),
        "date": now,
        "old_reaction": emoji(old),
        "new_reaction": emoji(new),
    });
    world.updates.push(now, "message_reaction", payload);
}

/// Creates a topic in a forum, by the bot or a user: its service message's id becomes the
/// topic's `message_thread_id`, and users' topics reach the bot as that service message.
pub(crate) fn create_topic(
    world: &mut World,
    chat_id: i64,
    from: i64,
    name: &str,
    icon_color: i64,
) -> Topic {
    let next = world.chats[&chat_id].next_message_id;
    let topic = Topic {
        thread_id: next,
        name: name.to_owned(),
        icon_color,
    };
    let message_id = add(
        world,
        chat_id,
        NewMessage {
            from,
            thread_id: Some(next),
            reply_to: None,
            content: Content {
                text: None,
                entities: Vec::new(),
                reply_markup: None,
                source: None,
            },
            media: Media::TopicCreated(topic.clone()),
        },
    );
    if let Some(chat) = world.chats.get_mut(&chat_id) {
        if let Some(m) = chat.messages.get_mut(&message_id) {
            m.reply_to = None;
        }
        chat.topics.insert(message_id, topic.clone());
    }
    notify(world, chat_id, message_id, "message");
    topic
}
