//! The events the bot sent in this run, so a reaction on one of them is recognised without
//! asking the homeserver (reactions on older messages are checked with a request).

use std::sync::{Mutex, PoisonError};

use connector_core::MessageId;
use connector_core::dedupe::Dedupe;

/// How many of the bot's event ids are remembered.
const REMEMBERED: usize = 4096;

/// A bounded set of the bot's own event ids (the oldest forgotten first).
#[derive(Debug)]
pub(crate) struct OwnEvents(Mutex<Dedupe>);

impl Default for OwnEvents {
    fn default() -> Self {
        Self(Mutex::new(Dedupe::new(REMEMBERED)))
    }
}

impl OwnEvents {
    /// Remembers `id` as sent by the bot.
    pub(crate) fn note(&self, id: &MessageId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_sighting(id);
    }

    /// Whether `id` was sent by the bot in this run (and is still remembered).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&MessageId::new(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_what_was_noted() {
        let own = OwnEvents::default();
        own.note(&MessageId::new("$a"));
        assert!(own.contains("$a"));
        assert!(!own.contains("$b"));
    }
}
