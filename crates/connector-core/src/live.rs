//! Live messages: one message the orchestrator keeps up to date in place ("fleet: 3/5 PRs
//! merged…"), instead of a new message for every step.
//!
//! [`LiveMessages`] works on any [`OrchestratorConnector`]: the first update under a
//! [`LiveKey`] posts the message, later ones [`edit`](OrchestratorConnector::edit) it, and
//! `finish` marks it final (a later update under the same key starts a new message). Updates are
//! coalesced: while one edit is on its way, newer texts only replace each other, and the newest
//! is sent next — so a burst costs a few edits, never a queue of stale ones or a storm of 429s,
//! and the last text always lands. Text longer than one message continues in further messages,
//! in order. The key → messages ledger is kept in a [`StateFile`], so a restarted orchestrator
//! keeps editing the same message.
//!
//! A connector that cannot edit (tmux pane mode) posts each update as a new message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::capability::Capability;
use crate::chunking::{Chunker, LengthUnit};
use crate::connector::OrchestratorConnector;
use crate::error::{Error, Result};
use crate::ids::{MessageId, ThreadId};
use crate::message::OutboundMessage;
use crate::state_file::{Durability, StateFile};

/// What a continued part that is no longer needed shows (the text got shorter).
const NO_LONGER_NEEDED: &str = "⋯";

/// The name of a live message, chosen by the orchestrator: 1 to 64 ASCII letters, digits,
/// `.`, `_` or `-` (`build`, `fleet-status`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LiveKey(String);

impl LiveKey {
    /// Checks `key`; the error names the field `live` and what is wrong.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        let valid = (1..=64).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(Self(key))
        } else {
            Err(Error::InvalidInput {
                field: "live",
                message: format!(
                    "{key:?} is not a live key: use 1 to 64 ASCII letters, digits, '.', '_' or '-'"
                ),
            })
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One live message as the ledger keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// The messages holding its parts, in order.
    ids: Vec<MessageId>,
    /// The text each part shows now.
    parts: Vec<String>,
    /// The thread it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thread: Option<ThreadId>,
    /// Finished: the next update under this key starts a new message.
    #[serde(default)]
    finished: bool,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveReceipt {
    /// The messages showing the live text, in order (one unless it outgrew a message).
    pub message_ids: Vec<MessageId>,
    /// Whether the live message is finished.
    pub finished: bool,
    /// Whether this update's own text was sent, rather than replaced by a newer one that
    /// arrived while an earlier edit was on its way (and was sent instead).
    pub sent_as_is: bool,
}

/// The latest text asked for under one key, and how far the sending got.
#[derive(Debug)]
struct Slot {
    /// The newest update: its number, text, thread and whether it finishes.
    latest: Mutex<(u64, String, Option<ThreadId>, bool)>,
    /// The number of the newest update applied.
    applied: watch::Sender<u64>,
    /// Held while an update is sent.
    sending: tokio::sync::Mutex<()>,
}

/// Live messages over one connector (see the module docs).
pub struct LiveMessages {
    connector: Arc<dyn OrchestratorConnector>,
    ledger_file: Option<StateFile>,
    ledger: tokio::sync::Mutex<HashMap<String, Entry>>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl std::fmt::Debug for LiveMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveMessages")
            .field("kind", &self.connector.kind())
            .field("ledger_file", &self.ledger_file)
            .finish_non_exhaustive()
    }
}

impl LiveMessages {
    /// Live messages over `connector`, their ledger kept in `ledger_file` (read now; `None`
    /// keeps it in memory only, so a restart starts new messages).
    ///
    /// # Errors
    ///
    /// [`Error::StateFile`] when the ledger exists but cannot be read.
    pub fn new(
        connector: Arc<dyn OrchestratorConnector>,
        ledger_file: Option<StateFile>,
    ) -> Result<Self> {
        let ledger = match &ledger_file {
            Some(file) => file
                .read_with(|bytes| serde_norway::from_slice(bytes))?
                .unwrap_or_default(),
            None => HashMap::new(),
        };
        Ok(Self {
            connector,
            ledger_file,
            ledger: tokio::sync::Mutex::new(ledger),
            slots: Mutex::new(HashMap::new()),
        })
    }

    /// The ledger file for a connector whose state lives in `state_dir`.
    pub fn ledger_in(state_dir: &std::path::Path) -> StateFile {
        StateFile::new(state_dir.join("live.yaml"))
            .holding("which messages show each live key")
            .without_it("the next update of a live message posts a new message")
    }

