//! The emulated workspace: users, channels and their messages, files, ephemeral messages, Socket
//! Mode connections and pending envelopes, and the records tests read back.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
    time::Instant,
};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use crate::{
    config::Config, fault_plan::FaultPlan, ids::Ids, methods, ratelimit::RateLimits,
    ratelimit::Windows,
};

/// The state every task shares, behind one lock (never held across an `.await`).
#[derive(Debug)]
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

/// A human user added with [`crate::Emulator::add_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserHandle {
    /// The user's id, `U…`.
    pub id: String,
    /// The user's name.
    pub name: String,
}

/// One reaction on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// The emoji's name, without colons.
    pub name: String,
    /// Who reacted, in order.
    pub users: Vec<String>,
}

/// A message as the workspace holds it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// The channel id.
    pub channel: String,
    /// Its timestamp, which is its id in the channel.
    pub ts: String,
    /// Who posted it (the bot user's id for the bot's messages).
    pub user: String,
    /// The bot's id (`B…`) when the bot posted it.
    pub bot_id: Option<String>,
    /// Its text (truncated at 40 000 characters).
    pub text: String,
    /// Its Block Kit blocks, as sent.
    pub blocks: Option<Value>,
    /// The thread's parent ts, for replies (and for a parent that has replies).
    pub thread_ts: Option<String>,
    /// Whether a reply was also sent to the channel.
    pub reply_broadcast: bool,
    /// Its metadata, `{"event_type", "event_payload"}`.
    pub metadata: Option<Value>,
    /// The ids of the files shared with it.
    pub files: Vec<String>,
    /// Its reactions.
    pub reactions: Vec<Reaction>,
    /// The ts of the last edit, if edited.
    pub edited: Option<String>,
    /// The client's id for a user's message.
    pub client_msg_id: Option<String>,
}

impl Message {
    /// Whether this is a reply in a thread (not the thread's parent).
    #[must_use]
    pub fn is_reply(&self) -> bool {
        self.thread_ts.as_ref().is_some_and(|t| *t != self.ts)
    }
}

/// An ephemeral message a user saw (from `chat.postEphemeral` or a `response_url`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Ephemeral {
    /// The channel it was shown in.
    pub channel: String,
    /// Its text.
    pub text: String,
    /// Its blocks, if any.
    pub blocks: Option<Value>,
    /// The thread it was shown in, if any.
    pub thread_ts: Option<String>,
    /// Whether it came through a `response_url` (rather than `chat.postEphemeral`).
    pub via_response_url: bool,
}

/// A POST the app made to a `response_url` of a click.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResponseUrlPost {
    /// The user who clicked.
    pub user: String,
    /// The channel of the clicked message.
    pub channel: String,
    /// The clicked message's ts.
    pub message_ts: String,
    /// The JSON body posted.
    pub body: Value,
}

/// A file uploaded through `files.getUploadURLExternal` and its upload URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedFile {
    /// Its id, `F…`.
    pub id: String,
    /// Its file name.
    pub name: String,
    /// Its title, once completed.
    pub title: Option<String>,
    /// The length announced to `files.getUploadURLExternal`.
    pub declared_length: u64,
    /// The bytes POSTed to the upload URL.
    pub bytes: Option<Vec<u8>>,
    /// The channel it was shared into by `files.completeUploadExternal`.
    pub channel: Option<String>,
    /// The thread it was shared into.
    pub thread_ts: Option<String>,
    /// The ts of the message that shares it.
    pub message_ts: Option<String>,
    /// Whether `files.completeUploadExternal` completed it.
    pub completed: bool,
    /// When it was created (seconds).
    pub(crate) created: u64,
    /// Who shared it: a user's id for [`crate::Emulator::share_file_as`], `None` for the bot.
    pub(crate) owner: Option<String>,
}

/// One Web API call and the answer it got (recorded for tests and spec checks).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiCall {
    /// The method.
    pub method: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The JSON body answered (or that would have been, when lost).
    pub body: Value,
    /// Whether the response was deliberately lost.
    pub lost: bool,
}

/// What a Socket Mode connection task is told to do.
#[derive(Debug)]
pub(crate) enum SocketCommand {
    /// Send this text frame.
    Frame(String),
    /// Send a `disconnect` frame with this reason, then close.
    Disconnect(&'static str),
    /// Send a `disconnect` frame with reason `warning`, and stay open.
    Warn,
    /// Drop the TCP connection without a close frame.
    Drop,
}

/// An open Socket Mode connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) id: u64,
    pub(crate) tx: UnboundedSender<SocketCommand>,
}

/// An envelope waiting for its ack.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) envelope_id: String,
    /// `type`, `payload`, `accepts_response_payload`.
    pub(crate) frame: Value,
    /// How many times it was sent.
    pub(crate) sends: u32,
    /// When to (re)send it.
    pub(crate) due: Instant,
}

