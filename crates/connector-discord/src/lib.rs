//! Discord backend for `connector-core`: an orchestrator talks with its operator in a Discord
//! channel and its threads.
//!
//! This crate is not the entry point: applications pick it through `connector-registry`
//! (`connector.kind: discord`), which lists [`DESCRIPTOR`]. It uses serenity 0.12 for the
//! gateway and makes its REST calls itself, so that every rate limit is handled by
//! connector-core's `RetryPolicy` (serenity's own limiter is always off).
//!
//! * **Login** — the bot token from `DISCORD_BOT_TOKEN` (or `_FILE`); `users/@me` names the
//!   bot, and the channel must be visible to it.
//! * **Out** — long text split by the shared chunker into parts of at most 2000 characters,
//!   each posted with its idempotency key as `nonce` and `enforce_nonce`, so a retry never
//!   posts twice. A `thread_id` naming a message of the channel starts a thread from it.
//! * **In** — MESSAGE_CREATE in the channel and its threads (new threads are joined), in
//!   gateway order, through the shared inbox; each conversation's last delivered id is saved
//!   afterwards, and a restart backfills from it over REST (see `pump`).
//! * **Who** — senders in `allowed_senders`, holding one of `discord.allowed_roles` or paired
//!   by a code (`connector.pairing`: strangers are answered with one, see `pairing`); with
//!   `require_mention`, only messages that mention the bot (see `access`). The operator's
//!   reactions on the bot's messages arrive as reaction events.
//! * **Health** — REST answers, token accepted, channel visible, the bot allowed to post there,
//!   gateway connected, message content not withheld; `diagnose()` checks each with its fix.
//!
//! [`DISCORD_API_BASE_URL`] in the environment points the connector at another host than
//! `https://discord.com` — a self-hosted proxy, or the `discord-emulator` in tests.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use std::collections::HashMap;
//! use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
//!
//! let config = ConnectorConfig::from_roster_str(
//!     "connector:\n  kind: discord\n  allowed_senders: ['123456789012345678']\n  discord:\n    \
//!      channel_id: '223456789012345678'\n",
//! )?;
//! let env = HashMap::from([("DISCORD_BOT_TOKEN".to_owned(), "MTA…".to_owned())]);
//! let connector = connector_discord::DiscordConnector::open(&config, &env).await?;
//! connector.send(OutboundMessage::new("**PR #12 is green.** Merge?")).await?;
//! # Ok(()) }
//! ```

mod access;
mod connector;
mod diagnosis;
mod error;
mod gateway;
mod health;
mod inbound;
mod interactions;
mod optional;
mod outbound;
mod pairing;
mod permissions;
mod position;
mod pump;
mod questions;
mod reaction_state;
mod reactions;
mod rest;
mod round_trip;
mod settings;
mod threads;

pub use connector::{DESCRIPTOR, DiscordConnector};
pub use outbound::MAX_MESSAGE_CHARS;
pub use settings::DISCORD_API_BASE_URL;

/// The kind name of this connector.
pub const KIND: &str = "discord";
