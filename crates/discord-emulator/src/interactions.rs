//! Interactions (docs, receiving-and-responding): a user's click on a button becomes an
//! INTERACTION_CREATE for the bot, which answers once through the callback within the deadline,
//! then edits and follows up through the interaction's webhook; what the clicking user saw is
//! recorded, ephemeral messages included.

use std::{sync::Arc, time::Instant};

use serde_json::{Value, json};

use crate::{
    Shared,
    actions::{MessageEdit, NewMessage, SETTABLE_FLAGS},
    components::{button_style, component_type, find_button},
    errors::{ApiError, Error},
    intents::Intents,
    objects::{self, interaction_type},
    sessions::Event,
    snowflake::Snowflake,
    state::{
        InteractionHandle, InteractionRecord, Message, MessageReference, Seen, World, message_flag,
    },
    tokens,
};

/// Interaction callback types the emulator answers (docs, "Interaction Callback Type").
pub(crate) mod callback_type {
    /// Respond with a message.
    pub(crate) const CHANNEL_MESSAGE_WITH_SOURCE: u8 = 4;
    /// Respond later; the user sees "is thinking...".
    pub(crate) const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: u8 = 5;
    /// Edit the component's message later; the user sees nothing.
    pub(crate) const DEFERRED_UPDATE_MESSAGE: u8 = 6;
    /// Edit the component's message now.
    pub(crate) const UPDATE_MESSAGE: u8 = 7;
}

/// A checked interaction response (`type` and `data`).
#[derive(Debug)]
pub(crate) enum Callback {
    /// 4: a new message.
    Message(NewMessage),
    /// 5: a loading message, ephemeral or not.
    Defer { ephemeral: bool },
    /// 6.
    DeferUpdate,
    /// 7: an edit of the component's message.
    Update(MessageEdit),
}

/// Attachment size limit of a guild without boosts, as interactions carry it.
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// Clicks a button as the test handle and the control API do: INTERACTION_CREATE goes to the
/// bot now, or after the delay [`Faults::delay_interactions`](crate::Faults::delay_interactions)
/// set (the deadline runs from the click either way).
pub(crate) fn click(
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
    user: Snowflake,
    channel: Snowflake,
    message: Snowflake,
    custom_id: &str,
) -> Result<InteractionHandle, Error> {
    let mut world = shared.lock();
    let (handle, event) = world.click(user, channel, message, custom_id)?;
    let delay = world.faults.interaction_delay;
    if delay.is_zero() {
        world.emit(event);
    } else {
        drop(world);
        let shared = Arc::clone(shared);
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            shared.lock().emit(event);
        });
    }
    Ok(handle)
}

impl World {
    /// Records a click on the button `custom_id` and builds its INTERACTION_CREATE.
    fn click(
        &mut self,
        user: Snowflake,
        channel: Snowflake,
        message: Snowflake,
        custom_id: &str,
    ) -> Result<(InteractionHandle, Event), Error> {
        let channel = self.visible_channel(user, Some(channel))?.id;
        let message = self
            .message(channel, message)
            .ok_or_else(ApiError::unknown_message)?;
        let refuse = |reason| Error::Click {
            custom_id: custom_id.to_owned(),
            reason,
        };
        let button = find_button(&message.components, custom_id)
            .ok_or_else(|| refuse("the message has no button with this custom_id"))?;
        if button["disabled"] == true {
            return Err(refuse("the button is disabled"));
        }
        let style = button["style"].as_u64();
        if style == Some(button_style::LINK.into()) || style == Some(button_style::PREMIUM.into()) {
            return Err(refuse("link and premium buttons send no interaction"));
        }
        let component_id = button["id"].clone();
        let message = message.id;
        let id = self.ids.next();
        let handle = InteractionHandle {
            id,
            token: tokens::mint_interaction(id),
            user_id: user,
            channel_id: channel,
            message_id: message,
            custom_id: custom_id.to_owned(),
        };
        self.interactions.insert(
            id,
            InteractionRecord {
                handle: handle.clone(),
                created: Instant::now(),
                response: None,
                original: None,
                followups: Vec::new(),
                ephemeral: std::collections::BTreeMap::new(),
                seen: Vec::new(),
                failed: false,
            },
        );
        let data = self.interaction_create(&handle, &component_id);
        let event = Event {
            name: "INTERACTION_CREATE",
            data,
            // Interactions are not gated by intents: every session of the app receives them.
            requires: Intents::empty(),
            visible: true,
            message: false,
        };
        Ok((handle, event))
    }

