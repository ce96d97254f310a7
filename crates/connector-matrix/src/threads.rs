//! What the connector knows about threads: which root an event belongs to, and each thread's
//! latest event.
//!
//! A thread's id is its root's event id. Matrix forbids starting a thread from an event that is
//! itself in a thread, so when asked to post "in the thread of" such an event the connector
//! posts into its root's thread instead; and a thread reply names the thread's latest event as
//! its reply fallback, for clients without threads. Both come from the events this connector
//! has seen or sent, kept in a bounded memory (oldest forgotten first).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// How many events the map remembers.
const CAPACITY: usize = 4096;

/// Event → thread root, and thread root → latest event, for recent events.
#[derive(Debug, Default)]
pub(crate) struct Threads {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    root_of: HashMap<String, String>,
    latest: HashMap<String, String>,
    order: VecDeque<String>,
}

impl Threads {
    /// Records that `event` was posted in the thread rooted at `root`.
    pub(crate) fn note(&self, event: &str, root: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner
            .root_of
            .insert(event.to_owned(), root.to_owned())
            .is_none()
        {
            inner.order.push_back(event.to_owned());
        }
        inner.latest.insert(root.to_owned(), event.to_owned());
        while inner.order.len() > CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.root_of.remove(&old);
                inner.latest.retain(|_, latest| *latest != old);
            }
        }
    }

    /// The root of the thread to post into when asked for the thread of `event`: its own root
    /// when it is a known thread reply, else `event` itself (which then becomes a root).
    pub(crate) fn root_for(&self, event: &str) -> String {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .root_of
            .get(event)
            .cloned()
            .unwrap_or_else(|| event.to_owned())
    }

    /// The latest known event in the thread rooted at `root` (the root itself if none).
    pub(crate) fn latest_in(&self, root: &str) -> String {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .latest
            .get(root)
            .cloned()
            .unwrap_or_else(|| root.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_replies_to_their_root_and_tracks_the_latest() {
        let threads = Threads::default();
        assert_eq!(threads.root_for("$a"), "$a");
        assert_eq!(threads.latest_in("$a"), "$a");
        threads.note("$b", "$a");
        threads.note("$c", "$a");
        assert_eq!(threads.root_for("$c"), "$a");
        assert_eq!(threads.latest_in("$a"), "$c");
    }

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let threads = Threads::default();
        for i in 0..=CAPACITY {
            threads.note(&format!("$e{i}"), "$root");
        }
        assert_eq!(threads.root_for("$e0"), "$e0");
        assert_eq!(threads.root_for(&format!("$e{CAPACITY}")), "$root");
    }
}
