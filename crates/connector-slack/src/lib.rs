//! Slack backend for `connector-core`: an orchestrator talks with its operator in a Slack
//! channel and its threads, over the Web API and Socket Mode.
//!
//! This crate is not the entry point: applications pick it through `connector-registry`
//! (`connector.kind: slack`), which lists [`DESCRIPTOR`].
//!
//! **Why by hand.** The Web API is form-encoded HTTPS POSTs answering `{"ok":…}`, and Socket
//! Mode is a WebSocket of JSON envelopes to ack: reqwest and tokio-tungstenite, already in the
//! workspace's tree, do both in a few hundred lines. `slack-morphism` would bring its own
//! HTTP/WebSocket stack (hyper-rustls, its own rate-limit and retry layer — retries must stay
//! in core's `RetryPolicy` here) and many generated models for the dozen methods used; it
//! offers nothing the no-doubles and no-loss rules need (the metadata lookup, the positions),
//! so it would cost build time and a second retry policy for no gain.
//!
//! * **Login** — the bot token (`SLACK_BOT_TOKEN`, `xoxb-…`) checked with `auth.test`; the app
//!   token (`SLACK_APP_TOKEN`, `xapp-…`) opens Socket Mode (`apps.connections.open`); the bot
//!   must be a member of the channel.
//! * **Out** — Markdown converted to `mrkdwn` with `&`, `<`, `>` escaped so no text can mention
//!   anyone or link anywhere (see `markup`); split by core's chunker into parts of at most
//!   [`MAX_MESSAGE_CHARS`] (see `outbound` for why that bound); each part carries its
//!   idempotency key in the message `metadata`, and a part whose answer was lost is looked up
//!   by that key before it is posted again: never twice. The `ts` of each part is kept by key
//!   (`slack-sent.json`), so sending the same message again — after an error, after a restart —
//!   posts nothing new. Threads by `thread_ts`.
//! * **Optional** — reactions (`reactions.add`), edits (`chat.update`), history, files out by
//!   upload v2 and in with their authenticated `url_private`. No typing indicator: Slack offers
//!   bots none outside the Assistant API (`assistant.threads.setStatus`, assistant threads
//!   only), so `typing` answers `Unsupported`.
//! * **In** — Socket Mode `events_api` envelopes, each acked only once its event was handed to
//!   a subscriber; repeats (redeliveries, the `message` + `app_mention` pair of one mention)
//!   dropped by event id and `ts`, persisted across restarts; a restart backfills from the
//!   saved positions with `conversations.history` and `conversations.replies` (see `pump`).
//! * **Who** — senders in `allowed_senders` (Slack user ids, `U…`) or paired by a code
//!   (`connector.pairing`); other bots and the bot itself never.
//! * **Questions** — Block Kit buttons; clicks (`block_actions`) go through core's question
//!   book; the message is updated with the outcome, refusals are ephemeral.
//!
//! **Catch-up time under Slack's 2025 limits.** Since 2025, apps not distributed through the
//! Slack Marketplace get `conversations.history` and `conversations.replies` at **1 request a
//! minute, 15 messages a page**. A restart after `n` missed channel messages and `t` followed
//! threads with news then needs about `⌈n/15⌉ + t` minutes to catch up (the first call is
//! free, every further one waits out the 429's `Retry-After`, up to core's
//! `RetryPolicy::max_retry_after`), during which live events queue behind the backfill. The
//! same limit applies to the no-doubles lookup after a lost `chat.postMessage` answer. Marketplace
//! apps (and internal apps created before the change) keep Tier 3 (50+ a minute, 1000 a page).
//!
//! [`SLACK_API_BASE_URL`] in the environment points the connector at another Web API than
//! `https://slack.com/api` — the `slack-emulator` in tests. TLS (for `https://slack.com` and the
//! `wss://` Socket Mode URL) is rustls with the ring provider and Mozilla's roots, one config
//! shared by both clients.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use std::collections::HashMap;
//! use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
//!
//! let config = ConnectorConfig::from_roster_str(
//!     "connector:\n  kind: slack\n  allowed_senders: ['U024BE7LH']\n  slack:\n    \
//!      channel_id: C0123456789\n",
//! )?;
//! let env = HashMap::from([
//!     ("SLACK_BOT_TOKEN".to_owned(), "xoxb-…".to_owned()),
//!     ("SLACK_APP_TOKEN".to_owned(), "xapp-…".to_owned()),
//! ]);
//! let connector = connector_slack::SlackConnector::open(&config, &env).await?;
//! connector.send(OutboundMessage::new("**PR #12 is green.** Merge?")).await?;
//! # Ok(()) }
//! ```

mod connector;
mod diagnosis;
mod health;
mod inbound;
mod interactions;
mod markup;
mod optional;
mod outbound;
mod position;
mod pump;
mod questions;
mod sent_book;
mod settings;
mod socket_mode;
mod tls;
mod web_api;

pub use connector::{DESCRIPTOR, SlackConnector};
pub use diagnosis::REQUIRED_SCOPES;
pub use outbound::MAX_MESSAGE_CHARS;
pub use pump::RECENT_THREAD;
pub use settings::SLACK_API_BASE_URL;

/// The kind name of this connector.
pub const KIND: &str = "slack";
