//! A Telegram Bot API server for offline tests, written to the Bot API docs and checked
//! against a machine-readable copy of them (api.json, Bot API 10.1).
//!
//! [`Emulator::start`] serves, on `127.0.0.1`, `POST`/`GET /bot<token>/<method>` for the
//! methods a bot connector uses ([`METHODS`]), with parameters as JSON, urlencoded or
//! multipart bodies or a query string, answering `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":…,"description":…}` as the real API does, and files at
//! `/file/bot<token>/<file_path>`. Tests drive it through the handle: add users, groups and
//! forums, post, edit, react and click inline buttons as users, read what the bot posted, and
//! inject faults.
//!
//! ```no_run
//! use telegram_emulator::{Config, Emulator, Post};
//!
//! # fn main() -> Result<(), telegram_emulator::Error> {
//! let emulator = Emulator::start(Config::default())?;
//! // A client library: base URL `emulator.base_url()`, token `emulator.token()`.
//! let operator = emulator.add_user("operator");
//! let dm = emulator.private_chat(&operator);
//! emulator.post_as(&operator, dm, "/start")?;           // a `message` update for getUpdates
//! let forum = emulator.add_forum("ops", &[&operator]);
//! let topic = emulator.create_topic_as(&operator, forum, "incident")?;
//! emulator.post(&operator, forum, Post::text("hi bot").in_topic(topic))?;
//! emulator.faults().lose_next_response("sendMessage")?; // applied, answer lost
//! # Ok(()) }
//! ```
//!
//! Where behaviour comes from: the official Bot API page (<https://core.telegram.org/bots/api>)
//! through its machine-readable scrape, `../shared/telegram-bot-api-spec/api.json`
//! (PaulSonOfLars/telegram-bot-api-spec, MIT). [`METHODS`] lists every served method's
//! parameters as the spec does (a test keeps them equal), and the tests check every `result`
//! they see against the spec's type definitions.

mod actions;
mod config;
mod delivery;
mod errors;
mod fault_state;
mod faults;
mod form;
mod html;
mod image_size;
mod method_params;
mod methods;
mod multipart;
mod objects;
mod params;
mod polling;
mod post;
mod server;
mod state;
mod updates;
mod utf16;

use std::sync::Arc;

use emulator_host::Host;

use crate::state::{Shared, World};
pub use crate::{
    config::Config,
    errors::Error,
    faults::Faults,
    method_params::{METHODS, Method, Param},
    post::Post,
    state::{CallbackAnswer, CallbackRecord, ChatKind, Content, Media, Message, Topic, UserHandle},
};

/// A running emulator. It has its own tokio runtime, so it works from sync tests and from any
/// async runtime; dropping it stops it.
pub struct Emulator {
    shared: Arc<Shared>,
    host: Host,
    token: String,
    bot_id: i64,
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
        let host = Host::bind("telegram-emulator", config.port)?;
        let world = World::new(&config);
        let emulator = Emulator {
            token: world.token.clone(),
            bot_id: world.bot_id,
            shared: Arc::new(Shared::new(world)),
            host,
        };
        let shared = Arc::clone(&emulator.shared);
        emulator.host.serve(move |listener, shutdown| {
            server::serve(listener, Arc::clone(&shared), shutdown)
        });
        Ok(emulator)
    }

    /// Stops serving: the port is released and open connections (long polls included) are
    /// dropped without an answer, as when a server dies. State is kept.
    pub fn stop(&self) {
        self.host.stop();
    }

    /// Serves again on the same port after [`stop`](Self::stop) (or stops first if running),
    /// with the same state: users, chats, messages, pending updates, files.
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

    /// `http://127.0.0.1:PORT`: the API server URL to give a client library (methods are at
    /// `{base_url}/bot{token}/{method}`).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.host.port())
    }

    /// `{base_url}/bot{token}`: append `/{method}` to call one.
    #[must_use]
    pub fn bot_url(&self) -> String {
        format!("{}/bot{}", self.base_url(), self.token)
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// The bot token (`<bot id>:<secret>`).
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The bot's user id.
    #[must_use]
    pub fn bot_id(&self) -> i64 {
        self.bot_id
    }

    /// The id of a user's private chat with the bot (the user's id).
    #[must_use]
    pub fn private_chat(&self, user: &UserHandle) -> i64 {
        user.id
    }

    /// A handle to inject faults.
    #[must_use]
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }
}
