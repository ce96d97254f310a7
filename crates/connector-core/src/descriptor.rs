//! How a backend crate describes itself to the registry: its kind and its factory.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::ConnectorConfig;
use crate::config::secrets::Environment;
use crate::connector::OrchestratorConnector;
use crate::diagnosis::Probe;
use crate::error::Result;

/// A connector being built.
pub type ConnectorFuture =
    Pin<Box<dyn Future<Output = Result<Arc<dyn OrchestratorConnector>>> + Send>>;

/// Builds a connector from its configuration, reading secrets from the environment.
///
/// The function reads what it needs from its arguments before returning, so the future owns
/// everything it uses.
pub type ConnectorFactory = fn(&ConnectorConfig, &dyn Environment) -> ConnectorFuture;

/// The probes of a setup being checked.
pub type DiagnosisFuture = Pin<Box<dyn Future<Output = Vec<Probe>> + Send>>;

/// Runs a backend's doctor checks from its configuration alone, without an open connector.
///
/// `connector doctor` uses it when [`ConnectorFactory`] fails (a rejected token, a room the bot
/// is not in), so the operator still sees every check with its fix, not just the first error.
/// Like the factory, it reads what it needs from its arguments before returning.
pub type SetupDiagnosis = fn(&ConnectorConfig, &dyn Environment) -> DiagnosisFuture;

/// One backend, as its crate declares it (`connector_tmux::DESCRIPTOR`, …).
///
/// The registry lists the descriptors of the backends compiled in, the way sqlx's `Any`
/// driver lists its drivers.
#[derive(Debug, Clone, Copy)]
pub struct ConnectorDescriptor {
    /// The kind this backend serves, as written in `connector.kind`.
    pub kind: &'static str,
    /// The environment variables it reads secrets from (for `connector check`).
    pub secrets: &'static [&'static str],
    /// Builds the connector.
    pub create: ConnectorFactory,
    /// Checks the setup without building the connector, when the backend can; see
    /// [`SetupDiagnosis`].
    pub diagnose_setup: Option<SetupDiagnosis>,
}
