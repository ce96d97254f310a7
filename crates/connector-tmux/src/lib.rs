//! tmux backend for `connector-core`: an orchestrator talks with its operator through tmux.
//!
//! This crate is the tmux-specific layer; applications use it through `connector-registry`.
//! [`TmuxConnector`] implements `connector_core::OrchestratorConnector` on top of
//! [`TmuxSession`]; [`DESCRIPTOR`] is what the registry lists.
//! While the panes' output is read, everything goes through **one persistent control-mode
//! client** (`tmux -C`), built on `tmux_interface` 0.4 (command builders and the control-mode
//! line parser) and a real tmux server; without a reader (a one-shot send) commands run in
//! short-lived plain clients instead ([`TmuxSession::open_without_output`]), because tmux 3.3a
//! can crash when control clients come and go (see the `control` and `plain` modules):
//!
//! * commands (`new-window`, `set-buffer`, `paste-buffer`, `send-keys`,
//!   `display-message -p`, …) are written to the client's stdin, one per line, quoted for
//!   tmux's parser ([`quoting`] explains how), and answered by
//!   `%begin/%end/%error` blocks matched to them in order;
//! * pane output arrives as `%output` notifications and becomes inbound lines;
//! * every operation has a time limit; when the server dies, operations fail with
//!   [`TmuxError::Disconnected`] and [`TmuxSession::reconnect`] starts a new client.
//!
//! Two modes ([`Mode`]):
//!
//! * **Operator console** (default, session `orchestrator`): see [`console`] — outbound text
//!   is shown and never executed, every typed line is one inbound message.
//! * **Pane endpoint**: an existing pane such as an agent CLI — see [`pane`] — outbound text
//!   is typed into the program literally as one paste followed by Enter; its printed lines
//!   are inbound.
//!
//! Threads are windows of the conversation's session ([`threads`]); lines are never
//! delivered twice, reconnects included ([`dedupe`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), connector_tmux::TmuxError> {
//! use connector_tmux::{Socket, TmuxSession, TmuxSettings};
//!
//! let mut settings = TmuxSettings::pane("work:1.0");
//! settings.socket = Socket::Name("agents".into());
//! let session = TmuxSession::open(settings).await?;
//! let delivered = session.send_to_pane("summarise the diff", None, true).await?;
//! assert_eq!(delivered.seen, Some(true));
//! # Ok(()) }
//! ```

mod ansi;
mod connector;
pub mod console;
mod control;
pub mod dedupe;
mod diagnosis;
mod error;
mod health;
mod hex;
mod lines;
mod link;
pub mod pane;
mod plain;
mod protocol;
pub mod quoting;
mod router;
pub mod sanitize;
mod session;
mod settings;
mod socket;
pub mod status_lines;
pub mod threads;

pub use connector::{CONSOLE_SENDER, DESCRIPTOR, KIND, TmuxConnector, settings_from_config};
pub use dedupe::{LineId, ServerId, SourceKey};
pub use error::TmuxError;
pub use health::Probe;
pub use router::PaneLine;
pub use session::{Delivered, TmuxSession};
pub use settings::{DEFAULT_CONSOLE_SESSION, LineBreaks, Mode, TmuxSettings};
pub use socket::Socket;
pub use threads::ThreadWindow;
