//! One module per subcommand.

mod ask;
pub(crate) mod bridge;
#[cfg(feature = "tmux")]
mod demo;
mod health;
mod listen;
mod live;
mod mcp;
mod send;

mod check;
mod doctor;
mod init;
mod pair;
mod systemd;

use std::sync::Arc;

use connector_core::OrchestratorConnector;
use connector_registry::Registry;

use crate::cli::{Cli, Command, Common};
use crate::error::{Error, Exit};

/// Runs the parsed command line; answers the exit status.
pub(crate) async fn run(cli: Cli) -> Result<Exit, Error> {
    let common = &cli.common;
    match cli.command {
        Command::Health(args) => health::run(common, &args).await,
        Command::Send {
            thread,
            live: Some(live),
            finish,
            text,
            ..
        } => live::run(common, thread, &live, finish, text).await,
        Command::Send {
            thread,
            key,
            attach,
            text,
            ..
        } => send::run(common, thread, key, text, &attach).await,
        Command::Listen { count, timeout } => listen::run(common, count, timeout).await,
        #[cfg(feature = "tmux")]
        Command::Demo { socket, wait, keep } => demo::run(socket, wait, keep).await,
        Command::Ask(args) => ask::run(common, &args).await,
        Command::Check => check::run(common),
        Command::Doctor(args) => doctor::run(common, &args).await,
        Command::Init(args) => init::run(common, args),
        Command::Pair(args) => pair::run(common, &args),
        Command::Systemd(args) => systemd::run(common, &args),
        Command::Bridge(args) => bridge::run(args).await,
        Command::Mcp => mcp::run(common).await,
    }
}

/// Builds the connector the roster names (tmux without one).
async fn connect(common: &Common) -> Result<Arc<dyn OrchestratorConnector>, Error> {
    Ok(Registry::new().create(&config(common)?).await?)
}

/// The `connector` block of the roster (a roster without one, or no roster, means tmux).
fn config(common: &Common) -> Result<connector_core::ConnectorConfig, Error> {
    Ok(match common.roster.as_deref() {
        Some(path) => connector_core::ConnectorConfig::from_roster_file(path)?,
        None => connector_core::ConnectorConfig::default(),
    })
}

/// An attachment as a person or an agent names it: an `http://` or `https://` URL is passed on
/// as a link, anything else is a local file for the connector to upload.
pub(crate) fn attachment(spec: &str) -> connector_core::Attachment {
    if spec.starts_with("https://") || spec.starts_with("http://") {
        connector_core::Attachment::Url(spec.to_owned())
    } else {
        connector_core::Attachment::Path(spec.into())
    }
}
