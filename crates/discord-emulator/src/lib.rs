//! A Discord API emulator (REST v10 + gateway) for offline tests, written to Discord's docs and
//! checked against its OpenAPI spec.
//!
//! [`Emulator::start`] serves, on `127.0.0.1`, the REST routes a bot connector uses under
//! `/api/v10` ([`ROUTES`]) and the gateway WebSocket at `/gateway`, for one guild with a text
//! channel the bot can see and one it cannot. Tests drive it through the returned handle: add
//! human users, post as them, click the bot's buttons as them ([`Emulator::click_as`], answered
//! through the interaction callback and follow-up webhook routes within
//! [`Config::interaction_deadline`]) and read what they saw ([`Emulator::seen_by`]), read what the
//! bot posted, grant or revoke privileged intents, stop and restart it, and inject faults.
//!
//! ```no_run
//! use discord_emulator::{Config, Emulator};
//!
//! # fn main() -> Result<(), discord_emulator::Error> {
//! let emulator = Emulator::start(Config::default())?;
//! // serenity: HttpBuilder::new(emulator.bot_token()).proxy(emulator.base_url())
//! let operator = emulator.add_user("operator");
//! emulator.post_as(&operator, emulator.channel_id(), "hello bot")?;
//! let seen = emulator.messages(emulator.channel_id());
//! assert_eq!(seen[0].content, "hello bot");
//! emulator.faults().fail_next("POST /channels/{channel_id}/messages", 1, 429)?;
//! # Ok(()) }
//! ```

mod actions;
mod components;
mod config;
mod control;
mod errors;
mod faults;
mod gateway;
mod intents;
mod interactions;
mod message_content;
mod multipart;
mod objects;
mod ratelimit;
mod responses;
mod rest;
mod routes;
mod server;
mod sessions;
mod snowflake;
mod state;
mod tokens;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use emulator_host::Host;
use tokio::runtime::Runtime;

use crate::state::World;
pub use crate::{
    components::{button_style, component_type},
    config::Config,
    errors::Error,
    faults::{DEFAULT_INJECTED_RETRY_AFTER, Faults},
    gateway::close_code,
    intents::Intents,
    ratelimit::{Limit, RateLimits},
    routes::{ROUTES, Route, RoutePattern},
    snowflake::{DISCORD_EPOCH_MS, Snowflake},
    state::{
        Attachment, InteractionHandle, Message, MessageReference, Reaction, RequestRecord, Seen,
        ThreadInfo, UserHandle, channel_type, message_flag, message_type, permission,
    },
};

/// The state every task shares, behind one lock (never held across an `.await`).
pub(crate) struct Shared {
    world: Mutex<World>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running emulator. It has its own tokio runtime, so it works from sync tests and from any
/// async runtime; dropping it stops it.
pub struct Emulator {
    shared: Arc<Shared>,
    host: Host,
    token: String,
    bot_id: Snowflake,
    guild_id: Snowflake,
    channel_id: Snowflake,
    hidden_channel_id: Snowflake,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator on 127.0.0.1 (on a free port unless [`Config::port`] says otherwise).
    ///
    /// # Errors
    ///
    /// When the runtime cannot be built or the port cannot be bound.
    pub fn start(config: Config) -> Result<Emulator, Error> {
        let host = Host::bind("discord-emulator", config.port)?;
        let port = host.port();
        let mut world = World::new(&config);
        world.port = port;
        let emulator = Emulator {
            token: world.bot_token.clone(),
            bot_id: world.bot_id,
            guild_id: world.guild.id,
            channel_id: world.general_id,
            hidden_channel_id: world.hidden_id,
            shared: Arc::new(Shared {
                world: Mutex::new(world),
            }),
            host,
        };
        let shared = Arc::clone(&emulator.shared);
        emulator.host.serve(move |listener, shutdown| {
            server::serve(listener, Arc::clone(&shared), shutdown)
        });
        Ok(emulator)
    }

    fn runtime(&self) -> &Runtime {
        self.host.runtime()
    }

