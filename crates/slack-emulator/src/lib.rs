//! A Slack emulator — the Web API and Socket Mode — for offline tests, checked against Slack's
//! OpenAPI spec, Events API schemas and the recorded samples of Slack's Java SDK.
//!
//! [`Emulator::start`] serves on `127.0.0.1`, from its own runtime thread:
//!
//! - the **Web API** at `/api/<method>` ([`METHODS`]): form-urlencoded or JSON bodies with
//!   `Authorization: Bearer xoxb-…` (the app-level `xapp-…` token only for
//!   `apps.connections.open`), answered `{"ok":true,…}` or `{"ok":false,"error":…}` with Slack's
//!   `x-oauth-scopes` header, `missing_scope` (with `needed`/`provided`) for scopes not granted
//!   and HTTP 429 + `Retry-After` past a method's [`RateLimits`];
//! - **Socket Mode** at the `ws://…/socket?ticket=…` URL `apps.connections.open` returns: a
//!   `hello`, then `events_api` envelopes for what happens in channels the bot is in and
//!   `interactive` envelopes for button clicks; every envelope must be acked with
//!   `{"envelope_id":…}` within [`ACK_DEADLINE`] or it is redelivered with `retry_attempt`
//!   incremented and `retry_reason: "timeout"`;
//! - the v2 file upload: the `upload_url` of `files.getUploadURLExternal` takes the bytes.
//!
//! Tests drive it through the handle: add users and channels, post, edit, delete and react as a
//! user, click a button, read what the bot posted and what a user saw, arm [`Faults`] (failures,
//! a call that takes effect but loses its response, dropped sockets, lost acks, `disconnect`
//! frames), and stop and restart it on the same port with its state kept.
//!
//! ```no_run
//! use slack_emulator::{Config, Emulator};
//!
//! # fn main() -> Result<(), slack_emulator::Error> {
//! let slack = Emulator::start(Config::default())?;
//! // The app under test calls slack.api_url() with slack.bot_token() and slack.app_token().
//! let operator = slack.add_user("operator");
//! let ts = slack.post_as(&operator, slack.channel_id(), "hello bot", None)?;
//! assert_eq!(slack.messages(slack.channel_id())[0].ts, ts);
//! slack.faults().lose_response("chat.postMessage", 1);
//! # Ok(()) }
//! ```
//!
//! The references live in `../shared` beside the project: `slack-api-specs` (Slack's OpenAPI 2.0
//! of the Web API and the Events API schemas, from `slackapi/slack-api-specs`, MIT) and
//! `slack-api-samples` (the recorded samples and Socket Mode model of `slackapi/java-slack-sdk`'s
//! `json-logs`, MIT). The tests check every answer and envelope against them.

mod actions;
mod config;
mod delivery;
mod errors;
mod events;
mod fault_plan;
mod faults;
mod ids;
mod interactive;
mod methods;
mod multipart;
mod objects;
mod params;
mod ratelimit;
mod server;
mod socket_mode;
mod state;
mod web_api;

use std::sync::Arc;

use emulator_host::Host;
use serde_json::Value;

pub use crate::{
    actions::MAX_TEXT_CHARS,
    config::{ACK_DEADLINE, Config, MAX_RETRIES},
    errors::Error,
    fault_plan::Failure,
    faults::Faults,
    methods::{METHODS, Method},
    ratelimit::{Limit, RESTRICTED_HISTORY_PAGE, RateLimits, Tier},
    socket_mode::disconnect_reason,
    state::{ApiCall, Ephemeral, Message, Reaction, ResponseUrlPost, UploadedFile, UserHandle},
};
use crate::{
    actions::{Edit, NewMessage},
    interactive::ClickError,
    state::{Channel, Shared, World},
};

