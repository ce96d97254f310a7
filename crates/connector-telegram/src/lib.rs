//! Telegram backend for `connector-core`: an orchestrator talks with its operator in a
//! Telegram chat (a private chat, a group, or a forum supergroup whose topics are threads).
//!
//! Being built. What exists so far is the outbound text's way to Telegram ([`markup`]): the
//! orchestrator's Markdown rendered in Telegram's HTML parse mode so that no text can fail to
//! parse, become markup or mention anyone, and split where Telegram counts.

pub mod markup;
