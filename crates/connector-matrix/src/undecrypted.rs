//! Encrypted messages that arrived before their room key: kept, persisted, and tried again.
//!
//! The key of a Megolm session reaches the bot's device as a to-device message, which can come
//! in a later `/sync` batch than the first message encrypted with it (the sender's client, its
//! homeserver and federation all race). Skipping such an event would lose the operator's
//! message, so the sync loop ([`crate::sync_loop`]):
//!
//! 1. adds it here — its event id, its JSON as it came (still encrypted: nothing here is
//!    plaintext) and when it arrived — and saves the list to
//!    `<state_dir>/undecrypted-<room>.json` **before** the sync position moves past it, so a
//!    restart keeps waiting for it;
//! 2. after each later batch (whose to-device events matrix-sdk has by then fed to its crypto
//!    machine) tries every waiting event again with `Room::decrypt_event`; one that decrypts is
//!    handled like any other event — parsed, checked by the inbox's allow-list and dedupe,
//!    delivered — and dropped from the list;
//! 3. gives up on an event after [`MAX_WAIT`] (24 h) with a warning naming it, and keeps at most
//!    [`MAX_WAITING`] events (the oldest goes first, with the same warning).
//!
//! How many events wait is shown in health's detail. The file is a `StateFile`, replaced
//! atomically like the sync position; a corrupt one is an error naming it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use connector_core::state_file::{Durability, StateFile};
use connector_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

use crate::KIND;
use crate::disk::on_disk;

/// How long an event waits for its key before the connector gives up on it.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The most events kept waiting at once.
pub(crate) const MAX_WAITING: usize = 1000;

/// One event waiting for its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Waiting {
    /// The event's id.
    pub(crate) event_id: String,
    /// The event's JSON as the homeserver sent it (`m.room.encrypted`).
    pub(crate) event: String,
    /// When the connector first saw it, in milliseconds since the Unix epoch.
    pub(crate) arrived_ms: i64,
}

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    waiting: Vec<Waiting>,
}

/// The events of one room waiting for their keys, and the file they are kept in.
#[derive(Debug)]
pub(crate) struct Undecrypted {
    file: StateFile,
    waiting: Vec<Waiting>,
    /// Changed since the last save.
    dirty: bool,
    /// How many wait, for health.
    count: Arc<AtomicUsize>,
}

impl Undecrypted {
    /// The list kept at `path` (empty if there is no file yet); its length is published in
    /// `count`.
    pub(crate) async fn load(path: PathBuf, count: Arc<AtomicUsize>) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("encrypted messages waiting for their room keys")
            .without_it("the messages it waits for are lost");
        let waiting = on_disk(&file, |file| {
            file.read_with(|b| serde_json::from_slice::<Stored>(b))
        })
        .await?
        .unwrap_or_default()
        .waiting;
        if !waiting.is_empty() {
            tracing::info!(
                waiting = waiting.len(),
                "encrypted messages still wait for their room keys"
            );
        }
        count.store(waiting.len(), Ordering::Relaxed);
        Ok(Self {
            file,
            waiting,
            dirty: false,
            count,
        })
    }

    /// The events waiting, oldest first.
    pub(crate) fn waiting(&self) -> Vec<Waiting> {
        self.waiting.clone()
    }

    /// Keeps `event_id` (JSON `event`) until its key comes; answers `false` if it waits already.
    pub(crate) fn add(&mut self, event_id: &str, event: &str, now: Timestamp) -> bool {
        if self.waiting.iter().any(|w| w.event_id == event_id) {
            return false;
        }
        if self.waiting.len() >= MAX_WAITING {
            let oldest = self.waiting.remove(0);
            tracing::warn!(
                event = %oldest.event_id,
                "giving up on an encrypted message that never became readable: more than \
                 {MAX_WAITING} wait for their room keys"
            );
        }
        self.waiting.push(Waiting {
            event_id: event_id.to_owned(),
            event: event.to_owned(),
            arrived_ms: now.as_millisecond(),
        });
        self.changed();
        true
    }

    /// Drops `event_id` (it was decrypted).
    pub(crate) fn remove(&mut self, event_id: &str) {
        let before = self.waiting.len();
        self.waiting.retain(|w| w.event_id != event_id);
        if self.waiting.len() != before {
            self.changed();
        }
    }

    /// Drops, with a warning each, the events that waited longer than [`MAX_WAIT`] by `now`.
    pub(crate) fn expire(&mut self, now: Timestamp) {
        let limit = i64::try_from(MAX_WAIT.as_millis()).unwrap_or(i64::MAX);
        let now = now.as_millisecond();
        let before = self.waiting.len();
        self.waiting.retain(|w| {
            let keep = now.saturating_sub(w.arrived_ms) <= limit;
            if !keep {
                tracing::warn!(
                    event = %w.event_id,
                    "giving up on an encrypted message: its room key did not come within {MAX_WAIT:?}"
                );
            }
            keep
        });
        if self.waiting.len() != before {
            self.changed();
        }
    }

    /// Writes the list if it changed since the last save.
    pub(crate) async fn save(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let json = serde_json::to_vec(&Stored {
            waiting: self.waiting.clone(),
        })
        .map_err(|e| Error::backend(KIND, "cannot serialise the undecrypted events", e))?;
        on_disk(&self.file, move |file| {
            file.write(&json, Durability::Synced)
        })
        .await?;
        self.dirty = false;
        Ok(())
    }

    fn changed(&mut self) {
        self.dirty = true;
        self.count.store(self.waiting.len(), Ordering::Relaxed);
    }
}