    /// The Interaction object of a button click (docs, "Interaction Structure").
    fn interaction_create(&self, h: &InteractionHandle, component_id: &Value) -> Value {
        let guild = self.guild.id;
        let Some(channel) = self.channels.get(&h.channel_id) else {
            return Value::Null;
        };
        let mut channel_json = objects::channel(self, channel, h.user_id);
        channel_json["permissions"] = self.permissions_in(h.user_id, channel).to_string().into();
        if let Some(fields) = channel_json.as_object_mut() {
            fields.remove("member");
        }
        let mut member = objects::member(self, h.user_id, true);
        member["permissions"] = self.permissions_in(h.user_id, channel).to_string().into();
        let message = self
            .message(h.channel_id, h.message_id)
            .map_or(Value::Null, |m| objects::message(self, m, self.bot_id));
        json!({
            "id": h.id,
            "application_id": self.bot_id,
            "type": interaction_type::MESSAGE_COMPONENT,
            "data": {
                "custom_id": h.custom_id,
                "component_type": component_type::BUTTON,
                "id": component_id,
            },
            "guild": {"id": guild, "locale": "en-US", "features": []},
            "guild_id": guild,
            "channel": channel_json,
            "channel_id": h.channel_id,
            "member": member,
            "token": h.token,
            "version": 1,
            "message": message,
            "app_permissions": self.permissions_in(self.bot_id, channel).to_string(),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        })
    }

    /// Marks the interactions nobody answered within the deadline as failed: the clicking user
    /// sees "This interaction failed" and the token stops working.
    pub(crate) fn settle_interactions(&mut self) {
        let deadline = self.settings.interaction_deadline;
        for record in self.interactions.values_mut() {
            if record.response.is_none() && !record.failed && record.created.elapsed() > deadline {
                record.failed = true;
                record.seen.push(Seen::Failed);
            }
        }
    }

