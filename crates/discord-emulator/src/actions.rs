//! What users and the bot do — post, edit, delete, react, type, start and join threads — and
//! the gateway events each action fires (docs: each route's "Fires a ... Gateway event").

use std::time::Instant;

use serde_json::{Value, json};

use crate::{
    errors::{ApiError, FormErrors},
    intents::Intents,
    objects,
    sessions::Event,
    snowflake::{Snowflake, now_ms},
    state::{
        Attachment, Channel, Message, MessageReference, NonceEntry, Reaction, Thread, World,
        channel_type, message_type, permission,
    },
};

/// "Message contents (up to 2000 characters)".
pub(crate) const MAX_CONTENT: usize = 2000;

/// A message to create, already checked for shape by the REST layer.
#[derive(Debug, Default)]
pub(crate) struct NewMessage {
    pub(crate) content: String,
    pub(crate) tts: bool,
    pub(crate) embeds: Vec<Value>,
    pub(crate) files: Vec<NewFile>,
    pub(crate) nonce: Option<Value>,
    pub(crate) enforce_nonce: bool,
    pub(crate) flags: u64,
    pub(crate) reply_to: Option<ReplyTo>,
    pub(crate) allowed_mentions: Option<Value>,
    /// Checked and numbered by `components::parse`.
    pub(crate) components: Vec<Value>,
}

impl NewMessage {
    /// Whether it has nothing to show: "at least one of content, embeds, ... components,
    /// files[n]" is required.
    pub(crate) fn is_empty(&self) -> bool {
        self.content.trim().is_empty()
            && self.embeds.is_empty()
            && self.files.is_empty()
            && self.components.is_empty()
    }
}

/// An uploaded file.
#[derive(Debug)]
pub(crate) struct NewFile {
    pub(crate) filename: String,
    pub(crate) content_type: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// The `message_reference` of a reply.
#[derive(Debug)]
pub(crate) struct ReplyTo {
    pub(crate) message_id: Snowflake,
    pub(crate) channel_id: Option<Snowflake>,
    pub(crate) fail_if_not_exists: bool,
}

/// An edit; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub(crate) struct MessageEdit {
    pub(crate) content: Option<String>,
    pub(crate) embeds: Option<Vec<Value>>,
    pub(crate) flags: Option<u64>,
    pub(crate) keep_attachments: Option<Vec<Snowflake>>,
    pub(crate) files: Vec<NewFile>,
    pub(crate) allowed_mentions: Option<Value>,
    /// New components (`Some(vec![])` removes them).
    pub(crate) components: Option<Vec<Value>>,
    /// Flags the emulator itself clears (LOADING, when a deferred response is edited).
    pub(crate) clear_flags: u64,
}

/// A thread to start.
#[derive(Debug)]
pub(crate) struct NewThread {
    pub(crate) name: String,
    pub(crate) auto_archive_duration: u32,
    pub(crate) rate_limit_per_user: u32,
    pub(crate) kind: u8,
    pub(crate) invitable: bool,
}

/// Message flags a sender may set.
pub(crate) const SETTABLE_FLAGS: u64 = (1 << 2) | (1 << 12) | (1 << 13) | (1 << 15);

impl World {
    pub(crate) fn message_event(&self, name: &'static str, m: &Message) -> Event {
        let mut data = objects::message_event(self, m);
        if name == "MESSAGE_UPDATE" {
            // "The value for tts will always be false in message updates."
            data["tts"] = false.into();
        }
        Event {
            name,
            data,
            requires: Intents::GUILD_MESSAGES,
            visible: self.bot_can_view(m.channel_id),
            message: true,
        }
    }

