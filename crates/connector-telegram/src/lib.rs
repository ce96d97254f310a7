//! Telegram backend for `connector-core`: an orchestrator talks with its operator in a
//! Telegram chat — a private chat, a group, or a forum supergroup whose topics are threads.
//!
//! This crate is not the entry point: applications pick it through `connector-registry`
//! (`connector.kind: telegram`), which lists [`DESCRIPTOR`].
//!
//! **Why plain reqwest, no Bot API crate.** Every retry must be connector-core's
//! `RetryPolicy` (429's `retry_after` honoured, the same backoff as every backend), and a send
//! whose answer was lost must not be repeated — the Bot API has no idempotency key — which a
//! client library retrying on its own would break. The surface needed is small (a dozen
//! methods, a few object fields), so the calls are made by hand (`api`) and the updates parsed
//! leniently (`updates`): a field Telegram adds never breaks a batch.
//!
//! * **Login** — the bot token from `TELEGRAM_BOT_TOKEN` (or `_FILE`, or a systemd
//!   credential); `getMe` names the bot, and `getChat` must show it the chat.
//! * **Out** — Markdown rendered in Telegram's HTML parse mode ([`markup`]) and split within
//!   4096 UTF-16 units; each part posted with `sendMessage`. A send whose answer was lost after
//!   the request went out is not repeated: it fails with `Error::MaybeDelivered`.
//! * **In** — one `getUpdates` long poll, started at the first `subscribe` or `ask` (a
//!   connector that only sends never polls: only one process can). The offset moves past an
//!   update only once it was handed to the inbox and saved (`updates.json`), so a kill loses
//!   nothing and repeats at most one update. A first start skips what was waiting; a position
//!   older than Telegram's 24 h retention is not trusted (see `position`). Edits are not
//!   delivered again; service messages are skipped; an update that does not parse is skipped,
//!   logged and counted.
//! * **Threads** — in a forum supergroup a thread is a forum topic (its `message_thread_id`);
//!   sending into a thread named by a message of General starts a topic for it
//!   (`createForumTopic`, named after the message's first line), and a reply never lands in
//!   General. Elsewhere a
//!   thread is a reply chain, named by the id of the message that started it, and replies use
//!   `reply_parameters` (see `threads`).
//! * **Files** — images out as photos, the rest as documents; inbound files carry a download
//!   URL from `getFile`, which contains the bot token (as Telegram's file URLs do): treat
//!   inbound attachment URLs as secrets.
//! * **Who** — senders in `allowed_senders` or paired by a code (`connector.pairing`:
//!   strangers are answered with one).
//! * **Questions** — an inline keyboard; a press is answered with `answerCallbackQuery` and the
//!   question's message edited to the outcome; typing the choice works too.
//! * **History** — `Unsupported`: the Bot API cannot read a chat's past messages. The bot's own
//!   messages never come back as updates, so there is no round-trip probe either.
//! * **Health** — `getMe`, and the poller's state (409 Conflict: another poller or a webhook);
//!   `diagnose()` checks token, chat, forum, privacy mode, rights, webhook and polling, each
//!   with its fix.
//!
//! [`TELEGRAM_API_BASE_URL`] in the environment points the connector at another server than
//! `https://api.telegram.org` — a self-hosted Bot API server, or the `telegram-emulator` in
//! tests.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use std::collections::HashMap;
//! use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage};
//!
//! let config = ConnectorConfig::from_roster_str(
//!     "connector:\n  kind: telegram\n  allowed_senders: ['123456789']\n  telegram:\n    \
//!      chat_id: -1001234567890\n",
//! )?;
//! let env = HashMap::from([("TELEGRAM_BOT_TOKEN".to_owned(), "123:ABC…".to_owned())]);
//! let connector = connector_telegram::TelegramConnector::open(&config, &env).await?;
//! connector.send(OutboundMessage::new("**PR #12 is green.** Merge?")).await?;
//! # Ok(()) }
//! ```

mod api;
mod connector;
mod diagnosis;
mod error;
mod health;
pub mod markup;
mod optional;
mod outbound;
mod position;
mod pump;
mod questions;
mod settings;
mod threads;
mod updates;

pub use connector::{DESCRIPTOR, TelegramConnector};
pub use settings::TELEGRAM_API_BASE_URL;

/// The kind name of this connector.
pub const KIND: &str = "telegram";
