//! The polling position on disk: the next `getUpdates` offset and when it was saved.
//!
//! The offset is what confirms updates to Telegram, so it only moves past an update once the
//! update was handed to the inbox and the new offset is in this file: a process killed at any
//! instant polls again from the last saved offset and repeats at most the update it was
//! handing over. A connector dropped without `close` (its tasks aborted) repeats nothing: the
//! write is a task of its own, started before the poller's next await.
//!
//! **A stale position.** Telegram keeps unconfirmed updates 24 hours, and after about a week
//! without updates it may restart update ids lower than before. An offset saved more than
//! [`TRUSTED_FOR`] ago is therefore not sent as is: every update still waiting was created
//! after it was saved (older ones are gone), so none of them was delivered, and an offset from
//! the old numbering could confirm (drop) them all. The poller then starts from offset 0 — the
//! oldest waiting update — and logs that it did.
//!
//! The file (`updates.json`) is a [`StateFile`]: replaced atomically, so a crash leaves the old
//! position or the new one, and a corrupt file is an error naming it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use connector_core::Result;
use connector_core::state_file::{Durability, StateFile};
use serde::{Deserialize, Serialize};
use tokio::task::spawn_blocking;

/// How old a saved position may be and still be sent as `offset`: Telegram's retention of
/// unconfirmed updates (24 hours).
pub(crate) const TRUSTED_FOR: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    /// The next `offset`: one more than the last update handed over (0: none yet).
    offset: i64,
    /// Unix seconds when it was written.
    saved_at: u64,
}

/// The saved polling position of one connector.
#[derive(Debug)]
pub(crate) struct Position {
    file: StateFile,
    saved: Option<Saved>,
}

impl Position {
    /// Loads the position kept at `path` (none before the first save); a corrupt file is an
    /// error naming it.
    pub(crate) async fn load(path: PathBuf) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the Telegram update offset (what was delivered already)")
            .without_it("the connector then delivers only updates that arrive from now on");
        let saved = file
            .on_blocking_pool(spawn_blocking, |file| {
                file.read_with(|bytes| serde_json::from_slice::<Saved>(bytes))
            })
            .await?;
        Ok(Self { file, saved })
    }

    /// Whether a position was ever saved (not the first start).
    pub(crate) fn exists(&self) -> bool {
        self.saved.is_some()
    }

    /// The offset to poll from now: the saved one, or 0 when it is older than [`TRUSTED_FOR`]
    /// (see the module docs).
    pub(crate) fn offset_to_poll(&self) -> i64 {
        let Some(saved) = self.saved else { return 0 };
        if self.is_stale() {
            tracing::warn!(
                offset = saved.offset,
                "the saved Telegram offset is older than Telegram keeps updates: polling from \
                 the oldest waiting update instead (update ids may have restarted)"
            );
            0
        } else {
            saved.offset
        }
    }

    /// Whether the position was saved more than [`TRUSTED_FOR`] ago: no update was handed
    /// over since, so everything Telegram still holds is new, and its ids may have restarted
    /// below the offset. The running poller checks it too, before every poll.
    pub(crate) fn is_stale(&self) -> bool {
        self.saved
            .is_some_and(|saved| now_secs().saturating_sub(saved.saved_at) > TRUSTED_FOR.as_secs())
    }

    /// The offset in memory (0 before any).
    #[cfg(test)]
    fn offset(&self) -> i64 {
        self.saved.map_or(0, |s| s.offset)
    }

    /// Records `offset` and writes it: atomically, fsynced when `durable`.
    pub(crate) async fn save(&mut self, offset: i64, durable: bool) -> Result<()> {
        let saved = Saved {
            offset,
            saved_at: now_secs(),
        };
        self.saved = Some(saved);
        let mut text = serde_json::to_string(&saved).unwrap_or_default();
        text.push('\n');
        let durability = if durable {
            Durability::Synced
        } else {
            Durability::Volatile
        };
        // A task of its own, started before the first await: the pump dropped (the connector
        // dropped without `close`) right after a hand-over still records the offset, so what
        // was handed over is not handed over again.
        let file = self.file.clone();
        let write = tokio::spawn(async move {
            file.on_blocking_pool(spawn_blocking, move |file| {
                file.write(text.as_bytes(), durability)
            })
            .await
        });
        write.await.map_err(|e| {
            connector_core::Error::backend(crate::KIND, "save the Telegram offset", e)
        })?
    }

    /// Pretends the position was saved `ago` earlier (tests of a stale position).
    #[cfg(test)]
    fn age_by(&mut self, ago: Duration) {
        if let Some(saved) = &mut self.saved {
            saved.saved_at = saved.saved_at.saturating_sub(ago.as_secs());
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saves_loads_and_distrusts_a_stale_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("updates.json");
        let mut position = Position::load(path.clone()).await.unwrap();
        assert!(!position.exists());
        assert_eq!(position.offset_to_poll(), 0);
        position.save(42, true).await.unwrap();
        let mut loaded = Position::load(path.clone()).await.unwrap();
        assert!(loaded.exists());
        assert_eq!(loaded.offset_to_poll(), 42);
        loaded.age_by(TRUSTED_FOR + Duration::from_secs(60));
        assert_eq!(
            loaded.offset_to_poll(),
            0,
            "a day-old offset is not trusted"
        );
        assert_eq!(loaded.offset(), 42);
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("updates.json");
        std::fs::write(&path, "{\"offset\": 4").unwrap();
        let error = Position::load(path).await.unwrap_err().to_string();
        assert!(error.contains("corrupt"), "{error}");
    }
}
