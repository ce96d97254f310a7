//! Gateway sessions: sequence numbers, the replay log Resume reads, and who receives a dispatch
//! (by intent and shard); the fan-out itself is `World::emit`.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::intents::Intents;

/// How many dispatches a session keeps for Resume.
const LOG_CAPACITY: usize = 10_000;

/// What a connection's writer is told to do.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Send this text frame.
    Text(String),
    /// Send a close frame with this code and reason, then drop the socket.
    Close(u16, String),
    /// Drop the socket without a close frame, as a network failure would.
    Drop,
}

/// A live WebSocket connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) tx: UnboundedSender<Outgoing>,
    /// The session identified or resumed on it.
    pub(crate) session: Option<String>,
}

impl Conn {
    pub(crate) fn send(&self, out: Outgoing) {
        // A send fails only when the connection's task has ended; nothing to do then.
        let _ = self.tx.send(out);
    }
}

/// A gateway session: what Identify starts and Resume continues.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) intents: Intents,
    pub(crate) shard: Option<(u64, u64)>,
    pub(crate) seq: u64,
    pub(crate) log: Vec<(u64, String)>,
    pub(crate) conn: Option<u64>,
    pub(crate) disconnected_at: Option<Instant>,
    pub(crate) invalid: bool,
}

impl Session {
    /// Sends a dispatch (op 0) with the next sequence number; `logged` keeps it for Resume.
    pub(crate) fn dispatch(
        &mut self,
        name: &str,
        data: Value,
        conns: &HashMap<u64, Conn>,
        logged: bool,
    ) {
        self.seq += 1;
        let payload = json!({ "op": 0, "t": name, "s": self.seq, "d": data }).to_string();
        if let Some(conn) = self.conn.and_then(|id| conns.get(&id)) {
            conn.send(Outgoing::Text(payload.clone()));
        }
        if logged {
            self.log.push((self.seq, payload));
            if self.log.len() > LOG_CAPACITY {
                let excess = self.log.len() - LOG_CAPACITY;
                self.log.drain(..excess);
            }
        }
    }

    /// Whether events of this guild go to this session's shard (docs, gateway, "Sharding").
    pub(crate) fn receives_guild(&self, guild_id: u64) -> bool {
        self.shard
            .is_none_or(|(shard, count)| (guild_id >> 22) % count.max(1) == shard)
    }
}

/// All sessions and connections.
#[derive(Debug, Default)]
pub(crate) struct Gateway {
    pub(crate) sessions: HashMap<String, Session>,
    pub(crate) conns: HashMap<u64, Conn>,
    next_conn: u64,
    /// Identify calls so far (session start limit).
    pub(crate) identifies: u32,
    pub(crate) last_identify: Option<Instant>,
}

impl Gateway {
    pub(crate) fn register(&mut self, tx: UnboundedSender<Outgoing>) -> u64 {
        self.next_conn += 1;
        self.conns
            .insert(self.next_conn, Conn { tx, session: None });
        self.next_conn
    }

    /// Forgets a connection; its session stays resumable.
    pub(crate) fn unregister(&mut self, conn: u64, now: Instant) {
        if let Some(Conn {
            session: Some(id), ..
        }) = self.conns.remove(&conn)
            && let Some(session) = self.sessions.get_mut(&id)
            && session.conn == Some(conn)
        {
            session.conn = None;
            session.disconnected_at = Some(now);
        }
    }

    /// Detaches the connection from its session (after Invalid Session), invalidating the
    /// session unless `resumable`.
    pub(crate) fn detach(&mut self, conn: u64, resumable: bool, now: Instant) {
        let Some(id) = self.conns.get_mut(&conn).and_then(|c| c.session.take()) else {
            return;
        };
        if let Some(session) = self.sessions.get_mut(&id) {
            session.conn = None;
            session.disconnected_at = Some(now);
            session.invalid |= !resumable;
        }
    }

    /// Forgets sessions that can no longer be resumed (Resume answers op 9 for them either way).
    pub(crate) fn prune(&mut self, resume_window: Duration, now: Instant) {
        self.sessions.retain(|_, s| {
            !s.invalid
                && s.disconnected_at
                    .is_none_or(|t| now.duration_since(t) <= resume_window)
        });
    }

    /// Sessions with a live connection.
    pub(crate) fn connected(&self) -> usize {
        self.sessions
            .values()
            .filter(|s| !s.invalid && s.conn.is_some())
            .count()
    }
}

/// A dispatch event, before it is fitted to each session.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) name: &'static str,
    pub(crate) data: Value,
    /// Sessions need one of these intents; empty means every session gets it.
    pub(crate) requires: Intents,
    /// Whether the bot can see where it happened.
    pub(crate) visible: bool,
    /// Whether `data` is a message, subject to the MESSAGE_CONTENT rule.
    pub(crate) message: bool,
}
