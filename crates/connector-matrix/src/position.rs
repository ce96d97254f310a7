//! The saved sync position (`next_batch`), so a restart resumes where delivery stopped.
//!
//! The file holds the token of the last `/sync` batch whose events were all handed to the
//! inbox. It is replaced atomically (write a temporary file, flush it to disk, rename), so a
//! crash leaves either the old position or the new one, never a torn file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use connector_core::{Error, Result};

use crate::KIND;
use crate::disk::{on_disk, replace_file};

/// The sync position file of one room.
#[derive(Debug, Clone)]
pub(crate) struct SavedPosition {
    path: PathBuf,
}

impl SavedPosition {
    /// The position kept at `path` (its directory is created on the first save).
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where the position is kept.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved token, or `None` before the first save.
    pub(crate) async fn load(&self) -> Result<Option<String>> {
        match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => {
                let token = text.trim();
                Ok((!token.is_empty()).then(|| token.to_owned()))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read the sync position", &self.path, e)),
        }
    }

    /// Replaces the saved token with `token`, durably.
    pub(crate) async fn save(&self, token: &str) -> Result<()> {
        let path = self.path.clone();
        let contents = format!("{token}\n");
        on_disk(
            format!("save the sync position at {}", self.path.display()),
            move || replace_file(&path, contents.as_bytes()),
        )
        .await
    }
}

fn io_error(what: &str, path: &Path, source: std::io::Error) -> Error {
    Error::Backend {
        kind: KIND.into(),
        message: format!("cannot {what} at {}", path.display()),
        source: Some(Box::new(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saves_and_loads_atomically() {
        let dir = std::env::temp_dir().join(format!("connector-matrix-pos-{}", std::process::id()));
        let position = SavedPosition::new(dir.join("nested").join("next_batch-room"));
        assert_eq!(position.load().await.unwrap(), None);
        position.save("s72594_4483_1934").await.unwrap();
        position.save("s72595_4483_1934").await.unwrap();
        assert_eq!(
            position.load().await.unwrap().as_deref(),
            Some("s72595_4483_1934")
        );
        assert!(!dir.join("nested").join("next_batch-room.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
