//! The sent-message book (`slack-sent.json` in the state directory): the `ts` of each recent
//! part posted, by idempotency key, so that sending the same message again (the caller retrying
//! after an error, or after a restart) posts nothing twice; and the keys whose post may have
//! taken effect without an answer, which are looked up in the channel before they are posted
//! again.

use std::collections::VecDeque;
use std::path::PathBuf;

use connector_core::Result;
use connector_core::state_file::{Durability, StateFile};
use serde_json::{Value, json};

/// How many keys are remembered.
pub(crate) const KEPT: usize = 1024;

/// What the book knows of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Posted: the message's `ts`.
    Posted(String),
    /// Perhaps posted: look for it before posting again.
    Uncertain,
}

/// The book.
#[derive(Debug)]
pub(crate) struct SentBook {
    file: StateFile,
    entries: VecDeque<(String, Sent)>,
}

impl SentBook {
    /// Loads the book at `path`, or starts empty.
    pub(crate) fn load(path: PathBuf) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the Slack messages sent, by idempotency key")
            .without_it("a message sent again with the same key is posted again");
        let mut entries = VecDeque::new();
        if let Some(bytes) = file.read()? {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| file.corrupt(e))?;
            for entry in value.as_array().into_iter().flatten() {
                let Some(key) = entry.get("key").and_then(Value::as_str) else {
                    continue;
                };
                let sent = match entry.get("ts").and_then(Value::as_str) {
                    Some(ts) => Sent::Posted(ts.to_owned()),
                    None => Sent::Uncertain,
                };
                entries.push_back((key.to_owned(), sent));
            }
        }
        Ok(Self { file, entries })
    }

    /// What the book knows of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Sent> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, s)| s)
    }

    /// Records `key` and writes the book.
    pub(crate) fn record(&mut self, key: &str, sent: Sent) -> Result<()> {
        self.entries.retain(|(k, _)| k != key);
        self.entries.push_back((key.to_owned(), sent));
        while self.entries.len() > KEPT {
            self.entries.pop_front();
        }
        let list: Vec<Value> = self
            .entries
            .iter()
            .map(|(key, sent)| match sent {
                Sent::Posted(ts) => json!({"key": key, "ts": ts}),
                Sent::Uncertain => json!({"key": key}),
            })
            .collect();
        self.file.write(
            Value::Array(list).to_string().as_bytes(),
            Durability::Volatile,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sent.json");
        let mut book = SentBook::load(path.clone()).unwrap();
        book.record("k1", Sent::Posted("1.000001".into())).unwrap();
        book.record("k2", Sent::Uncertain).unwrap();
        let book = SentBook::load(path).unwrap();
        assert_eq!(book.get("k1"), Some(&Sent::Posted("1.000001".into())));
        assert_eq!(book.get("k2"), Some(&Sent::Uncertain));
        assert_eq!(book.get("k3"), None);
    }
}
