//! The bot's update queue, as `getUpdates` serves it: sequential ids (chosen at random again
//! after a long silence), `offset` confirmation, 24-hour retention, `allowed_updates` applied
//! when an update is created, and the one long poll allowed at a time.

use std::{collections::VecDeque, time::Duration};

use serde_json::{Value, json};
use tokio::sync::watch;

/// How long an unconfirmed update is kept (docs, Getting updates: "will not be kept longer than
/// 24 hours").
pub(crate) const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The update types delivered when `allowed_updates` was never given or was empty: all but
/// these (docs, getUpdates).
const OFF_BY_DEFAULT: &[&str] = &["chat_member", "message_reaction", "message_reaction_count"];

/// One update waiting for the bot.
#[derive(Debug, Clone)]
struct Pending {
    id: i64,
    /// Unix time it was created.
    created: u64,
    /// `message`, `callback_query`, …
    kind: &'static str,
    payload: Value,
}

/// The queue and the state of polling.
#[derive(Debug)]
pub(crate) struct UpdateQueue {
    pending: VecDeque<Pending>,
    next_id: i64,
    /// When the last update was created (unix time), for the id reset after silence.
    last_created: Option<u64>,
    /// Silence after which the next id is chosen at random.
    reset_after: Duration,
    /// The last `allowed_updates` given (empty: the default set).
    allowed: Vec<String>,
    /// Bumped by every `getUpdates`; a waiting poll whose number is no longer current was
    /// terminated by a newer one.
    poll_generation: u64,
    /// Wakes waiting polls: on every new update and every new poll.
    changed: watch::Sender<u64>,
}

fn random_id() -> i64 {
    fastrand::i64(100_000_000..900_000_000)
}

impl UpdateQueue {
    pub(crate) fn new(reset_after: Duration) -> UpdateQueue {
        UpdateQueue {
            pending: VecDeque::new(),
            next_id: random_id(),
            last_created: None,
            reset_after,
            allowed: Vec::new(),
            poll_generation: 0,
            changed: watch::channel(0).0,
        }
    }

    /// Whether an update of this kind is created at all, given the last `allowed_updates`.
    pub(crate) fn allows(&self, kind: &str) -> bool {
        if self.allowed.is_empty() {
            !OFF_BY_DEFAULT.contains(&kind)
        } else {
            self.allowed.iter().any(|a| a == kind)
        }
    }

    /// Sets `allowed_updates` for the updates created from now on.
    pub(crate) fn set_allowed(&mut self, allowed: Vec<String>) {
        self.allowed = allowed;
    }

    /// Queues an update of `kind` unless `allowed_updates` excludes it; answers its id.
    pub(crate) fn push(&mut self, now: u64, kind: &'static str, payload: Value) -> Option<i64> {
        if !self.allows(kind) {
            return None;
        }
        if let Some(last) = self.last_created
            && now.saturating_sub(last) >= self.reset_after.as_secs()
            && self.pending.is_empty()
        {
            self.next_id = random_id();
        }
        let id = self.next_id;
        self.next_id += 1;
        self.last_created = Some(now);
        self.pending.push_back(Pending {
            id,
            created: now,
            kind,
            payload,
        });
        self.changed.send_modify(|n| *n += 1);
        Some(id)
    }

    /// Forgets what `offset` confirms (a positive offset: every update below it; a negative
    /// one: all but the last `-offset`) and what is older than [`RETENTION`].
    pub(crate) fn confirm(&mut self, offset: i64, now: u64) {
        if offset > 0 {
            self.pending.retain(|u| u.id >= offset);
        } else if offset < 0 {
            let keep = usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX);
            while self.pending.len() > keep {
                self.pending.pop_front();
            }
        }
        self.pending
            .retain(|u| now.saturating_sub(u.created) < RETENTION.as_secs());
    }

    /// Up to `limit` waiting updates as `Update` objects, oldest first.
    pub(crate) fn batch(&self, limit: usize) -> Vec<Value> {
        self.pending
            .iter()
            .take(limit)
            .map(|u| json!({ "update_id": u.id, u.kind: u.payload }))
            .collect()
    }

    /// How many updates wait.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Drops every waiting update (`deleteWebhook`/`setWebhook` with `drop_pending_updates`).
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }

    /// Starts a poll: terminates the one waiting, if any. Answers the new poll's number.
    pub(crate) fn begin_poll(&mut self) -> u64 {
        self.poll_generation += 1;
        self.changed.send_modify(|n| *n += 1);
        self.poll_generation
    }

    /// Whether the poll numbered `generation` is still the current one.
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.poll_generation == generation
    }

    /// A receiver that wakes on the next change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_offsets_confirm() {
        let mut q = UpdateQueue::new(Duration::from_secs(7 * 86_400));
        let a = q.push(0, "message", json!({})).unwrap();
        let b = q.push(1, "message", json!({})).unwrap();
        assert_eq!(b, a + 1);
        q.confirm(b, 2);
        assert_eq!(q.batch(100)[0]["update_id"], b);
        q.confirm(b + 1, 2);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn reactions_need_to_be_asked_for() {
        let mut q = UpdateQueue::new(Duration::from_secs(60));
        assert!(q.push(0, "message_reaction", json!({})).is_none());
        q.set_allowed(vec!["message_reaction".into()]);
        assert!(q.push(0, "message_reaction", json!({})).is_some());
        assert!(q.push(0, "message", json!({})).is_none());
    }

    #[test]
    fn old_updates_expire_and_ids_restart_after_silence() {
        let mut q = UpdateQueue::new(Duration::from_secs(60));
        let a = q.push(0, "message", json!({})).unwrap();
        q.confirm(0, RETENTION.as_secs());
        assert_eq!(q.len(), 0);
        // Try a few times: a random restart may by chance land on a + 1.
        let restarted = (0..5).any(|i| {
            let b = q
                .push(1_000 * (i + 1) * RETENTION.as_secs(), "message", json!({}))
                .unwrap();
            q.confirm(b + 1, 0);
            b != a + 1
        });
        assert!(restarted);
    }
}
