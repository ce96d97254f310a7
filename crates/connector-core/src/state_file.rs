//! State files, written and read back one way by every backend and the CLI.
//!
//! A connector keeps small files between runs — the position it delivered up to, the
//! reactions it reported, messages waiting for their keys, the bridge's thread map — and a
//! few larger ones (decrypted media, the roster `connector init` rewrites). Each is a
//! [`StateFile`]:
//!
//! - **Atomic replace.** [`StateFile::write`] writes a temporary file beside the target
//!   (`.<name>.<pid>-<n>.tmp`, created fresh, never reused), then renames it over the target,
//!   so a reader — or a restart after a crash — sees the old contents or the new ones, never a
//!   torn file. Two writers of one file each rename a whole file: the last one wins. A
//!   temporary file a crash left behind is ignored, and removed by the next
//!   [`read`](StateFile::read).
//! - **Durability.** [`Durability::Synced`] fsyncs the file before the rename and the
//!   directory after it: the write survives a power loss. [`Durability::Volatile`] skips both:
//!   cheap enough for every message, it survives the process being killed (the kernel holds
//!   the data) but not the machine going down. A writer that saves volatile writes often
//!   makes them durable now and then with a synced one (as Discord's positions do).
//! - **Permissions.** [`Access::OwnerOnly`] files are `0600` and a directory created for them
//!   `0700` (for files that hold secrets or plaintext); [`Access::Inherited`] files keep the
//!   mode of the file they replace, and a new one gets the process's default.
//! - **Errors name the file.** Every failure is an [`Error::StateFile`] naming the path. A
//!   file that is empty or that the caller's decoder refuses is **corrupt**: the error says
//!   what the file holds, what happens without it and what to do (move it aside, or restore
//!   it). A corrupt file is never a panic and never silently treated as missing, which would
//!   replay history or lose what it remembered.
//!
//! The calls block (they are short, except for large media): async code runs them on the
//! blocking pool through [`StateFile::on_blocking_pool`], given the runtime's
//! `spawn_blocking` (core names no runtime of its own).
//!
//! ```
//! use connector_core::state_file::{Durability, StateFile};
//!
//! # fn demo(dir: &std::path::Path) -> connector_core::Result<()> {
//! let file = StateFile::new(dir.join("position"))
//!     .holding("the sync position")
//!     .without_it("the connector then delivers only messages that arrive from now on");
//! assert_eq!(file.read()?, None, "no file yet");
//! file.write(b"s72594_4483\n", Durability::Synced)?;
//! let token = file.read_with(|bytes| std::str::from_utf8(bytes).map(str::to_owned))?;
//! assert_eq!(token.as_deref(), Some("s72594_4483\n"));
//! # Ok(()) }
//! # let dir = std::env::temp_dir().join(format!("state-file-doc-{}", std::process::id()));
//! # demo(&dir).unwrap();
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt::Display;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{BoxError, Error, Result};

/// How far a write must get before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The file and its directory are fsynced: the write survives a power loss.
    Synced,
    /// Renamed into place without fsync: the write survives the process being killed, not
    /// the machine going down. Follow a run of these with a [`Synced`](Self::Synced) one.
    Volatile,
}

/// Who may read a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// The file keeps the mode of the file it replaces; a new file gets the process's default
    /// (its umask). For files that hold nothing secret: positions, ledgers, the roster.
    #[default]
    Inherited,
    /// The file is `0600` and a directory created for it `0700` (on Unix): for files that hold
    /// secrets or plaintext, e.g. decrypted media.
    OwnerOnly,
}

/// One state file: where it is, what it holds and how it is written.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    holds: Cow<'static, str>,
    without_it: Cow<'static, str>,
    access: Access,
}

/// The lock of a [`StateFile`], held until dropped (see [`StateFile::lock`]).
#[derive(Debug)]
#[must_use = "the lock is released when the guard is dropped"]
pub struct FileLock {
    /// Closing the file releases the lock.
    _file: std::fs::File,
}