/// A running emulator. It has its own tokio runtime, so it works from sync tests and from any
/// async runtime; dropping it stops it.
pub struct Emulator {
    shared: Arc<Shared>,
    host: Host,
    bot_token: String,
    app_token: String,
    bot_user_id: String,
    bot_id: String,
    app_id: String,
    team_id: String,
    channel_id: String,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

fn action_error(code: &'static str, channel: &str, ts: &str) -> Error {
    match code {
        "channel_not_found" => Error::UnknownChannel(channel.to_owned()),
        "message_not_found" => Error::UnknownMessage {
            channel: channel.to_owned(),
            ts: ts.to_owned(),
        },
        other => Error::NotAllowed(other),
    }
}

impl Emulator {
    /// Starts an emulator on 127.0.0.1 (on a free port unless [`Config::port`] says otherwise).
    ///
    /// # Errors
    ///
    /// When the runtime cannot be built or the port cannot be bound.
    pub fn start(config: Config) -> Result<Emulator, Error> {
        let host = Host::bind("slack-emulator", config.port)?;
        let port = host.port();
        let mut world = World::new(&config);
        world.port = port;
        let emulator = Emulator {
            bot_token: world.bot_token.clone(),
            app_token: world.app_token.clone(),
            bot_user_id: world.bot_user_id.clone(),
            bot_id: world.bot_id.clone(),
            app_id: world.app_id.clone(),
            team_id: world.team_id.clone(),
            channel_id: world.channels[0].id.clone(),
            shared: Arc::new(Shared::new(world)),
            host,
        };
        let shared = Arc::clone(&emulator.shared);
        emulator.host.serve(move |listener, shutdown| {
            server::serve(listener, Arc::clone(&shared), shutdown)
        });
        Ok(emulator)
    }

    /// Stops serving: the port is released and every connection (HTTP and Socket Mode) is
    /// dropped without a close frame. State, unacked envelopes included, is kept.
    pub fn stop(&self) {
        self.host.stop();
        self.shared.lock().sockets.connections.clear();
    }

    /// Serves again on the same port after [`stop`](Self::stop) (or stops first if running).
    ///
    /// # Errors
    ///
    /// When the port cannot be bound again within a few seconds.
    pub fn restart(&self) -> Result<(), Error> {
        self.stop();
        Ok(self.host.restart()?)
    }

