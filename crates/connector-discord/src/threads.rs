//! Which channels are threads of the connector's channel, learnt from events and REST lookups.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

/// Where a message was posted, as the connector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The connector's channel.
    Channel,
    /// A thread whose parent is the connector's channel.
    Thread(u64),
    /// Somewhere else: ignored.
    Elsewhere,
}

/// The threads of one channel.
#[derive(Debug)]
pub(crate) struct Threads {
    channel: u64,
    /// Every channel id looked at: `true` if it is a thread of the channel.
    known: Mutex<HashMap<u64, bool>>,
}

impl Threads {
    /// No thread known yet of `channel`.
    pub(crate) fn new(channel: u64) -> Self {
        Self {
            channel,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The connector's channel.
    pub(crate) fn channel(&self) -> u64 {
        self.channel
    }

    /// Where `channel_id` is, or `None` if it has not been looked at yet.
    pub(crate) fn place(&self, channel_id: u64) -> Option<Place> {
        if channel_id == self.channel {
            return Some(Place::Channel);
        }
        self.lock().get(&channel_id).map(|&is_ours| {
            if is_ours {
                Place::Thread(channel_id)
            } else {
                Place::Elsewhere
            }
        })
    }

    /// Records that `channel_id` has `parent` (or none); answers whether it is a thread of ours
    /// that was not known before.
    pub(crate) fn learn(&self, channel_id: u64, parent: Option<u64>) -> bool {
        let ours = parent == Some(self.channel) && channel_id != self.channel;
        let previous = self.lock().insert(channel_id, ours);
        ours && previous != Some(true)
    }

    /// The threads of the channel known so far.
    pub(crate) fn all(&self) -> HashSet<u64> {
        self.lock()
            .iter()
            .filter_map(|(&id, &ours)| ours.then_some(id))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, bool>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_places() {
        let threads = Threads::new(1);
        assert_eq!(threads.place(1), Some(Place::Channel));
        assert_eq!(threads.place(2), None);
        assert!(threads.learn(2, Some(1)));
        assert!(!threads.learn(2, Some(1)), "already known");
        assert!(!threads.learn(3, Some(9)));
        assert_eq!(threads.place(2), Some(Place::Thread(2)));
        assert_eq!(threads.place(3), Some(Place::Elsewhere));
        assert_eq!(threads.all(), HashSet::from([2]));
    }
}
