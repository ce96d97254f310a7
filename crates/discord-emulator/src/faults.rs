//! Fault injection: failed and lost REST responses, dropped gateway sockets, Reconnect (op 7)
//! and Invalid Session (op 9) on demand.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    Shared,
    errors::Error,
    routes::{Route, RoutePattern},
    sessions::Outgoing,
};

/// The `retry_after` of a 429 injected by [`Faults::fail_next`].
pub const DEFAULT_INJECTED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// An injected answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Injected {
    /// 429 with this `retry_after`, global or not.
    RateLimited { retry_after: Duration, global: bool },
    /// Another error status (5xx, or a 4xx) with a `{"message", "code": 0}` body.
    Status(u16),
}

#[derive(Debug)]
struct Failure {
    pattern: RoutePattern,
    remaining: u32,
    answer: Injected,
}

/// Pending REST faults.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    failures: Vec<Failure>,
    losses: Vec<(RoutePattern, u32)>,
    /// Dispatches are not sent (a session that looks alive and receives nothing).
    pub(crate) withhold_dispatches: bool,
    /// How long INTERACTION_CREATE takes to reach the bot after a click.
    pub(crate) interaction_delay: Duration,
}

impl FaultState {
    /// The injected answer for this request, if a pending failure matches (and is used up).
    pub(crate) fn take_failure(
        &mut self,
        method: &str,
        route: &Route,
        path: &str,
    ) -> Option<Injected> {
        let index = self
            .failures
            .iter()
            .position(|f| f.remaining > 0 && f.pattern.matches(method, route, path))?;
        let failure = &mut self.failures[index];
        failure.remaining -= 1;
        let answer = failure.answer;
        if failure.remaining == 0 {
            self.failures.remove(index);
        }
        Some(answer)
    }

    /// Whether this request's response must be lost (and uses the loss up).
    pub(crate) fn take_loss(&mut self, method: &str, route: &Route, path: &str) -> bool {
        let Some(index) = self
            .losses
            .iter()
            .position(|(p, n)| *n > 0 && p.matches(method, route, path))
        else {
            return false;
        };
        self.losses[index].1 -= 1;
        if self.losses[index].1 == 0 {
            self.losses.remove(index);
        }
        true
    }
}