    /// Whether it is serving (not [`stop`](Self::stop)ped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.host.is_running()
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.host.port())
    }

    /// The Web API's base, `http://127.0.0.1:<port>/api/` (Slack's is `https://slack.com/api/`).
    #[must_use]
    pub fn api_url(&self) -> String {
        format!("{}/api/", self.base_url())
    }

    /// The port it serves on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// The bot token, `xoxb-…`.
    #[must_use]
    pub fn bot_token(&self) -> &str {
        &self.bot_token
    }

    /// The app-level token for `apps.connections.open`, `xapp-…`.
    #[must_use]
    pub fn app_token(&self) -> &str {
        &self.app_token
    }

    /// The bot user's id (`U…`), as `<@…>` mentions name it.
    #[must_use]
    pub fn bot_user_id(&self) -> &str {
        &self.bot_user_id
    }

    /// The bot's id, `B…`.
    #[must_use]
    pub fn bot_id(&self) -> &str {
        &self.bot_id
    }

    /// The app's id, `A…`.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The workspace's id, `T…`.
    #[must_use]
    pub fn team_id(&self) -> &str {
        &self.team_id
    }

    /// The `#general` channel, which the bot is a member of.
    #[must_use]
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// Adds a human user; users see every channel.
    pub fn add_user(&self, name: &str) -> UserHandle {
        let mut world = self.shared.lock();
        let user = UserHandle {
            id: world.ids.next("U"),
            name: name.to_owned(),
        };
        world.users.push(user.clone());
        user
    }

    /// Adds a public channel, with the bot in it or not; returns its id (`C…`).
    pub fn add_channel(&self, name: &str, bot_member: bool) -> String {
        let mut world = self.shared.lock();
        let id = world.ids.next("C");
        world.channels.push(Channel {
            id: id.clone(),
            name: name.to_owned(),
            bot_member,
            created: ids::now_secs(),
            is_general: false,
            messages: Vec::new(),
        });
        id
    }

    /// Grants exactly these scopes to the bot token from now on.
    pub fn set_scopes(&self, scopes: &[&str]) {
        self.shared.lock().scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Posts `text` as `user` (in the thread `thread_ts` if given); returns the message's ts.
    ///
    /// # Errors
    ///
    /// When the channel does not exist.
    pub fn post_as(
        &self,
        user: &UserHandle,
        channel: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Result<String, Error> {
        let new = NewMessage {
            channel: channel.to_owned(),
            user: user.id.clone(),
            text: text.to_owned(),
            thread_ts: thread_ts.map(str::to_owned),
            ..NewMessage::default()
        };
        actions::post(&mut self.shared.lock(), new)
            .map(|(_, ts)| ts)
            .map_err(|e| action_error(e, channel, ""))
    }

    /// `user` shares a file `name` holding `bytes` in `channel` (in the thread `thread_ts` if
    /// given) with the message `text`, as a client upload does: a `message` with subtype
    /// `file_share` and a `file_shared` event follow. Returns the message's ts.
    ///
    /// # Errors
    ///
    /// When the channel does not exist.
    pub fn share_file_as(
        &self,
        user: &UserHandle,
        channel: &str,
        name: &str,
        bytes: &[u8],
        text: &str,
        thread_ts: Option<&str>,
    ) -> Result<String, Error> {
        let mut world = self.shared.lock();
        let id = world.ids.next("F");
        world.files.push(UploadedFile {
            id: id.clone(),
            name: name.to_owned(),
            title: Some(name.to_owned()),
            declared_length: bytes.len() as u64,
            bytes: Some(bytes.to_vec()),
            channel: Some(channel.to_owned()),
            thread_ts: thread_ts.map(str::to_owned),
            message_ts: None,
            completed: true,
            created: ids::now_secs(),
            owner: Some(user.id.clone()),
        });
        let new = NewMessage {
            channel: channel.to_owned(),
            user: user.id.clone(),
            text: text.to_owned(),
            thread_ts: thread_ts.map(str::to_owned),
            files: vec![id.clone()],
            ..NewMessage::default()
        };
        let (_, ts) = actions::post(&mut world, new).map_err(|e| action_error(e, channel, ""))?;
        if let Some(file) = world.files.iter_mut().find(|f| f.id == id) {
            file.message_ts = Some(ts.clone());
        }
        events::file_shared(&mut world, &id, channel);
        Ok(ts)
    }

    /// Edits `user`'s message to `text` (a `message_changed` event follows).
    ///
    /// # Errors
    ///
    /// When the channel or message does not exist or is not `user`'s.
    pub fn edit_as(
        &self,
        user: &UserHandle,
        channel: &str,
        ts: &str,
        text: &str,
    ) -> Result<(), Error> {
        let edit = Edit {
            text: Some(text.to_owned()),
            ..Edit::default()
        };
        actions::edit(&mut self.shared.lock(), &user.id, channel, ts, edit)
            .map(drop)
            .map_err(|e| action_error(e, channel, ts))
    }

    /// Deletes `user`'s message (a `message_deleted` event follows).
    ///
    /// # Errors
    ///
    /// When the channel or message does not exist or is not `user`'s.
    pub fn delete_as(&self, user: &UserHandle, channel: &str, ts: &str) -> Result<(), Error> {
        actions::delete(&mut self.shared.lock(), &user.id, channel, ts)
            .map(drop)
            .map_err(|e| action_error(e, channel, ts))
    }

    /// Adds `user`'s reaction `name` (no colons) to a message (`reaction_added` follows).
    ///
    /// # Errors
    ///
    /// When the message does not exist or `user` already reacted so.
    pub fn react_as(
        &self,
        user: &UserHandle,
        channel: &str,
        ts: &str,
        name: &str,
    ) -> Result<(), Error> {
        actions::react(&mut self.shared.lock(), &user.id, channel, ts, name, true)
            .map_err(|e| action_error(e, channel, ts))
    }

    /// Removes `user`'s reaction `name` from a message (`reaction_removed` follows).
    ///
    /// # Errors
    ///
    /// When the message does not exist or has no such reaction from `user`.
    pub fn unreact_as(
        &self,
        user: &UserHandle,
        channel: &str,
        ts: &str,
        name: &str,
    ) -> Result<(), Error> {
        actions::react(&mut self.shared.lock(), &user.id, channel, ts, name, false)
            .map_err(|e| action_error(e, channel, ts))
    }

    /// `user` clicks the element `action_id` of a message's blocks: a `block_actions` payload
    /// goes out as an `interactive` envelope, with a `response_url` whose POSTs are recorded
    /// ([`response_url_posts`](Self::response_url_posts)) and shown
    /// ([`ephemeral_seen_by`](Self::ephemeral_seen_by), or applied to the channel). `value`
    /// overrides the element's own `value`. Returns the envelope id.
    ///
    /// # Errors
    ///
    /// When the channel, message or element does not exist.
    pub fn click(
        &self,
        user: &UserHandle,
        channel: &str,
        ts: &str,
        action_id: &str,
        value: Option<&str>,
    ) -> Result<String, Error> {
        interactive::click(
            &mut self.shared.lock(),
            &user.id,
            channel,
            ts,
            action_id,
            value,
        )
        .map_err(|e| match e {
            ClickError::Channel => Error::UnknownChannel(channel.to_owned()),
            ClickError::Message => Error::UnknownMessage {
                channel: channel.to_owned(),
                ts: ts.to_owned(),
            },
            ClickError::Action => Error::UnknownAction {
                ts: ts.to_owned(),
                action_id: action_id.to_owned(),
            },
        })
    }

    /// The channel's messages as `conversations.history` sees them (thread replies only when
    /// broadcast), oldest first.
    #[must_use]
    pub fn messages(&self, channel: &str) -> Vec<Message> {
        let world = self.shared.lock();
        world
            .channel(channel)
            .map(|c| {
                c.messages
                    .iter()
                    .filter(|m| !m.is_reply() || m.reply_broadcast)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The replies in the thread `thread_ts` (without the parent), oldest first.
    #[must_use]
    pub fn replies(&self, channel: &str, thread_ts: &str) -> Vec<Message> {
        let world = self.shared.lock();
        world
            .channel(channel)
            .map(|c| c.replies(thread_ts).cloned().collect())
            .unwrap_or_default()
    }

    /// The ephemeral messages `user` saw, oldest first.
    #[must_use]
    pub fn ephemeral_seen_by(&self, user: &UserHandle) -> Vec<Ephemeral> {
        self.shared
            .lock()
            .ephemerals
            .get(&user.id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every POST the app made to a click's `response_url`.
    #[must_use]
    pub fn response_url_posts(&self) -> Vec<ResponseUrlPost> {
        self.shared.lock().response_posts.clone()
    }

    /// Every file the app announced with `files.getUploadURLExternal`, in order.
    #[must_use]
    pub fn uploaded_files(&self) -> Vec<UploadedFile> {
        self.shared.lock().files.clone()
    }

    /// Every Web API call answered (or lost), in order.
    #[must_use]
    pub fn api_calls(&self) -> Vec<ApiCall> {
        self.shared.lock().api_calls.clone()
    }

    /// Every frame sent on Socket Mode (`hello`, envelopes, `disconnect`), in order.
    #[must_use]
    pub fn socket_frames(&self) -> Vec<Value> {
        self.shared.lock().sockets.sent.clone()
    }

    /// Every frame the app sent on Socket Mode (acks), in order.
    #[must_use]
    pub fn acks(&self) -> Vec<Value> {
        self.shared.lock().sockets.acks.clone()
    }

    /// How many envelopes wait for an ack.
    #[must_use]
    pub fn unacked(&self) -> usize {
        self.shared.lock().sockets.pending.len()
    }

    /// How many Socket Mode connections are open.
    #[must_use]
    pub fn socket_connections(&self) -> usize {
        self.shared.lock().sockets.connections.len()
    }

    /// Arms faults.
    #[must_use]
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }
}
