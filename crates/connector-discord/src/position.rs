//! The last delivered message id of each conversation (the channel and its threads), on disk.
//!
//! A message's id is saved only after the inbox accepted it, so a restart backfills from there
//! and delivers what arrived meanwhile exactly once. The pump records positions in memory and
//! saves them whenever it has caught up with the gateway (and at least every
//! [`SAVE_EVERY`](crate::pump::SAVE_EVERY) messages, and when it stops): one disk write per
//! batch, not per message. The file (`positions.json`, ids as
//! strings) is replaced atomically: write a temporary file, flush it, rename, flush the
//! directory — a crash leaves the old positions or the new ones, never a torn file.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use connector_core::{Error, Result};

use crate::KIND;

/// The saved positions of one connector.
#[derive(Debug)]
pub(crate) struct Positions {
    path: PathBuf,
    last: BTreeMap<u64, u64>,
}

impl Positions {
    /// Loads the positions kept at `path` (none before the first save).
    pub(crate) async fn load(path: PathBuf) -> Result<Self> {
        let last = match tokio::fs::read_to_string(&path).await {
            Ok(text) => parse(&text).map_err(|e| Error::Backend {
                kind: KIND.into(),
                message: format!(
                    "the saved positions at {} are unreadable (delete the file to start afresh)",
                    path.display()
                ),
                source: Some(e.into()),
            })?,
            Err(e) if e.kind() == ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_error("read the saved positions", &path, e)),
        };
        Ok(Self { path, last })
    }

    /// The last delivered id in `conversation`.
    pub(crate) fn get(&self, conversation: u64) -> Option<u64> {
        self.last.get(&conversation).copied()
    }

    /// Every conversation with a position, and its position.
    pub(crate) fn all(&self) -> Vec<(u64, u64)> {
        self.last.iter().map(|(&c, &id)| (c, id)).collect()
    }

    /// Records `id` as delivered in `conversation` (if it is newer) and saves durably.
    pub(crate) async fn advance(&mut self, conversation: u64, id: u64) -> Result<()> {
        if self.record(conversation, id) {
            self.save().await
        } else {
            Ok(())
        }
    }

    /// Records `id` as delivered in `conversation` in memory (if it is newer); answers whether
    /// that changed anything. [`save`](Self::save) makes it durable.
    pub(crate) fn record(&mut self, conversation: u64, id: u64) -> bool {
        let entry = self.last.entry(conversation).or_insert(0);
        if id <= *entry && *entry != 0 {
            return false;
        }
        *entry = id;
        true
    }

    /// Writes every position to disk, atomically and durably (fsynced).
    pub(crate) async fn save(&self) -> Result<()> {
        self.write(Durability::Synced).await
    }

    /// Writes every position atomically but without fsync: cheap enough for every message, and
    /// it survives the process being killed (the kernel still holds the write), though not a
    /// power loss. [`save`](Self::save) then makes it durable.
    pub(crate) async fn save_volatile(&self) -> Result<()> {
        self.write(Durability::ProcessCrash).await
    }

    async fn write(&self, durability: Durability) -> Result<()> {
        let text = render(&self.last);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            write_atomically(&path, &text, durability, "save the positions")
        })
        .await
        .map_err(|e| Error::Backend {
            kind: KIND.into(),
            message: "the task saving the positions failed".into(),
            source: Some(Box::new(e)),
        })?
    }
}

fn parse(text: &str) -> std::result::Result<BTreeMap<u64, u64>, String> {
    let raw: BTreeMap<String, String> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    raw.into_iter()
        .map(|(k, v)| Ok((k.parse().map_err(|_| k.clone())?, v.parse().map_err(|_| v)?)))
        .collect()
}

fn render(last: &BTreeMap<u64, u64>) -> String {
    let raw: BTreeMap<String, String> = last
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    serde_json::to_string_pretty(&raw).unwrap_or_default()
}

/// How far a write of a state file must get before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Written and renamed into place: survives the process, not the machine.
    ProcessCrash,
    /// Also fsynced, file and directory: survives a power loss.
    Synced,
}

/// Replaces the file at `path` with `text` atomically (temporary file, rename), fsyncing file
/// and directory when `durability` asks; a failure says it could not `what`.
pub(crate) fn write_atomically(
    path: &Path,
    text: &str,
    durability: Durability,
    what: &str,
) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error("create the state directory", dir, e))?;
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    let temporary = path.with_file_name(name);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        if durability == Durability::Synced {
            file.sync_all()?;
        }
        std::fs::rename(&temporary, path)?;
        if durability == Durability::Synced {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| io_error(what, path, e))
}

pub(crate) fn io_error(what: &str, path: &Path, source: std::io::Error) -> Error {
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
    async fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("positions.json");
        let mut positions = Positions::load(path.clone()).await.unwrap();
        assert_eq!(positions.get(1), None);
        positions.advance(1, 10).await.unwrap();
        positions.advance(1, 5).await.unwrap();
        positions.advance(2, 7).await.unwrap();
        let loaded = Positions::load(path.clone()).await.unwrap();
        assert_eq!(loaded.all(), vec![(1, 10), (2, 7)]);
        assert!(positions.record(3, 9));
        assert!(!positions.record(3, 8));
        assert_eq!(Positions::load(path.clone()).await.unwrap().get(3), None);
        positions.save().await.unwrap();
        assert_eq!(Positions::load(path).await.unwrap().get(3), Some(9));
    }
}