    /// What `user` saw of an interaction: everything for the clicker, the public part for
    /// anyone else.
    pub(crate) fn seen_by(&mut self, user: Snowflake, interaction: Snowflake) -> Vec<Seen> {
        self.settle_interactions();
        self.interactions
            .get(&interaction)
            .map(|r| {
                r.seen
                    .iter()
                    .filter(|s| r.handle.user_id == user || s.is_public())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Create Interaction Response: answers the interaction callback response object (the
    /// body of `?with_response=true`).
    pub(crate) fn interaction_callback(
        &mut self,
        id: Option<Snowflake>,
        token: &str,
        callback: Callback,
    ) -> Result<Value, ApiError> {
        self.settle_interactions();
        let record = id
            .and_then(|id| self.interactions.get_mut(&id))
            .filter(|r| r.handle.token == token)
            .ok_or_else(ApiError::unknown_interaction)?;
        if record.response.is_some() {
            return Err(ApiError::already_acknowledged());
        }
        if record.failed {
            return Err(ApiError::unknown_interaction());
        }
        let handle = record.handle.clone();
        let (kind, message) = match callback {
            Callback::Message(new) => {
                if new.is_empty() {
                    return Err(ApiError::empty_message());
                }
                let message = self.respond(&handle, new, true);
                (callback_type::CHANNEL_MESSAGE_WITH_SOURCE, Some(message))
            }
            Callback::Defer { ephemeral } => {
                let new = NewMessage {
                    flags: message_flag::LOADING
                        | if ephemeral {
                            message_flag::EPHEMERAL
                        } else {
                            0
                        },
                    ..NewMessage::default()
                };
                let message = self.respond(&handle, new, true);
                (
                    callback_type::DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                    Some(message),
                )
            }
            Callback::DeferUpdate => {
                self.record_response(handle.id, callback_type::DEFERRED_UPDATE_MESSAGE, None);
                (callback_type::DEFERRED_UPDATE_MESSAGE, None)
            }
            Callback::Update(edit) => {
                let updated = self.edit_message(
                    self.bot_id,
                    Some(handle.channel_id),
                    Some(handle.message_id),
                    edit,
                )?;
                self.record_response(handle.id, callback_type::UPDATE_MESSAGE, None);
                self.see(handle.id, Seen::Edited(updated.clone()));
                (callback_type::UPDATE_MESSAGE, Some(updated))
            }
        };
        let mut interaction = json!({
            "id": handle.id,
            "type": interaction_type::MESSAGE_COMPONENT,
        });
        let mut body = json!({});
        if let Some(message) = &message {
            if kind != callback_type::UPDATE_MESSAGE {
                interaction["response_message_id"] = message.id.into();
                interaction["response_message_loading"] =
                    (message.flags & message_flag::LOADING != 0).into();
                interaction["response_message_ephemeral"] =
                    (message.flags & message_flag::EPHEMERAL != 0).into();
            }
            // "Only present if type is either CHANNEL_MESSAGE_WITH_SOURCE or UPDATE_MESSAGE."
            if kind != callback_type::DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE {
                body["resource"] = json!({
                    "type": kind,
                    "message": objects::message(self, message, self.bot_id),
                });
            }
        }
        body["interaction"] = interaction;
        Ok(body)
    }

    fn record_response(&mut self, id: Snowflake, kind: u8, original: Option<Snowflake>) {
        if let Some(record) = self.interactions.get_mut(&id) {
            record.response = Some(kind);
            record.original = original.or(Some(record.handle.message_id));
        }
    }

    fn see(&mut self, id: Snowflake, seen: Seen) {
        if let Some(record) = self.interactions.get_mut(&id) {
            record.seen.push(seen);
        }
    }

    /// Posts a response (`original`: the callback's) or a follow-up: an ephemeral one is kept
    /// for the clicker alone, any other goes to the channel with MESSAGE_CREATE.
    fn respond(&mut self, h: &InteractionHandle, new: NewMessage, original: bool) -> Message {
        // "responses to Message Components ... include a message reference".
        let reference = original.then_some(MessageReference {
            message_id: Some(h.message_id),
            channel_id: h.channel_id,
            guild_id: Some(self.guild.id),
        });
        let settable = SETTABLE_FLAGS | message_flag::EPHEMERAL | message_flag::LOADING;
        let mut message = self.build_message(self.bot_id, h.channel_id, new, reference, settable);
        message.nonce = None;
        message.interaction_id = Some(h.id);
        let id = message.id;
        let ephemeral = message.flags & message_flag::EPHEMERAL != 0;
        if original {
            let kind = if message.flags & message_flag::LOADING == 0 {
                callback_type::CHANNEL_MESSAGE_WITH_SOURCE
            } else {
                callback_type::DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            };
            self.record_response(h.id, kind, Some(id));
        }
        if let Some(record) = self.interactions.get_mut(&h.id) {
            if !original {
                record.followups.push(id);
            }
            if ephemeral {
                record.ephemeral.insert(id, message.clone());
            }
        }
        let seen = if message.flags & message_flag::LOADING == 0 {
            Seen::Message(message.clone())
        } else {
            Seen::Thinking { ephemeral }
        };
        self.see(h.id, seen);
        if !ephemeral {
            self.insert_message(message.clone(), true);
            let event = self.message_event("MESSAGE_CREATE", &message);
            self.emit(event);
        }
        message
    }

    /// The interaction a webhook URL names: `application` must be the bot's (else 10015) and
    /// the token an interaction's, younger than its lifetime and not failed (else 50027).
    pub(crate) fn interaction_by_token(
        &mut self,
        application: Option<Snowflake>,
        token: &str,
    ) -> Result<Snowflake, ApiError> {
        self.settle_interactions();
        if application != Some(self.bot_id) {
            return Err(ApiError::unknown_webhook());
        }
        let lifetime = self.settings.interaction_token_lifetime;
        self.interactions
            .values()
            .find(|r| r.handle.token == token && !r.failed && r.created.elapsed() < lifetime)
            .map(|r| r.handle.id)
            .ok_or_else(ApiError::invalid_webhook_token)
    }

    /// Create Followup Message. Right after a deferred response (type 5) it edits the loading
    /// message instead, as the docs keep for backwards compatibility.
    pub(crate) fn followup(&mut self, id: Snowflake, new: NewMessage) -> Result<Message, ApiError> {
        let record = self
            .interactions
            .get(&id)
            .ok_or_else(ApiError::unknown_webhook)?;
        if record.response.is_none() {
            return Err(ApiError::unknown_webhook());
        }
        let handle = record.handle.clone();
        if record.response == Some(callback_type::DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE)
            && let Some(original) = record.original
            && self
                .interaction_message(id, None)
                .is_ok_and(|m| m.id == original && m.flags & message_flag::LOADING != 0)
        {
            let edit = MessageEdit {
                content: Some(new.content),
                embeds: Some(new.embeds),
                components: Some(new.components),
                files: new.files,
                allowed_mentions: new.allowed_mentions,
                ..MessageEdit::default()
            };
            return self.edit_interaction_message(id, None, edit);
        }
        if new.is_empty() {
            return Err(ApiError::empty_message());
        }
        Ok(self.respond(&handle, new, false))
    }

    /// The id `which` names among the interaction's messages (`None`: `@original`).
    fn interaction_message_id(
        &self,
        id: Snowflake,
        which: Option<Snowflake>,
    ) -> Result<(InteractionHandle, Snowflake), ApiError> {
        let record = self
            .interactions
            .get(&id)
            .ok_or_else(ApiError::unknown_message)?;
        let target = match which {
            None => record.original,
            Some(m) if record.original == Some(m) || record.followups.contains(&m) => Some(m),
            Some(_) => None,
        }
        .ok_or_else(ApiError::unknown_message)?;
        Ok((record.handle.clone(), target))
    }

    /// Get Original Interaction Response / Get Followup Message.
    pub(crate) fn interaction_message(
        &self,
        id: Snowflake,
        which: Option<Snowflake>,
    ) -> Result<Message, ApiError> {
        let (handle, target) = self.interaction_message_id(id, which)?;
        self.interactions
            .get(&id)
            .and_then(|r| r.ephemeral.get(&target))
            .or_else(|| self.message(handle.channel_id, target))
            .cloned()
            .ok_or_else(ApiError::unknown_message)
    }

    /// Edit Original Interaction Response / Edit Followup Message: an edit of a deferred
    /// response ends its loading state.
    pub(crate) fn edit_interaction_message(
        &mut self,
        id: Snowflake,
        which: Option<Snowflake>,
        mut edit: MessageEdit,
    ) -> Result<Message, ApiError> {
        let existing = self.interaction_message(id, which)?;
        edit.clear_flags |= message_flag::LOADING;
        let updated = if existing.flags & message_flag::EPHEMERAL != 0 {
            let updated = self.apply_edit(&existing, edit)?;
            if let Some(record) = self.interactions.get_mut(&id) {
                record.ephemeral.insert(updated.id, updated.clone());
            }
            updated
        } else {
            self.edit_message(
                self.bot_id,
                Some(existing.channel_id),
                Some(existing.id),
                edit,
            )?
        };
        self.see(id, Seen::Edited(updated.clone()));
        Ok(updated)
    }

    /// Delete Original Interaction Response / Delete Followup Message.
    pub(crate) fn delete_interaction_message(
        &mut self,
        id: Snowflake,
        which: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let existing = self.interaction_message(id, which)?;
        let removed = self
            .interactions
            .get_mut(&id)
            .and_then(|r| r.ephemeral.remove(&existing.id));
        if removed.is_none() {
            self.delete_message(self.bot_id, Some(existing.channel_id), Some(existing.id))?;
        }
        self.see(id, Seen::Deleted(existing.id));
        Ok(())
    }
}
