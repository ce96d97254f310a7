//! The one error type of `connector-registry`.

/// Why a connector could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kind is one of ours, but its backend was not compiled into this build.
    #[error(
        "connector kind `{kind}` is not compiled in: enable the `{feature}` feature of connector-registry \
         (e.g. `cargo add connector-registry --features {feature}`, or build the connector CLI with \
         `--features {feature}`)"
    )]
    NotCompiledIn {
        /// The kind asked for.
        kind: String,
        /// The cargo feature that compiles it in.
        feature: &'static str,
    },

    /// The kind is one of ours, but no release has its backend yet.
    #[error(
        "connector kind `{kind}` is not implemented in this version ({crate_name} has not been released)"
    )]
    NotImplemented {
        /// The kind asked for.
        kind: String,
        /// The crate that will provide it.
        crate_name: &'static str,
    },

    /// The backend is compiled in, but this registry was built without it.
    #[error(
        "connector kind `{kind}` is not registered in this registry: use `Registry::new()` or register it"
    )]
    NotRegistered {
        /// The kind asked for.
        kind: String,
    },

    /// Nobody knows this kind.
    #[error("unknown connector kind `{kind}`: known kinds are {known}")]
    UnknownKind {
        /// The kind asked for.
        kind: String,
        /// The kinds this registry and this release know, comma-separated.
        known: String,
    },

    /// A factory for this kind is already registered.
    #[error("connector kind `{kind}` is already registered")]
    AlreadyRegistered {
        /// The kind registered twice.
        kind: String,
    },

    /// The configuration or the connector itself failed.
    #[error(transparent)]
    Connector(#[from] connector_core::Error),
}
