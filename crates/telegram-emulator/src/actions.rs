//! What tests do as humans: add users and chats, post, edit, react, click inline buttons,
//! open topics — each producing the update Telegram would send the bot.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{
    Emulator,
    delivery::{self, NewMessage},
    errors::Error,
    objects,
    post::Post,
    state::{CallbackRecord, ChatKind, Content, Media, UserHandle, World},
};

/// The General topic's thread id.
const GENERAL: i64 = 1;

fn refused(what: impl Into<String>) -> Error {
    Error::Refused(what.into())
}

/// The user must be in the chat (a private chat is its user's).
fn check_member(world: &World, user: &UserHandle, chat_id: i64) -> Result<(), Error> {
    let chat = world
        .chats
        .get(&chat_id)
        .ok_or_else(|| refused("chat not found"))?;
    if chat.members.contains(&user.id) {
        Ok(())
    } else {
        Err(refused(format!(
            "{} is not a member of chat {chat_id}",
            user.username
        )))
    }
}

/// Finds the button with this `callback_data` on a message's inline keyboard.
fn has_button(markup: Option<&Value>, data: &str) -> bool {
    markup
        .and_then(|m| m["inline_keyboard"].as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|b| b["callback_data"] == data)
}

/// Entities Telegram adds to what users type: a leading `/command` and `@mentions`.
fn auto_entities(text: &str) -> Vec<Value> {
    let mut entities = Vec::new();
    let mut offset = 0;
    for (i, word) in text.split(' ').enumerate() {
        let length = crate::utf16::len(word);
        let kind = if i == 0 && word.starts_with('/') && length > 1 {
            Some("bot_command")
        } else if word.starts_with('@') && length > 1 {
            Some("mention")
        } else {
            None
        };
        if let Some(kind) = kind {
            entities.push(json!({"type": kind, "offset": offset, "length": length}));
        }
        offset += length + 1;
    }
    entities
}

impl Emulator {
    /// Adds a human user (named `name`, username `name` in lower case with spaces as `_`) and
    /// their private chat with the bot, whose id is the user's.
    pub fn add_user(&self, name: &str) -> UserHandle {
        let mut world = self.shared.lock();
        let id = world.fresh_id() % 1_000_000_000 + 1_000_000_000;
        let user = UserHandle {
            id,
            first_name: name.to_owned(),
            username: name.to_lowercase().replace(' ', "_"),
        };
        world.users.insert(id, user.clone());
        world.add_chat(id, ChatKind::Private, name.to_owned(), vec![id], false);
        user
    }

    /// Adds a basic group with these members and the bot (not an administrator, so privacy
    /// mode applies). Answers its (negative) chat id.
    pub fn add_group(&self, title: &str, members: &[&UserHandle]) -> i64 {
        self.add_chat(title, members, ChatKind::Group, false)
    }

    /// Adds a forum supergroup (topics on) with these members and the bot as an administrator
    /// allowed to manage topics. It starts with the General topic (thread id 1). Answers its
    /// chat id (`-100…`).
    pub fn add_forum(&self, title: &str, members: &[&UserHandle]) -> i64 {
        self.add_chat(title, members, ChatKind::Supergroup { forum: true }, true)
    }

    fn add_chat(&self, title: &str, members: &[&UserHandle], kind: ChatKind, admin: bool) -> i64 {
        let mut world = self.shared.lock();
        let n = world.fresh_id() % 1_000_000_000;
        let id = match kind {
            ChatKind::Supergroup { .. } => -1_000_000_000_000 - n,
            _ => -n,
        };
        let members = members.iter().map(|u| u.id).collect();
        world.add_chat(id, kind, title.to_owned(), members, admin);
        id
    }

