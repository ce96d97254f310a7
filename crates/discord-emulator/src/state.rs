//! The emulated world: one guild, its users, channels, threads and messages, and who may see what.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    config::Config,
    errors::ApiError,
    faults::FaultState,
    intents::Intents,
    message_content::{reads_content, redact_message},
    ratelimit::Limiter,
    sessions::{Event, Gateway},
    snowflake::{Snowflake, SnowflakeGen, now_ms},
    tokens,
};

/// Message types the emulator produces (docs, message, "Message Types").
pub mod message_type {
    /// A message someone sent.
    pub const DEFAULT: u8 = 0;
    /// "X started a thread": posted in the parent channel, its `content` is the thread's name.
    pub const THREAD_CREATED: u8 = 18;
    /// A reply (a message with a `message_reference`); also a response to a button.
    pub const REPLY: u8 = 19;
    /// The first message of a thread started from a message; it points back to that message.
    pub const THREAD_STARTER_MESSAGE: u8 = 21;
}

/// Channel types the emulator has (docs, channel, "Channel Types").
pub mod channel_type {
    /// A guild text channel.
    pub const GUILD_TEXT: u8 = 0;
    /// A public thread.
    pub const PUBLIC_THREAD: u8 = 11;
    /// A private thread.
    pub const PRIVATE_THREAD: u8 = 12;
}

/// Permission bits (docs, permissions, "Bitwise Permission Flags") the emulator checks.
pub mod permission {
    /// Every permission (the guild owner and ADMINISTRATOR have them all).
    pub const ALL: u64 = (1 << 51) - 1;
    /// Allows all permissions and bypasses channel overwrites.
    pub const ADMINISTRATOR: u64 = 1 << 3;
    /// Allows adding new reactions to messages.
    pub const ADD_REACTIONS: u64 = 1 << 6;
    /// Allows seeing a channel (and reading its messages).
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    /// Allows sending messages in a channel (not in threads).
    pub const SEND_MESSAGES: u64 = 1 << 11;
    /// Allows sending text-to-speech messages.
    pub const SEND_TTS_MESSAGES: u64 = 1 << 12;
    /// Links sent are auto-embedded.
    pub const EMBED_LINKS: u64 = 1 << 14;
    /// Allows uploading files.
    pub const ATTACH_FILES: u64 = 1 << 15;
    /// Allows reading a channel's message history.
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    /// Allows `@everyone` mentions.
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    /// Allows custom emojis from other guilds.
    pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
    /// Allows creating public threads.
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    /// Allows creating private threads.
    pub const CREATE_PRIVATE_THREADS: u64 = 1 << 36;
    /// Allows sending messages in threads.
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// What `@everyone` may do in a new emulated guild.
    pub const EVERYONE: u64 = ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | SEND_MESSAGES_IN_THREADS;
}

/// The overwrites of a new text channel: none, or a member overwrite denying the bot
/// VIEW_CHANNEL.
fn hidden_from_bot(bot: Snowflake, visible: bool) -> Vec<Overwrite> {
    if visible {
        Vec::new()
    } else {
        vec![Overwrite {
            id: bot,
            kind: 1,
            allow: 0,
            deny: permission::VIEW_CHANNEL,
        }]
    }
}

/// A human user added with [`Emulator::add_user`](crate::Emulator::add_user). It may call the
/// REST API with `Authorization: <token>` (no `Bot ` prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserHandle {
    /// The user's id.
    pub id: Snowflake,
    /// The user's username.
    pub name: String,
    /// The user's token.
    pub token: String,
}

/// A message as the emulator stores it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// Its id (also its creation time).
    pub id: Snowflake,
    /// The channel or thread it is in.
    pub channel_id: Snowflake,
    /// Who sent it.
    pub author_id: Snowflake,
    /// Its text (the full text: the emulator's own view ignores intents).
    pub content: String,
    /// Its [`message_type`].
    pub kind: u8,
    /// Whether it was sent as text-to-speech.
    pub tts: bool,
    /// Its embeds, as sent (with `type: "rich"`).
    pub embeds: Vec<Value>,
    /// Its attachments.
    pub attachments: Vec<Attachment>,
    /// The nonce it was sent with.
    pub nonce: Option<Value>,
    /// Its message flags.
    pub flags: u64,
    /// When it was last edited (Unix milliseconds).
    pub edited_at_ms: Option<u64>,
    /// What it replies to or points at.
    pub reference: Option<MessageReference>,
    /// The users it mentions.
    pub mentions: Vec<Snowflake>,
    /// The thread started from it.
    pub thread_id: Option<Snowflake>,
    /// Its reactions, in the order they were first added.
    pub reactions: Vec<Reaction>,
    /// Its components (action rows of buttons) as messages carry them, each with its `id`.
    pub components: Vec<Value>,
    /// The interaction it answers (a response or a follow-up), if any.
    pub interaction_id: Option<Snowflake>,
}

