//! One connector per state directory: an advisory lock on `<state_dir>/lock`, held while the
//! connector lives.
//!
//! Two connectors sharing a state directory would both sync and deliver every message, and
//! overwrite each other's position (and, with `e2e-encryption`, share one crypto store). The
//! second to start is refused with an error that names the directory and the holder (its
//! process id, host and start time, written into the lock file by the holder).
//!
//! The lock is `flock`-style (`std::fs::File::try_lock`): the operating system releases it
//! when the holder's file is closed — on drop, and on any exit, `SIGKILL` included — so a
//! crashed connector never leaves a stale lock behind. The file itself stays.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use connector_core::{Error, Result, Timestamp};

use crate::KIND;

/// The lock file's name in the state directory.
pub(crate) const LOCK_FILE: &str = "lock";

/// How long [`StateLock::acquire_waiting`] waits for a lock held by this same process.
pub(crate) const OWN_RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Why the lock was not taken.
enum Refused {
    /// Another connector of this process holds it (it may be on its way out).
    ByThisProcess(Error),
    /// Another process holds it, or the file could not be used.
    Other(Error),
}

/// The held lock on a state directory; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct StateLock {
    /// Kept open: closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock on `state_dir` (created if missing), or fails naming the holder.
    ///
    /// A lock this very process holds is waited for, up to [`OWN_RELEASE_WAIT`]: a connector
    /// dropped without `close` lets go only once its aborted sync loop is gone, a moment later.
    pub(crate) async fn acquire_waiting(state_dir: &Path) -> Result<Self> {
        let deadline = tokio::time::Instant::now() + OWN_RELEASE_WAIT;
        loop {
            match Self::try_acquire(state_dir) {
                Ok(lock) => return Ok(lock),
                Err(Refused::ByThisProcess(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(Refused::ByThisProcess(error) | Refused::Other(error)) => return Err(error),
            }
        }
    }

    /// Takes the lock on `state_dir` (created if missing) at once, or fails naming the holder.
    pub(crate) fn acquire(state_dir: &Path) -> Result<Self> {
        Self::try_acquire(state_dir).map_err(|refused| match refused {
            Refused::ByThisProcess(error) | Refused::Other(error) => error,
        })
    }

    fn try_acquire(state_dir: &Path) -> std::result::Result<Self, Refused> {
        let other = Refused::Other;
        std::fs::create_dir_all(state_dir).map_err(|e| other(io_error(state_dir, "create", e)))?;
        let path = state_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| other(io_error(&path, "open", e)))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // Best effort: the holder writes its line right after locking.
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let ours =
                    holder.starts_with(&format!("pid {} on {} ", std::process::id(), hostname()));
                let holder = if holder.is_empty() {
                    "another connector".to_owned()
                } else {
                    holder.to_owned()
                };
                let error = Error::config(
                    "connector.matrix.state_dir",
                    format!(
                        "{} is in use by {holder}: two connectors on one state directory would \
                         both deliver every message; stop the other one or give this one its \
                         own state_dir",
                        state_dir.display()
                    ),
                );
                return Err(if ours {
                    Refused::ByThisProcess(error)
                } else {
                    Refused::Other(error)
                });
            }
            Err(TryLockError::Error(e)) => return Err(other(io_error(&path, "lock", e))),
        }
        let who = format!(
            "pid {} on {} since {}",
            std::process::id(),
            hostname(),
            Timestamp::now()
        );
        let write = |file: &mut File| -> std::io::Result<()> {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            writeln!(file, "{who}")?;
            file.flush()
        };
        write(&mut file).map_err(|e| other(io_error(&path, "write", e)))?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The machine's name, for the holder line (`/etc/hostname`, else `HOSTNAME`, else unknown).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".to_owned())
}

fn io_error(path: &Path, what: &str, source: std::io::Error) -> Error {
    Error::backend(
        KIND,
        format!(
            "cannot {what} the state directory lock at {}",
            path.display()
        ),
        source,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_named_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = StateLock::acquire(&state).unwrap();
        assert_eq!(first.path(), state.join(LOCK_FILE));
        let refused = StateLock::acquire(&state).unwrap_err();
        let text = refused.to_string();
        let shown = text.replace(&dir.path().display().to_string(), "[DIR]");
        insta::with_settings!({ filters => vec![
            (r"pid \d+ on \S+ since [0-9T:.\-]+Z", "pid [PID] on [HOST] since [TIME]"),
        ] }, {
            insta::assert_snapshot!(shown, @"connector.matrix.state_dir: [DIR]/state is in use by pid [PID] on [HOST] since [TIME]: two connectors on one state directory would both deliver every message; stop the other one or give this one its own state_dir");
        });
        assert!(text.contains(&state.display().to_string()), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert_eq!(
            refused.config_problems()[0].path,
            "connector.matrix.state_dir"
        );
        drop(first);
        let again = StateLock::acquire(&state).expect("free once the holder let go");
        drop(again);
    }

    /// A connector of this process that is on its way out (its lock dropped a moment later)
    /// does not keep the next one out.
    #[tokio::test(flavor = "current_thread")]
    async fn a_lock_of_this_process_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path()).unwrap();
        let waiting = tokio::spawn({
            let dir = dir.path().to_owned();
            async move { StateLock::acquire_waiting(&dir).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "held: the second waits");
        drop(first);
        let second = waiting.await.unwrap().expect("taken once the first let go");
        assert_eq!(second.path(), dir.path().join(LOCK_FILE));
    }
}
