//! Which tmux server to talk to: a socket name (`-L`) or a socket path (`-S`), and a
//! side-effect-free check whether a server is listening there.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tmux_interface::Tmux;

/// The socket of the tmux server, as chosen with tmux's `-L` or `-S` option.
///
/// tmux sockets live in a directory private to the user (`/tmp/tmux-<uid>/`), so a server
/// reached through them belongs to the user running this process.
///
/// ```
/// use connector_tmux::Socket;
/// let name = Socket::Name("orchestrator-test".into());
/// assert!(name.path().unwrap().ends_with("orchestrator-test"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Socket {
    /// The user's default server (no `-L`/`-S`; honours `$TMUX_TMPDIR`).
    #[default]
    Default,
    /// `-L <name>`: a named socket in the user's tmux directory.
    Name(String),
    /// `-S <path>`: an explicit socket path.
    Path(PathBuf),
}

impl Socket {
    /// Adds `-L`/`-S` to a tmux invocation built with `tmux_interface`.
    pub(crate) fn apply<'a>(&'a self, tmux: Tmux<'a>) -> Tmux<'a> {
        match self {
            Self::Default => tmux,
            Self::Name(name) => tmux.socket_name(name.as_str()),
            Self::Path(path) => tmux.socket_path(path.to_string_lossy()),
        }
    }

    /// The socket file this selection resolves to, computed the way tmux does
    /// (`${TMUX_TMPDIR:-/tmp}/tmux-<uid>/<name>`). `None` when the uid is unknown.
    pub fn path(&self) -> Option<PathBuf> {
        match self {
            Self::Path(path) => Some(path.clone()),
            Self::Name(name) => Some(user_socket_dir()?.join(name)),
            Self::Default => Some(user_socket_dir()?.join("default")),
        }
    }

    /// Short human description for health details and logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Default => "default socket".to_owned(),
            Self::Name(name) => format!("socket name `{name}`"),
            Self::Path(path) => format!("socket path `{}`", path.display()),
        }
    }
}

/// What a connection attempt to the socket file found.
#[derive(Debug)]
pub(crate) enum SocketState {
    /// A server accepted the connection.
    Listening,
    /// The file is missing: no server was ever started there, or it exited cleanly.
    Missing,
    /// The file exists but nobody accepts (the server was killed) or another error.
    Unreachable(io::Error),
}

/// Connects to the socket and closes the connection again. tmux treats a peer that sends
/// nothing and hangs up as a client that went away; nothing is started or changed.
pub(crate) fn probe(path: &Path) -> SocketState {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return SocketState::Missing,
        Err(e) => return SocketState::Unreachable(e),
        Ok(meta) if !meta.file_type().is_socket() => {
            return SocketState::Unreachable(io::Error::other("not a socket"));
        }
        Ok(_) => {}
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => SocketState::Listening,
        Err(e) => SocketState::Unreachable(e),
    }
}

/// Owner uid of the socket file, used to tell "ours" from someone else's server.
pub(crate) fn owner_uid(path: &Path) -> Option<u32> {
    std::fs::metadata(path).ok().map(|m| m.uid())
}

/// The uid this process runs as (the owner of `/proc/self`), without `unsafe` libc calls.
pub(crate) fn current_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn user_socket_dir() -> Option<PathBuf> {
    let base = std::env::var_os("TMUX_TMPDIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    Some(base.join(format!("tmux-{}", current_uid()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_is_kept() {
        let socket = Socket::Path("/run/x/sock".into());
        assert_eq!(socket.path(), Some(PathBuf::from("/run/x/sock")));
    }

    #[test]
    fn name_resolves_inside_user_directory() {
        let path = Socket::Name("abc".into())
            .path()
            .expect("uid is known on Linux");
        let uid = current_uid().expect("uid");
        assert!(
            path.ends_with(format!("tmux-{uid}/abc")),
            "{}",
            path.display()
        );
    }

    #[test]
    fn missing_socket_is_reported_as_missing() {
        let state = probe(Path::new("/nonexistent/connector-tmux/sock"));
        assert!(matches!(state, SocketState::Missing), "{state:?}");
    }

    #[test]
    fn a_regular_file_is_not_a_server() {
        let state = probe(Path::new("/proc/self/status"));
        assert!(matches!(state, SocketState::Unreachable(_)), "{state:?}");
    }

    #[test]
    fn socket_arguments_come_from_tmux_interface() {
        let name = Socket::Name("n".into());
        let args = name.apply(Tmux::new()).build().to_vec();
        assert_eq!(args, ["tmux", "-L", "n"]);
        let path = Socket::Path("/p".into());
        let args = path.apply(Tmux::new()).build().to_vec();
        assert_eq!(args, ["tmux", "-S", "/p"]);
    }
}