impl Message {
    /// When it was sent (Unix milliseconds).
    #[must_use]
    pub fn timestamp_ms(&self) -> u64 {
        self.id.timestamp_ms()
    }
}

/// Message flags the emulator reads or sets (docs, message, "Message Flags").
pub mod message_flag {
    /// Only the user who used the interaction sees the message.
    pub const EPHEMERAL: u64 = 1 << 6;
    /// The response to a deferred interaction ("is thinking...") until it is edited.
    pub const LOADING: u64 = 1 << 7;
}

/// A clicked button: what [`Emulator::click_as`](crate::Emulator::click_as) answers. The bot
/// receives the same `id` and `token` in INTERACTION_CREATE.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InteractionHandle {
    /// The interaction's id.
    pub id: Snowflake,
    /// Its token (for `/interactions/{id}/{token}/callback` and the follow-up webhook).
    pub token: String,
    /// Who clicked.
    pub user_id: Snowflake,
    /// The channel or thread of the message.
    pub channel_id: Snowflake,
    /// The message the button is on.
    pub message_id: Snowflake,
    /// The button's `custom_id`.
    pub custom_id: String,
}

/// What a user saw of an interaction, in order (see
/// [`Emulator::seen_by`](crate::Emulator::seen_by)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Seen {
    /// "This interaction failed": no response within the deadline (3 s by default).
    Failed,
    /// "`<bot>` is thinking...": a deferred response (type 5); `ephemeral` when only the clicker
    /// sees it.
    Thinking {
        /// Whether it was ephemeral.
        ephemeral: bool,
    },
    /// A new message: the response (type 4) or a follow-up. Ephemeral ones (flag 64) are seen
    /// by the clicker only and are in no channel's history.
    Message(Message),
    /// A message edited as the interaction's answer: the message the button is on (type 7, or
    /// an edit after type 6) or a response.
    Edited(Message),
    /// A response or follow-up was deleted.
    Deleted(Snowflake),
}

impl Seen {
    /// Whether users other than the clicker see it too.
    #[must_use]
    pub fn is_public(&self) -> bool {
        match self {
            Seen::Failed | Seen::Thinking { ephemeral: true } => false,
            Seen::Message(m) | Seen::Edited(m) => m.flags & message_flag::EPHEMERAL == 0,
            Seen::Thinking { ephemeral: false } | Seen::Deleted(_) => true,
        }
    }
}

/// What the emulator keeps of an interaction.
#[derive(Debug)]
pub(crate) struct InteractionRecord {
    pub(crate) handle: InteractionHandle,
    pub(crate) created: Instant,
    /// The callback type it was answered with.
    pub(crate) response: Option<u8>,
    /// The message `@original` names: the response (types 4, 5), or the message the button is
    /// on (types 6, 7).
    pub(crate) original: Option<Snowflake>,
    pub(crate) followups: Vec<Snowflake>,
    /// Ephemeral messages: only the clicker sees them, no channel holds them.
    pub(crate) ephemeral: BTreeMap<Snowflake, Message>,
    pub(crate) seen: Vec<Seen>,
    pub(crate) failed: bool,
}

/// A file attached to a message; its bytes are served at `url`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// The attachment's id.
    pub id: Snowflake,
    /// Its file name.
    pub filename: String,
    /// Its media type, when the upload said.
    pub content_type: Option<String>,
    /// Its alt text.
    pub description: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Where the emulator serves it.
    pub url: String,
}

/// A message reference (docs, message, "Message Reference Structure").
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageReference {
    /// The message pointed at, if any.
    pub message_id: Option<Snowflake>,
    /// Its channel.
    pub channel_id: Snowflake,
    /// Its guild.
    pub guild_id: Option<Snowflake>,
}

/// One emoji's reactions on a message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reaction {
    /// The emoji: a Unicode emoji, or `name:id` for a custom one.
    pub emoji: String,
    /// Who reacted, in order.
    pub users: Vec<Snowflake>,
}

