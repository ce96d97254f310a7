//! Test support: a real Conduit homeserver on 127.0.0.1 for the Matrix connector's tests.
//!
//! [`Conduit::start`] runs the `conduit` binary `cargo xtask test` builds from `../shared/conduit`
//! (`$CONDUIT_CACHE/bin/conduit`, else `$HOME/.cache/orchestrator-connectors/conduit/bin/conduit`),
//! with its own free port, SQLite database and temporary directory, registration by token and no
//! federation. Its helpers play the operator's side over plain HTTP, the way
//! `docs/deploy-matrix.md` tells an operator to: [`register`](Conduit::register) users with the
//! registration token, [`login`](Conduit::login), [`create_room`](Conduit::create_room),
//! [`send_text`](Conduit::send_text), read [`messages`](Conduit::messages) back, and
//! [`stop`](Conduit::stop) or [`restart`](Conduit::restart) the server.
//!
//! Everything panics with a readable message on failure — a missing binary included, which
//! names the command that builds it: the tests never skip for want of a homeserver.

mod binary;
mod client;
mod config;
mod server;

pub use binary::CONDUIT_CACHE;
pub use client::User;
pub use config::{REGISTRATION_TOKEN, SERVER_NAME};
pub use server::Conduit;
