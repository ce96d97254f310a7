//! The emulated world: the bot, its users, chats (private, groups, forum supergroups with
//! topics), messages with their edit history, files, callback queries, the webhook and the
//! update queue, behind one lock.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

use crate::{config::Config, fault_state::FaultState, updates::UpdateQueue};

/// The state every task shares, behind one lock (never held across an `.await`).
pub(crate) struct Shared {
    world: Mutex<World>,
}

impl Shared {
    pub(crate) fn new(world: World) -> Shared {
        Shared {
            world: Mutex::new(world),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A human user added by a test ([`Emulator::add_user`](crate::Emulator::add_user)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserHandle {
    /// The user's id (also the id of their private chat with the bot).
    pub id: i64,
    /// `first_name`.
    pub first_name: String,
    /// `username`, without `@`.
    pub username: String,
}

/// What kind of chat it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// The private chat of the bot with one user.
    Private,
    /// A basic group.
    Group,
    /// A supergroup; `forum` when topics are enabled.
    Supergroup {
        /// Whether it is a forum (has topics).
        forum: bool,
    },
}

impl ChatKind {
    /// The Bot API's `Chat.type`.
    #[must_use]
    pub fn api_name(self) -> &'static str {
        match self {
            ChatKind::Private => "private",
            ChatKind::Group => "group",
            ChatKind::Supergroup { .. } => "supergroup",
        }
    }
}

/// A forum topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// `message_thread_id`: the id of the message that created it (1 for General).
    pub thread_id: i64,
    /// Its name.
    pub name: String,
    /// `icon_color`, an RGB value.
    pub icon_color: i64,
}

/// One state of a message's content, kept in its edit history.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// The text (or caption) after entity parsing.
    pub text: Option<String>,
    /// Its entities (or caption entities), offsets in UTF-16 code units.
    pub entities: Vec<Value>,
    /// The inline keyboard, as an `InlineKeyboardMarkup` object.
    pub reply_markup: Option<Value>,
    /// What the bot sent before parsing, with `parse_mode`.
    pub source: Option<(String, String)>,
}

/// A file kept by the emulator: an upload or a user's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredFile {
    /// `file_id`.
    pub(crate) file_id: String,
    /// `file_unique_id`.
    pub(crate) file_unique_id: String,
    /// The name it was sent with.
    pub(crate) file_name: String,
    /// Its bytes.
    pub(crate) data: Vec<u8>,
    /// `file_path` for the download route.
    pub(crate) file_path: String,
}

/// What a message carries besides text.
#[derive(Debug, Clone, PartialEq)]
pub enum Media {
    /// None: a text message.
    None,
    /// A document (its `file_id`).
    Document(String),
    /// A photo (its `file_id`, width, height).
    Photo(String, i64, i64),
    /// The service message that created a forum topic.
    TopicCreated(Topic),
}

/// A message in a chat, as the emulator keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `message_id`, unique in its chat.
    pub message_id: i64,
    /// The chat it is in.
    pub chat_id: i64,
    /// The sender's user id (the bot's for the bot's messages).
    pub from: i64,
    /// Unix time it was sent.
    pub date: u64,
    /// The forum topic it is in (`None`: General, or not a forum).
    pub thread_id: Option<i64>,
    /// The message it replies to.
    pub reply_to: Option<i64>,
    /// Text (or caption), entities and keyboard now.
    pub content: Content,
    /// Earlier contents, oldest first: one for each edit.
    pub history: Vec<Content>,
    /// Unix time of the last edit.
    pub edit_date: Option<u64>,
    /// Its document, photo or service content.
    pub media: Media,
    /// The bot's reaction on it (emoji), set with `setMessageReaction`.
    pub bot_reaction: Vec<String>,
    /// Each user's reaction (emoji), set with [`Emulator::react_as`](crate::Emulator::react_as).
    pub user_reactions: BTreeMap<i64, Vec<String>>,
}

/// A chat.
#[derive(Debug, Clone)]
pub(crate) struct Chat {
    pub(crate) id: i64,
    pub(crate) kind: ChatKind,
    /// Groups' title; a private chat's is the user's name.
    pub(crate) title: String,
    /// Human members' ids.
    pub(crate) members: Vec<i64>,
    /// Whether the bot is an administrator (then privacy mode does not apply to it).
    pub(crate) bot_admin: bool,
    pub(crate) messages: BTreeMap<i64, Message>,
    pub(crate) next_message_id: i64,
    pub(crate) topics: BTreeMap<i64, Topic>,
    /// Chat actions the bot sent (`typing`, …), oldest first.
    pub(crate) actions: Vec<(Option<i64>, String)>,
}

