//! How an emulator starts: its port, the bot token's scopes, rate limits and Socket Mode timing.

use std::time::Duration;

use crate::ratelimit::RateLimits;

/// How long Slack waits for a Socket Mode envelope's ack before redelivering it.
pub const ACK_DEADLINE: Duration = Duration::from_secs(3);

/// How many times Slack redelivers an unacknowledged envelope.
pub const MAX_RETRIES: u32 = 3;

/// Settings for [`crate::Emulator::start`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The workspace's name (`auth.test`'s `team`).
    pub team_name: String,
    /// The bot user's name.
    pub bot_name: String,
    /// Scopes granted to the bot token; `None` grants every scope a served method needs.
    pub scopes: Option<Vec<String>>,
    /// Rate limits; none by default.
    pub rate_limits: RateLimits,
    /// How long an envelope waits for its ack before redelivery ([`ACK_DEADLINE`]).
    pub ack_deadline: Duration,
    /// How many redeliveries an envelope gets ([`MAX_RETRIES`]).
    pub max_retries: u32,
    /// Whether the bot's own messages come back to it as `message` events, as on Slack.
    pub echo_own_messages: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            team_name: "Emulated Workspace".to_owned(),
            bot_name: "orchestrator".to_owned(),
            scopes: None,
            rate_limits: RateLimits::none(),
            ack_deadline: ACK_DEADLINE,
            max_retries: MAX_RETRIES,
            echo_own_messages: true,
        }
    }
}

impl Config {
    /// Sets the port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Config {
        self.port = port;
        self
    }

    /// Grants exactly these scopes to the bot token.
    #[must_use]
    pub fn scopes(mut self, scopes: &[&str]) -> Config {
        self.scopes = Some(scopes.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Sets the rate limits.
    #[must_use]
    pub fn rate_limits(mut self, rate_limits: RateLimits) -> Config {
        self.rate_limits = rate_limits;
        self
    }

    /// Sets whether the bot's own messages are echoed as events.
    #[must_use]
    pub fn echo_own_messages(mut self, echo: bool) -> Config {
        self.echo_own_messages = echo;
        self
    }
}
