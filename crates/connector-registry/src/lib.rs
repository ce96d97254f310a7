//! Builds the orchestrator connector a roster names.
//!
//! Each backend is a crate of its own behind a cargo feature of the same name (`tmux`, the
//! default; `matrix`, `discord`, `telegram` and `slack`; `all` for every one). The backends
//! compiled in are listed from their descriptors, the way sqlx's `Any` driver lists its drivers;
//! asking for a kind that is not compiled in is an [`Error`] naming the feature to enable, and a
//! third-party crate can [`register`](Registry::register_fn) a kind of its own at run time.
//!
//! ```
//! # async fn demo() -> Result<(), connector_registry::Error> {
//! use connector_registry::Registry;
//! use connector_core::config::ConnectorConfig;
//!
//! let registry = Registry::new();
//! let config = ConnectorConfig::from_roster_str("connector: {kind: tmux}")?;
//! let connector = registry.create(&config).await?;
//! println!("talking over {}", connector.kind());
//! # Ok(()) }
//! ```

mod error;
mod known;
mod registry;

pub use error::Error;
pub use known::{KNOWN_KINDS, KnownKind, is_known_kind, resolve_kind};
pub use registry::{DynFactory, Registry};