    /// Stops serving: the port is released and every connection (HTTP and gateway) is dropped
    /// without a close frame, as when a server dies. State, sessions included, is kept.
    pub fn stop(&self) {
        self.host.stop();
    }

    /// Serves again on the same port after [`stop`](Self::stop) (or stops first if running).
    /// Gateway sessions can be resumed.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound again within a few seconds.
    pub fn restart(&self) -> Result<(), Error> {
        Ok(self.host.restart()?)
    }

    /// Whether it is serving (not [`stop`](Self::stop)ped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.host.is_running()
    }

    /// `http://127.0.0.1:PORT`: give it to serenity's `HttpBuilder::proxy`; REST is under
    /// `/api/v10`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.host.port())
    }

    /// `ws://127.0.0.1:PORT/gateway`, what `GET /gateway` answers.
    #[must_use]
    pub fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/gateway", self.host.port())
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// The bot token the emulator started with (send `Authorization: Bot <token>`); after
    /// [`reset_bot_token`](Self::reset_bot_token) it is refused.
    #[must_use]
    pub fn bot_token(&self) -> &str {
        &self.token
    }

    /// Replaces the bot token, as Developer Portal → Bot → Reset Token does: from now on REST
    /// calls and Identify with the old token get 401 / close 4004. Connections already open
    /// stay open. Answers the new token.
    pub fn reset_bot_token(&self) -> String {
        self.shared.lock().reset_bot_token()
    }

    /// Where the emulator is and what it holds, as JSON: `base_url`, `gateway_url`,
    /// `control_url`, `bot_token` (the current one), `bot_user_id`, `guild_id`, `channel_id`,
    /// `hidden_channel_id` — what the binary prints and `GET /_emulator` answers.
    #[must_use]
    pub fn info(&self) -> serde_json::Value {
        self.shared.lock().info()
    }

    /// The bot user's id (also the application's id).
    #[must_use]
    pub fn bot_user_id(&self) -> Snowflake {
        self.bot_id
    }

    /// The guild's id.
    #[must_use]
    pub fn guild_id(&self) -> Snowflake {
        self.guild_id
    }

    /// A text channel the bot can see and post in.
    #[must_use]
    pub fn channel_id(&self) -> Snowflake {
        self.channel_id
    }

    /// A text channel the bot cannot see: its REST calls there get 403 Missing Access (50001)
    /// and it receives no events from it.
    #[must_use]
    pub fn hidden_channel_id(&self) -> Snowflake {
        self.hidden_channel_id
    }

    /// Adds a human guild member. It may call the REST API with `Authorization: <token>`.
    pub fn add_user(&self, name: &str) -> UserHandle {
        self.shared.lock().add_user(name)
    }

    /// Adds a text channel, visible to the bot or not.
    pub fn add_channel(&self, name: &str, visible_to_bot: bool) -> Snowflake {
        self.shared.lock().add_channel(name, visible_to_bot)
    }

    /// Adds a guild role with `permissions` ([`permission`] bits) and answers its id.
    pub fn add_role(&self, name: &str, permissions: u64) -> Snowflake {
        self.shared.lock().add_role(name, permissions)
    }

    /// Gives `user` (a human's id or [`bot_user_id`](Self::bot_user_id)) a role. Message and
    /// reaction events carry it in `member.roles` from then on.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 10007 Unknown Member or 10011 Unknown Role.
    pub fn assign_role(&self, user: Snowflake, role: Snowflake) -> Result<(), Error> {
        let mut world = self.shared.lock();
        if !world.roles.contains_key(&role) {
            return Err(Error::Api {
                status: 404,
                code: 10011,
                message: "Unknown Role".to_owned(),
            });
        }
        let member = world.users.get_mut(&user).ok_or_else(|| Error::Api {
            status: 404,
            code: 10007,
            message: "Unknown Member".to_owned(),
        })?;
        if !member.roles.contains(&role) {
            member.roles.push(role);
        }
        Ok(())
    }

    /// Replaces what `@everyone` may do in the guild (default [`permission::EVERYONE`]).
    pub fn set_everyone_permissions(&self, permissions: u64) {
        self.shared.lock().everyone_permissions = permissions;
    }

    /// Sets the permission overwrite of a text channel for `target`: a role, the guild's id
    /// (`@everyone`), or a user (a member overwrite). Threads follow their parent channel.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 10003 when `channel` is no text channel of the guild.
    pub fn set_channel_overwrite(
        &self,
        channel: Snowflake,
        target: Snowflake,
        allow: u64,
        deny: u64,
    ) -> Result<(), Error> {
        if self
            .shared
            .lock()
            .set_overwrite(channel, target, Some((allow, deny)))
        {
            Ok(())
        } else {
            Err(unknown_channel())
        }
    }

    /// Removes the overwrite for `target` from a text channel.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 10003 when `channel` is no text channel of the guild.
    pub fn remove_channel_overwrite(
        &self,
        channel: Snowflake,
        target: Snowflake,
    ) -> Result<(), Error> {
        if self.shared.lock().set_overwrite(channel, target, None) {
            Ok(())
        } else {
            Err(unknown_channel())
        }
    }

    /// The bot's permissions in a channel or thread, as Discord computes them (base
    /// permissions from `@everyone` and its roles, then the channel's overwrites).
    #[must_use]
    pub fn bot_permissions(&self, channel: Snowflake) -> u64 {
        let world = self.shared.lock();
        world
            .channels
            .get(&channel)
            .map_or(0, |c| world.permissions_in(world.bot_id, c))
    }

    /// Reacts to a message as `user`, exactly as `PUT .../reactions/{emoji}/@me` would
    /// (MESSAGE_REACTION_ADD included). `emoji` is a Unicode emoji.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the Discord error the REST call would have got.
    pub fn react_as(
        &self,
        user: &UserHandle,
        channel: Snowflake,
        message: Snowflake,
        emoji: &str,
    ) -> Result<(), Error> {
        self.shared
            .lock()
            .add_reaction(user.id, Some(channel), Some(message), emoji)?;
        Ok(())
    }

    /// Takes back `user`'s reaction, exactly as `DELETE .../reactions/{emoji}/@me` would
    /// (MESSAGE_REACTION_REMOVE included).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the Discord error the REST call would have got.
    pub fn unreact_as(
        &self,
        user: &UserHandle,
        channel: Snowflake,
        message: Snowflake,
        emoji: &str,
    ) -> Result<(), Error> {
        self.shared
            .lock()
            .remove_reaction(user.id, Some(channel), Some(message), emoji)?;
        Ok(())
    }

    /// Posts a message as `user`, exactly as `POST /channels/{channel}/messages` would
    /// (MESSAGE_CREATE included).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the Discord error the REST call would have got (unknown channel,
    /// empty or too long content, ...).
    pub fn post_as(
        &self,
        user: &UserHandle,
        channel: Snowflake,
        content: &str,
    ) -> Result<Message, Error> {
        Ok(self.shared.lock().post_as(user.id, channel, content)?)
    }

    /// Clicks the button `custom_id` on a message as `user`, as the Discord client would: the
    /// bot receives INTERACTION_CREATE (type 3 MESSAGE_COMPONENT, whatever its intents) with
    /// the answered handle's `id` and `token`, and must answer through
    /// `POST /interactions/{id}/{token}/callback` within
    /// [`Config::interaction_deadline`] (3 s), or `user` sees "This interaction failed" (see
    /// [`seen_by`](Self::seen_by)). The interaction's `application_id` is the bot user's id,
    /// which is also the application's. Works in threads too.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), discord_emulator::Error> {
    /// use discord_emulator::{Config, Emulator, Seen};
    /// let emulator = Emulator::start(Config::default())?;
    /// let operator = emulator.add_user("operator");
    /// # let (channel, message) = (emulator.channel_id(), emulator.channel_id());
    /// // ... the bot posts `message` with a button `custom_id: "yes"` ...
    /// let click = emulator.click_as(&operator, channel, message, "yes")?;
    /// // ... the bot answers the interaction ...
    /// let seen = emulator.seen_by(&operator, click.id);
    /// assert!(!seen.contains(&Seen::Failed));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when `user` cannot see the channel (50001), or it (10003) or the message
    /// (10008) does not exist; [`Error::Click`] when the message has no button with that
    /// `custom_id`, or the button is disabled or a link or premium button.
    pub fn click_as(
        &self,
        user: &UserHandle,
        channel: Snowflake,
        message: Snowflake,
        custom_id: &str,
    ) -> Result<InteractionHandle, Error> {
        interactions::click(
            &self.shared,
            self.runtime().handle(),
            user.id,
            channel,
            message,
            custom_id,
        )
    }

    /// What `user` saw of an interaction, in order: the clicker sees everything
    /// ([`Seen::Failed`] when no response came within the deadline, "is thinking...",
    /// ephemeral replies, the edited message); anyone else only what is public. Empty for an
    /// unknown interaction.
    #[must_use]
    pub fn seen_by(&self, user: &UserHandle, interaction: Snowflake) -> Vec<Seen> {
        self.shared.lock().seen_by(user.id, interaction)
    }

    /// The messages of a channel or thread, oldest first, with their full content.
    #[must_use]
    pub fn messages(&self, channel: Snowflake) -> Vec<Message> {
        self.shared.lock().channel_messages(channel)
    }

    /// One message.
    #[must_use]
    pub fn message(&self, channel: Snowflake, id: Snowflake) -> Option<Message> {
        self.shared.lock().message(channel, id).cloned()
    }

    /// The threads started in a channel, oldest first.
    #[must_use]
    pub fn threads(&self, parent: Snowflake) -> Vec<ThreadInfo> {
        let world = self.shared.lock();
        world
            .channels
            .values()
            .filter(|c| c.thread.as_ref().is_some_and(|t| t.parent_id == parent))
            .filter_map(|c| world.thread_info(c))
            .collect()
    }

    /// One thread.
    #[must_use]
    pub fn thread(&self, id: Snowflake) -> Option<ThreadInfo> {
        let world = self.shared.lock();
        world.channels.get(&id).and_then(|c| world.thread_info(c))
    }

    /// Grants privileged intents to the app (as toggling them in the Developer Portal).
    pub fn grant_privileged_intents(&self, intents: Intents) {
        let mut world = self.shared.lock();
        world.granted |= intents & Intents::PRIVILEGED;
    }

    /// Withdraws privileged intents from the app; sessions already identified keep theirs.
    pub fn revoke_privileged_intents(&self, intents: Intents) {
        let mut world = self.shared.lock();
        world.granted = world.granted - intents;
    }

    /// The privileged intents the app has.
    #[must_use]
    pub fn granted_privileged_intents(&self) -> Intents {
        self.shared.lock().granted
    }

    /// Replaces the rate limits (and empties every bucket).
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.shared.lock().limiter.set_config(limits);
    }

    /// How many 429s were answered because a bucket was exhausted (injected ones not counted):
    /// a connector that honours rate limits keeps this at zero.
    #[must_use]
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.lock().limiter.limited_count
    }

    /// Every REST request answered so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Gateway sessions that currently have a connection.
    #[must_use]
    pub fn connected_sessions(&self) -> usize {
        self.shared.lock().gateway.connected()
    }

    /// How many times the bot has identified.
    #[must_use]
    pub fn identify_count(&self) -> u32 {
        self.shared.lock().gateway.identifies
    }

    /// The fault injection handle.
    #[must_use]
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
            runtime: self.runtime().handle().clone(),
        }
    }
}

fn unknown_channel() -> Error {
    Error::Api {
        status: 404,
        code: 10003,
        message: "Unknown Channel".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_can_be_shared_across_threads() {
        assert_send_sync::<Emulator>();
        assert_send_sync::<Faults>();
        assert_send_sync::<Config>();
        assert_send_sync::<Message>();
    }
}