    /// Makes the bot an administrator of a group or not (administrators are not bound by
    /// privacy mode and receive `message_reaction` updates).
    ///
    /// # Errors
    ///
    /// When the chat does not exist.
    pub fn set_bot_admin(&self, chat_id: i64, admin: bool) -> Result<(), Error> {
        let mut world = self.shared.lock();
        let chat = world
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| refused("chat not found"))?;
        chat.bot_admin = admin;
        Ok(())
    }

    /// Turns the bot's privacy mode on (the default, as @BotFather sets it) or off. With it on,
    /// in groups where the bot is not an administrator it receives only commands, replies to
    /// its messages, mentions of it and service messages.
    pub fn set_privacy_mode(&self, on: bool) {
        self.shared.lock().privacy_mode = on;
    }

    /// A user opens a forum topic; the bot receives its `forum_topic_created` service message.
    /// Answers the topic's `message_thread_id`.
    ///
    /// # Errors
    ///
    /// When the chat is not a forum or the user not a member.
    pub fn create_topic_as(
        &self,
        user: &UserHandle,
        chat_id: i64,
        name: &str,
    ) -> Result<i64, Error> {
        let mut world = self.shared.lock();
        check_member(&world, user, chat_id)?;
        if world.chats[&chat_id].kind != (ChatKind::Supergroup { forum: true }) {
            return Err(refused("the chat is not a forum"));
        }
        Ok(delivery::create_topic(&mut world, chat_id, user.id, name, 0x6F_B9F0).thread_id)
    }

    /// A user sends a text message; the bot receives it as a `message` update (unless privacy
    /// mode hides it). Answers its `message_id`.
    ///
    /// # Errors
    ///
    /// When the chat does not exist or the user is not in it.
    pub fn post_as(&self, user: &UserHandle, chat_id: i64, text: &str) -> Result<i64, Error> {
        self.post(user, chat_id, Post::text(text))
    }

    /// A user sends a message with options: a topic, a reply, a document.
    ///
    /// # Errors
    ///
    /// When the chat, topic or replied-to message does not exist, or the user is not in the
    /// chat.
    pub fn post(&self, user: &UserHandle, chat_id: i64, post: Post) -> Result<i64, Error> {
        let mut world = self.shared.lock();
        check_member(&world, user, chat_id)?;
        let chat = &world.chats[&chat_id];
        let forum = chat.kind == (ChatKind::Supergroup { forum: true });
        let mut thread_id = match post.thread_id {
            None | Some(GENERAL) => None,
            Some(t) if forum && chat.topics.contains_key(&t) => Some(t),
            Some(t) => return Err(refused(format!("no topic {t} in chat {chat_id}"))),
        };
        if let Some(reply) = post.reply_to {
            let replied = chat
                .messages
                .get(&reply)
                .ok_or_else(|| refused("message to be replied not found"))?;
            if post.thread_id.is_some() && replied.thread_id != thread_id {
                return Err(refused("the replied-to message is in another topic"));
            }
            thread_id = replied.thread_id;
        }
        let media = match post.document {
            Some((name, data)) => Media::Document(world.store_file(&name, data, "documents")),
            None => Media::None,
        };
        let entities = auto_entities(&post.text);
        let text = (!post.text.is_empty()).then_some(post.text);
        let content = Content {
            text,
            entities,
            reply_markup: None,
            source: None,
        };
        let new = NewMessage {
            from: user.id,
            thread_id,
            reply_to: post.reply_to,
            content,
            media,
        };
        let message_id = delivery::add(&mut world, chat_id, new);
        delivery::notify(&mut world, chat_id, message_id, "message");
        Ok(message_id)
    }

    /// A user edits their message's text; the bot receives an `edited_message` update.
    ///
    /// # Errors
    ///
    /// When the message does not exist or is not the user's.
    pub fn edit_as(
        &self,
        user: &UserHandle,
        chat_id: i64,
        message_id: i64,
        text: &str,
    ) -> Result<(), Error> {
        let mut world = self.shared.lock();
        let now = world.now();
        let message = world
            .chats
            .get_mut(&chat_id)
            .and_then(|c| c.messages.get_mut(&message_id))
            .filter(|m| m.from == user.id)
            .ok_or_else(|| refused("no such message of this user"))?;
        let content = Content {
            text: Some(text.to_owned()),
            entities: auto_entities(text),
            reply_markup: None,
            source: None,
        };
        let old = std::mem::replace(&mut message.content, content);
        message.history.push(old);
        message.edit_date = Some(now);
        delivery::notify(&mut world, chat_id, message_id, "edited_message");
        Ok(())
    }

    /// A user sets their reaction on a message (an empty `emoji` removes it). The bot receives
    /// a `message_reaction` update only if its last `allowed_updates` named `message_reaction`
    /// and, in groups, it is an administrator.
    ///
    /// # Errors
    ///
    /// When the message does not exist or the user is not in the chat.
    pub fn react_as(
        &self,
        user: &UserHandle,
        chat_id: i64,
        message_id: i64,
        emoji: &str,
    ) -> Result<(), Error> {
        let mut world = self.shared.lock();
        check_member(&world, user, chat_id)?;
        let message = world
            .chats
            .get_mut(&chat_id)
            .and_then(|c| c.messages.get_mut(&message_id))
            .ok_or_else(|| refused("message not found"))?;
        let new: Vec<String> = if emoji.is_empty() {
            Vec::new()
        } else {
            vec![emoji.to_owned()]
        };
        let old = message
            .user_reactions
            .insert(user.id, new.clone())
            .unwrap_or_default();
        message.user_reactions.retain(|_, r| !r.is_empty());
        delivery::notify_reaction(&mut world, chat_id, message_id, user.id, &old, &new);
        Ok(())
    }

    /// A user presses the inline button carrying `callback_data` on the bot's message; the bot
    /// receives a `callback_query` update. Answers the query's id, for
    /// [`callback_answer`](Self::callback_answer).
    ///
    /// # Errors
    ///
    /// When the message does not exist, is not the bot's, or has no such button.
    pub fn click(
        &self,
        user: &UserHandle,
        chat_id: i64,
        message_id: i64,
        callback_data: &str,
    ) -> Result<String, Error> {
        let mut world = self.shared.lock();
        check_member(&world, user, chat_id)?;
        let chat = &world.chats[&chat_id];
        let message = chat
            .messages
            .get(&message_id)
            .ok_or_else(|| refused("message not found"))?;
        if message.from != world.bot_id
            || !has_button(message.content.reply_markup.as_ref(), callback_data)
        {
            return Err(refused(format!(
                "no button with callback_data {callback_data:?}"
            )));
        }
        let message_json = objects::message(&world, chat, message);
        let n = world.fresh_id();
        let id = format!("{}{n}", user.id);
        let now = world.now();
        let payload = json!({
            "id": id,
            "from": objects::user(user),
            "message": message_json,
            "chat_instance": format!("{}", chat_id.unsigned_abs() ^ 0x5DEE_CE66),
            "data": callback_data,
        });
        world.callbacks.insert(
            id.clone(),
            CallbackRecord {
                id: id.clone(),
                user_id: user.id,
                chat_id,
                message_id,
                data: callback_data.to_owned(),
                created: now,
                answer: None,
            },
        );
        world.updates.push(now, "callback_query", payload);
        Ok(id)
    }

    /// What the user who clicked saw once the bot answered the query (`None`: not answered yet).
    #[must_use]
    pub fn callback_answer(&self, query_id: &str) -> Option<crate::CallbackAnswer> {
        self.shared
            .lock()
            .callbacks
            .get(query_id)
            .and_then(|r| r.answer.clone())
    }

    /// Every message in a chat (users' and the bot's), oldest first; deleted ones are gone.
    #[must_use]
    pub fn messages(&self, chat_id: i64) -> Vec<crate::Message> {
        let world = self.shared.lock();
        world
            .chats
            .get(&chat_id)
            .map(|c| c.messages.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One message of a chat.
    #[must_use]
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<crate::Message> {
        self.shared
            .lock()
            .chats
            .get(&chat_id)?
            .messages
            .get(&message_id)
            .cloned()
    }

    /// A message as the Bot API renders it (`Message` JSON), for comparing with what a client
    /// read.
    #[must_use]
    pub fn message_json(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        let world = self.shared.lock();
        let chat = world.chats.get(&chat_id)?;
        Some(objects::message(
            &world,
            chat,
            chat.messages.get(&message_id)?,
        ))
    }

    /// A forum's topics (General is implicit), by thread id.
    #[must_use]
    pub fn topics(&self, chat_id: i64) -> BTreeMap<i64, crate::Topic> {
        self.shared
            .lock()
            .chats
            .get(&chat_id)
            .map(|c| c.topics.clone())
            .unwrap_or_default()
    }

    /// The chat actions the bot sent in a chat (`message_thread_id`, action), oldest first.
    #[must_use]
    pub fn chat_actions(&self, chat_id: i64) -> Vec<(Option<i64>, String)> {
        self.shared
            .lock()
            .chats
            .get(&chat_id)
            .map(|c| c.actions.clone())
            .unwrap_or_default()
    }

    /// How many updates wait for the bot (not yet confirmed by an `offset`).
    #[must_use]
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }

    /// Moves the emulator's clock forward: message dates, the 24-hour retention of updates,
    /// callback query lifetimes and the update id restart after a silence
    /// ([`Config::update_id_reset_after`](crate::Config::update_id_reset_after)) all follow it.
    pub fn advance_time(&self, by: std::time::Duration) {
        self.shared.lock().clock_offset += by;
    }
}