/// Numbers the temporary files of this process, so that no two writes share one.
static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl StateFile {
    /// The state file at `path`, [`Inherited`](Access::Inherited) access.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            holds: Cow::Borrowed("connector state"),
            without_it: Cow::Borrowed("the connector then starts afresh"),
            access: Access::Inherited,
        }
    }

    /// Says what the file holds, for the error about a corrupt one ("the sync position").
    pub fn holding(mut self, what: impl Into<Cow<'static, str>>) -> Self {
        self.holds = what.into();
        self
    }

    /// Says what happens when the file is moved aside, for the error about a corrupt one
    /// ("the connector then delivers only messages that arrive from now on").
    pub fn without_it(mut self, consequence: impl Into<Cow<'static, str>>) -> Self {
        self.without_it = consequence.into();
        self
    }

    /// Makes the file [`OwnerOnly`](Access::OwnerOnly).
    pub fn owner_only(mut self) -> Self {
        self.access = Access::OwnerOnly;
        self
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's contents, or `None` when there is no file yet.
    ///
    /// An empty file is corrupt (every state file holds something; an empty one was cut short
    /// by a crash or a full disk). Temporary files an interrupted write left beside it are
    /// removed.
    pub fn read(&self) -> Result<Option<Vec<u8>>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.failed("cannot read it", e)),
        };
        self.remove_leftovers();
        if bytes.is_empty() {
            return Err(self.corrupt("it is empty, cut short by a crash or a full disk"));
        }
        Ok(Some(bytes))
    }

    /// The file's contents as `decode` reads them, or `None` when there is no file yet.
    ///
    /// When `decode` refuses the bytes, the file is corrupt: the error says so with `decode`'s
    /// reason (see [`corrupt`](Self::corrupt)).
    pub fn read_with<T, E: Display>(
        &self,
        decode: impl FnOnce(&[u8]) -> std::result::Result<T, E>,
    ) -> Result<Option<T>> {
        match self.read()? {
            Some(bytes) => decode(&bytes).map(Some).map_err(|e| self.corrupt(e)),
            None => Ok(None),
        }
    }

    /// The error for this file being corrupt because of `reason`: it names the file, what it
    /// holds, what happens without it and what to do.
    pub fn corrupt(&self, reason: impl Display) -> Error {
        Error::StateFile {
            path: self.path.display().to_string(),
            problem: format!(
                "it should hold {} but is corrupt ({reason}); move it aside to start without it \
                 ({}), or restore it from a backup",
                self.holds, self.without_it
            ),
            source: None,
        }
    }

    /// Replaces the file's contents with `contents`, atomically and as durably as `durability`
    /// says, creating its directory if need be.
    pub fn write(&self, contents: &[u8], durability: Durability) -> Result<()> {
        let dir = self.directory();
        self.create_directory(dir)
            .map_err(|e| self.failed("cannot create its directory", e))?;
        let temporary = self
            .write_temporary(contents, durability)
            .map_err(|e| self.failed("cannot write it", e))?;
        self.put_in_place(&temporary, durability)
            .map_err(|e| self.failed("cannot replace it", e))
    }

    /// Takes the file's lock (`.<name>.lock` beside it, created if need be), waiting while
    /// another process or thread holds it; the lock is released when the guard is dropped.
    ///
    /// For files that several processes read, change and write back (the pairing store:
    /// the connector issues codes, `connector pair` approves them): hold the lock from the
    /// read to the write, so that neither loses the other's change. Readers that only read
    /// need no lock (writes replace the file whole).
    pub fn lock(&self) -> Result<FileLock> {
        let dir = self.directory();
        self.create_directory(dir)
            .map_err(|e| self.failed("cannot create its directory", e))?;
        let mut name = OsString::from(".");
        name.push(self.path.file_name().unwrap_or_default());
        name.push(".lock");
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(dir.join(name))
            .map_err(|e| self.failed("cannot open its lock file", e))?;
        file.lock()
            .map_err(|e| self.failed("cannot take its lock", e))?;
        Ok(FileLock { _file: file })
    }

    /// The directory the file is in.
    fn directory(&self) -> &Path {
        self.path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn create_directory(&self, dir: &Path) -> std::io::Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        if self.access == Access::OwnerOnly {
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        }
        builder.create(dir)
    }

    /// `.<name>.<pid>-<n>.tmp` beside the file.
    fn temporary_path(&self) -> PathBuf {
        let mut name = OsString::from(".");
        name.push(self.path.file_name().unwrap_or_default());
        let n = NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed);
        name.push(format!(".{}-{n}.tmp", std::process::id()));
        self.directory().join(name)
    }

    /// Whether `name` is a temporary file of this file's, from any process.
    fn is_temporary_name(&self, name: &str) -> bool {
        let Some(own) = self.path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        name.strip_prefix('.')
            .and_then(|rest| rest.strip_prefix(own))
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|number| number.split_once('-'))
            .is_some_and(|(pid, n)| {
                [pid, n]
                    .iter()
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            })
    }

    /// The first half of a write: `contents` in a new temporary file beside the target, with
    /// the target's permissions. Answers the temporary file's path.
    fn write_temporary(&self, contents: &[u8], durability: Durability) -> std::io::Result<PathBuf> {
        let temporary = self.temporary_path();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if self.access == Access::OwnerOnly {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        let mut file = options.open(&temporary)?;
        let written = (|| {
            match self.access {
                // The umask may have taken bits from 0600 too.
                #[cfg(unix)]
                Access::OwnerOnly => {
                    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?
                }
                #[cfg(not(unix))]
                Access::OwnerOnly => {}
                Access::Inherited => {
                    if let Ok(old) = std::fs::metadata(&self.path) {
                        file.set_permissions(old.permissions())?;
                    }
                }
            }
            file.write_all(contents)?;
            if durability == Durability::Synced {
                file.sync_all()?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(e);
        }
        Ok(temporary)
    }

    /// The second half of a write: renames `temporary` over the target (and fsyncs the
    /// directory when `durability` asks).
    fn put_in_place(&self, temporary: &Path, durability: Durability) -> std::io::Result<()> {
        if let Err(e) = std::fs::rename(temporary, &self.path) {
            let _ = std::fs::remove_file(temporary);
            return Err(e);
        }
        if durability == Durability::Synced {
            // The rename is durable once the directory is flushed too.
            #[cfg(unix)]
            std::fs::File::open(self.directory())?.sync_all()?;
        }
        Ok(())
    }

    /// Removes the temporary files interrupted writes left beside the file; a failure only
    /// leaves them there.
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(self.directory()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| self.is_temporary_name(n)) {
                tracing::debug!(path = %entry.path().display(), "removing a temporary file an interrupted write left");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Runs `job` on this file through `spawn_blocking` (an async runtime's blocking pool,
    /// e.g. `tokio::task::spawn_blocking`), so that async code does not wait on the disk. A
    /// task that panicked or was cancelled is an error naming the file.
    ///
    /// ```ignore
    /// let token = file.on_blocking_pool(tokio::task::spawn_blocking, |f| f.read()).await?;
    /// ```
    pub async fn on_blocking_pool<T, E, Task>(
        &self,
        spawn_blocking: impl FnOnce(Box<dyn FnOnce() -> Result<T> + Send>) -> Task,
        job: impl FnOnce(&StateFile) -> Result<T> + Send + 'static,
    ) -> Result<T>
    where
        T: Send + 'static,
        E: Into<BoxError>,
        Task: std::future::Future<Output = std::result::Result<Result<T>, E>>,
    {
        let file = self.clone();
        self.outcome_of_task(spawn_blocking(Box::new(move || job(&file))).await)
    }

    /// Flattens what a blocking pool answered: the work's own result, or an error naming the
    /// file when the task itself failed.
    fn outcome_of_task<T, E: Into<BoxError>>(
        &self,
        answer: std::result::Result<Result<T>, E>,
    ) -> Result<T> {
        answer.map_err(|e| {
            let source = e.into();
            Error::StateFile {
                path: self.path.display().to_string(),
                problem: format!("the task reading or writing it failed: {source}"),
                source: Some(source),
            }
        })?
    }

    fn failed(&self, problem: &str, source: std::io::Error) -> Error {
        Error::StateFile {
            path: self.path.display().to_string(),
            problem: format!("{problem}: {source}"),
            source: Some(Box::new(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary one, removed when dropped.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("state-file-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map(|()| Scratch(dir))
            .unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn positions(dir: &Path) -> StateFile {
        StateFile::new(dir.join("positions.json"))
            .holding("the last delivered message of each conversation")
            .without_it("the connector then delivers only messages that arrive from now on")
    }

    fn decode_json_ish(bytes: &[u8]) -> std::result::Result<String, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        if text.ends_with("}\n") {
            Ok(text.to_owned())
        } else {
            Err(format!("cut short after {} bytes", bytes.len()))
        }
    }

    #[test]
    fn writes_replace_the_file_and_a_missing_file_is_none() {
        let scratch = scratch("replace");
        let file = StateFile::new(scratch.0.join("nested").join("state.json"));
        assert_eq!(file.read().unwrap(), None);
        file.write(b"{\"a\":1}\n", Durability::Synced).unwrap();
        file.write(b"{\"a\":2}\n", Durability::Volatile).unwrap();
        assert_eq!(file.read().unwrap().unwrap(), b"{\"a\":2}\n");
        assert_eq!(names(&scratch.0.join("nested")), ["state.json"]);
    }

    #[test]
    fn a_crash_between_write_and_rename_leaves_the_old_file() {
        let scratch = scratch("crash");
        let file = positions(&scratch.0);
        file.write(b"{\"old\":1}\n", Durability::Synced).unwrap();
        // The process dies after writing the temporary file, before renaming it.
        let temporary = file
            .write_temporary(b"{\"new\":2}\n", Durability::Synced)
            .unwrap();
        assert!(temporary.exists());
        assert!(file.is_temporary_name(&temporary.file_name().unwrap().to_string_lossy()));

        // The restart reads the old contents, and the leftover goes.
        assert_eq!(
            file.read_with(decode_json_ish).unwrap().as_deref(),
            Some("{\"old\":1}\n")
        );
        assert_eq!(names(&scratch.0), ["positions.json"]);
        file.write(b"{\"new\":3}\n", Durability::Synced).unwrap();
        assert_eq!(file.read().unwrap().unwrap(), b"{\"new\":3}\n");
        assert_eq!(names(&scratch.0), ["positions.json"]);
    }

    #[test]
    fn only_its_own_temporary_files_are_leftovers() {
        let file = StateFile::new("/state/positions.json");
        assert!(file.is_temporary_name(".positions.json.4242-0.tmp"));
        for other in [
            "positions.json",
            "positions.json.tmp",
            ".positions.json.tmp",
            ".positions.json.backup.tmp",
            ".positions.json.4242-.tmp",
            ".reactions.json.4242-0.tmp",
            ".positions.json.4242-0.tmp.keep",
        ] {
            assert!(!file.is_temporary_name(other), "{other}");
        }
    }

    #[test]
    fn a_truncated_file_is_a_clear_error() {
        let scratch = scratch("truncated");
        let file = positions(&scratch.0);
        std::fs::write(file.path(), "{\"1\": \"10\",\n").unwrap();
        let error = file.read_with(decode_json_ish).unwrap_err();
        let message = error
            .to_string()
            .replace(&*scratch.0.to_string_lossy(), "<dir>");
        insta::assert_snapshot!(message, @"state file <dir>/positions.json: it should hold the last delivered message of each conversation but is corrupt (cut short after 12 bytes); move it aside to start without it (the connector then delivers only messages that arrive from now on), or restore it from a backup");

        std::fs::write(file.path(), "").unwrap();
        let error = file.read().unwrap_err();
        let message = error
            .to_string()
            .replace(&*scratch.0.to_string_lossy(), "<dir>");
        insta::assert_snapshot!(message, @"state file <dir>/positions.json: it should hold the last delivered message of each conversation but is corrupt (it is empty, cut short by a crash or a full disk); move it aside to start without it (the connector then delivers only messages that arrive from now on), or restore it from a backup");
    }

    #[tokio::test]
    async fn failures_name_the_file() {
        let scratch = scratch("failures");
        let blocker = scratch.0.join("a-file");
        std::fs::write(&blocker, "x").unwrap();
        // A file where the directory should be.
        let file = StateFile::new(blocker.join("state.json"));
        let error = file.write(b"{}", Durability::Synced).unwrap_err();
        assert!(matches!(error, Error::StateFile { .. }));
        let message = error
            .to_string()
            .replace(&*scratch.0.to_string_lossy(), "<dir>");
        assert!(
            message
                .starts_with("state file <dir>/a-file/state.json: cannot create its directory: "),
            "{message}"
        );
        assert!(std::error::Error::source(&error).is_some());
        let error = file.read().unwrap_err().to_string();
        assert!(
            error.contains("a-file/state.json: cannot read it"),
            "{error}"
        );

        let lost = file
            .on_blocking_pool(tokio::task::spawn_blocking, |_| -> Result<()> {
                panic!("the disk caught fire")
            })
            .await
            .unwrap_err()
            .to_string();
        assert!(
            lost.contains("a-file/state.json: the task reading or writing it failed: "),
            "{lost}"
        );
        let on_the_pool = file.on_blocking_pool(tokio::task::spawn_blocking, |f| {
            f.write(b"{}", Durability::Volatile)
        });
        assert!(
            on_the_pool
                .await
                .unwrap_err()
                .to_string()
                .contains("cannot create its directory")
        );
    }

    #[test]
    fn the_lock_is_exclusive_until_dropped() {
        let scratch = scratch("lock");
        let file = StateFile::new(scratch.0.join("new-dir").join("pairing.yaml"));
        let held = file.lock().unwrap();
        let waiter = std::thread::spawn({
            let file = file.clone();
            move || {
                let _lock = file.lock().unwrap();
                file.write(b"second\n", Durability::Volatile).unwrap();
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiter.is_finished(), "the second taker waits");
        file.write(b"first\n", Durability::Volatile).unwrap();
        drop(held);
        waiter.join().unwrap();
        assert_eq!(file.read().unwrap().unwrap(), b"second\n");
        assert_eq!(
            names(&scratch.0.join("new-dir")),
            [".pairing.yaml.lock", "pairing.yaml"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn owner_only_files_are_0600_and_replacements_keep_the_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let scratch = scratch("modes");

        let secret = StateFile::new(scratch.0.join("media").join("plain.txt")).owner_only();
        secret.write(b"plaintext", Durability::Synced).unwrap();
        assert_eq!(mode(secret.path()), 0o600);
        assert_eq!(mode(&scratch.0.join("media")), 0o700);
        // Even over a file someone made readable.
        std::fs::set_permissions(secret.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        secret.write(b"plaintext 2", Durability::Volatile).unwrap();
        assert_eq!(mode(secret.path()), 0o600);

        let roster = StateFile::new(scratch.0.join("roster.yaml"));
        std::fs::write(roster.path(), "a: 1\n").unwrap();
        std::fs::set_permissions(roster.path(), std::fs::Permissions::from_mode(0o640)).unwrap();
        roster.write(b"a: 2\n", Durability::Synced).unwrap();
        assert_eq!(
            mode(roster.path()),
            0o640,
            "the replaced file's mode is kept"
        );
    }
}
