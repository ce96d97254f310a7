//! What the round-trip benchmarks of the tmux, Matrix, Discord, Telegram and Slack connectors
//! share.
//!
//! Each backend crate has one harness-less bench, `benches/roundtrip.rs`, that measures its
//! connector against the same work done plainly and writes its own section of
//! `docs/benchmarks.md` (`cargo xtask bench` runs them). The measurements and the prose that
//! explains them stay in each bench; this crate holds the rest, once:
//!
//! * [`cli`]: the flags (`--quick`, `--write <path>`), `main`'s exit code, printing and writing
//!   the section;
//! * [`stats`]: nearest-rank percentiles, sequential samples ([`Measured`]) and bursts
//!   ([`Burst`]);
//! * [`mod@format`]: how figures are written in the tables (`0.42 ms`, `12.3 MiB`);
//! * [`machine`]: what the figures were measured on and the report's section heading;
//! * [`memory`]: resident set sizes from `/proc/self/status`;
//! * [`paired`]: the plan, results, targets and runner of a bench that measures the connector
//!   against a raw client path by path (Matrix, Discord, Telegram, Slack);
//! * [`listening`]: waiting for texts on one receiving path, and the inbound and burst
//!   measurements of the benches whose two paths take turns (Telegram, Slack);
//! * [`report`]: replacing one bench's marked section of the report file.
//!
//! A dev-dependency only; not published.

// A benchmark reports to a person at a terminal: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod format;
pub mod listening;
pub mod machine;
pub mod memory;
pub mod paired;
pub mod report;
pub mod stats;

pub use cli::{Options, publish, run_main, usage};
pub use format::{kib, ms};
pub use machine::{Machine, tool};
pub use memory::Rss;
pub use report::{replace_section, write_section};
pub use stats::{Burst, Measured, delivered_in_order, percentile, ratio};
