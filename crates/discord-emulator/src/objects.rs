//! Discord's object shapes as JSON: users, members, roles, channels, threads, messages, guilds.
//! Each follows the docs' structure tables and the spec's `*Response` schemas.

use serde_json::{Map, Value, json};

use crate::{
    intents::Intents,
    snowflake::{Snowflake, iso8601},
    state::{Channel, InteractionRecord, Message, World, channel_type},
};

/// A user object (`UserResponse`).
pub(crate) fn user(w: &World, id: Snowflake) -> Value {
    let (name, bot) = w
        .users
        .get(&id)
        .map_or(("unknown-user", false), |u| (u.name.as_str(), u.bot));
    let mut user = json!({
        "id": id,
        "username": name,
        "avatar": null,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "global_name": if bot { Value::Null } else { Value::from(name) },
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if bot {
        user["bot"] = Value::Bool(true);
    }
    user
}

/// The current user, with the fields only the user itself sees (`UserPIIResponse`).
pub(crate) fn current_user(w: &World, id: Snowflake) -> Value {
    let mut me = user(w, id);
    let fields = me.as_object_mut().expect("a user is an object");
    fields.remove("primary_guild");
    fields.insert("mfa_enabled".into(), false.into());
    fields.insert("locale".into(), "en-US".into());
    fields.insert("premium_type".into(), 0.into());
    fields.insert("email".into(), Value::Null);
    fields.insert("verified".into(), true.into());
    me
}

/// A guild member (`GuildMemberResponse`); without `user` for the `member` of message events.
pub(crate) fn member(w: &World, id: Snowflake, with_user: bool) -> Value {
    let joined = w.users.get(&id).map_or(0, |u| u.joined_ms);
    let roles: Vec<String> = w.member_roles(id).iter().map(ToString::to_string).collect();
    let mut member = json!({
        "avatar": null,
        "banner": null,
        "communication_disabled_until": null,
        "flags": 0,
        "joined_at": iso8601(joined),
        "nick": null,
        "pending": false,
        "premium_since": null,
        "roles": roles,
        "mute": false,
        "deaf": false,
    });
    if with_user {
        member["user"] = user(w, id);
    }
    member
}

/// The guild's roles (`GuildRoleResponse`), `@everyone` (whose id is the guild's) first.
pub(crate) fn roles(w: &World) -> Vec<Value> {
    let mut roles = vec![role(w.guild.id, "@everyone", w.everyone_permissions, 0)];
    roles.extend(
        w.roles
            .values()
            .map(|r| role(r.id, &r.name, r.permissions, r.position)),
    );
    roles
}

fn role(id: Snowflake, name: &str, permissions: u64, position: u32) -> Value {
    json!({
        "id": id,
        "name": name,
        "permissions": permissions.to_string(),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "managed": false,
        "mentionable": false,
        "icon": null,
        "unicode_emoji": null,
        "flags": 0,
    })
}

/// A channel or a thread (`GuildChannelResponse` / `ThreadResponse`), seen by `viewer`: a
/// thread carries `member` when the viewer has joined it.
pub(crate) fn channel(w: &World, c: &Channel, viewer: Snowflake) -> Value {
    let Some(thread) = &c.thread else {
        let overwrites: Vec<Value> = c
            .overwrites
            .iter()
            .map(|o| {
                json!({
                    "id": o.id,
                    "type": o.kind,
                    "allow": o.allow.to_string(),
                    "deny": o.deny.to_string(),
                })
            })
            .collect();
        return json!({
            "id": c.id,
            "type": c.kind,
            "guild_id": w.guild.id,
            "name": c.name,
            "position": c.position,
            "permission_overwrites": overwrites,
            "topic": null,
            "nsfw": false,
            "last_message_id": c.last_message_id,
            "last_pin_timestamp": null,
            "rate_limit_per_user": 0,
            "parent_id": null,
            "default_auto_archive_duration": 1440,
            "default_thread_rate_limit_per_user": 0,
            "flags": 0,
        });
    };
    let mut metadata = json!({
        "archived": false,
        "auto_archive_duration": thread.auto_archive_duration,
        "archive_timestamp": iso8601(thread.created_ms),
        "locked": false,
        "create_timestamp": iso8601(thread.created_ms),
    });
    if c.kind == channel_type::PRIVATE_THREAD {
        metadata["invitable"] = thread.invitable.into();
    }
    let mut value = json!({
        "id": c.id,
        "type": c.kind,
        "guild_id": w.guild.id,
        "parent_id": thread.parent_id,
        "owner_id": thread.owner_id,
        "name": c.name,
        "last_message_id": c.last_message_id,
        "last_pin_timestamp": null,
        "rate_limit_per_user": thread.rate_limit_per_user,
        "message_count": thread.message_count,
        "member_count": thread.members.len().min(50),
        "total_message_sent": thread.total_message_sent,
        "thread_metadata": metadata,
        "flags": 0,
    });
    if let Some(joined) = thread.member(viewer) {
        value["member"] = thread_member(w, c.id, viewer, joined, true, false);
    }
    value
}

/// A thread member (`ThreadMemberResponse`); `with_ids` false is the form nested in
/// GUILD_CREATE threads, `with_member` adds the guild member.
pub(crate) fn thread_member(
    w: &World,
    thread: Snowflake,
    user: Snowflake,
    joined_ms: u64,
    with_ids: bool,
    with_member: bool,
) -> Value {
    let mut value = json!({ "join_timestamp": iso8601(joined_ms), "flags": 0 });
    if with_ids {
        value["id"] = thread.into();
        value["user_id"] = user.into();
    }
    if with_member {
        value["member"] = member(w, user, true);
    }
    value
}

/// A message as REST returns it (`MessageResponse`), seen by `viewer`.
pub(crate) fn message(w: &World, m: &Message, viewer: Snowflake) -> Value {
    let mut value = json!({
        "id": m.id,
        "channel_id": m.channel_id,
        "author": user(w, m.author_id),
        "content": m.content,
        "timestamp": iso8601(m.timestamp_ms()),
        "edited_timestamp": m.edited_at_ms.map(iso8601),
        "tts": m.tts,
        "mention_everyone": false,
        "mentions": m.mentions.iter().map(|id| user(w, *id)).collect::<Vec<_>>(),
        "mention_roles": [],
        "attachments": m.attachments.iter().map(|a| {
            let mut value = json!({
                "id": a.id,
                "filename": a.filename,
                "size": a.size,
                "url": a.url,
                "proxy_url": a.url,
            });
            if let Some(t) = &a.content_type {
                value["content_type"] = t.as_str().into();
            }
            if let Some(d) = &a.description {
                value["description"] = d.as_str().into();
            }
            value
        }).collect::<Vec<_>>(),
        "embeds": m.embeds,
        "components": m.components,
        "pinned": false,
        "type": m.kind,
        "flags": m.flags,
    });
    let fields = value.as_object_mut().expect("a message is an object");
    if let Some(nonce) = &m.nonce {
        fields.insert("nonce".into(), nonce.clone());
    }
    if let Some(reference) = &m.reference {
        let mut r = Map::new();
        r.insert("type".into(), 0.into());
        r.insert("channel_id".into(), reference.channel_id.into());
        if let Some(id) = reference.message_id {
            r.insert("message_id".into(), id.into());
        }
        if let Some(id) = reference.guild_id {
            r.insert("guild_id".into(), id.into());
        }
        fields.insert("message_reference".into(), Value::Object(r));
        if let Some(target) = reference.message_id {
            // Replies and thread starter messages resolve what they point at (null if deleted).
            let resolved = w
                .message(reference.channel_id, target)
                .map_or(Value::Null, |t| basic_message(w, t, viewer));
            fields.insert("referenced_message".into(), resolved);
        }
    }
    if let Some(thread) = m.thread_id.and_then(|id| w.channels.get(&id)) {
        fields.insert("thread".into(), channel(w, thread, viewer));
    }
    if let Some(record) = m.interaction_id.and_then(|id| w.interactions.get(&id)) {
        // Interaction responses are webhook messages of the app (docs, receiving and
        // responding, "Message Interaction Object": components answers carry a reference).
        fields.insert("webhook_id".into(), w.bot_id.into());
        fields.insert("application_id".into(), w.bot_id.into());
        fields.insert(
            "interaction_metadata".into(),
            interaction_metadata(w, record, m.id),
        );
    }
    if !m.reactions.is_empty() {
        let reactions = m
            .reactions
            .iter()
            .map(|r| {
                let (name, id) = match r.emoji.split_once(':') {
                    Some((name, id)) => (name, Value::from(id)),
                    None => (r.emoji.as_str(), Value::Null),
                };
                json!({
                    "emoji": {"id": id, "name": name},
                    "count": r.users.len(),
                    "count_details": {"burst": 0, "normal": r.users.len()},
                    "burst_colors": [],
                    "me_burst": false,
                    "me": r.users.contains(&viewer),
                })
            })
            .collect::<Vec<_>>();
        fields.insert("reactions".into(), reactions.into());
    }
    value
}

/// The `interaction_metadata` of a message answering a component interaction
/// (`MessageComponentInteractionMetadataResponse`).
fn interaction_metadata(w: &World, record: &InteractionRecord, message: Snowflake) -> Value {
    let mut metadata = json!({
        "id": record.handle.id,
        "type": interaction_type::MESSAGE_COMPONENT,
        "user": user(w, record.handle.user_id),
        "authorizing_integration_owners": {"0": w.guild.id},
        "interacted_message_id": record.handle.message_id,
    });
    if let Some(original) = record.original.filter(|o| *o != message) {
        metadata["original_response_message_id"] = original.into();
    }
    metadata
}

/// Interaction types (docs, receiving and responding, "Interaction Type").
pub(crate) mod interaction_type {
    /// A click on a button (or a choice in a select menu).
    pub(crate) const MESSAGE_COMPONENT: u8 = 3;
}

/// A referenced message (`BasicMessageResponse`): no nested reference, no thread.
fn basic_message(w: &World, m: &Message, viewer: Snowflake) -> Value {
    let mut value = message(w, m, viewer);
    if let Some(fields) = value.as_object_mut() {
        fields.remove("referenced_message");
        fields.remove("thread");
    }
    value
}

/// A message as MESSAGE_CREATE / MESSAGE_UPDATE carry it: the REST shape plus `guild_id`,
/// `member` (without `user`), `mentions[].member` and `channel_type`.
pub(crate) fn message_event(w: &World, m: &Message) -> Value {
    let mut value = message(w, m, w.bot_id);
    value["guild_id"] = w.guild.id.into();
    value["member"] = member(w, m.author_id, false);
    if let Some(channel) = w.channels.get(&m.channel_id) {
        value["channel_type"] = channel.kind.into();
    }
    if let Some(mentions) = value["mentions"].as_array_mut() {
        for (mention, id) in mentions.iter_mut().zip(&m.mentions) {
            mention["member"] = member(w, *id, false);
        }
    }
    value
}

/// Application flags (docs, application, "Application Flags"): the *_LIMITED forms, which an
/// unverified app (in fewer than 100 servers) gets when the intent is switched on.
pub(crate) mod application_flag {
    /// GATEWAY_PRESENCE_LIMITED.
    pub(crate) const PRESENCE_LIMITED: u64 = 1 << 13;
    /// GATEWAY_GUILD_MEMBERS_LIMITED.
    pub(crate) const GUILD_MEMBERS_LIMITED: u64 = 1 << 15;
    /// GATEWAY_MESSAGE_CONTENT_LIMITED.
    pub(crate) const MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;
}

/// The application's flags for the privileged intents it is granted.
pub(crate) fn application_flags(granted: Intents) -> u64 {
    let mut flags = 0;
    if granted.contains(Intents::GUILD_PRESENCES) {
        flags |= application_flag::PRESENCE_LIMITED;
    }
    if granted.contains(Intents::GUILD_MEMBERS) {
        flags |= application_flag::GUILD_MEMBERS_LIMITED;
    }
    if granted.contains(Intents::MESSAGE_CONTENT) {
        flags |= application_flag::MESSAGE_CONTENT_LIMITED;
    }
    flags
}

/// The bot's application as Get Current Application answers it (`PrivateApplicationResponse`);
/// its id is the bot user's, its owner the guild's owner.
pub(crate) fn application(w: &World) -> Value {
    let flags = application_flags(w.granted);
    let name = w.users.get(&w.bot_id).map_or("bot", |u| u.name.as_str());
    json!({
        "id": w.bot_id,
        "name": name,
        "icon": null,
        "description": "",
        "type": null,
        "bot": user(w, w.bot_id),
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "0".repeat(64),
        "flags": flags,
        "flags_new": flags.to_string(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "owner": user(w, w.guild.owner_id),
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": null,
        "eligible_oauth2_scopes": [],
    })
}

/// The guild as Get Guild answers it (`GuildWithCountsResponse` without the counts).
pub(crate) fn guild(w: &World) -> Value {
    json!({
        "id": w.guild.id,
        "name": w.guild.name,
        "icon": null,
        "description": null,
        "home_header": null,
        "splash": null,
        "discovery_splash": null,
        "features": [],
        "banner": null,
        "owner_id": w.guild.owner_id,
        "application_id": null,
        "region": "deprecated",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "roles": roles(w),
        "default_message_notifications": 0,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": null,
        "max_members": 500_000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "rules_channel_id": null,
        "safety_alerts_channel_id": null,
        "public_updates_channel_id": null,
        "premium_progress_bar_enabled": false,
        "nsfw": false,
        "nsfw_level": 0,
        "emojis": [],
        "stickers": [],
        "incidents_data": null,
    })
}

/// The guild as GUILD_CREATE carries it (`GuildResponse` and the docs' extra fields): all
/// channels, the active threads the bot can see, and the bot as the only member listed.
pub(crate) fn guild_create(w: &World) -> Value {
    let channels: Vec<Value> = w
        .channels
        .values()
        .filter(|c| c.thread.is_none())
        .map(|c| channel(w, c, w.bot_id))
        .collect();
    let threads: Vec<Value> = w
        .channels
        .values()
        .filter(|c| c.thread.is_some() && w.can_view(w.bot_id, c))
        .map(|c| {
            let mut t = channel(w, c, w.bot_id);
            if let Some(member) = t.get_mut("member").and_then(Value::as_object_mut) {
                // "These fields are omitted on the member sent within each thread in GUILD_CREATE."
                member.remove("id");
                member.remove("user_id");
            }
            t
        })
        .collect();
    let member_count = w.users.len();
    let mut guild = guild(w);
    // The extra fields of GUILD_CREATE.
    let extra = json!({
        "joined_at": iso8601(w.users.get(&w.bot_id).map_or(0, |u| u.joined_ms)),
        "large": false,
        "unavailable": false,
        "member_count": member_count,
        "voice_states": [],
        "members": [member(w, w.bot_id, true)],
        "channels": channels,
        "threads": threads,
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(guild), Value::Object(extra)) = (guild.as_object_mut(), extra) {
        guild.extend(extra);
    }
    guild
}
