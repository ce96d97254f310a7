//! The CLI's errors and the exit statuses scripts can rely on.

/// Exit statuses of the `connector` command (also listed in `docs/cli.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success.
    Ok,
    /// Any failure not listed below.
    Failure,
    /// The command line is wrong (clap's own status).
    Usage,
    /// The roster or the environment is invalid.
    Config,
    /// The platform cannot be reached.
    Unreachable,
    /// The platform refused our credentials, or the target is not ours.
    Unauthenticated,
    /// The platform refused the message, or only part of it was sent.
    SendFailed,
    /// `listen --timeout` passed before `--count` messages arrived.
    Timeout,
    /// `health --round-trip`: connected, but the probe did not come back.
    Deaf,
    /// `pair`: no such code is pending (or no such paired sender).
    UnknownCode,
    /// `pair`: the code expired.
    CodeExpired,
    /// `pair`: the code was approved or denied already.
    CodeUsed,
    /// `doctor`: the number of failed probes (capped at 125).
    Probes(u8),
}

impl Exit {
    /// The process exit status.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Failure => 1,
            Self::Usage => 2,
            Self::Config => 3,
            Self::Unreachable => 4,
            Self::Unauthenticated => 5,
            Self::SendFailed => 6,
            Self::Timeout => 7,
            Self::Deaf => 8,
            Self::UnknownCode => 9,
            Self::CodeExpired => 10,
            Self::CodeUsed => 11,
            Self::Probes(failed) => failed,
        }
    }
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
    /// The command line is wrong in a way clap cannot tell, e.g. `send` with no text or text
    /// that is not UTF-8, or it lacks something no terminal could be asked for (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// The command refused to do what was asked, e.g. write a secret into a roster (status 3).
    #[error("{0}")]
    Refused(String),
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
            Self::Usage(_) => Exit::Usage,
            Self::Refused(_) => Exit::Config,
            Self::Io { .. } => Exit::Failure,
        }
    }
}

fn core_exit(error: &connector_core::Error) -> Exit {
    use connector_core::Error as E;
    use connector_core::pairing::Refusal;
    match error {
        E::Config { .. } | E::Secret { .. } | E::Io { .. } | E::InvalidInput { .. } => Exit::Config,
        E::Unreachable { .. } | E::Timeout { .. } | E::Transient { .. } | E::Closed { .. } => {
            Exit::Unreachable
        }
        E::Unauthorized { .. } => Exit::Unauthenticated,
        E::Rejected { .. }
        | E::PartialSend { .. }
        | E::MaybeDelivered { .. }
        | E::RateLimited { .. }
        | E::Unsupported { .. } => Exit::SendFailed,
        E::PairingRefused { refusal, .. } => match refusal {
            Refusal::Expired { .. } => Exit::CodeExpired,
            Refusal::Used { .. } => Exit::CodeUsed,
            _ => Exit::UnknownCode,
        },
        _ => Exit::Failure,
    }
}
