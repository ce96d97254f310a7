//! The homeserver a test runs against — Synapse or Conduit, each a real server from its harness —
//! behind one set of helpers, so that a test body runs unchanged on both.

use conduit_harness::Conduit;
use serde_json::Value;
use synapse_harness::{Synapse, User};

/// A running homeserver of either kind.
pub enum Homeserver {
    /// Synapse, from `synapse-harness`.
    Synapse(Synapse),
    /// Conduit, from `conduit-harness`.
    Conduit(Conduit),
}

impl From<Synapse> for Homeserver {
    fn from(synapse: Synapse) -> Self {
        Self::Synapse(synapse)
    }
}

impl From<Conduit> for Homeserver {
    fn from(conduit: Conduit) -> Self {
        Self::Conduit(conduit)
    }
}

/// Runs `$call` on whichever server it is (both harnesses share `homeserver_client::User`).
macro_rules! either {
    ($self:ident, $server:ident => $call:expr) => {
        match $self {
            Homeserver::Synapse($server) => $call,
            Homeserver::Conduit($server) => $call,
        }
    };
}

impl Homeserver {
    /// Which server this is, for messages: `Synapse` or `Conduit`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Synapse(_) => "Synapse",
            Self::Conduit(_) => "Conduit",
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        either!(self, server => server.base_url())
    }

    /// The temporary directory the server runs in.
    pub fn dir(&self) -> &std::path::Path {
        either!(self, server => server.dir())
    }

    /// Registers a user (Synapse: the shared-secret admin API; Conduit: the registration token).
    pub async fn register(&self, localpart: &str) -> User {
        either!(self, server => server.register(localpart).await)
    }

    /// Creates a private room owned by `owner` and joins every member; answers its id.
    pub async fn create_room(&self, owner: &User, members: &[&User]) -> String {
        either!(self, server => server.create_room(owner, members).await)
    }

    /// Sends an `m.text` message (in `thread_root`'s thread, if given); answers its event id.
    pub async fn send_text(
        &self,
        user: &User,
        room_id: &str,
        text: &str,
        thread_root: Option<&str>,
    ) -> String {
        either!(self, server => server.send_text(user, room_id, text, thread_root).await)
    }

    /// The room's latest `m.room.message` events, oldest first.
    pub async fn messages(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        either!(self, server => server.messages(user, room_id, limit).await)
    }

    /// The room's latest events of every kind, oldest first.
    pub async fn events(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        either!(self, server => server.events(user, room_id, limit).await)
    }

    /// One request, its status and JSON answer, without retries.
    pub async fn request(
        &self,
        user: Option<&User>,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        either!(self, server => server.request(user, method, path_and_query, body).await)
    }

    /// Stops the server with SIGTERM.
    pub async fn stop(&mut self) {
        either!(self, server => server.stop().await)
    }

    /// Kills the server with SIGKILL.
    pub async fn kill(&mut self) {
        either!(self, server => server.kill().await)
    }

    /// Starts the server again on the same port and database.
    pub async fn restart(&mut self) {
        either!(self, server => server.restart().await)
    }
}
