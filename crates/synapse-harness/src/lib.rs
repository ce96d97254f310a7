//! Test support: a real Synapse homeserver on 127.0.0.1 for the Matrix connector's tests.
//!
//! [`Synapse::start`] runs `python -m synapse.app.homeserver` from the venv `cargo xtask test`
//! provisions (`$SYNAPSE_VENV`, else `$HOME/.cache/orchestrator-connectors/synapse-venv`), with
//! its own free port, SQLite database and temporary directory, one client-only HTTP listener, no
//! federation and relaxed rate limits. Its helpers play the operator's side over plain HTTP:
//! [`register`](Synapse::register) users, [`create_room`](Synapse::create_room),
//! [`send_text`](Synapse::send_text), read [`messages`](Synapse::messages) back, and
//! [`kill`](Synapse::kill), [`stop`](Synapse::stop) or [`restart`](Synapse::restart) the server.
//!
//! Everything panics with a readable message on failure — a missing venv included, which names
//! the command that installs it: the tests never skip for want of a homeserver.

mod client;
mod config;
mod server;
mod venv;

pub use client::User;
pub use config::{SERVER_NAME, STRICT_MESSAGE_BURST, STRICT_MESSAGE_PER_SECOND};
pub use server::Synapse;
pub use venv::SYNAPSE_VENV;
