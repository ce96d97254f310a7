//! The saved sync position (`next_batch`), so a restart resumes where delivery stopped.
//!
//! The file holds the token of the last `/sync` batch whose events were all handed to the
//! inbox, and a line break. It is a [`StateFile`], replaced atomically and durably, so a crash
//! leaves either the old position or the new one, never a torn file; a corrupt one (empty,
//! cut short) is an error naming it, not a fresh start that would skip what arrived meanwhile.

use std::path::{Path, PathBuf};

use connector_core::Result;
use connector_core::state_file::{Durability, StateFile};

use crate::disk::on_disk;

/// The sync position file of one room.
#[derive(Debug, Clone)]
pub(crate) struct SavedPosition {
    file: StateFile,
}

impl SavedPosition {
    /// The position kept at `path` (its directory is created on the first save).
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            file: StateFile::new(path)
                .holding("the sync position")
                .without_it("the connector then delivers only messages that arrive from now on"),
        }
    }

    /// Where the position is kept.
    pub(crate) fn path(&self) -> &Path {
        self.file.path()
    }

    /// The saved token, or `None` before the first save; a corrupt file (empty, cut short, or
    /// not one token) is an error naming it.
    pub(crate) async fn load(&self) -> Result<Option<String>> {
        on_disk(&self.file, |file| file.read_with(parse)).await
    }

    /// Replaces the saved token with `token`, durably.
    pub(crate) async fn save(&self, token: &str) -> Result<()> {
        let contents = format!("{token}\n");
        on_disk(&self.file, move |file| {
            file.write(contents.as_bytes(), Durability::Synced)
        })
        .await
    }
}

/// The token in a position file: one line, ended by a line break (without it the file was cut
/// short).
fn parse(bytes: &[u8]) -> std::result::Result<String, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8")?;
    let token = text
        .strip_suffix('\n')
        .ok_or("the token does not end with a line break: the file was cut short")?;
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err("it does not hold one sync token");
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saves_and_loads_atomically() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let position = SavedPosition::new(dir.join("nested").join("next_batch-room"));
        assert_eq!(position.load().await.unwrap(), None);
        position.save("s72594_4483_1934").await.unwrap();
        position.save("s72595_4483_1934").await.unwrap();
        assert_eq!(
            position.load().await.unwrap().as_deref(),
            Some("s72595_4483_1934")
        );
        let names: Vec<_> = std::fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["next_batch-room"], "no temporary file is left");
    }

    #[tokio::test]
    async fn a_truncated_or_empty_position_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let position = SavedPosition::new(dir.path().join("next_batch-room"));
        for (contents, reason) in [
            (
                "s72594_44",
                "the token does not end with a line break: the file was cut short",
            ),
            ("", "it is empty, cut short by a crash or a full disk"),
            ("\n", "it does not hold one sync token"),
        ] {
            std::fs::write(position.path(), contents).unwrap();
            let error = position.load().await.unwrap_err().to_string();
            assert!(
                error.contains("next_batch-room: it should hold the sync position"),
                "{error}"
            );
            assert!(error.contains(&format!("is corrupt ({reason})")), "{error}");
        }
        std::fs::write(position.path(), "s72594_44").unwrap();
        let error = position.load().await.unwrap_err().to_string();
        insta::assert_snapshot!(
            error.replace(&*dir.path().to_string_lossy(), "<dir>"),
            @"state file <dir>/next_batch-room: it should hold the sync position but is corrupt (the token does not end with a line break: the file was cut short); move it aside to start without it (the connector then delivers only messages that arrive from now on), or restore it from a backup"
        );
    }
}
