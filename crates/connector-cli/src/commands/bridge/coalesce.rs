//! Coalescing the agent's output lines into chat messages.
//!
//! A program in a pane prints line by line; the operator should not get one chat message per
//! line. Lines bound for the same operator thread are collected until the agent has been quiet
//! for the quiet window, the batch has waited for the longest wait, or it has grown past a size
//! limit; a line bound for another thread flushes the batch first.

use std::time::Duration;

use tokio::time::Instant;

/// A batch more than this many characters long is flushed at once.
pub(crate) const MAX_BATCH_CHARS: usize = 4000;

/// Lines ready to be sent to the operator as one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// The operator thread they go to (`None`: the main conversation).
    pub(crate) thread: Option<String>,
    /// The id of the first line (for logs).
    pub(crate) first_id: String,
    /// The lines, in order.
    pub(crate) lines: Vec<String>,
}

impl Batch {
    /// The message text: the lines joined by newlines.
    pub(crate) fn text(&self) -> String {
        self.lines.join("\n")
    }
}

#[derive(Debug)]
struct Pending {
    batch: Batch,
    chars: usize,
    first_at: Instant,
    last_at: Instant,
}

/// Collects lines into [`Batch`]es.
#[derive(Debug)]
pub(crate) struct Coalescer {
    quiet: Duration,
    max_wait: Duration,
    pending: Option<Pending>,
}

impl Coalescer {
    /// A coalescer that flushes after `quiet` without a new line, or `max_wait` after the
    /// first line of a batch. A zero `quiet` sends every line on its own.
    pub(crate) fn new(quiet: Duration, max_wait: Duration) -> Self {
        Self {
            quiet,
            max_wait: max_wait.max(quiet),
            pending: None,
        }
    }

    /// Adds a line bound for `thread`; answers the batches that are complete now.
    pub(crate) fn push(
        &mut self,
        thread: Option<String>,
        id: &str,
        line: String,
        now: Instant,
    ) -> Vec<Batch> {
        let mut ready = Vec::new();
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.batch.thread != thread)
        {
            ready.extend(self.take());
        }
        let chars = line.chars().count();
        match &mut self.pending {
            Some(pending) => {
                pending.batch.lines.push(line);
                pending.chars += chars + 1;
                pending.last_at = now;
            }
            None => {
                self.pending = Some(Pending {
                    batch: Batch {
                        thread,
                        first_id: id.to_owned(),
                        lines: vec![line],
                    },
                    chars,
                    first_at: now,
                    last_at: now,
                });
            }
        }
        if self.quiet.is_zero()
            || self
                .pending
                .as_ref()
                .is_some_and(|p| p.chars >= MAX_BATCH_CHARS)
        {
            ready.extend(self.take());
        }
        ready
    }

    /// When the pending batch is due, if there is one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.pending
            .as_ref()
            .map(|p| (p.last_at + self.quiet).min(p.first_at + self.max_wait))
    }

    /// The pending batch if it is due at `now`.
    pub(crate) fn due(&mut self, now: Instant) -> Option<Batch> {
        match self.deadline() {
            Some(deadline) if deadline <= now => self.take(),
            _ => None,
        }
    }

    /// The pending batch, due or not.
    pub(crate) fn take(&mut self) -> Option<Batch> {
        self.pending.take().map(|p| p.batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn lines_within_the_quiet_window_become_one_message() {
        let start = Instant::now();
        let mut c = Coalescer::new(500 * MS, 5000 * MS);
        assert!(c.push(None, "a", "one".into(), start).is_empty());
        assert!(c.push(None, "b", "two".into(), start + 300 * MS).is_empty());
        assert_eq!(c.deadline(), Some(start + 800 * MS));
        assert_eq!(c.due(start + 799 * MS), None);
        let batch = c.due(start + 800 * MS).unwrap();
        assert_eq!(batch.text(), "one\ntwo");
        assert_eq!(batch.first_id, "a");
        assert_eq!(c.deadline(), None);
    }

    #[test]
    fn a_chatty_agent_is_flushed_after_the_longest_wait() {
        let start = Instant::now();
        let mut c = Coalescer::new(500 * MS, 1000 * MS);
        for i in 0..5 {
            c.push(
                Some("t".into()),
                &i.to_string(),
                format!("l{i}"),
                start + i * 300 * MS,
            );
        }
        assert_eq!(c.deadline(), Some(start + 1000 * MS));
        assert_eq!(c.due(start + 1000 * MS).unwrap().lines.len(), 5);
    }

    #[test]
    fn another_thread_flushes_the_batch_first() {
        let start = Instant::now();
        let mut c = Coalescer::new(500 * MS, 5000 * MS);
        c.push(Some("t1".into()), "a", "for t1".into(), start);
        let ready = c.push(Some("t2".into()), "b", "for t2".into(), start);
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].thread.as_deref(), Some("t1"));
        assert_eq!(c.take().unwrap().thread.as_deref(), Some("t2"));
    }

    #[test]
    fn zero_quiet_sends_each_line_and_big_batches_go_at_once() {
        let start = Instant::now();
        let mut c = Coalescer::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(c.push(None, "a", "x".into(), start).len(), 1);
        let mut c = Coalescer::new(500 * MS, 5000 * MS);
        let ready = c.push(None, "a", "y".repeat(MAX_BATCH_CHARS), start);
        assert_eq!(ready.len(), 1);
    }
}
