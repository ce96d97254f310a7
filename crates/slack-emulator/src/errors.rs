//! The crate's one error type: what the handle's calls can fail with.

/// Everything the emulator's handle can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The emulator could not be hosted: its runtime or its port (see `emulator_host`).
    #[error(transparent)]
    Host(#[from] emulator_host::HostError),
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