    /// Shows `text` under `key`: posts the live message, or replaces its text; `finish` marks
    /// it final. The future answers once this text, or a newer one for the same key, is shown.
    ///
    /// The update takes its place when `update` is called, not when its future first runs:
    /// updates spawned one after the other keep that order, and the last one made is the one
    /// that stays.
    ///
    /// # Errors
    ///
    /// What the connector's send or edit answered; empty text is [`Error::InvalidInput`].
    pub fn update(
        self: &Arc<Self>,
        key: &LiveKey,
        text: &str,
        thread: Option<ThreadId>,
        finish: bool,
    ) -> impl std::future::Future<Output = Result<LiveReceipt>> + Send + 'static {
        let this = Arc::clone(self);
        let key = key.clone();
        let registered = this.register(&key, text, thread, finish);
        async move {
            let (slot, mine) = registered?;
            let _sending = slot.sending.lock().await;
            if *slot.applied.borrow() >= mine {
                // A newer update was sent while this one waited: nothing left to do.
                let entry = this.ledger.lock().await.get(key.as_str()).cloned();
                return Ok(receipt(entry.unwrap_or_default(), false));
            }
            let (number, text, thread, finish) = slot
                .latest
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let entry = this.apply(&key, &text, thread, finish).await?;
            slot.applied.send_replace(number);
            Ok(receipt(entry, number == mine))
        }
    }

    /// Makes `text` the newest update of `key`; answers its slot and number.
    fn register(
        &self,
        key: &LiveKey,
        text: &str,
        thread: Option<ThreadId>,
        finish: bool,
    ) -> Result<(Arc<Slot>, u64)> {
        if text.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "text",
                message: "a live message needs text".into(),
            });
        }
        let slot = self.slot(key);
        let mine = {
            let mut latest = slot.latest.lock().unwrap_or_else(PoisonError::into_inner);
            let number = latest.0 + 1;
            *latest = (number, text.to_owned(), thread, finish);
            number
        };
        Ok((slot, mine))
    }

    fn slot(&self, key: &LiveKey) -> Arc<Slot> {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.as_str().to_owned())
            .or_insert_with(|| {
                Arc::new(Slot {
                    latest: Mutex::new((0, String::new(), None, false)),
                    applied: watch::Sender::new(0),
                    sending: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }

    /// Sends one text: posts, edits the parts that changed, continues in new messages.
    async fn apply(
        &self,
        key: &LiveKey,
        text: &str,
        thread: Option<ThreadId>,
        finish: bool,
    ) -> Result<Entry> {
        let capabilities = self.connector.capabilities();
        let limit = capabilities
            .max_message_len()
            .unwrap_or(usize::MAX)
            .max(Chunker::MIN_LIMIT);
        let parts = Chunker::new(limit, LengthUnit::Chars)?.split_text(text);
        let mut ledger = self.ledger.lock().await;
        let mut entry = match ledger.get(key.as_str()) {
            Some(entry) if !entry.finished && capabilities.supports(Capability::Edits) => {
                entry.clone()
            }
            _ => Entry {
                thread,
                ..Entry::default()
            },
        };
        for (index, part) in parts.iter().enumerate() {
            match entry.ids.get(index) {
                Some(_) if entry.parts.get(index) == Some(part) => {}
                Some(id) => {
                    self.connector.edit(id, entry.thread.as_ref(), part).await?;
                    entry.parts[index] = part.clone();
                }
                None => {
                    let mut message = OutboundMessage::new(part.clone());
                    message.thread_id = entry.thread.clone();
                    let sent = self.connector.send(message).await?;
                    if entry.thread.is_none() {
                        entry.thread = sent.thread_id.clone();
                    }
                    entry.ids.extend(sent.message_ids.first().cloned());
                    entry.parts.push(part.clone());
                }
            }
            // Saved after every message, so a failure part-way leaves a ledger that is true.
            ledger.insert(key.as_str().to_owned(), entry.clone());
            self.save(&ledger).await?;
        }
        for index in parts.len()..entry.ids.len() {
            if entry.parts[index] != NO_LONGER_NEEDED {
                self.connector
                    .edit(&entry.ids[index], entry.thread.as_ref(), NO_LONGER_NEEDED)
                    .await?;
                entry.parts[index] = NO_LONGER_NEEDED.to_owned();
            }
        }
        entry.finished = finish;
        ledger.insert(key.as_str().to_owned(), entry.clone());
        self.save(&ledger).await?;
        Ok(entry)
    }

    async fn save(&self, ledger: &HashMap<String, Entry>) -> Result<()> {
        let Some(file) = &self.ledger_file else {
            return Ok(());
        };
        let bytes = serde_norway::to_string(ledger)
            .map_err(|e| file.corrupt(format!("cannot encode the ledger: {e}")))?
            .into_bytes();
        file.on_blocking_pool(tokio::task::spawn_blocking, move |f| {
            f.write(&bytes, Durability::Synced)
        })
        .await
    }
}

fn receipt(entry: Entry, sent_as_is: bool) -> LiveReceipt {
    LiveReceipt {
        message_ids: entry.ids,
        finished: entry.finished,
        sent_as_is,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::LoopbackConnector;

    #[tokio::test]
    async fn a_restart_keeps_editing_the_same_message_and_long_text_continues() {
        let dir = std::env::temp_dir().join(format!("live-ledger-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (connector, operator) =
            LoopbackConnector::with_policy(crate::allowlist::SenderPolicy::allow_any(), 40);
        let connector: Arc<dyn OrchestratorConnector> = Arc::new(connector);
        let key = LiveKey::new("deploy").unwrap();
        let first = Arc::new(
            LiveMessages::new(connector.clone(), Some(LiveMessages::ledger_in(&dir))).unwrap(),
        )
        .update(&key, "deploying 1/3", None, false)
        .await
        .unwrap();
        // A new process: the ledger says which message to edit.
        let live = Arc::new(
            LiveMessages::new(connector.clone(), Some(LiveMessages::ledger_in(&dir))).unwrap(),
        );
        let second = live
            .update(&key, "deploying 2/3", None, false)
            .await
            .unwrap();
        assert_eq!(second.message_ids, first.message_ids);
        assert_eq!(
            operator.text_of(&first.message_ids[0]).unwrap(),
            "deploying 2/3"
        );

        let long = format!("{} {}", "a".repeat(39), "b".repeat(39));
        let grown = live.update(&key, &long, None, false).await.unwrap();
        assert_eq!(grown.message_ids.len(), 2, "continued in a second message");
        assert_eq!(grown.message_ids[0], first.message_ids[0]);
        assert_eq!(
            operator.text_of(&grown.message_ids[1]).unwrap(),
            "b".repeat(39)
        );
        let shrunk = live.update(&key, "done", None, true).await.unwrap();
        assert_eq!(operator.text_of(&shrunk.message_ids[0]).unwrap(), "done");
        assert_eq!(
            operator.text_of(&shrunk.message_ids[1]).unwrap(),
            NO_LONGER_NEEDED
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keys_are_checked() {
        assert!(LiveKey::new("fleet-status.v2_1").is_ok());
        for bad in ["", "has space", "ünï", &"x".repeat(65)] {
            let error = LiveKey::new(bad).unwrap_err().to_string();
            assert!(error.contains("is not a live key"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_burst_of_updates_ends_as_one_message_showing_the_last() {
        let (connector, operator) = LoopbackConnector::pair();
        let live = Arc::new(LiveMessages::new(Arc::new(connector), None).unwrap());
        let key = LiveKey::new("build").unwrap();
        let updates: Vec<_> = (0..100)
            .map(|n| tokio::spawn(live.update(&key, &format!("step {n}"), None, false)))
            .collect();
        let mut ids = Vec::new();
        for update in updates {
            ids.push(update.await.unwrap().unwrap().message_ids);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "one message: {ids:?}");
        assert_eq!(
            operator.text_of(&ids[0][0]).unwrap(),
            "step 99",
            "the last update made is the one shown, whatever order the tasks ran in"
        );
        let last = live.update(&key, "done", None, true).await.unwrap();
        assert!(last.finished && last.sent_as_is);
        let shown = operator.text_of(&last.message_ids[0]).expect("posted");
        assert_eq!(shown, "done");
        assert!(operator.next_outbound().await.is_some(), "the first post");
        let second = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            operator.next_outbound(),
        );
        assert!(second.await.is_err(), "one post, the rest were edits");
        // Finished: the same key starts a new message.
        let next = live
            .update(&key, "tomorrow's build", None, false)
            .await
            .unwrap();
        assert_ne!(next.message_ids, last.message_ids);
    }
}
