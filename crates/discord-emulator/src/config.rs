//! How an emulator is set up: its token, names, granted privileged intents, timings and limits.

use std::time::Duration;

use crate::{intents::Intents, ratelimit::RateLimits};

/// Settings for [`Emulator::start`](crate::Emulator::start), built from [`Config::default`].
///
/// ```
/// use std::time::Duration;
/// use discord_emulator::{Config, Intents};
/// let config = Config::default()
///     .token("my-bot-token")
///     .granted_privileged_intents(Intents::empty())
///     .heartbeat_interval(Duration::from_millis(500));
/// assert_eq!(config.bot_token(), Some("my-bot-token"));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) port: u16,
    pub(crate) token: Option<String>,
    pub(crate) bot_name: String,
    pub(crate) guild_name: String,
    pub(crate) channel_name: String,
    pub(crate) hidden_channel_name: String,
    pub(crate) granted: Intents,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) resume_window: Duration,
    pub(crate) reconnect_grace: Duration,
    pub(crate) nonce_window: Duration,
    pub(crate) thread_created_min_age: Duration,
    pub(crate) identify_limit: bool,
    pub(crate) rate_limits: RateLimits,
    pub(crate) interaction_deadline: Duration,
    pub(crate) interaction_token_lifetime: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            token: None,
            bot_name: "emulator-bot".to_owned(),
            guild_name: "Emulated Guild".to_owned(),
            channel_name: "general".to_owned(),
            hidden_channel_name: "staff-only".to_owned(),
            granted: Intents::MESSAGE_CONTENT | Intents::GUILD_MEMBERS,
            heartbeat_interval: Duration::from_millis(41_250),
            resume_window: Duration::from_secs(180),
            reconnect_grace: Duration::from_secs(5),
            nonce_window: Duration::from_secs(5 * 60),
            thread_created_min_age: Duration::ZERO,
            identify_limit: false,
            rate_limits: RateLimits::discord_like(),
            interaction_deadline: Duration::from_secs(3),
            interaction_token_lifetime: Duration::from_secs(15 * 60),
        }
    }
}

impl Config {
    /// The port to listen on, on 127.0.0.1 (default 0: a free one).
    #[must_use]
    pub fn port(mut self, port: u16) -> Config {
        self.port = port;
        self
    }

    /// The bot token. Send it as `Authorization: Bot <token>`. By default each start mints a
    /// fresh one shaped like Discord's (three base64url segments, the first the bot's id), which
    /// survives what client libraries do to tokens; one given here is used as it is.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Config {
        self.token = Some(token.into());
        self
    }

    /// The bot token set with [`token`](Self::token); `None`: one is minted at start (see
    /// [`Emulator::bot_token`](crate::Emulator::bot_token)).
    #[must_use]
    pub fn bot_token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The bot's username (default `emulator-bot`).
    #[must_use]
    pub fn bot_name(mut self, name: impl Into<String>) -> Config {
        self.bot_name = name.into();
        self
    }

    /// The guild's name (default `Emulated Guild`).
    #[must_use]
    pub fn guild_name(mut self, name: impl Into<String>) -> Config {
        self.guild_name = name.into();
        self
    }

    /// The names of the text channel the bot can see and of the one it cannot.
    #[must_use]
    pub fn channel_names(
        mut self,
        visible: impl Into<String>,
        hidden: impl Into<String>,
    ) -> Config {
        self.channel_name = visible.into();
        self.hidden_channel_name = hidden.into();
        self
    }

    /// The privileged intents the app has been granted in the "Developer Portal" (default
    /// `MESSAGE_CONTENT | GUILD_MEMBERS`; `GUILD_PRESENCES` is not granted). Identifying with a
    /// privileged intent outside this set closes the gateway with 4014.
    #[must_use]
    pub fn granted_privileged_intents(mut self, intents: Intents) -> Config {
        self.granted = intents & Intents::PRIVILEGED;
        self
    }

    /// The `heartbeat_interval` sent in Hello (default 41.25 s, as Discord). A connection that
    /// sends no heartbeat for 1.5 intervals is closed with 4009.
    #[must_use]
    pub fn heartbeat_interval(mut self, interval: Duration) -> Config {
        self.heartbeat_interval = interval;
        self
    }

    /// How long a disconnected session stays resumable (default 3 minutes; the docs say the
    /// session "will remain active and timeout after a few minutes").
    #[must_use]
    pub fn resume_window(mut self, window: Duration) -> Config {
        self.resume_window = window;
        self
    }

    /// How long after a Reconnect (op 7) the server closes a connection the client kept open
    /// (default 5 s: "a few seconds").
    #[must_use]
    pub fn reconnect_grace(mut self, grace: Duration) -> Config {
        self.reconnect_grace = grace;
        self
    }

    /// How long `enforce_nonce` remembers a nonce (default 5 minutes: "the past few minutes").
    #[must_use]
    pub fn nonce_window(mut self, window: Duration) -> Config {
        self.nonce_window = window;
        self
    }

    /// How old a message must be for a thread started from it to post a `THREAD_CREATED`
    /// (type 18) message in the parent channel. The docs say "older is still TBD, but is
    /// currently set to a very small value"; the default is zero, so every public thread started
    /// from a message posts one and connectors are always tested against it.
    #[must_use]
    pub fn thread_created_min_age(mut self, age: Duration) -> Config {
        self.thread_created_min_age = age;
        self
    }

    /// Answer an Identify sent within 5 s of the previous one with Invalid Session (op 9), as
    /// `max_concurrency: 1` does on Discord (default off, so tests can re-identify at once).
    #[must_use]
    pub fn enforce_identify_limit(mut self, yes: bool) -> Config {
        self.identify_limit = yes;
        self
    }

    /// The HTTP rate limits (default [`RateLimits::discord_like`]).
    #[must_use]
    pub fn rate_limits(mut self, limits: RateLimits) -> Config {
        self.rate_limits = limits;
        self
    }

    /// How long after a click the bot may send its first response (default 3 s: "you must send
    /// an initial response within 3 seconds of receiving the event"). A later callback answers
    /// 10062 Unknown interaction, and the clicking user sees "This interaction failed" — as
    /// does one whose click nobody answers in time.
    #[must_use]
    pub fn interaction_deadline(mut self, deadline: Duration) -> Config {
        self.interaction_deadline = deadline;
        self
    }

    /// How long an interaction token works for follow-ups and edits (default 15 minutes:
    /// "Interaction tokens are valid for 15 minutes").
    #[must_use]
    pub fn interaction_token_lifetime(mut self, lifetime: Duration) -> Config {
        self.interaction_token_lifetime = lifetime;
        self
    }
}