/// Injects faults into a running emulator; get one from
/// [`Emulator::faults`](crate::Emulator::faults). Route patterns are [`RoutePattern`]s.
///
/// ```no_run
/// # fn main() -> Result<(), discord_emulator::Error> {
/// let emulator = discord_emulator::Emulator::start(discord_emulator::Config::default())?;
/// let faults = emulator.faults();
/// faults.fail_next("POST /channels/{channel_id}/messages", 2, 503)?;
/// faults.lose_next_response("POST /channels/{channel_id}/messages")?;
/// faults.drop_gateway_connections();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    /// Answers the next `n` requests matching `pattern` with `status` instead of serving them.
    /// A 429 carries `retry_after` of [`DEFAULT_INJECTED_RETRY_AFTER`] and empties the route's
    /// bucket for that long, so a client that retries early meets a real 429.
    ///
    /// # Errors
    ///
    /// When the pattern is malformed or matches no route, or `status` is not 4xx/5xx.
    pub fn fail_next(&self, pattern: &str, n: u32, status: u16) -> Result<(), Error> {
        if !(400..=599).contains(&status) {
            return Err(Error::RoutePattern {
                pattern: pattern.to_owned(),
                reason: "the injected status must be 4xx or 5xx",
            });
        }
        let answer = if status == 429 {
            Injected::RateLimited {
                retry_after: DEFAULT_INJECTED_RETRY_AFTER,
                global: false,
            }
        } else {
            Injected::Status(status)
        };
        self.push_failure(pattern, n, answer)
    }

    /// Answers the next `n` matching requests with 429, this `retry_after`, and `global`.
    ///
    /// # Errors
    ///
    /// When the pattern is malformed or matches no route.
    pub fn fail_next_rate_limited(
        &self,
        pattern: &str,
        n: u32,
        retry_after: Duration,
        global: bool,
    ) -> Result<(), Error> {
        self.push_failure(
            pattern,
            n,
            Injected::RateLimited {
                retry_after,
                global,
            },
        )
    }

    fn push_failure(&self, pattern: &str, n: u32, answer: Injected) -> Result<(), Error> {
        let pattern = RoutePattern::parse(pattern)?;
        self.shared.lock().faults.failures.push(Failure {
            pattern,
            remaining: n,
            answer,
        });
        Ok(())
    }

    /// Serves the next request matching `pattern` (its effects happen, events are dispatched)
    /// but drops the connection instead of answering: the client sees an error although, say,
    /// the message exists.
    ///
    /// # Errors
    ///
    /// When the pattern is malformed or matches no route.
    pub fn lose_next_response(&self, pattern: &str) -> Result<(), Error> {
        let pattern = RoutePattern::parse(pattern)?;
        self.shared.lock().faults.losses.push((pattern, 1));
        Ok(())
    }

    /// While `on`, the gateway sends no dispatch events: connections stay open, heartbeats are
    /// acknowledged and REST works, but nothing that happens reaches the bot — the "connected
    /// but deaf" session a zombie connection or a lost subscription leaves.
    pub fn withhold_dispatches(&self, on: bool) {
        self.shared.lock().faults.withhold_dispatches = on;
    }

    /// Delays every INTERACTION_CREATE by `delay` after the click (zero: none), as a slow
    /// gateway would; the response deadline still runs from the click, so a delay near it
    /// leaves the bot too little time and the user sees "This interaction failed".
    pub fn delay_interactions(&self, delay: Duration) {
        self.shared.lock().faults.interaction_delay = delay;
    }

    /// Forgets every pending fault (REST failures and losses, withheld and delayed dispatches).
    pub fn clear(&self) {
        let mut world = self.shared.lock();
        world.faults = FaultState::default();
    }

    /// Drops every gateway socket mid-stream, without a close frame. Sessions stay resumable.
    pub fn drop_gateway_connections(&self) {
        let world = self.shared.lock();
        for conn in world.gateway.conns.values() {
            conn.send(Outgoing::Drop);
        }
    }

    /// Sends Reconnect (op 7) on every gateway connection; a connection the client keeps open is
    /// closed with 4000 after the configured grace. Sessions stay resumable.
    pub fn send_reconnect(&self) {
        let (ids, grace) = {
            let world = self.shared.lock();
            let payload = json!({"op": 7, "d": null, "s": null, "t": null}).to_string();
            for conn in world.gateway.conns.values() {
                conn.send(Outgoing::Text(payload.clone()));
            }
            let ids: Vec<u64> = world.gateway.conns.keys().copied().collect();
            (ids, world.settings.reconnect_grace)
        };
        let shared = Arc::clone(&self.shared);
        self.runtime.spawn(async move {
            tokio::time::sleep(grace).await;
            let world = shared.lock();
            for id in ids {
                if let Some(conn) = world.gateway.conns.get(&id) {
                    conn.send(Outgoing::Close(4000, "Reconnect requested".to_owned()));
                }
            }
        });
    }

    /// Sends Invalid Session (op 9) with `d: resumable` on every identified connection. The
    /// connection is no longer identified; unless `resumable`, its session is gone and Resume
    /// answers op 9 `false` again.
    pub fn send_invalid_session(&self, resumable: bool) {
        let mut world = self.shared.lock();
        let payload = json!({"op": 9, "d": resumable, "s": null, "t": null}).to_string();
        let now = Instant::now();
        let ids: Vec<u64> = world
            .gateway
            .conns
            .iter()
            .filter(|(_, c)| c.session.is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(conn) = world.gateway.conns.get(&id) {
                conn.send(Outgoing::Text(payload.clone()));
            }
            world.gateway.detach(id, resumable, now);
        }
    }
}
