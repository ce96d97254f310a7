//! Dedupe of inbound messages by platform message id, in bounded memory.

use std::collections::{HashSet, VecDeque};

use crate::ids::MessageId;

/// The default number of message ids remembered.
pub const DEFAULT_DEDUPE_CAPACITY: usize = 16_384;

/// Remembers the last `capacity` message ids seen and says whether an id is new.
///
/// The oldest id is forgotten first. Backends re-deliver only recent messages after a
/// reconnect (a gateway resume, a sync retry), so a window of thousands is plenty; what a
/// restart replays is bounded by the backend's persisted position, not by this window.
///
/// ```
/// use connector_core::dedupe::Dedupe;
/// let mut seen = Dedupe::new(2);
/// assert!(seen.first_sighting(&"a".into()));
/// assert!(!seen.first_sighting(&"a".into()));
/// ```
#[derive(Debug, Clone)]
pub struct Dedupe {
    order: VecDeque<MessageId>,
    seen: HashSet<MessageId>,
    capacity: usize,
}

impl Default for Dedupe {
    fn default() -> Self {
        Self::new(DEFAULT_DEDUPE_CAPACITY)
    }
}

impl Dedupe {
    /// A window of the last `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            order: VecDeque::with_capacity(capacity),
            seen: HashSet::with_capacity(capacity),
            capacity,
        }
    }

    /// Records `id`; true if it was not in the window.
    pub fn first_sighting(&mut self, id: &MessageId) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.order.push_back(id.clone());
        self.seen.insert(id.clone());
        true
    }

    /// Removes `id` from the window, so its next sighting counts as the first (for a message
    /// recorded but then not delivered after all). Linear in the window's size.
    pub fn forget(&mut self, id: &MessageId) {
        if self.seen.remove(id) {
            self.order.retain(|kept| kept != id);
        }
    }

    /// Whether `id` is in the window.
    pub fn contains(&self, id: &MessageId) -> bool {
        self.seen.contains(id)
    }

    /// Ids remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_oldest_beyond_capacity() {
        let mut d = Dedupe::new(3);
        for id in ["a", "b", "c"] {
            assert!(d.first_sighting(&id.into()));
        }
        assert!(!d.first_sighting(&"b".into()));
        assert!(d.first_sighting(&"d".into()));
        assert!(!d.contains(&"a".into()));
        assert!(d.contains(&"b".into()));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn a_forgotten_id_is_new_again() {
        let mut d = Dedupe::new(3);
        assert!(d.first_sighting(&"a".into()));
        assert!(d.first_sighting(&"b".into()));
        d.forget(&"a".into());
        assert_eq!(d.len(), 1);
        assert!(d.first_sighting(&"a".into()));
        assert!(!d.first_sighting(&"b".into()));
    }
}
