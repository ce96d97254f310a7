//! The bridge's small persisted state: which operator thread the agent's output goes to, the
//! thread pairs mapped both ways, and the ids of operator messages already handed to the agent.
//!
//! It is one JSON file, a `connector_core::StateFile` rewritten atomically and durably whenever
//! it changes, so a restarted bridge answers into the same thread and never hands the same
//! message over twice; a corrupt one is an error naming it, never a fresh start.

use std::collections::VecDeque;
use std::path::Path;

use connector_core::StateFile;
use connector_core::state_file::Durability;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How many forwarded operator message ids are remembered for dedupe across restarts.
const FORWARDED_MEMORY: usize = 512;

/// One operator thread and the agent-side thread it is mapped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ThreadPair {
    /// The thread on the operator's side.
    pub(crate) operator: String,
    /// The thread on the agent's side.
    pub(crate) agent: String,
}

/// What survives a restart of the bridge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BridgeState {
    /// The operator thread the most recent operator message came from (`None`: the main
    /// conversation). Agent output that is not in a mapped thread goes there.
    #[serde(default)]
    pub(crate) reply_thread: Option<String>,
    /// Operator threads mirrored as agent threads (`--mirror-threads`), both ways.
    #[serde(default)]
    pub(crate) threads: Vec<ThreadPair>,
    /// Ids of the latest operator messages handed to the agent, oldest first.
    #[serde(default)]
    pub(crate) forwarded: VecDeque<String>,
}

impl BridgeState {
    /// Reads the state at `path`; a missing file is a fresh state, a corrupt one an error
    /// naming it.
    pub(crate) fn load(path: &Path) -> Result<Self, Error> {
        let state = file(path).read_with(|bytes| serde_json::from_slice(bytes))?;
        Ok(state.unwrap_or_default())
    }

    /// Writes the state to `path` atomically and durably, creating its directory.
    pub(crate) fn save(&self, path: &Path) -> Result<(), Error> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Io {
            what: "encoding the bridge state",
            source: e.into(),
        })?;
        Ok(file(path).write(&bytes, Durability::Synced)?)
    }

    /// Whether the operator message `id` was already handed to the agent.
    pub(crate) fn was_forwarded(&self, id: &str) -> bool {
        self.forwarded.iter().any(|seen| seen == id)
    }

    /// Records that the operator message `id` from `thread` was handed to the agent: it is
    /// never handed over again, and the agent's output now goes to `thread`.
    pub(crate) fn record_forwarded(&mut self, id: &str, thread: Option<&str>) {
        self.reply_thread = thread.map(str::to_owned);
        if !self.was_forwarded(id) {
            self.forwarded.push_back(id.to_owned());
            while self.forwarded.len() > FORWARDED_MEMORY {
                self.forwarded.pop_front();
            }
        }
    }

    /// The agent-side thread for the operator thread `operator` when threads are mirrored:
    /// the mapped one, or a new pair with the same id.
    pub(crate) fn agent_thread_for(&mut self, operator: &str) -> String {
        if let Some(pair) = self.threads.iter().find(|p| p.operator == operator) {
            return pair.agent.clone();
        }
        self.threads.push(ThreadPair {
            operator: operator.to_owned(),
            agent: operator.to_owned(),
        });
        operator.to_owned()
    }

    /// Where the agent's output from agent-side thread `agent` goes on the operator's side:
    /// the operator thread mapped to it, else the thread of the most recent operator message.
    pub(crate) fn operator_thread_for(&self, agent: Option<&str>) -> Option<String> {
        agent
            .and_then(|agent| self.threads.iter().find(|p| p.agent == agent))
            .map(|pair| Some(pair.operator.clone()))
            .unwrap_or_else(|| self.reply_thread.clone())
    }
}

/// The bridge's state file at `path`.
fn file(path: &Path) -> StateFile {
    StateFile::new(path)
        .holding("the bridge's thread map and the operator messages it handed over")
        .without_it(
            "replies go to the main conversation until the operator writes again, and a message \
             the operator's side delivers again is handed over again",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_follow_the_latest_operator_thread_and_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("bridge.json");
        let mut state = BridgeState::load(&path).unwrap();
        assert_eq!(state, BridgeState::default());
        state.record_forwarded("m1", Some("t1"));
        assert_eq!(state.operator_thread_for(None).as_deref(), Some("t1"));
        state.record_forwarded("m2", None);
        assert_eq!(state.operator_thread_for(None), None);
        state.record_forwarded("m3", Some("t2"));
        state.save(&path).unwrap();

        let reloaded = BridgeState::load(&path).unwrap();
        assert_eq!(reloaded, state);
        assert!(reloaded.was_forwarded("m1"));
        assert!(!reloaded.was_forwarded("m4"));
        assert_eq!(reloaded.operator_thread_for(None).as_deref(), Some("t2"));
    }

    #[test]
    fn mirrored_threads_map_both_ways() {
        let mut state = BridgeState::default();
        state.record_forwarded("m1", Some("main-thread"));
        assert_eq!(state.agent_thread_for("op-1"), "op-1");
        assert_eq!(state.agent_thread_for("op-1"), "op-1");
        assert_eq!(state.threads.len(), 1);
        assert_eq!(
            state.operator_thread_for(Some("op-1")).as_deref(),
            Some("op-1")
        );
        // Output from an unmapped agent thread, or the main pane, follows the latest message.
        assert_eq!(
            state.operator_thread_for(Some("other")).as_deref(),
            Some("main-thread")
        );
    }

    #[test]
    fn forwarded_ids_are_bounded() {
        let mut state = BridgeState::default();
        for i in 0..(FORWARDED_MEMORY + 10) {
            state.record_forwarded(&format!("m{i}"), None);
        }
        assert_eq!(state.forwarded.len(), FORWARDED_MEMORY);
        assert!(!state.was_forwarded("m0"));
        assert!(state.was_forwarded(&format!("m{}", FORWARDED_MEMORY + 9)));
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bridge.json");
        std::fs::write(&path, "{not json").unwrap();
        let error = BridgeState::load(&path)
            .unwrap_err()
            .to_string()
            .replace(&*dir.path().to_string_lossy(), "<dir>");
        insta::assert_snapshot!(error, @"state file <dir>/bridge.json: it should hold the bridge's thread map and the operator messages it handed over but is corrupt (key must be a string at line 1 column 2); move it aside to start without it (replies go to the main conversation until the operator writes again, and a message the operator's side delivers again is handed over again), or restore it from a backup");
    }
}