/// A thread as the emulator stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadInfo {
    /// The thread's id (for a thread started from a message, that message's id).
    pub id: Snowflake,
    /// Its name.
    pub name: String,
    /// The channel it is in.
    pub parent_id: Snowflake,
    /// Who started it.
    pub owner_id: Snowflake,
    /// [`channel_type::PUBLIC_THREAD`] or [`channel_type::PRIVATE_THREAD`].
    pub kind: u8,
    /// Its members, in the order they joined.
    pub members: Vec<Snowflake>,
}

#[derive(Debug)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) bot: bool,
    pub(crate) joined_ms: u64,
    /// The guild roles the member has (not `@everyone`, which everyone has).
    pub(crate) roles: Vec<Snowflake>,
}

/// A guild role other than `@everyone`.
#[derive(Debug)]
pub(crate) struct Role {
    pub(crate) id: Snowflake,
    pub(crate) name: String,
    pub(crate) permissions: u64,
    pub(crate) position: u32,
}

/// A channel permission overwrite (docs, channel, "Overwrite Object").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overwrite {
    /// A role id (the guild id for `@everyone`) or a user id.
    pub(crate) id: Snowflake,
    /// 0 role, 1 member.
    pub(crate) kind: u8,
    pub(crate) allow: u64,
    pub(crate) deny: u64,
}

#[derive(Debug)]
pub(crate) struct Guild {
    pub(crate) id: Snowflake,
    pub(crate) name: String,
    pub(crate) owner_id: Snowflake,
}

#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) id: Snowflake,
    pub(crate) kind: u8,
    pub(crate) name: String,
    pub(crate) position: u32,
    /// Permission overwrites (text channels; threads use their parent's).
    pub(crate) overwrites: Vec<Overwrite>,
    pub(crate) last_message_id: Option<Snowflake>,
    pub(crate) thread: Option<Thread>,
}

#[derive(Debug)]
pub(crate) struct Thread {
    pub(crate) parent_id: Snowflake,
    pub(crate) owner_id: Snowflake,
    /// user id → join time (Unix ms), in join order.
    pub(crate) members: Vec<(Snowflake, u64)>,
    pub(crate) message_count: u32,
    pub(crate) total_message_sent: u32,
    pub(crate) auto_archive_duration: u32,
    pub(crate) rate_limit_per_user: u32,
    pub(crate) created_ms: u64,
    pub(crate) invitable: bool,
}

impl Thread {
    pub(crate) fn member(&self, user: Snowflake) -> Option<u64> {
        self.members
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, t)| *t)
    }
}

/// Timings and switches copied from [`Config`].
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) heartbeat_interval: Duration,
    pub(crate) resume_window: Duration,
    pub(crate) reconnect_grace: Duration,
    pub(crate) nonce_window: Duration,
    pub(crate) thread_created_min_age: Duration,
    pub(crate) identify_limit: bool,
    pub(crate) interaction_deadline: Duration,
    pub(crate) interaction_token_lifetime: Duration,
}

/// One REST request the emulator answered (or dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The method.
    pub method: String,
    /// The path, with `/api/v10` and without the query.
    pub path: String,
    /// The status answered; `None` when the connection was dropped instead.
    pub status: Option<u16>,
    /// Whether the caller was the bot.
    pub by_bot: bool,
}

/// Who is calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    Bot(Snowflake),
    User(Snowflake),
}

impl Caller {
    pub(crate) fn id(self) -> Snowflake {
        match self {
            Caller::Bot(id) | Caller::User(id) => id,
        }
    }

    pub(crate) fn is_bot(self) -> bool {
        matches!(self, Caller::Bot(_))
    }
}

/// A nonce remembered for `enforce_nonce`.
#[derive(Debug)]
pub(crate) struct NonceEntry {
    pub(crate) channel_id: Snowflake,
    pub(crate) message_id: Snowflake,
    pub(crate) at: Instant,
}

