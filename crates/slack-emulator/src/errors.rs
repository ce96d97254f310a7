//! The crate's one error type: what the handle's calls can fail with.

use std::io;

/// Everything the emulator's handle can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The emulator's tokio runtime could not be built.
    #[error("could not build the emulator's runtime")]
    Runtime(#[source] io::Error),
    /// The port could not be bound.
    #[error("could not bind 127.0.0.1:{port}")]
    Bind {
        /// The port asked for (0 for any).
        port: u16,
        /// Why binding failed.
        #[source]
        source: io::Error,
    },
    /// No user has this id.
    #[error("no user {0}")]
    UnknownUser(String),
    /// No channel has this id.
    #[error("no channel {0}")]
    UnknownChannel(String),
    /// The channel has no message with this ts.
    #[error("no message {ts} in channel {channel}")]
    UnknownMessage {
        /// The channel id.
        channel: String,
        /// The message's ts.
        ts: String,
    },
    /// The message has no interactive element with this `action_id`.
    #[error("message {ts} has no element with action_id {action_id}")]
    UnknownAction {
        /// The message's ts.
        ts: String,
        /// The action id asked for.
        action_id: String,
    },
    /// The user cannot do this to the message (e.g. edit someone else's).
    #[error("{0}")]
    NotAllowed(&'static str),
}
