//! The reactions on the bot's recent messages, on disk, so that reactions given or taken back
//! while the connector was away are caught up after a restart (see `pump`).
//!
//! For every (message, user, emoji) seen on one of the bot's messages the file records whether
//! the reaction is on and its generation (how many times it was given before, see
//! `reactions`). Only the bot's messages at or above a floor are tracked: the floor starts at
//! the moment the file was first created (reactions older than the connector's memory are not
//! news), and rises past the oldest message whenever more than [`TRACKED_MESSAGES`] messages
//! hold reactions, which are then forgotten. A tracked message without an entry has no
//! reactions. The file (`reactions.json`, ids as strings) is a `StateFile`, replaced atomically
//! and fsynced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use connector_core::Result;
use connector_core::state_file::{Durability, StateFile};
use serde::{Deserialize, Serialize};
use tokio::task::spawn_blocking;

use crate::reactions::ReactionKey;

/// How many of the bot's messages with reactions are remembered (the most recent ones).
pub(crate) const TRACKED_MESSAGES: usize = 200;

/// One reaction's state: on or off, and its generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    /// Whether the reaction is on.
    pub(crate) on: bool,
    /// How many times it was given before the current (or last) time.
    pub(crate) generation: u32,
}

/// Who reacted with what: (user, emoji).
pub(crate) type Reactors = BTreeSet<(u64, String)>;

/// The saved reactions of the bot's recent messages.
#[derive(Debug)]
pub(crate) struct ReactionState {
    file: StateFile,
    floor: u64,
    messages: BTreeMap<u64, BTreeMap<(u64, String), Mark>>,
}

/// What changed between the saved reactions of a message and what Discord reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Difference {
    /// Reactions on now that were not before, by user then emoji.
    pub(crate) added: Vec<(u64, String)>,
    /// Reactions that were on and are no more, by user then emoji.
    pub(crate) removed: Vec<(u64, String)>,
}

/// The reactions given and taken back between `saved` and `now`.
pub(crate) fn difference(saved: &Reactors, now: &Reactors) -> Difference {
    Difference {
        added: now.difference(saved).cloned().collect(),
        removed: saved.difference(now).cloned().collect(),
    }
}

#[derive(Serialize, Deserialize)]
struct File {
    floor: String,
    messages: BTreeMap<String, Vec<FileEntry>>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    user: String,
    emoji: String,
    on: bool,
    generation: u32,
}

