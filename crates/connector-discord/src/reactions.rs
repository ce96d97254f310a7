//! Which of the operator's reactions are on, so that each add and each removal is reported once.
//!
//! Discord's reaction events carry no id of their own, and a resumed session may replay them.
//! The ledger remembers, per (message, user, emoji), whether the reaction is on and how many
//! times it was given: an add of a reaction that is on, or a removal of one that is off, is a
//! replay and is dropped; a reaction taken back and given again is a new event with a new id.

use std::collections::{HashMap, VecDeque};

/// How many (message, user, emoji) entries are remembered; the oldest are forgotten first.
const CAPACITY: usize = 4096;

/// One reaction: the message it is on, who gave it and the emoji.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReactionKey {
    pub(crate) message: u64,
    pub(crate) user: u64,
    pub(crate) emoji: String,
}

impl ReactionKey {
    /// The event id of the `generation`-th time this reaction was given: the first keeps the
    /// plain `reaction-{message}-{user}-{emoji}`.
    pub(crate) fn added_id(&self, generation: u32) -> String {
        let base = format!("reaction-{}-{}-{}", self.message, self.user, self.emoji);
        match generation {
            0 => base,
            n => format!("{base}-{n}"),
        }
    }

    /// The event id of taking back the `generation`-th time this reaction was given.
    pub(crate) fn removed_id(&self, generation: u32) -> String {
        format!(
            "reaction-removed-{}-{}-{}-{generation}",
            self.message, self.user, self.emoji
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    on: bool,
    /// How many times it was given before the current (or last) time, counting from 0.
    generation: u32,
}

/// The reactions seen in this run (bounded by [`CAPACITY`]).
#[derive(Debug, Default)]
pub(crate) struct ReactionLedger {
    entries: HashMap<ReactionKey, Entry>,
    order: VecDeque<ReactionKey>,
}

impl ReactionLedger {
    /// Records that `key` was given: its generation when that is news, `None` for a replay.
    pub(crate) fn add(&mut self, key: &ReactionKey) -> Option<u32> {
        match self.entries.get_mut(key) {
            Some(entry) if entry.on => None,
            Some(entry) => {
                entry.on = true;
                entry.generation += 1;
                Some(entry.generation)
            }
            None => {
                self.insert(
                    key.clone(),
                    Entry {
                        on: true,
                        generation: 0,
                    },
                );
                Some(0)
            }
        }
    }

    /// Records that `key` was taken back: the generation it ends when that is news, `None` for
    /// a replay. A removal of a reaction given before this run is news (generation 0).
    pub(crate) fn remove(&mut self, key: &ReactionKey) -> Option<u32> {
        match self.entries.get_mut(key) {
            Some(entry) if entry.on => {
                entry.on = false;
                Some(entry.generation)
            }
            Some(_) => None,
            None => {
                self.insert(
                    key.clone(),
                    Entry {
                        on: false,
                        generation: 0,
                    },
                );
                Some(0)
            }
        }
    }

    /// Remembers `key` as on or off with its `generation`, as saved before a restart.
    pub(crate) fn restore(&mut self, key: ReactionKey, on: bool, generation: u32) {
        match self.entries.get_mut(&key) {
            Some(entry) => *entry = Entry { on, generation },
            None => self.insert(key, Entry { on, generation }),
        }
    }

    fn insert(&mut self, key: ReactionKey, entry: Entry) {
        if self.order.len() >= CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.entries.remove(&oldest);
        }
        self.order.push_back(key.clone());
        self.entries.insert(key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(emoji: &str) -> ReactionKey {
        ReactionKey {
            message: 10,
            user: 7,
            emoji: emoji.to_owned(),
        }
    }

    #[test]
    fn adds_and_removals_are_news_once_each() {
        let mut ledger = ReactionLedger::default();
        let thumbs = key("👍");
        assert_eq!(ledger.add(&thumbs), Some(0));
        assert_eq!(ledger.add(&thumbs), None, "a replayed add");
        assert_eq!(ledger.remove(&thumbs), Some(0));
        assert_eq!(ledger.remove(&thumbs), None, "a replayed removal");
        assert_eq!(ledger.add(&thumbs), Some(1), "given again");
        assert_eq!(ledger.remove(&thumbs), Some(1));
        assert_eq!(
            ledger.add(&key("👎")),
            Some(0),
            "another emoji is its own reaction"
        );
    }

    #[test]
    fn ids_differ_for_every_add_and_removal() {
        let thumbs = key("👍");
        let ids = [
            thumbs.added_id(0),
            thumbs.removed_id(0),
            thumbs.added_id(1),
            thumbs.removed_id(1),
        ];
        assert_eq!(ids[0], "reaction-10-7-👍");
        assert_eq!(ids[3], "reaction-removed-10-7-👍-1");
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
    }

    #[test]
    fn a_removal_of_a_reaction_from_before_is_news() {
        let mut ledger = ReactionLedger::default();
        assert_eq!(ledger.remove(&key("✅")), Some(0));
        assert_eq!(ledger.add(&key("✅")), Some(1));
    }

    #[test]
    fn a_restored_reaction_continues_its_generations() {
        let mut ledger = ReactionLedger::default();
        ledger.restore(key("👍"), true, 2);
        assert_eq!(ledger.add(&key("👍")), None, "on already");
        assert_eq!(ledger.remove(&key("👍")), Some(2));
        assert_eq!(ledger.add(&key("👍")), Some(3));
        ledger.restore(key("✅"), false, 1);
        assert_eq!(ledger.add(&key("✅")), Some(2));
    }

    #[test]
    fn memory_is_bounded() {
        let mut ledger = ReactionLedger::default();
        for message in 0..(CAPACITY as u64 + 10) {
            let key = ReactionKey {
                message,
                user: 1,
                emoji: "x".to_owned(),
            };
            ledger.add(&key);
        }
        assert_eq!(ledger.entries.len(), CAPACITY);
        assert_eq!(ledger.order.len(), CAPACITY);
    }
}
