//! Matrix backend for `connector-core`: an orchestrator talks with its operator in a Matrix room.
//!
//! This crate is not the entry point: applications pick it through `connector-registry`
//! (`connector.kind: matrix`), which lists [`DESCRIPTOR`]. It is built on `matrix-sdk` 0.18
//! against any homeserver (tested with Synapse).
//!
//! * **Login** — the access token alone, from `MATRIX_ACCESS_TOKEN` (or `_FILE`): the
//!   homeserver's `whoami` names its user, which must be `connector.matrix.user_id`.
//! * **Out** — Markdown rendered into `formatted_body`, long text split by the shared chunker,
//!   each part sent with a transaction id derived from the message's idempotency key, so a
//!   retry never posts twice. Threads are `m.thread` relations; a thread's id is its root's
//!   event id. Files are uploaded first, then sent as `m.image` / `m.file` events after the
//!   text (see `attachments`).
//! * **In** — one `/sync` loop, filtered to the room, hands messages to the shared inbox and
//!   saves its position only afterwards: a restart delivers what arrived meanwhile exactly
//!   once, and the first start replays no history (see `sync_loop`). Files of encrypted rooms
//!   are downloaded, decrypted and handed over as `file://` URLs (see `inbound_files`);
//!   messages that come before their room keys wait for them (see `undecrypted`).
//! * **Questions** — [`ask`](connector_core::OrchestratorConnector::ask) posts the question
//!   as a message that lists the choices with keycaps (1️⃣ Merge, 2️⃣ Close, …) and says how to
//!   answer, and the bot reacts to it with one keycap per choice, so in Element the operator
//!   taps one. The operator can also type the choice's number, label or id in the question's
//!   thread (the thread it was asked in, or the one its message starts), as a reply to it, or
//!   as `<choice> <question id>` anywhere; where the question is asked in the main timeline, a
//!   choice typed there answers the newest open one. The first valid answer is delivered once
//!   (an `InboundMessage` whose `answer` names the question) and the question is edited to
//!   its outcome (`✅ Merge — alice, 14:02 UTC`), the keycaps taken back; a late answer, a
//!   stranger's or a keycap with no choice behind it is told why in a notice in the
//!   question's thread, and a stranger's is counted in health. Questions live in
//!   `<state_dir>/questions.yaml`: an answer given while the connector is down comes through
//!   `/sync` after the restart and is delivered once (see `answers`, `question_surface`).
//! * **Health** — homeserver reachable, token accepted, bot joined to the room; `diagnose()`
//!   checks the whole setup, each failure with a fix (see `diagnosis`).
//! * **State** — one connector per state directory, enforced by a lock (see `state_lock`).
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use std::collections::HashMap;
//! use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
//!
//! let config = ConnectorConfig::from_roster_str(
//!     "connector:\n  kind: matrix\n  allowed_senders: ['@alice:example.org']\n  matrix:\n    \
//!      homeserver_url: https://matrix.example.org\n    user_id: '@bot:example.org'\n    \
//!      room_id: '!abcdefghijklmnop:example.org'\n",
//! )?;
//! let env = HashMap::from([("MATRIX_ACCESS_TOKEN".to_owned(), "syt_…".to_owned())]);
//! let connector = connector_matrix::MatrixConnector::open(&config, &env).await?;
//! let receipt = connector.send(OutboundMessage::new("**PR #12 is green.** Merge?")).await?;
//! # Ok(()) }
//! ```

mod answers;
mod attachments;
mod client;
mod connector;
mod delivered_reactions;
mod diagnosis;
mod disk;
mod error;
mod health;
mod history;
mod inbound;
mod inbound_files;
mod outbound;
mod own_events;
mod pages;
mod position;
mod question_surface;
mod requests;
mod room_sender;
mod round_trip;
mod settings;
mod state_lock;
mod strangers;
mod sync_loop;
mod threads;
mod timeline;
#[cfg(feature = "e2e-encryption")]
mod undecrypted;

pub use connector::{DESCRIPTOR, MAX_PART_BYTES, MatrixConnector};

/// The kind name of this connector.
pub const KIND: &str = "matrix";
