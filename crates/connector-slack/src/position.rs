//! What the inbound side keeps on disk (`slack-inbound.json` in the state directory): the `ts`
//! of the last message delivered in the channel and in each thread followed, and the ids of
//! the last events handled. Socket Mode keeps no replay cursor, so these positions are where
//! the backfill after a restart starts; the event ids make a redelivered envelope a repeat even
//! across a restart.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::PathBuf;

use connector_core::Result;
use connector_core::state_file::{Durability, StateFile};
use serde_json::{Value, json};

/// The key of the channel's own position (threads are keyed by their parent's `ts`).
pub(crate) const CHANNEL: &str = "channel";

/// How many event ids are remembered.
pub(crate) const EVENTS_KEPT: usize = 4096;

/// How many threads are followed (the most recently active ones).
pub(crate) const THREADS_KEPT: usize = 50;

/// A Slack `ts` as a sortable pair (seconds, micro-part), `None` if it is not one.
pub(crate) fn ts_order(ts: &str) -> Option<(u64, u64)> {
    let (secs, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    Some((secs.parse().ok()?, micros.parse().ok()?))
}

/// Whether `a` is later than `b`.
pub(crate) fn later(a: &str, b: &str) -> bool {
    ts_order(a) > ts_order(b)
}

/// The positions and the recent event ids.
#[derive(Debug)]
pub(crate) struct Positions {
    file: StateFile,
    positions: BTreeMap<String, String>,
    events: VecDeque<String>,
    seen: HashSet<String>,
    /// `<conversation> <ts>` of the last messages handled, oldest first.
    handled: VecDeque<String>,
    handled_set: HashSet<String>,
    /// The positions as they were when loaded: at or before them, everything was handled.
    floors: BTreeMap<String, String>,
}

impl Positions {
    /// Loads the file at `path`, or starts empty.
    pub(crate) fn load(path: PathBuf) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the Slack delivery positions")
            .without_it("messages posted while the connector was away are not backfilled");
        let mut positions = BTreeMap::new();
        let mut events = VecDeque::new();
        let mut handled = VecDeque::new();
        if let Some(bytes) = file.read()? {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| file.corrupt(e))?;
            if let Some(map) = value.get("positions").and_then(Value::as_object) {
                for (k, v) in map {
                    if let Some(ts) = v.as_str() {
                        positions.insert(k.clone(), ts.to_owned());
                    }
                }
            }
            for id in value
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = id.as_str() {
                    events.push_back(id.to_owned());
                }
            }
            for key in value
                .get("handled")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(key) = key.as_str() {
                    handled.push_back(key.to_owned());
                }
            }
        }
        let seen = events.iter().cloned().collect();
        let handled_set = handled.iter().cloned().collect();
        Ok(Self {
            file,
            floors: positions.clone(),
            positions,
            events,
            seen,
            handled,
            handled_set,
        })
    }

    /// The last delivered `ts` of a conversation ([`CHANNEL`] or a thread's parent `ts`).
    pub(crate) fn get(&self, conversation: &str) -> Option<&str> {
        self.positions.get(conversation).map(String::as_str)
    }

    /// Every thread followed, with its position.
    pub(crate) fn threads(&self) -> Vec<(String, String)> {
        self.positions
            .iter()
            .filter(|(k, _)| k.as_str() != CHANNEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether `ts` of `conversation` was delivered already (at or before its position).
    pub(crate) fn passed(&self, conversation: &str, ts: &str) -> bool {
        self.get(conversation).is_some_and(|p| !later(ts, p))
    }

    /// Whether the message `ts` of `conversation` was handled already: it is among the last
    /// [`EVENTS_KEPT`] handled, or at or before the conversation's position when the positions
    /// were loaded. (Not merely before the current position: Slack does not promise to send
    /// events in order, and a late one must not be dropped because a newer one came first.)
    pub(crate) fn handled(&self, conversation: &str, ts: &str) -> bool {
        self.handled_set.contains(&format!("{conversation} {ts}"))
            || self.floors.get(conversation).is_some_and(|f| !later(ts, f))
    }

    /// Records the message `ts` of `conversation` as handled and moves the conversation's
    /// position to it if it is later.
    pub(crate) fn mark_handled(&mut self, conversation: &str, ts: &str) {
        let key = format!("{conversation} {ts}");
        if self.handled_set.insert(key.clone()) {
            self.handled.push_back(key);
            while self.handled.len() > EVENTS_KEPT {
                if let Some(old) = self.handled.pop_front() {
                    self.handled_set.remove(&old);
                }
            }
        }
        self.advance(conversation, ts);
    }

    /// Sets the position of a conversation that has none (the first start) and makes it the
    /// conversation's floor.
    pub(crate) fn start_at(&mut self, conversation: &str, ts: &str) {
        self.positions
            .insert(conversation.to_owned(), ts.to_owned());
        self.floors.insert(conversation.to_owned(), ts.to_owned());
    }

    /// Records `ts` as delivered in `conversation` (never moving back); true if it moved.
    pub(crate) fn advance(&mut self, conversation: &str, ts: &str) -> bool {
        if self.passed(conversation, ts) {
            return false;
        }
        self.positions
            .insert(conversation.to_owned(), ts.to_owned());
        if conversation != CHANNEL {
            self.prune_threads();
        }
        true
    }

    /// Starts following a thread from `ts` (its parent's ts) if it is not followed yet.
    pub(crate) fn follow(&mut self, thread: &str) -> bool {
        if self.positions.contains_key(thread) {
            return false;
        }
        self.positions.insert(thread.to_owned(), thread.to_owned());
        self.prune_threads();
        true
    }

    fn prune_threads(&mut self) {
        let mut threads: Vec<(String, String)> = self.threads();
        if threads.len() <= THREADS_KEPT {
            return;
        }
        threads.sort_by_key(|(_, last)| ts_order(last));
        for (thread, _) in threads.iter().take(threads.len() - THREADS_KEPT) {
            self.positions.remove(thread);
        }
    }

    /// Records an event id; false when it was seen already.
    pub(crate) fn first_sighting(&mut self, event_id: &str) -> bool {
        if !self.seen.insert(event_id.to_owned()) {
            return false;
        }
        self.events.push_back(event_id.to_owned());
        while self.events.len() > EVENTS_KEPT {
            if let Some(old) = self.events.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// Whether an event id was recorded.
    pub(crate) fn has_event(&self, event_id: &str) -> bool {
        self.seen.contains(event_id)
    }

    /// Writes the file (`Synced` survives a power loss, `Volatile` a killed process).
    pub(crate) fn save(&self, durability: Durability) -> Result<()> {
        let value = json!({
            "positions": self.positions,
            "events": self.events,
            "handled": self.handled,
        });
        self.file.write(value.to_string().as_bytes(), durability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_a_reload_and_never_move_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let mut p = Positions::load(path.clone()).unwrap();
        assert!(p.advance(CHANNEL, "1700000000.000200"));
        assert!(!p.advance(CHANNEL, "1700000000.000100"));
        assert!(p.passed(CHANNEL, "1700000000.000200"));
        assert!(!p.passed(CHANNEL, "1700000000.000201"));
        assert!(p.first_sighting("Ev1"));
        assert!(!p.first_sighting("Ev1"));
        p.follow("1700000000.000050");
        p.mark_handled(CHANNEL, "1700000000.000300");
        // A late, older message is not taken for handled.
        assert!(!p.handled(CHANNEL, "1700000000.000250"));
        p.save(Durability::Synced).unwrap();
        let mut again = Positions::load(path).unwrap();
        assert_eq!(again.get(CHANNEL), Some("1700000000.000300"));
        assert!(again.handled(CHANNEL, "1700000000.000300"));
        assert!(
            again.handled(CHANNEL, "1700000000.000250"),
            "at or before the floor"
        );
        assert!(!again.first_sighting("Ev1"));
        assert_eq!(again.threads().len(), 1);
    }

    #[test]
    fn ts_order_compares_numerically() {
        assert!(later("1700000001.000000", "1700000000.999999"));
        assert!(later("10.000001", "9.000002"));
    }
}