    /// Users mentioned as `<@id>` / `<@!id>`, as far as `allowed_mentions` lets them be.
    fn mentions(&self, content: &str, allowed: Option<&Value>) -> Vec<Snowflake> {
        let mut found = Vec::new();
        let mut rest = content;
        while let Some(start) = rest.find("<@") {
            rest = &rest[start + 2..];
            let digits = rest.strip_prefix('!').unwrap_or(rest);
            let end = digits.find('>').unwrap_or(0);
            if let Ok(id) = digits[..end].parse::<u64>() {
                let id = Snowflake(id);
                if self.users.contains_key(&id) && !found.contains(&id) {
                    found.push(id);
                }
            }
        }
        let Some(allowed) = allowed.filter(|a| a.is_object()) else {
            return found;
        };
        let parse_users = allowed["parse"]
            .as_array()
            .is_some_and(|p| p.iter().any(|v| v == "users"));
        if parse_users {
            return found;
        }
        let listed: Vec<String> = allowed["users"]
            .as_array()
            .map(|u| {
                u.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        found.retain(|id| listed.contains(&id.to_string()));
        found
    }

    fn store_files(&mut self, channel: Snowflake, files: Vec<NewFile>) -> Vec<Attachment> {
        let base = self.base_url();
        files
            .into_iter()
            .map(|file| {
                let id = self.ids.next();
                let url = format!(
                    "{base}/attachments/{channel}/{id}/{}",
                    encode_path_segment(&file.filename)
                );
                let size = u64::try_from(file.data.len()).unwrap_or(u64::MAX);
                self.files.insert(id, file.data);
                Attachment {
                    id,
                    filename: file.filename,
                    content_type: file.content_type,
                    description: file.description,
                    size,
                    url,
                }
            })
            .collect()
    }

    /// Stores a message and updates the channel's bookkeeping.
    pub(crate) fn insert_message(&mut self, message: Message, counts_in_thread: bool) {
        let channel_id = message.channel_id;
        if let Some(channel) = self.channels.get_mut(&channel_id) {
            channel.last_message_id = Some(message.id);
            if let Some(thread) = channel.thread.as_mut().filter(|_| counts_in_thread) {
                thread.message_count += 1;
                thread.total_message_sent += 1;
            }
        }
        self.messages
            .entry(channel_id)
            .or_default()
            .insert(message.id, message);
    }

    /// A new message of `author` in `channel_id` (not stored yet): a reply when it has a
    /// `reference`, its flags those of `new` that are in `settable`.
    pub(crate) fn build_message(
        &mut self,
        author: Snowflake,
        channel_id: Snowflake,
        new: NewMessage,
        reference: Option<MessageReference>,
        settable: u64,
    ) -> Message {
        let id = self.ids.next();
        let mentions = self.mentions(&new.content, new.allowed_mentions.as_ref());
        let attachments = self.store_files(channel_id, new.files);
        Message {
            id,
            channel_id,
            author_id: author,
            content: new.content,
            kind: if reference.is_some() {
                message_type::REPLY
            } else {
                message_type::DEFAULT
            },
            tts: new.tts,
            embeds: new.embeds,
            attachments,
            nonce: new.nonce,
            flags: new.flags & settable,
            edited_at_ms: None,
            reference,
            mentions,
            thread_id: None,
            reactions: Vec::new(),
            components: new.components,
            interaction_id: None,
        }
    }

    /// A human's message, posted as `POST /channels/{channel}/messages` with `content` would
    /// be (the test handle's and the control API's "post as").
    pub(crate) fn post_as(
        &mut self,
        user: Snowflake,
        channel: Snowflake,
        content: &str,
    ) -> Result<Message, ApiError> {
        if content.chars().count() > MAX_CONTENT {
            let mut errors = FormErrors::default();
            errors.add(
                &["content"],
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_CONTENT} or fewer in length."),
            );
            return Err(ApiError::invalid_form(errors));
        }
        let new = NewMessage {
            content: content.to_owned(),
            ..NewMessage::default()
        };
        Ok(self.create_message(user, Some(channel), new)?.0)
    }

    /// Create Message. Returns the message and whether it is new (false: an `enforce_nonce`
    /// repeat, answered with the earlier message and no event).
    pub(crate) fn create_message(
        &mut self,
        author: Snowflake,
        channel_id: Option<Snowflake>,
        new: NewMessage,
    ) -> Result<(Message, bool), ApiError> {
        let channel = self.visible_channel(author, channel_id)?;
        let needed = if channel.thread.is_some() {
            permission::SEND_MESSAGES_IN_THREADS
        } else {
            permission::SEND_MESSAGES
        } | if new.files.is_empty() {
            0
        } else {
            permission::ATTACH_FILES
        };
        if !self.has_permission(author, channel, needed) {
            return Err(ApiError::missing_permissions());
        }
        let channel_id = channel.id;
        let nonce_key = new.nonce.as_ref().filter(|_| new.enforce_nonce).map(|n| {
            (
                author,
                n.as_str().map_or_else(|| n.to_string(), str::to_owned),
            )
        });
        if let Some(key) = &nonce_key {
            let window = self.settings.nonce_window;
            self.nonces.retain(|_, e| e.at.elapsed() < window);
            if let Some(entry) = self.nonces.get(key)
                && let Some(earlier) = self.message(entry.channel_id, entry.message_id)
            {
                return Ok((earlier.clone(), false));
            }
        }
        if new.is_empty() {
            return Err(ApiError::empty_message());
        }
        let reference = match &new.reply_to {
            None => None,
            Some(reply) => {
                let target_channel = reply.channel_id.unwrap_or(channel_id);
                match self.message(target_channel, reply.message_id) {
                    Some(target)
                        if matches!(target.kind, message_type::DEFAULT | message_type::REPLY) =>
                    {
                        Some(MessageReference {
                            message_id: Some(target.id),
                            channel_id: target.channel_id,
                            guild_id: Some(self.guild.id),
                        })
                    }
                    Some(_) => {
                        let mut errors = FormErrors::default();
                        errors.add(
                            &["message_reference"],
                            "REPLIES_CANNOT_REPLY_TO_SYSTEM_MESSAGE",
                            "Cannot reply to a system message",
                        );
                        return Err(ApiError::invalid_form(errors));
                    }
                    None if reply.fail_if_not_exists => {
                        let mut errors = FormErrors::default();
                        errors.add(
                            &["message_reference"],
                            "REPLIES_UNKNOWN_MESSAGE",
                            "Unknown message",
                        );
                        return Err(ApiError::invalid_form(errors));
                    }
                    None => None,
                }
            }
        };
        let message = self.build_message(author, channel_id, new, reference, SETTABLE_FLAGS);
        let id = message.id;
        self.insert_message(message.clone(), true);
        if let Some(key) = nonce_key {
            self.nonces.insert(
                key,
                NonceEntry {
                    channel_id,
                    message_id: id,
                    at: Instant::now(),
                },
            );
        }
        let event = self.message_event("MESSAGE_CREATE", &message);
        self.emit(event);
        Ok((message, true))
    }

    /// Edit Message.
    pub(crate) fn edit_message(
        &mut self,
        editor: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
        edit: MessageEdit,
    ) -> Result<Message, ApiError> {
        let channel_id = self.visible_channel(editor, channel_id)?.id;
        let existing = message_id
            .and_then(|id| self.message(channel_id, id))
            .ok_or_else(ApiError::unknown_message)?;
        let id = existing.id;
        let touches_content = edit.content.is_some()
            || edit.embeds.is_some()
            || edit.components.is_some()
            || edit.keep_attachments.is_some()
            || !edit.files.is_empty();
        if existing.author_id != editor {
            return Err(if touches_content {
                ApiError::cannot_edit_others_message()
            } else {
                ApiError::missing_permissions()
            });
        }
        let existing = existing.clone();
        let updated = self.apply_edit(&existing, edit)?;
        let message = self
            .message_mut(channel_id, id)
            .ok_or_else(ApiError::unknown_message)?;
        *message = updated.clone();
        let event = self.message_event("MESSAGE_UPDATE", &updated);
        self.emit(event);
        Ok(updated)
    }

    /// `existing` with `edit` applied (mentions recomputed, new files stored), or 50006 when
    /// nothing would be left of it.
    pub(crate) fn apply_edit(
        &mut self,
        existing: &Message,
        edit: MessageEdit,
    ) -> Result<Message, ApiError> {
        let mentions = edit
            .content
            .as_deref()
            .map(|c| self.mentions(c, edit.allowed_mentions.as_ref()));
        let new_attachments = self.store_files(existing.channel_id, edit.files);
        let mut updated = existing.clone();
        if let Some(content) = edit.content {
            updated.content = content;
        }
        if let Some(mentions) = mentions {
            updated.mentions = mentions;
        }
        if let Some(embeds) = edit.embeds {
            updated.embeds = embeds;
        }
        if let Some(flags) = edit.flags {
            updated.flags = (updated.flags & !SETTABLE_FLAGS) | (flags & SETTABLE_FLAGS);
        }
        if let Some(keep) = edit.keep_attachments {
            updated.attachments.retain(|a| keep.contains(&a.id));
        }
        if let Some(components) = edit.components {
            updated.components = components;
        }
        updated.flags &= !edit.clear_flags;
        updated.attachments.extend(new_attachments);
        if updated.content.trim().is_empty()
            && updated.embeds.is_empty()
            && updated.attachments.is_empty()
            && updated.components.is_empty()
        {
            return Err(ApiError::empty_message());
        }
        updated.edited_at_ms = Some(now_ms());
        Ok(updated)
    }

    /// Delete Message: authors may delete their own messages (no MANAGE_MESSAGES here).
    pub(crate) fn delete_message(
        &mut self,
        deleter: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let channel_id = self.visible_channel(deleter, channel_id)?.id;
        let message = message_id
            .and_then(|id| self.message(channel_id, id))
            .ok_or_else(ApiError::unknown_message)?;
        if message.kind == message_type::THREAD_STARTER_MESSAGE {
            return Err(ApiError::system_message());
        }
        if message.author_id != deleter {
            return Err(ApiError::missing_permissions());
        }
        let id = message.id;
        if let Some(messages) = self.messages.get_mut(&channel_id) {
            messages.remove(&id);
        }
        if let Some(thread) = self
            .channels
            .get_mut(&channel_id)
            .and_then(|c| c.thread.as_mut())
        {
            thread.message_count = thread.message_count.saturating_sub(1);
        }
        let event = Event {
            name: "MESSAGE_DELETE",
            data: json!({ "id": id, "channel_id": channel_id, "guild_id": self.guild.id }),
            requires: Intents::GUILD_MESSAGES,
            visible: self.bot_can_view(channel_id),
            message: false,
        };
        self.emit(event);
        Ok(())
    }

    fn reaction_target(
        &self,
        user: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
        emoji: &str,
    ) -> Result<(Snowflake, Snowflake, Value), ApiError> {
        let channel = self.visible_channel(user, channel_id)?;
        if !self.has_permission(user, channel, permission::READ_MESSAGE_HISTORY) {
            return Err(ApiError::missing_permissions());
        }
        let channel_id = channel.id;
        let message = message_id
            .and_then(|id| self.message(channel_id, id))
            .ok_or_else(ApiError::unknown_message)?;
        let emoji_json = parse_emoji(emoji).ok_or_else(ApiError::unknown_emoji)?;
        Ok((channel_id, message.id, emoji_json))
    }

    /// Get Reactions: who reacted to the message with `emoji`, in the order they did (an
    /// emoji nobody used is an empty list).
    pub(crate) fn reaction_users(
        &self,
        user: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
        emoji: &str,
    ) -> Result<Vec<Snowflake>, ApiError> {
        let (channel_id, id, _) = self.reaction_target(user, channel_id, message_id, emoji)?;
        Ok(self
            .message(channel_id, id)
            .and_then(|m| m.reactions.iter().find(|r| r.emoji == emoji))
            .map(|r| r.users.clone())
            .unwrap_or_default())
    }

    /// Create Reaction (`@me`). Reacting twice with the same emoji changes nothing.
    pub(crate) fn add_reaction(
        &mut self,
        user: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
        emoji: &str,
    ) -> Result<(), ApiError> {
        let (channel_id, id, emoji_json) =
            self.reaction_target(user, channel_id, message_id, emoji)?;
        // A new emoji on the message needs ADD_REACTIONS; adding to one shown does not.
        let shown = self
            .message(channel_id, id)
            .is_some_and(|m| m.reactions.iter().any(|r| r.emoji == emoji));
        let may_add = self
            .channels
            .get(&channel_id)
            .is_some_and(|c| self.has_permission(user, c, permission::ADD_REACTIONS));
        if !shown && !may_add {
            return Err(ApiError::missing_permissions());
        }
        let message = self
            .message_mut(channel_id, id)
            .ok_or_else(ApiError::unknown_message)?;
        let author = message.author_id;
        match message.reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) if r.users.contains(&user) => return Ok(()),
            Some(r) => r.users.push(user),
            None => message.reactions.push(Reaction {
                emoji: emoji.to_owned(),
                users: vec![user],
            }),
        }
        let event = Event {
            name: "MESSAGE_REACTION_ADD",
            data: json!({
                "user_id": user,
                "channel_id": channel_id,
                "message_id": id,
                "guild_id": self.guild.id,
                "member": objects::member(self, user, true),
                "emoji": emoji_json,
                "message_author_id": author,
                "burst": false,
                "burst_colors": [],
                "type": 0,
            }),
            requires: Intents::GUILD_MESSAGE_REACTIONS,
            visible: self.bot_can_view(channel_id),
            message: false,
        };
        self.emit(event);
        Ok(())
    }

    /// Delete Own Reaction.
    pub(crate) fn remove_reaction(
        &mut self,
        user: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
        emoji: &str,
    ) -> Result<(), ApiError> {
        let (channel_id, id, emoji_json) =
            self.reaction_target(user, channel_id, message_id, emoji)?;
        let message = self
            .message_mut(channel_id, id)
            .ok_or_else(ApiError::unknown_message)?;
        let Some(index) = message
            .reactions
            .iter()
            .position(|r| r.emoji == emoji && r.users.contains(&user))
        else {
            return Ok(());
        };
        message.reactions[index].users.retain(|u| *u != user);
        if message.reactions[index].users.is_empty() {
            message.reactions.remove(index);
        }
        let event = Event {
            name: "MESSAGE_REACTION_REMOVE",
            data: json!({
                "user_id": user,
                "channel_id": channel_id,
                "message_id": id,
                "guild_id": self.guild.id,
                "emoji": emoji_json,
                "burst": false,
                "type": 0,
            }),
            requires: Intents::GUILD_MESSAGE_REACTIONS,
            visible: self.bot_can_view(channel_id),
            message: false,
        };
        self.emit(event);
        Ok(())
    }

    /// Trigger Typing Indicator.
    pub(crate) fn typing(
        &mut self,
        user: Snowflake,
        channel_id: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let channel_id = self.visible_channel(user, channel_id)?.id;
        let event = Event {
            name: "TYPING_START",
            data: json!({
                "channel_id": channel_id,
                "guild_id": self.guild.id,
                "user_id": user,
                "timestamp": now_ms() / 1000,
                "member": objects::member(self, user, true),
            }),
            requires: Intents::GUILD_MESSAGE_TYPING,
            visible: self.bot_can_view(channel_id),
            message: false,
        };
        self.emit(event);
        Ok(())
    }

    fn thread_members_update(
        &self,
        thread: &Channel,
        added: Option<(Snowflake, u64)>,
        removed: Option<Snowflake>,
    ) -> Event {
        let user = added.map(|(u, _)| u).or(removed).unwrap_or(self.bot_id);
        let member_count = thread
            .thread
            .as_ref()
            .map_or(0, |t| t.members.len().min(50));
        let mut data = json!({
            "id": thread.id,
            "guild_id": self.guild.id,
            "member_count": member_count,
        });
        if let Some((user, joined)) = added {
            let mut member = objects::thread_member(self, thread.id, user, joined, true, true);
            member["presence"] = Value::Null;
            data["added_members"] = json!([member]);
        }
        if let Some(user) = removed {
            data["removed_member_ids"] = json!([user]);
        }
        Event {
            name: "THREAD_MEMBERS_UPDATE",
            data,
            // Always sent for the app itself; for others only with GUILD_MEMBERS.
            requires: if user == self.bot_id {
                Intents::GUILDS | Intents::GUILD_MEMBERS
            } else {
                Intents::GUILD_MEMBERS
            },
            visible: self.can_view(self.bot_id, thread) || user == self.bot_id,
            message: false,
        }
    }

    fn thread_create_event(&self, thread_id: Snowflake, newly_created: bool) -> Option<Event> {
        let thread = self.channels.get(&thread_id)?;
        let mut data = objects::channel(self, thread, self.bot_id);
        if newly_created {
            data["newly_created"] = true.into();
            if let Some(fields) = data.as_object_mut() {
                fields.remove("member");
            }
        }
        Some(Event {
            name: "THREAD_CREATE",
            data,
            requires: Intents::GUILDS,
            visible: self.can_view(self.bot_id, thread),
            message: false,
        })
    }

    /// Creates the thread channel (its creator is its first member) and fires THREAD_CREATE and
    /// THREAD_MEMBERS_UPDATE.
    fn open_thread(
        &mut self,
        id: Snowflake,
        parent: Snowflake,
        creator: Snowflake,
        new: &NewThread,
    ) {
        let now = now_ms();
        self.channels.insert(
            id,
            Channel {
                id,
                kind: new.kind,
                name: new.name.clone(),
                position: 0,
                overwrites: Vec::new(),
                last_message_id: None,
                thread: Some(Thread {
                    parent_id: parent,
                    owner_id: creator,
                    members: vec![(creator, now)],
                    message_count: 0,
                    total_message_sent: 0,
                    auto_archive_duration: new.auto_archive_duration,
                    rate_limit_per_user: new.rate_limit_per_user,
                    created_ms: now,
                    invitable: new.invitable,
                }),
            },
        );
        if let Some(event) = self.thread_create_event(id, true) {
            self.emit(event);
        }
        if let Some(thread) = self.channels.get(&id) {
            let event = self.thread_members_update(thread, Some((creator, now)), None);
            self.emit(event);
        }
    }

    /// Posts the THREAD_CREATED (type 18) system message in the parent channel.
    fn post_thread_created(
        &mut self,
        parent: Snowflake,
        thread: Snowflake,
        creator: Snowflake,
        name: &str,
    ) {
        let message = Message {
            id: self.ids.next(),
            channel_id: parent,
            author_id: creator,
            content: name.to_owned(),
            kind: message_type::THREAD_CREATED,
            tts: false,
            embeds: Vec::new(),
            attachments: Vec::new(),
            nonce: None,
            flags: 0,
            edited_at_ms: None,
            reference: Some(MessageReference {
                message_id: None,
                channel_id: thread,
                guild_id: Some(self.guild.id),
            }),
            mentions: Vec::new(),
            thread_id: None,
            reactions: Vec::new(),
            components: Vec::new(),
            interaction_id: None,
        };
        self.insert_message(message.clone(), false);
        let event = self.message_event("MESSAGE_CREATE", &message);
        self.emit(event);
    }

    /// Start Thread from Message: the thread takes the message's id.
    pub(crate) fn start_thread_from_message(
        &mut self,
        creator: Snowflake,
        channel_id: Option<Snowflake>,
        message_id: Option<Snowflake>,
        new: NewThread,
    ) -> Result<Value, ApiError> {
        let channel = self.visible_channel(creator, channel_id)?;
        if channel.kind != channel_type::GUILD_TEXT {
            return Err(ApiError::wrong_channel_type());
        }
        if !self.has_permission(creator, channel, permission::CREATE_PUBLIC_THREADS) {
            return Err(ApiError::missing_permissions());
        }
        let parent = channel.id;
        let starter = message_id
            .and_then(|id| self.message(parent, id))
            .ok_or_else(ApiError::unknown_message)?;
        if starter.thread_id.is_some() || self.channels.contains_key(&starter.id) {
            return Err(ApiError::thread_already_created());
        }
        let (id, starter_author, age_ms) = (
            starter.id,
            starter.author_id,
            now_ms().saturating_sub(starter.timestamp_ms()),
        );
        let new = NewThread {
            kind: channel_type::PUBLIC_THREAD,
            ..new
        };
        self.open_thread(id, parent, creator, &new);
        // The first message of the thread points back at the message it was started from.
        let starter_message = Message {
            id: self.ids.next(),
            channel_id: id,
            author_id: starter_author,
            content: String::new(),
            kind: message_type::THREAD_STARTER_MESSAGE,
            tts: false,
            embeds: Vec::new(),
            attachments: Vec::new(),
            nonce: None,
            flags: 0,
            edited_at_ms: None,
            reference: Some(MessageReference {
                message_id: Some(id),
                channel_id: parent,
                guild_id: Some(self.guild.id),
            }),
            mentions: Vec::new(),
            thread_id: None,
            reactions: Vec::new(),
            components: Vec::new(),
            interaction_id: None,
        };
        self.insert_message(starter_message, false);
        if let Some(message) = self.message_mut(parent, id) {
            message.thread_id = Some(id);
        }
        if let Some(message) = self.message(parent, id).cloned() {
            let event = self.message_event("MESSAGE_UPDATE", &message);
            self.emit(event);
        }
        if u128::from(age_ms) >= self.settings.thread_created_min_age.as_millis() {
            self.post_thread_created(parent, id, creator, &new.name);
        }
        let thread = self
            .channels
            .get(&id)
            .ok_or_else(ApiError::unknown_channel)?;
        Ok(objects::channel(self, thread, creator))
    }

    /// Start Thread without Message.
    pub(crate) fn start_thread(
        &mut self,
        creator: Snowflake,
        channel_id: Option<Snowflake>,
        new: NewThread,
    ) -> Result<Value, ApiError> {
        let channel = self.visible_channel(creator, channel_id)?;
        if channel.kind != channel_type::GUILD_TEXT
            || !matches!(
                new.kind,
                channel_type::PUBLIC_THREAD | channel_type::PRIVATE_THREAD
            )
        {
            return Err(ApiError::wrong_channel_type());
        }
        let needed = if new.kind == channel_type::PRIVATE_THREAD {
            permission::CREATE_PRIVATE_THREADS
        } else {
            permission::CREATE_PUBLIC_THREADS
        };
        if !self.has_permission(creator, channel, needed) {
            return Err(ApiError::missing_permissions());
        }
        let parent = channel.id;
        let id = self.ids.next();
        self.open_thread(id, parent, creator, &new);
        if new.kind == channel_type::PUBLIC_THREAD {
            self.post_thread_created(parent, id, creator, &new.name);
        }
        let thread = self
            .channels
            .get(&id)
            .ok_or_else(ApiError::unknown_channel)?;
        Ok(objects::channel(self, thread, creator))
    }

    /// The thread, visible to `user` (10003, 50001), or 50024 for a channel that is no thread.
    pub(crate) fn visible_thread(
        &self,
        user: Snowflake,
        id: Option<Snowflake>,
    ) -> Result<&Channel, ApiError> {
        let channel = self.visible_channel(user, id)?;
        if channel.thread.is_none() {
            return Err(ApiError::wrong_channel_type());
        }
        Ok(channel)
    }

    /// Join Thread: fires THREAD_MEMBERS_UPDATE, and THREAD_CREATE (with `member`) to the joiner.
    pub(crate) fn join_thread(
        &mut self,
        user: Snowflake,
        id: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let id = self.visible_thread(user, id)?.id;
        let now = now_ms();
        let Some(thread) = self.channels.get_mut(&id).and_then(|c| c.thread.as_mut()) else {
            return Err(ApiError::unknown_channel());
        };
        if thread.member(user).is_some() {
            return Ok(());
        }
        thread.members.push((user, now));
        if let Some(channel) = self.channels.get(&id) {
            let event = self.thread_members_update(channel, Some((user, now)), None);
            self.emit(event);
        }
        if user == self.bot_id
            && let Some(event) = self.thread_create_event(id, false)
        {
            self.emit(event);
        }
        Ok(())
    }

    /// Leave Thread: fires THREAD_MEMBERS_UPDATE.
    pub(crate) fn leave_thread(
        &mut self,
        user: Snowflake,
        id: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let id = self.visible_thread(user, id)?.id;
        let Some(thread) = self.channels.get_mut(&id).and_then(|c| c.thread.as_mut()) else {
            return Err(ApiError::unknown_channel());
        };
        let before = thread.members.len();
        thread.members.retain(|(u, _)| *u != user);
        if thread.members.len() == before {
            return Ok(());
        }
        if let Some(channel) = self.channels.get(&id) {
            let mut event = self.thread_members_update(channel, None, Some(user));
            // The leaver can no longer see a private thread, but is told it left.
            event.visible |= user == self.bot_id;
            self.emit(event);
        }
        Ok(())
    }
}

/// A partial emoji object for a reaction path segment: a Unicode emoji (`{"id": null, "name"}`)
/// or `name:id` for a custom one. The emulator's guild has no custom emojis, so those, and
/// plain ASCII words like `thumbsup`, are Unknown Emoji (10014).
fn parse_emoji(emoji: &str) -> Option<Value> {
    if emoji.is_empty() || emoji.is_ascii() || emoji.chars().any(char::is_whitespace) {
        return None;
    }
    if emoji.contains(':') {
        return None;
    }
    if emoji.chars().count() > 16 {
        return None;
    }
    Some(json!({ "id": null, "name": emoji }))
}

/// Percent-encodes a file name for a URL path.
fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emojis_are_unicode_only() {
        assert_eq!(parse_emoji("👍"), Some(json!({"id": null, "name": "👍"})));
        assert!(parse_emoji("1️⃣").is_some());
        assert!(parse_emoji("thumbsup").is_none());
        assert!(parse_emoji("blob:123").is_none());
        assert!(parse_emoji("").is_none());
    }

    #[test]
    fn file_names_are_encoded() {
        assert_eq!(encode_path_segment("a b/ü.txt"), "a%20b%2F%C3%BC.txt");
    }
}