/// The health detail for `count` waiting events, if any wait.
pub(crate) fn detail(count: usize) -> Option<String> {
    match count {
        0 => None,
        1 => Some("1 encrypted message waits for its room key".into()),
        n => Some(format!("{n} encrypted messages wait for their room keys")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).unwrap()
    }

    #[tokio::test]
    async fn waits_persists_and_gives_up_after_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("undecrypted-room.json");
        let count = Arc::new(AtomicUsize::new(0));
        let mut list = Undecrypted::load(path.clone(), Arc::clone(&count))
            .await
            .unwrap();
        assert!(list.waiting().is_empty());
        assert!(list.add("$a", r#"{"type":"m.room.encrypted"}"#, at(1_000)));
        assert!(!list.add("$a", "{}", at(2_000)), "already waiting");
        assert!(list.add("$b", "{}", at(5_000)));
        assert_eq!(count.load(Ordering::Relaxed), 2);
        list.save().await.unwrap();

        // A restart finds both.
        let reloaded = Arc::new(AtomicUsize::new(0));
        let mut list = Undecrypted::load(path.clone(), Arc::clone(&reloaded))
            .await
            .unwrap();
        assert_eq!(reloaded.load(Ordering::Relaxed), 2);
        let waiting = list.waiting();
        assert_eq!(waiting[0].event_id, "$a");
        assert_eq!(waiting[0].event, r#"{"type":"m.room.encrypted"}"#);
        assert_eq!(waiting[0].arrived_ms, 1_000);

        let day = i64::try_from(MAX_WAIT.as_millis()).unwrap();
        list.expire(at(1_000 + day));
        assert_eq!(list.waiting().len(), 2, "exactly a day is not too long");
        list.expire(at(1_001 + day));
        assert_eq!(
            list.waiting()
                .iter()
                .map(|w| w.event_id.as_str())
                .collect::<Vec<_>>(),
            ["$b"]
        );
        list.remove("$b");
        assert_eq!(reloaded.load(Ordering::Relaxed), 0);
        list.save().await.unwrap();
        let empty = Undecrypted::load(path, Arc::new(AtomicUsize::new(0)))
            .await
            .unwrap();
        assert!(empty.waiting().is_empty());
    }

    #[tokio::test]
    async fn the_list_is_bounded_and_a_corrupt_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut list = Undecrypted::load(
            dir.path().join("undecrypted"),
            Arc::new(AtomicUsize::new(0)),
        )
        .await
        .unwrap();
        for n in 0..=MAX_WAITING {
            list.add(&format!("${n}"), "{}", at(0));
        }
        let waiting = list.waiting();
        assert_eq!(waiting.len(), MAX_WAITING);
        assert_eq!(waiting[0].event_id, "$1", "the oldest went first");

        let corrupt = dir.path().join("corrupt");
        std::fs::write(&corrupt, "not json").unwrap();
        let error = Undecrypted::load(corrupt, Arc::new(AtomicUsize::new(0)))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains(
                "it should hold encrypted messages waiting for their room keys but is corrupt"
            ),
            "{error}"
        );
        assert_eq!(detail(0), None);
        assert_eq!(
            detail(2).as_deref(),
            Some("2 encrypted messages wait for their room keys")
        );
    }
}
