//! The table of connector factories, by kind.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use connector_core::config::secrets::{Environment, ProcessEnv};
use connector_core::{
    ConnectorConfig, ConnectorDescriptor, ConnectorFuture, OrchestratorConnector, Probe,
    SetupDiagnosis,
};

use crate::error::Error;
use crate::known::KNOWN_KINDS;

/// A factory registered at run time: builds a connector from its config and the environment.
pub type DynFactory =
    Arc<dyn Fn(&ConnectorConfig, &dyn Environment) -> ConnectorFuture + Send + Sync>;

/// Connector factories by kind.
///
/// [`Registry::new`] holds every backend compiled into this build; third-party kinds are added
/// with [`register`](Self::register) or [`register_fn`](Self::register_fn).
#[derive(Clone)]
pub struct Registry {
    factories: BTreeMap<String, DynFactory>,
    setup_diagnoses: BTreeMap<String, SetupDiagnosis>,
    secrets: BTreeMap<String, &'static [&'static str]>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.factories.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

/// The descriptors of the backends compiled into this build, one per enabled feature.
const COMPILED_IN: &[ConnectorDescriptor] = &[
    #[cfg(feature = "tmux")]
    connector_tmux::DESCRIPTOR,
    #[cfg(feature = "matrix")]
    connector_matrix::DESCRIPTOR,
    #[cfg(feature = "discord")]
    connector_discord::DESCRIPTOR,
    #[cfg(feature = "telegram")]
    connector_telegram::DESCRIPTOR,
    #[cfg(feature = "slack")]
    connector_slack::DESCRIPTOR,
];

impl Registry {
    /// A registry of every backend compiled into this build.
    pub fn new() -> Self {
        let mut registry = Self::empty();
        for descriptor in COMPILED_IN.iter().copied() {
            registry
                .register(descriptor)
                .expect("compiled-in kinds are distinct");
        }
        registry
    }

    /// A registry with no kind at all.
    pub fn empty() -> Self {
        Self {
            factories: BTreeMap::new(),
            setup_diagnoses: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    /// Registers a backend by its descriptor.
    pub fn register(&mut self, descriptor: ConnectorDescriptor) -> Result<(), Error> {
        let create = descriptor.create;
        self.register_fn(descriptor.kind, move |config, env| create(config, env))?;
        self.secrets
            .insert(descriptor.kind.to_owned(), descriptor.secrets);
        if let Some(diagnose) = descriptor.diagnose_setup {
            self.setup_diagnoses
                .insert(descriptor.kind.to_owned(), diagnose);
        }
        Ok(())
    }

    /// Registers a factory for `kind` (a third-party backend, a test double).
    pub fn register_fn<F>(&mut self, kind: &str, factory: F) -> Result<(), Error>
    where
        F: Fn(&ConnectorConfig, &dyn Environment) -> ConnectorFuture + Send + Sync + 'static,
    {
        if self.factories.contains_key(kind) {
            return Err(Error::AlreadyRegistered {
                kind: kind.to_owned(),
            });
        }
        self.factories.insert(kind.to_owned(), Arc::new(factory));
        Ok(())
    }

    /// Whether a factory for `kind` is registered.
    pub fn has(&self, kind: &str) -> bool {
        self.factories.contains_key(kind)
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// The environment variables the backend of `kind` reads secrets from: its descriptor's
    /// list when registered by one, else core's table for a kind of this project (compiled in
    /// or not), else none.
    pub fn secrets_of(&self, kind: &str) -> &'static [&'static str] {
        self.secrets
            .get(kind)
            .copied()
            .or_else(|| {
                KNOWN_KINDS
                    .iter()
                    .find(|k| k.kind == kind)
                    .map(|k| k.secrets)
            })
            .unwrap_or_default()
    }

    /// Builds the connector `config` names, reading secrets from the process environment.
    pub async fn create(
        &self,
        config: &ConnectorConfig,
    ) -> Result<Arc<dyn OrchestratorConnector>, Error> {
        self.create_with_env(config, &ProcessEnv).await
    }

    /// Builds the connector `config` names, reading secrets from `env`.
    pub async fn create_with_env(
        &self,
        config: &ConnectorConfig,
        env: &dyn Environment,
    ) -> Result<Arc<dyn OrchestratorConnector>, Error> {
        config.validate()?;
        let kind = config.kind.as_str();
        let factory = self.factories.get(kind).ok_or_else(|| self.missing(kind))?;
        Ok(factory(config, env).await?)
    }

    /// Checks the setup `config` names without building the connector, for `connector doctor`
    /// when [`create_with_env`](Self::create_with_env) fails: `None` when the backend offers no
    /// such check (see [`ConnectorDescriptor::diagnose_setup`]) or is not registered.
    pub async fn diagnose_setup_with_env(
        &self,
        config: &ConnectorConfig,
        env: &dyn Environment,
    ) -> Option<Vec<Probe>> {
        let diagnose = self.setup_diagnoses.get(config.kind.as_str())?;
        Some(diagnose(config, env).await)
    }

    /// Builds the connector named by the roster at `path`; no roster (or no `connector` block
    /// in it) means tmux.
    pub async fn create_from_roster(
        &self,
        path: Option<&Path>,
    ) -> Result<Arc<dyn OrchestratorConnector>, Error> {
        let config = match path {
            Some(path) => ConnectorConfig::from_roster_file(path)?,
            None => ConnectorConfig::default(),
        };
        self.create(&config).await
    }

    /// The error for a kind with no factory here.
    fn missing(&self, kind: &str) -> Error {
        match KNOWN_KINDS.iter().find(|k| k.kind == kind) {
            Some(known) if !known.released => Error::NotImplemented {
                kind: kind.to_owned(),
                crate_name: known.crate_name,
            },
            Some(known) if !known.compiled_in => Error::NotCompiledIn {
                kind: kind.to_owned(),
                feature: known.feature,
            },
            Some(_) => Error::NotRegistered {
                kind: kind.to_owned(),
            },
            None => {
                let mut known: Vec<&str> = KNOWN_KINDS
                    .iter()
                    .map(|k| k.kind)
                    .chain(self.kinds())
                    .collect();
                known.sort_unstable();
                known.dedup();
                Error::UnknownKind {
                    kind: kind.to_owned(),
                    known: known.join(", "),
                }
            }
        }
    }
}