/// Socket Mode's side of the world.
#[derive(Debug, Default)]
pub(crate) struct Sockets {
    pub(crate) tickets: Vec<String>,
    pub(crate) connections: Vec<Connection>,
    pub(crate) next_connection: u64,
    pub(crate) round_robin: usize,
    pub(crate) pending: Vec<Pending>,
    /// Every frame sent, in order.
    pub(crate) sent: Vec<Value>,
    /// Every ack received, in order.
    pub(crate) acks: Vec<Value>,
}

/// A channel.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) bot_member: bool,
    pub(crate) created: u64,
    pub(crate) is_general: bool,
    /// Every message, replies included, in ts order.
    pub(crate) messages: Vec<Message>,
}

/// Where a click's `response_url` answers go.
#[derive(Debug, Clone)]
pub(crate) struct ResponseTarget {
    pub(crate) user: String,
    pub(crate) channel: String,
    pub(crate) message_ts: String,
    pub(crate) thread_ts: Option<String>,
}

/// The whole emulated workspace.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) port: u16,
    pub(crate) team_id: String,
    pub(crate) team_name: String,
    pub(crate) app_id: String,
    pub(crate) bot_id: String,
    pub(crate) bot_user_id: String,
    pub(crate) bot_name: String,
    pub(crate) bot_token: String,
    pub(crate) app_token: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) rate_limits: RateLimits,
    pub(crate) windows: Windows,
    pub(crate) ack_deadline: std::time::Duration,
    pub(crate) max_retries: u32,
    pub(crate) echo_own_messages: bool,
    pub(crate) ids: Ids,
    pub(crate) users: Vec<UserHandle>,
    pub(crate) channels: Vec<Channel>,
    pub(crate) ephemerals: HashMap<String, Vec<Ephemeral>>,
    pub(crate) response_targets: HashMap<String, ResponseTarget>,
    pub(crate) response_posts: Vec<ResponseUrlPost>,
    pub(crate) files: Vec<UploadedFile>,
    pub(crate) sockets: Sockets,
    pub(crate) faults: FaultPlan,
    pub(crate) api_calls: Vec<ApiCall>,
}

impl World {
    pub(crate) fn new(config: &Config) -> World {
        let mut ids = Ids::default();
        let team_id = ids.next("T");
        let app_id = ids.next("A");
        let bot_id = ids.next("B");
        let bot_user_id = ids.next("U");
        let general = ids.next("C");
        let bot_token = format!(
            "xoxb-{}-{}-{}",
            &team_id[1..],
            &bot_user_id[1..],
            ids.token()
        );
        let app_token = format!("xapp-1-{app_id}-{}", ids.token());
        let created = crate::ids::now_secs();
        World {
            port: 0,
            team_id,
            team_name: config.team_name.clone(),
            app_id,
            bot_id,
            bot_user_id: bot_user_id.clone(),
            bot_name: config.bot_name.clone(),
            bot_token,
            app_token,
            scopes: config
                .scopes
                .clone()
                .unwrap_or_else(methods::default_scopes),
            rate_limits: config.rate_limits.clone(),
            windows: Windows::default(),
            ack_deadline: config.ack_deadline,
            max_retries: config.max_retries,
            echo_own_messages: config.echo_own_messages,
            ids,
            users: vec![UserHandle {
                id: bot_user_id,
                name: config.bot_name.clone(),
            }],
            channels: vec![Channel {
                id: general,
                name: "general".to_owned(),
                bot_member: true,
                created,
                is_general: true,
                messages: Vec::new(),
            }],
            ephemerals: HashMap::new(),
            response_targets: HashMap::new(),
            response_posts: Vec::new(),
            files: Vec::new(),
            sockets: Sockets::default(),
            faults: FaultPlan::default(),
            api_calls: Vec::new(),
        }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels
            .iter()
            .find(|c| c.id == id || c.name == id.trim_start_matches('#'))
    }

    pub(crate) fn channel_mut(&mut self, id: &str) -> Option<&mut Channel> {
        self.channels
            .iter_mut()
            .find(|c| c.id == id || c.name == id.trim_start_matches('#'))
    }

    pub(crate) fn user(&self, id: &str) -> Option<&UserHandle> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn is_bot_user(&self, id: &str) -> bool {
        id == self.bot_user_id
    }
}

impl Channel {
    pub(crate) fn message(&self, ts: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.ts == ts)
    }

    pub(crate) fn message_mut(&mut self, ts: &str) -> Option<&mut Message> {
        self.messages.iter_mut().find(|m| m.ts == ts)
    }

    /// The replies to the thread whose parent is `thread_ts`, oldest first.
    pub(crate) fn replies(&self, thread_ts: &str) -> impl Iterator<Item = &Message> {
        self.messages
            .iter()
            .filter(move |m| m.is_reply() && m.thread_ts.as_deref() == Some(thread_ts))
    }
}
