//! The CLI's errors and the exit statuses scripts can rely on.

/// Exit statuses of the `connector` command (also listed in `docs/cli.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// Success.
    Ok = 0,
    /// Any failure not listed below.
    Failure = 1,
    /// The command line is wrong (clap's own status).
    #[allow(dead_code)]
    Usage = 2,
    /// The roster or the environment is invalid.
    Config = 3,
    /// The platform cannot be reached.
    Unreachable = 4,
    /// The platform refused our credentials, or the target is not ours.
    Unauthenticated = 5,
    /// The platform refused the message, or only part of it was sent.
    SendFailed = 6,
    /// `listen --timeout` passed before `--count` messages arrived.
    Timeout = 7,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    /// Building the connector failed.
    #[error(transparent)]
    Registry(#[from] connector_registry::Error),
    /// The connector failed.
    #[error(transparent)]
    Connector(#[from] connector_core::Error),
    /// Reading the message from stdin or writing output failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The exit status for this error.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Self::Registry(connector_registry::Error::Connector(e)) | Self::Connector(e) => {
                core_exit(e)
            }
            Self::Registry(_) => Exit::Config,
            Self::Io { .. } => Exit::Failure,
        }
    }
}

fn core_exit(error: &connector_core::Error) -> Exit {
    use connector_core::Error as E;
    match error {
        E::Config { .. } | E::Secret { .. } | E::Io { .. } | E::InvalidInput { .. } => Exit::Config,
        E::Unreachable { .. } | E::Timeout { .. } | E::Transient { .. } | E::Closed { .. } => {
            Exit::Unreachable
        }
        E::Unauthorized { .. } => Exit::Unauthenticated,
        E::Rejected { .. }
        | E::PartialSend { .. }
        | E::RateLimited { .. }
        | E::Unsupported { .. } => Exit::SendFailed,
        _ => Exit::Failure,
    }
}
