//! The last delivered message id of each conversation (the channel and its threads), on disk.
//!
//! A message's id is saved only after the inbox accepted it, so a restart backfills from there
//! and delivers what arrived meanwhile exactly once. The pump records positions in memory and
//! saves them whenever it has caught up with the gateway (and at least every
//! [`SAVE_EVERY`](crate::pump::SAVE_EVERY) messages, and when it stops): one disk write per
//! batch, not per message. The file (`positions.json`, ids as
//! strings) is a [`StateFile`]: replaced atomically (a temporary file renamed over it), so a
//! crash leaves the old positions or the new ones, and a corrupt file is an error naming it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use connector_core::Result;
use connector_core::state_file::{Durability, StateFile};
use tokio::task::spawn_blocking;

/// The saved positions of one connector.
#[derive(Debug)]
pub(crate) struct Positions {
    file: StateFile,
    last: BTreeMap<u64, u64>,
}

impl Positions {
    /// Loads the positions kept at `path` (none before the first save); a corrupt file is an
    /// error naming it.
    pub(crate) async fn load(path: PathBuf) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the last delivered message of each conversation")
            .without_it("the connector then delivers only messages that arrive from now on");
        let last = file
            .on_blocking_pool(spawn_blocking, |file| file.read_with(parse))
            .await?
            .unwrap_or_default();
        Ok(Self { file, last })
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

    /// Writes every position to disk, atomically and durably ([`Durability::Synced`]).
    pub(crate) async fn save(&self) -> Result<()> {
        self.write(Durability::Synced).await
    }

    /// Writes every position atomically but without fsync ([`Durability::Volatile`]): cheap
    /// enough for every message, and it survives the process being killed (the kernel still
    /// holds the write), though not a power loss. [`save`](Self::save) then makes it durable.
    pub(crate) async fn save_volatile(&self) -> Result<()> {
        self.write(Durability::Volatile).await
    }

    async fn write(&self, durability: Durability) -> Result<()> {
        let mut text = render(&self.last);
        text.push('\n');
        self.file
            .on_blocking_pool(spawn_blocking, move |file| {
                file.write(text.as_bytes(), durability)
            })
            .await
    }
}

fn parse(bytes: &[u8]) -> std::result::Result<BTreeMap<u64, u64>, String> {
    let raw: BTreeMap<String, String> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    raw.into_iter()
        .map(|(k, v)| {
            let id = |s: String| s.parse().map_err(|_| format!("not an id: {s:?}"));
            Ok((id(k)?, id(v)?))
        })
        .collect()
}

fn render(last: &BTreeMap<u64, u64>) -> String {
    let raw: BTreeMap<String, String> = last
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    serde_json::to_string_pretty(&raw).unwrap_or_default()
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

    #[tokio::test]
    async fn a_truncated_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("positions.json");
        let mut positions = Positions::load(path.clone()).await.unwrap();
        positions.advance(1, 10).await.unwrap();
        positions.advance(2, 7).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        let error = Positions::load(path).await.unwrap_err().to_string();
        let error = error.replace(&*dir.path().to_string_lossy(), "<dir>");
        assert!(
            error.starts_with(
                "state file <dir>/positions.json: it should hold the last delivered message of \
                 each conversation but is corrupt (EOF while parsing"
            ),
            "{error}"
        );
        assert!(
            error.ends_with(
                "move it aside to start without it (the connector then delivers only messages \
                 that arrive from now on), or restore it from a backup"
            ),
            "{error}"
        );
    }
}
