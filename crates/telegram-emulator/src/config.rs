//! How an emulator is set up: port, token, the bot's names, and the timings of update ids and
//! callback queries.

use std::time::Duration;

/// Settings for [`Emulator::start`](crate::Emulator::start), built from [`Config::default`].
///
/// ```
/// use std::time::Duration;
/// let config = telegram_emulator::Config::default()
///     .token("123456:test-token")
///     .update_id_reset_after(Duration::from_secs(60));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) port: u16,
    pub(crate) token: Option<String>,
    pub(crate) bot_name: String,
    pub(crate) bot_username: String,
    pub(crate) update_id_reset_after: Duration,
    pub(crate) callback_lifetime: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            token: None,
            bot_name: "Emulator Bot".to_owned(),
            bot_username: "emulator_bot".to_owned(),
            update_id_reset_after: Duration::from_secs(7 * 24 * 60 * 60),
            callback_lifetime: Duration::from_secs(15 * 60),
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

    /// The bot token (default: one minted at start, shaped like `<bot id>:<35 characters>`).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Config {
        self.token = Some(token.into());
        self
    }

    /// The bot's `first_name` (default "Emulator Bot").
    #[must_use]
    pub fn bot_name(mut self, name: impl Into<String>) -> Config {
        self.bot_name = name.into();
        self
    }

    /// The bot's `username` without `@` (default `emulator_bot`).
    #[must_use]
    pub fn bot_username(mut self, username: impl Into<String>) -> Config {
        self.bot_username = username.into();
        self
    }

    /// Silence after which the next update id is chosen at random instead of following the
    /// last one (docs, Update: "at least a week"; default 7 days). See
    /// [`Emulator::advance_time`](crate::Emulator::advance_time).
    #[must_use]
    pub fn update_id_reset_after(mut self, silence: Duration) -> Config {
        self.update_id_reset_after = silence;
        self
    }

    /// How long after a click `answerCallbackQuery` is still accepted (default 15 minutes).
    #[must_use]
    pub fn callback_lifetime(mut self, lifetime: Duration) -> Config {
        self.callback_lifetime = lifetime;
        self
    }
}
