//! The operator's reactions the connector delivered, so that taking one back can be reported.
//!
//! Taking a reaction back in Matrix is redacting the `m.reaction` event, and a redacted event
//! loses its content: the redaction alone no longer says which message or emoji it was. So each
//! delivered reaction is remembered here — its event id, target, emoji and thread — in a small
//! file in the state directory (`reactions-<room>.json`), kept across restarts. The file (a
//! `StateFile`) is replaced atomically after each change; at most [`REMEMBERED`] reactions are kept (the
//! oldest forgotten first), and a redaction of one forgotten is not reported.

use std::collections::VecDeque;
use std::path::PathBuf;

use connector_core::state_file::{Durability, StateFile};
use connector_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::KIND;
use crate::disk::on_disk;

/// How many delivered reactions are remembered.
pub(crate) const REMEMBERED: usize = 1024;

/// One delivered reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeliveredReaction {
    /// The `m.reaction` event.
    pub(crate) event_id: String,
    /// The message it is on.
    pub(crate) target: String,
    /// Its key.
    pub(crate) emoji: String,
    /// The thread it was delivered in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thread_id: Option<String>,
}

/// The remembered reactions of one room, and where they are kept.
#[derive(Debug)]
pub(crate) struct DeliveredReactions {
    file: StateFile,
    reactions: VecDeque<DeliveredReaction>,
}

impl DeliveredReactions {
    /// Reads the file at `path`; a missing file is an empty ledger, an unreadable one an error
    /// naming it.
    pub(crate) async fn load(path: PathBuf) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the operator's reactions the connector delivered")
            .without_it("taking back a reaction delivered before is not reported");
        let reactions = on_disk(&file, |file| file.read_with(|b| serde_json::from_slice(b)))
            .await?
            .unwrap_or_default();
        Ok(Self { file, reactions })
    }

    /// Remembers `reaction` (delivered) and saves.
    pub(crate) async fn remember(&mut self, reaction: DeliveredReaction) -> Result<()> {
        if self.reactions.len() >= REMEMBERED {
            self.reactions.pop_front();
        }
        self.reactions.push_back(reaction);
        self.save().await
    }

    /// The remembered reaction `event_id`, if any.
    pub(crate) fn get(&self, event_id: &str) -> Option<&DeliveredReaction> {
        self.reactions.iter().find(|r| r.event_id == event_id)
    }

    /// Forgets `event_id` (its removal was delivered) and saves.
    pub(crate) async fn forget(&mut self, event_id: &str) -> Result<()> {
        let before = self.reactions.len();
        self.reactions.retain(|r| r.event_id != event_id);
        if self.reactions.len() == before {
            return Ok(());
        }
        self.save().await
    }

    async fn save(&self) -> Result<()> {
        let bytes = serde_json::to_vec(&self.reactions).map_err(|e| {
            Error::backend_message(KIND, format!("cannot encode the delivered reactions: {e}"))
        })?;
        on_disk(&self.file, move |file| {
            file.write(&bytes, Durability::Synced)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaction(n: usize) -> DeliveredReaction {
        DeliveredReaction {
            event_id: format!("$r{n}"),
            target: "$ours".into(),
            emoji: "👍".into(),
            thread_id: None,
        }
    }

    #[tokio::test]
    async fn kept_across_a_reload_bounded_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reactions-room.json");
        let mut ledger = DeliveredReactions::load(path.clone()).await.unwrap();
        for n in 0..REMEMBERED + 2 {
            ledger.remember(reaction(n)).await.unwrap();
        }
        let mut reloaded = DeliveredReactions::load(path.clone()).await.unwrap();
        assert_eq!(reloaded.reactions.len(), REMEMBERED);
        assert!(reloaded.get("$r0").is_none(), "the oldest is forgotten");
        assert_eq!(reloaded.get("$r5").unwrap().emoji, "👍");
        reloaded.forget("$r5").await.unwrap();
        let reloaded = DeliveredReactions::load(path).await.unwrap();
        assert!(reloaded.get("$r5").is_none());
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reactions-room.json");
        std::fs::write(&path, "not json").unwrap();
        let error = DeliveredReactions::load(path)
            .await
            .unwrap_err()
            .to_string()
            .replace(&*dir.path().to_string_lossy(), "<dir>");
        insta::assert_snapshot!(error, @"state file <dir>/reactions-room.json: it should hold the operator's reactions the connector delivered but is corrupt (expected ident at line 1 column 2); move it aside to start without it (taking back a reaction delivered before is not reported), or restore it from a backup");
    }
}