impl ReactionState {
    /// Loads the state kept at `path`; without a file, starts one whose floor is `now` (a
    /// snowflake) and writes it, so later starts know where the connector's memory begins.
    pub(crate) async fn load(path: PathBuf, now: u64) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the reactions on the bot's recent messages")
            .without_it(
                "reactions given or taken back while the connector was away are not reported",
            );
        let saved = file
            .on_blocking_pool(spawn_blocking, |file| file.read_with(parse))
            .await?;
        match saved {
            Some((floor, messages)) => Ok(Self {
                file,
                floor,
                messages,
            }),
            None => {
                let state = Self {
                    file,
                    floor: now,
                    messages: BTreeMap::new(),
                };
                state.save().await?;
                Ok(state)
            }
        }
    }

    /// Whether the reactions of the bot's message `message` are tracked.
    pub(crate) fn tracks(&self, message: u64) -> bool {
        message >= self.floor
    }

    /// The reactions on `message` as last saved.
    pub(crate) fn on(&self, message: u64) -> Reactors {
        self.messages
            .get(&message)
            .map(|marks| {
                marks
                    .iter()
                    .filter(|(_, mark)| mark.on)
                    .map(|(reactor, _)| reactor.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the saved reactions say explicitly that `key` is on (`on`) or off.
    pub(crate) fn holds(&self, key: &ReactionKey, on: bool) -> bool {
        self.messages
            .get(&key.message)
            .and_then(|marks| marks.get(&(key.user, key.emoji.clone())))
            .is_some_and(|mark| mark.on == on)
    }

    /// Every saved reaction and its mark.
    pub(crate) fn marks(&self) -> impl Iterator<Item = (ReactionKey, Mark)> + '_ {
        self.messages.iter().flat_map(|(&message, marks)| {
            marks.iter().map(move |((user, emoji), &mark)| {
                (
                    ReactionKey {
                        message,
                        user: *user,
                        emoji: emoji.clone(),
                    },
                    mark,
                )
            })
        })
    }

    /// Records `mark` for `key` (ignored below the floor); answers whether anything changed.
    /// Past [`TRACKED_MESSAGES`] messages the oldest is forgotten and the floor rises above it.
    pub(crate) fn set(&mut self, key: &ReactionKey, mark: Mark) -> bool {
        if !self.tracks(key.message) {
            return false;
        }
        let marks = self.messages.entry(key.message).or_default();
        let previous = marks.insert((key.user, key.emoji.clone()), mark);
        while self.messages.len() > TRACKED_MESSAGES {
            if let Some((oldest, _)) = self.messages.pop_first() {
                self.floor = self.floor.max(oldest + 1);
            }
        }
        previous != Some(mark)
    }

    /// Writes the state to disk, atomically and durably.
    pub(crate) async fn save(&self) -> Result<()> {
        let mut text = render(self.floor, &self.messages);
        text.push('\n');
        self.file
            .on_blocking_pool(spawn_blocking, move |file| {
                file.write(text.as_bytes(), Durability::Synced)
            })
            .await
    }
}

type Messages = BTreeMap<u64, BTreeMap<(u64, String), Mark>>;

fn parse(bytes: &[u8]) -> std::result::Result<(u64, Messages), String> {
    let file: File = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let id = |s: &str| s.parse::<u64>().map_err(|_| format!("not an id: {s:?}"));
    let mut messages = Messages::new();
    for (message, entries) in file.messages {
        let marks = messages.entry(id(&message)?).or_default();
        for entry in entries {
            marks.insert(
                (id(&entry.user)?, entry.emoji),
                Mark {
                    on: entry.on,
                    generation: entry.generation,
                },
            );
        }
    }
    Ok((id(&file.floor)?, messages))
}

fn render(floor: u64, messages: &Messages) -> String {
    let file = File {
        floor: floor.to_string(),
        messages: messages
            .iter()
            .map(|(message, marks)| {
                let entries = marks
                    .iter()
                    .map(|((user, emoji), mark)| FileEntry {
                        user: user.to_string(),
                        emoji: emoji.clone(),
                        on: mark.on,
                        generation: mark.generation,
                    })
                    .collect();
                (message.to_string(), entries)
            })
            .collect(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reactors(list: &[(u64, &str)]) -> Reactors {
        list.iter().map(|(u, e)| (*u, (*e).to_owned())).collect()
    }

    fn key(message: u64, user: u64, emoji: &str) -> ReactionKey {
        ReactionKey {
            message,
            user,
            emoji: emoji.to_owned(),
        }
    }

    const ON: Mark = Mark {
        on: true,
        generation: 0,
    };

    #[test]
    fn the_difference_is_what_was_given_and_what_was_taken_back() {
        let saved = reactors(&[(7, "👍"), (7, "👀"), (8, "👍")]);
        let now = reactors(&[(7, "👀"), (7, "✅"), (8, "👍"), (9, "🚀")]);
        assert_eq!(
            difference(&saved, &now),
            Difference {
                added: vec![(7, "✅".to_owned()), (9, "🚀".to_owned())],
                removed: vec![(7, "👍".to_owned())],
            }
        );
        assert_eq!(difference(&now, &now), Difference::default());
        assert_eq!(
            difference(&Reactors::new(), &now).added.len(),
            now.len(),
            "everything is new to an empty memory"
        );
        assert_eq!(
            difference(&saved, &Reactors::new()).removed.len(),
            saved.len()
        );
    }

    #[tokio::test]
    async fn saves_and_loads_with_a_floor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("reactions.json");
        let mut state = ReactionState::load(path.clone(), 100).await.unwrap();
        assert!(path.exists(), "a new state is written at once");
        assert!(!state.tracks(99), "older than the connector's memory");
        assert!(state.set(&key(150, 7, "👍"), ON));
        assert!(!state.set(&key(150, 7, "👍"), ON), "no change");
        assert!(state.set(
            &key(150, 7, "✅"),
            Mark {
                on: false,
                generation: 2
            }
        ));
        assert!(!state.set(&key(50, 7, "👍"), ON), "below the floor");
        state.save().await.unwrap();

        assert!(state.holds(&key(150, 7, "👍"), true));
        assert!(state.holds(&key(150, 7, "✅"), false));
        assert!(!state.holds(&key(150, 7, "✅"), true));
        assert!(
            !state.holds(&key(151, 7, "👍"), false),
            "nothing is said of a reaction never seen"
        );
        let loaded = ReactionState::load(path.clone(), 999).await.unwrap();
        assert!(loaded.tracks(100), "the floor comes from the file");
        assert_eq!(loaded.on(150), reactors(&[(7, "👍")]));
        assert_eq!(loaded.on(151), Reactors::new());
        let marks: Vec<_> = loaded.marks().collect();
        assert_eq!(marks.len(), 2);
        assert!(marks.contains(&(
            key(150, 7, "✅"),
            Mark {
                on: false,
                generation: 2
            }
        )));

        std::fs::write(&path, "{not json").unwrap();
        let error = ReactionState::load(path, 1).await.unwrap_err();
        assert!(error.to_string().contains("is corrupt"), "{error}");
    }

    #[tokio::test]
    async fn only_the_most_recent_messages_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = ReactionState::load(dir.path().join("r.json"), 1)
            .await
            .unwrap();
        let last = 1 + TRACKED_MESSAGES as u64 + 5;
        for message in 1..=last {
            state.set(&key(message, 7, "👍"), ON);
        }
        assert_eq!(state.messages.len(), TRACKED_MESSAGES);
        let oldest_kept = last - TRACKED_MESSAGES as u64 + 1;
        assert!(state.tracks(oldest_kept));
        assert!(
            !state.tracks(oldest_kept - 1),
            "forgotten: no longer tracked"
        );
        assert_eq!(state.on(oldest_kept - 1), Reactors::new());
        assert!(!state.set(&key(oldest_kept - 1, 7, "✅"), ON));
    }
}