/// A callback query sent to the bot, and its answer once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    /// The query's id.
    pub id: String,
    /// Who clicked.
    pub user_id: i64,
    /// The chat of the message clicked.
    pub chat_id: i64,
    /// The message clicked.
    pub message_id: i64,
    /// The button's `callback_data`.
    pub data: String,
    /// Unix time of the click.
    pub(crate) created: u64,
    /// What the user saw, once the bot answered.
    pub answer: Option<CallbackAnswer>,
}

/// What `answerCallbackQuery` showed the user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackAnswer {
    /// The notification's text (`None`: the spinner just stopped).
    pub text: Option<String>,
    /// Whether it was an alert rather than a toast.
    pub show_alert: bool,
    /// The URL it opened, if any.
    pub url: Option<String>,
}

/// The webhook set with `setWebhook`.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub(crate) url: String,
    pub(crate) max_connections: i64,
    pub(crate) allowed_updates: Vec<String>,
}

/// Everything the emulator knows.
pub(crate) struct World {
    pub(crate) bot_id: i64,
    pub(crate) bot_username: String,
    pub(crate) bot_name: String,
    pub(crate) token: String,
    pub(crate) privacy_mode: bool,
    pub(crate) users: BTreeMap<i64, UserHandle>,
    pub(crate) chats: BTreeMap<i64, Chat>,
    pub(crate) files: HashMap<String, StoredFile>,
    pub(crate) callbacks: HashMap<String, CallbackRecord>,
    pub(crate) webhook: Option<Webhook>,
    pub(crate) updates: UpdateQueue,
    pub(crate) faults: FaultState,
    /// Added to the real clock by [`Emulator::advance_time`](crate::Emulator::advance_time).
    pub(crate) clock_offset: Duration,
    pub(crate) callback_lifetime: Duration,
    next_id: i64,
}

impl World {
    pub(crate) fn new(config: &Config) -> World {
        let bot_id = fastrand::i64(5_000_000_000..8_000_000_000);
        let token = config.token.clone().unwrap_or_else(|| {
            let secret: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(35)
                .collect();
            format!("{bot_id}:{secret}")
        });
        World {
            bot_id,
            bot_username: config.bot_username.clone(),
            bot_name: config.bot_name.clone(),
            token,
            privacy_mode: true,
            users: BTreeMap::new(),
            chats: BTreeMap::new(),
            files: HashMap::new(),
            callbacks: HashMap::new(),
            webhook: None,
            updates: UpdateQueue::new(config.update_id_reset_after),
            faults: FaultState::default(),
            clock_offset: Duration::ZERO,
            callback_lifetime: config.callback_lifetime,
            next_id: fastrand::i64(100_000_000..900_000_000),
        }
    }

    /// Now, in unix seconds, on the emulator's clock.
    pub(crate) fn now(&self) -> u64 {
        (SystemTime::now() + self.clock_offset)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// A fresh number for ids.
    pub(crate) fn fresh_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// A new chat with no messages.
    pub(crate) fn add_chat(
        &mut self,
        id: i64,
        kind: ChatKind,
        title: String,
        members: Vec<i64>,
        bot_admin: bool,
    ) {
        self.chats.insert(
            id,
            Chat {
                id,
                kind,
                title,
                members,
                bot_admin,
                messages: BTreeMap::new(),
                // In a forum, 1 is the General topic's (docs, Forum topics), never a message's.
                next_message_id: if kind == (ChatKind::Supergroup { forum: true }) {
                    2
                } else {
                    1
                },
                topics: BTreeMap::new(),
                actions: Vec::new(),
            },
        );
    }

    /// Stores a file and answers its `file_id`.
    pub(crate) fn store_file(&mut self, file_name: &str, data: Vec<u8>, folder: &str) -> String {
        let n = self.fresh_id();
        let file_id = format!("BQAC{n:x}{}", fastrand::u64(..));
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, e)| format!(".{e}"))
            .unwrap_or_default();
        let file = StoredFile {
            file_id: file_id.clone(),
            file_unique_id: format!("AgAD{n:x}"),
            file_name: file_name.to_owned(),
            data,
            file_path: format!("{folder}/file_{n}{extension}"),
        };
        self.files.insert(file_id.clone(), file);
        file_id
    }
}
