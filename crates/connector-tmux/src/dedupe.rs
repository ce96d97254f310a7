//! Never delivering an inbound line twice, across reconnects.
//!
//! Every line has an identity: the **server instance** (server PID and start time — a
//! restarted server is a new instance even if it reuses the socket), the **pane** (`%N`),
//! the **process** that produced it (the console loop's PID, or `#{pane_pid}` for an
//! endpoint pane), and a **line number** counted by that process (the console loop numbers
//! its reports itself) or by us for that pane instance (endpoint panes). Pane ids and
//! PIDs are reused over time, which is why the server instance and the process are part of
//! the key.
//!
//! The de-duplicator keeps the highest number delivered per source and admits only numbers above
//! it. State is kept across reconnects, so a second client that sees the same report (two
//! clients briefly attached, or a replay) cannot deliver it again, and a restarted console
//! loop (new PID) or restarted server (new instance) starts a fresh count instead of being
//! mistaken for old lines.

use std::collections::HashMap;
use std::fmt;

/// One tmux server process, as told by `#{pid}` and `#{start_time}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerId {
    /// Server PID.
    pub pid: u32,
    /// Server start time (seconds since the epoch).
    pub start_time: u64,
}

/// Where a line came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceKey {
    /// The server instance.
    pub server: ServerId,
    /// The pane id, e.g. `%3`.
    pub pane: String,
    /// PID of the process whose output it is.
    pub process: u32,
}

/// The identity of one inbound line; stable, so it can serve as a message id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineId {
    /// Where it came from.
    pub source: SourceKey,
    /// Its number within that source (1, 2, …).
    pub number: u64,
}

impl fmt::Display for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tmux:{}.{}:{}:{}:{}",
            self.source.server.pid,
            self.source.server.start_time,
            self.source.pane,
            self.source.process,
            self.number
        )
    }
}

/// High-water marks per source.
#[derive(Debug, Default)]
pub(crate) struct Deduper {
    high: HashMap<SourceKey, u64>,
}

impl Deduper {
    /// Admits `number` from `source` if it is newer than anything delivered from it.
    pub(crate) fn admit(&mut self, source: &SourceKey, number: u64) -> bool {
        match self.high.get_mut(source) {
            Some(high) if number <= *high => false,
            Some(high) => {
                *high = number;
                true
            }
            None => {
                self.high.insert(source.clone(), number);
                true
            }
        }
    }

    /// The highest number delivered from `source`.
    #[cfg(test)]
    pub(crate) fn high_water(&self, source: &SourceKey) -> u64 {
        self.high.get(source).copied().unwrap_or(0)
    }

    /// Forgets sources of server instances other than `current` (they can never speak
    /// again).
    pub(crate) fn retain_server(&mut self, current: &ServerId) {
        self.high.retain(|k, _| &k.server == current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(server_pid: u32, process: u32) -> SourceKey {
        SourceKey {
            server: ServerId {
                pid: server_pid,
                start_time: 100,
            },
            pane: "%0".into(),
            process,
        }
    }

    #[test]
    fn repeats_and_old_numbers_are_refused() {
        let mut d = Deduper::default();
        assert!(d.admit(&key(1, 10), 1));
        assert!(d.admit(&key(1, 10), 2));
        assert!(!d.admit(&key(1, 10), 2));
        assert!(!d.admit(&key(1, 10), 1));
        assert_eq!(d.high_water(&key(1, 10)), 2);
    }

    #[test]
    fn a_new_process_or_server_counts_afresh() {
        let mut d = Deduper::default();
        assert!(d.admit(&key(1, 10), 5));
        assert!(d.admit(&key(1, 11), 1), "restarted loop in the same pane");
        assert!(d.admit(&key(2, 10), 1), "restarted server reusing pid 10");
    }

    #[test]
    fn line_ids_render_as_message_ids() {
        let id = LineId {
            source: key(7, 42),
            number: 3,
        };
        assert_eq!(id.to_string(), "tmux:7.100:%0:42:3");
    }
}
