//! The health probe's answer.

/// Result of [`TmuxSession::health`](crate::TmuxSession::health).
///
/// * `reachable`: a tmux server answers on the configured socket.
/// * `authenticated`: the conversation's session and pane exist, the server runs as our
///   uid and the socket file is ours — i.e. this layer can use it. tmux has no
///   credentials; sockets are private to a user, so ownership is the whole check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Probe {
    /// The server answers on its socket.
    pub reachable: bool,
    /// The target exists and is ours to use.
    pub authenticated: bool,
    /// Why not, when either flag is false; a short description otherwise.
    pub detail: Option<String>,
}

impl Probe {
    pub(crate) fn healthy(detail: String) -> Self {
        Self {
            reachable: true,
            authenticated: true,
            detail: Some(detail),
        }
    }

    pub(crate) fn unusable(detail: String) -> Self {
        Self {
            reachable: true,
            authenticated: false,
            detail: Some(detail),
        }
    }

    pub(crate) fn unreachable(detail: String) -> Self {
        Self {
            reachable: false,
            authenticated: false,
            detail: Some(detail),
        }
    }
}