/// Everything, behind one lock.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) ids: SnowflakeGen,
    pub(crate) port: u16,
    pub(crate) settings: Settings,
    pub(crate) bot_token: String,
    pub(crate) bot_id: Snowflake,
    pub(crate) guild: Guild,
    /// What `@everyone` may do (the role's id is the guild's).
    pub(crate) everyone_permissions: u64,
    /// The guild's other roles.
    pub(crate) roles: BTreeMap<Snowflake, Role>,
    pub(crate) general_id: Snowflake,
    pub(crate) hidden_id: Snowflake,
    pub(crate) users: BTreeMap<Snowflake, User>,
    pub(crate) tokens: HashMap<String, Snowflake>,
    pub(crate) channels: BTreeMap<Snowflake, Channel>,
    pub(crate) messages: HashMap<Snowflake, BTreeMap<Snowflake, Message>>,
    pub(crate) files: HashMap<Snowflake, Vec<u8>>,
    pub(crate) nonces: HashMap<(Snowflake, String), NonceEntry>,
    pub(crate) granted: Intents,
    pub(crate) gateway: Gateway,
    pub(crate) limiter: Limiter,
    pub(crate) faults: FaultState,
    pub(crate) requests: Vec<RequestRecord>,
    pub(crate) interactions: HashMap<Snowflake, InteractionRecord>,
}

/// Where the control API (`crate::control`) lives on the emulator's port.
pub(crate) const CONTROL_PATH: &str = "/_emulator";

