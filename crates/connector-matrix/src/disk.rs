//! Writing the state directory's files: atomically replaced, off the async threads.

use std::path::{Path, PathBuf};

use connector_core::{Error, Result};

use crate::KIND;

/// Runs the file work `job` on tokio's blocking pool. `what` says what it does, for errors:
/// "cannot {what}" when it fails, "the task to {what} failed" when the task itself does.
pub(crate) async fn on_disk<T, F>(what: String, job: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> std::io::Result<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Error::Backend {
            kind: KIND.into(),
            message: format!("cannot {what}"),
            source: Some(Box::new(e)),
        }),
        Err(e) => Err(Error::Backend {
            kind: KIND.into(),
            message: format!("the task to {what} failed"),
            source: Some(Box::new(e)),
        }),
    }
}

/// Replaces the file at `path` with `contents`, durably and atomically: a temporary file
/// beside it is written, flushed and renamed over it, and the directory flushed. The directory
/// is created if need be.
pub(crate) fn replace_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = temporary_of(path);
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    // The rename is durable once the directory is flushed too.
    std::fs::File::open(dir)?.sync_all()
}

/// `next_batch-room` → `next_batch-room.tmp`, beside it.
fn temporary_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_name_what_was_being_done() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, "").unwrap();
        // A file where the directory should be.
        let path = blocker.join("state.json");
        let error = on_disk(format!("save the state at {}", path.display()), move || {
            replace_file(&path, b"{}")
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(error.contains("cannot save the state at"), "{error}");
        assert!(error.contains("a-file"), "{error}");
    }
}