impl World {
    pub(crate) fn new(config: &Config) -> World {
        let mut ids = SnowflakeGen::default();
        let now = now_ms();
        let bot_id = ids.next();
        let owner_id = ids.next();
        let guild_id = ids.next();
        let general_id = ids.next();
        let hidden_id = ids.next();
        let mut users = BTreeMap::new();
        users.insert(
            bot_id,
            User {
                name: config.bot_name.clone(),
                bot: true,
                joined_ms: now,
                roles: Vec::new(),
            },
        );
        users.insert(
            owner_id,
            User {
                name: "guild-owner".to_owned(),
                bot: false,
                joined_ms: now,
                roles: Vec::new(),
            },
        );
        let mut channels = BTreeMap::new();
        for (id, name, position, visible) in [
            (general_id, &config.channel_name, 0, true),
            (hidden_id, &config.hidden_channel_name, 1, false),
        ] {
            channels.insert(
                id,
                Channel {
                    id,
                    kind: channel_type::GUILD_TEXT,
                    name: name.clone(),
                    position,
                    overwrites: hidden_from_bot(bot_id, visible),
                    last_message_id: None,
                    thread: None,
                },
            );
        }
        World {
            ids,
            port: config.port,
            settings: Settings {
                heartbeat_interval: config.heartbeat_interval,
                resume_window: config.resume_window,
                reconnect_grace: config.reconnect_grace,
                nonce_window: config.nonce_window,
                thread_created_min_age: config.thread_created_min_age,
                identify_limit: config.identify_limit,
                interaction_deadline: config.interaction_deadline,
                interaction_token_lifetime: config.interaction_token_lifetime,
            },
            bot_token: config.token.clone().unwrap_or_else(|| tokens::mint(bot_id)),
            bot_id,
            guild: Guild {
                id: guild_id,
                name: config.guild_name.clone(),
                owner_id,
            },
            general_id,
            hidden_id,
            users,
            tokens: HashMap::new(),
            channels,
            messages: HashMap::new(),
            files: HashMap::new(),
            nonces: HashMap::new(),
            granted: config.granted,
            everyone_permissions: permission::EVERYONE,
            roles: BTreeMap::new(),
            gateway: Gateway::default(),
            limiter: Limiter::new(config.rate_limits.clone()),
            faults: FaultState::default(),
            requests: Vec::new(),
            interactions: HashMap::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT/gateway`: no query string, so `{url}?v=10` works.
    pub(crate) fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/gateway", self.port)
    }

    /// Where the emulator is and what it holds: the JSON line the binary prints and
    /// `GET /_emulator` answers.
    pub(crate) fn info(&self) -> serde_json::Value {
        serde_json::json!({
            "base_url": self.base_url(),
            "gateway_url": self.gateway_url(),
            "control_url": format!("{}{CONTROL_PATH}", self.base_url()),
            "bot_token": self.bot_token,
            "bot_user_id": self.bot_id,
            "guild_id": self.guild.id,
            "channel_id": self.general_id,
            "hidden_channel_id": self.hidden_id,
        })
    }

    pub(crate) fn add_user(&mut self, name: &str) -> UserHandle {
        let id = self.ids.next();
        let token = tokens::mint(id);
        self.users.insert(
            id,
            User {
                name: name.to_owned(),
                bot: false,
                joined_ms: now_ms(),
                roles: Vec::new(),
            },
        );
        self.tokens.insert(token.clone(), id);
        UserHandle {
            id,
            name: name.to_owned(),
            token,
        }
    }

    pub(crate) fn add_channel(&mut self, name: &str, visible_to_bot: bool) -> Snowflake {
        let id = self.ids.next();
        let position = u32::try_from(
            self.channels
                .values()
                .filter(|c| c.thread.is_none())
                .count(),
        )
        .unwrap_or(u32::MAX);
        self.channels.insert(
            id,
            Channel {
                id,
                kind: channel_type::GUILD_TEXT,
                name: name.to_owned(),
                position,
                overwrites: hidden_from_bot(self.bot_id, visible_to_bot),
                last_message_id: None,
                thread: None,
            },
        );
        id
    }

    pub(crate) fn add_role(&mut self, name: &str, permissions: u64) -> Snowflake {
        let id = self.ids.next();
        let position = u32::try_from(self.roles.len() + 1).unwrap_or(u32::MAX);
        self.roles.insert(
            id,
            Role {
                id,
                name: name.to_owned(),
                permissions,
                position,
            },
        );
        id
    }

    /// Sets (or, with `None`, removes) the overwrite for `target` (a role, the guild for
    /// `@everyone`, or a user) on a text channel; answers whether the channel exists.
    pub(crate) fn set_overwrite(
        &mut self,
        channel: Snowflake,
        target: Snowflake,
        allow_deny: Option<(u64, u64)>,
    ) -> bool {
        let kind = u8::from(!(target == self.guild.id || self.roles.contains_key(&target)));
        let Some(channel) = self
            .channels
            .get_mut(&channel)
            .filter(|c| c.thread.is_none())
        else {
            return false;
        };
        channel.overwrites.retain(|o| o.id != target);
        if let Some((allow, deny)) = allow_deny {
            channel.overwrites.push(Overwrite {
                id: target,
                kind,
                allow,
                deny,
            });
        }
        true
    }

    /// Replaces the bot token with a fresh one (Developer Portal → Bot → Reset Token) and
    /// answers it; the old one is refused from now on.
    pub(crate) fn reset_bot_token(&mut self) -> String {
        self.bot_token = tokens::mint(self.bot_id);
        self.bot_token.clone()
    }

    /// Resolves an `Authorization` header: `Bot <token>` for the bot, the bare token for users.
    pub(crate) fn authenticate(&self, header: Option<&str>) -> Option<Caller> {
        let header = header?.trim();
        if let Some(token) = header.strip_prefix("Bot ") {
            return (token == self.bot_token).then_some(Caller::Bot(self.bot_id));
        }
        self.tokens.get(header).map(|id| Caller::User(*id))
    }

    /// Whether an Identify or Resume token is the bot's (with or without `Bot `).
    pub(crate) fn is_bot_token(&self, token: &str) -> bool {
        token.strip_prefix("Bot ").unwrap_or(token) == self.bot_token
    }

    /// `user`'s permissions in the guild before overwrites (docs, permissions,
    /// "Permission Hierarchy": the owner and ADMINISTRATOR have all).
    pub(crate) fn base_permissions(&self, user: Snowflake) -> u64 {
        if user == self.guild.owner_id {
            return permission::ALL;
        }
        let mut permissions = self.everyone_permissions;
        for role in self.member_roles(user) {
            if let Some(role) = self.roles.get(role) {
                permissions |= role.permissions;
            }
        }
        if permissions & permission::ADMINISTRATOR != 0 {
            return permission::ALL;
        }
        permissions
    }

    /// The roles of `user` (empty for someone unknown).
    pub(crate) fn member_roles(&self, user: Snowflake) -> &[Snowflake] {
        self.users.get(&user).map_or(&[], |u| u.roles.as_slice())
    }

    /// `user`'s permissions in `channel` (a thread takes its parent's): the base permissions,
    /// then the `@everyone` overwrite, the role overwrites together (deny, then allow), then the
    /// member's own overwrite. Without VIEW_CHANNEL a member has no permission in the channel,
    /// and without SEND_MESSAGES no permission that depends on it.
    pub(crate) fn permissions_in(&self, user: Snowflake, channel: &Channel) -> u64 {
        let base = self.base_permissions(user);
        if base & permission::ADMINISTRATOR != 0 {
            return permission::ALL;
        }
        let overwrites = match &channel.thread {
            Some(thread) => self
                .channels
                .get(&thread.parent_id)
                .map_or(&[][..], |p| p.overwrites.as_slice()),
            None => channel.overwrites.as_slice(),
        };
        let mut permissions = base;
        if let Some(everyone) = overwrites.iter().find(|o| o.id == self.guild.id) {
            permissions &= !everyone.deny;
            permissions |= everyone.allow;
        }
        let roles = self.member_roles(user);
        let (mut allow, mut deny) = (0, 0);
        for o in overwrites
            .iter()
            .filter(|o| o.kind == 0 && roles.contains(&o.id))
        {
            allow |= o.allow;
            deny |= o.deny;
        }
        permissions &= !deny;
        permissions |= allow;
        if let Some(member) = overwrites.iter().find(|o| o.kind == 1 && o.id == user) {
            permissions &= !member.deny;
            permissions |= member.allow;
        }
        if permissions & permission::VIEW_CHANNEL == 0 {
            return 0;
        }
        if permissions & permission::SEND_MESSAGES == 0 {
            permissions &= !(permission::SEND_TTS_MESSAGES
                | permission::MENTION_EVERYONE
                | permission::EMBED_LINKS
                | permission::ATTACH_FILES);
        }
        permissions
    }

    /// Whether `user` has every bit of `needed` in `channel`.
    pub(crate) fn has_permission(&self, user: Snowflake, channel: &Channel, needed: u64) -> bool {
        self.permissions_in(user, channel) & needed == needed
    }

    /// Whether `user` can see `channel` (VIEW_CHANNEL; private threads only for members).
    pub(crate) fn can_view(&self, user: Snowflake, channel: &Channel) -> bool {
        if !self.has_permission(user, channel, permission::VIEW_CHANNEL) {
            return false;
        }
        match &channel.thread {
            None => true,
            Some(thread) => {
                let parent_visible = self
                    .channels
                    .get(&thread.parent_id)
                    .is_some_and(|p| self.can_view(user, p));
                parent_visible
                    && (channel.kind != channel_type::PRIVATE_THREAD
                        || thread.member(user).is_some()
                        || user == self.guild.owner_id)
            }
        }
    }

    pub(crate) fn bot_can_view(&self, channel_id: Snowflake) -> bool {
        self.channels
            .get(&channel_id)
            .is_some_and(|c| self.can_view(self.bot_id, c))
    }

    /// The channel, if it exists (10003) and `user` can see it (50001).
    pub(crate) fn visible_channel(
        &self,
        user: Snowflake,
        id: Option<Snowflake>,
    ) -> Result<&Channel, ApiError> {
        let channel = id
            .and_then(|id| self.channels.get(&id))
            .ok_or_else(ApiError::unknown_channel)?;
        if self.can_view(user, channel) {
            Ok(channel)
        } else {
            Err(ApiError::missing_access())
        }
    }

    pub(crate) fn message(&self, channel: Snowflake, id: Snowflake) -> Option<&Message> {
        self.messages.get(&channel)?.get(&id)
    }

    pub(crate) fn message_mut(
        &mut self,
        channel: Snowflake,
        id: Snowflake,
    ) -> Option<&mut Message> {
        self.messages.get_mut(&channel)?.get_mut(&id)
    }

    /// Messages of a channel, oldest first.
    pub(crate) fn channel_messages(&self, channel: Snowflake) -> Vec<Message> {
        self.messages
            .get(&channel)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn thread_info(&self, channel: &Channel) -> Option<ThreadInfo> {
        let thread = channel.thread.as_ref()?;
        Some(ThreadInfo {
            id: channel.id,
            name: channel.name.clone(),
            parent_id: thread.parent_id,
            owner_id: thread.owner_id,
            kind: channel.kind,
            members: thread.members.iter().map(|(u, _)| *u).collect(),
        })
    }

    /// Whether the app may read message content over HTTP (the granted intent, not Identify's).
    pub(crate) fn http_content_granted(&self) -> bool {
        self.granted.contains(Intents::MESSAGE_CONTENT)
    }
}

impl World {
    /// Sends an event to every session entitled to it.
    pub(crate) fn emit(&mut self, event: Event) {
        if !event.visible || self.faults.withhold_dispatches {
            return;
        }
        let granted = self.granted;
        let bot_id = self.bot_id;
        let guild = self.guild.id.get();
        let Gateway {
            sessions, conns, ..
        } = &mut self.gateway;
        for session in sessions.values_mut() {
            if session.invalid
                || (!event.requires.is_empty() && !session.intents.intersects(event.requires))
                || !session.receives_guild(guild)
            {
                continue;
            }
            let mut data = event.data.clone();
            if event.message && !reads_content(granted, session.intents) {
                redact_message(&mut data, bot_id);
            }
            session.dispatch(event.name, data, conns, true);
        }
    }
}
