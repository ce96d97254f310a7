//! Round-trip probes: proof that the connector is *listening*, not only connected.
//!
//! A bot can look healthy — token accepted, socket open — and receive nothing (a missing
//! intent, an unsubscribed event, a dead long-poll). A round trip posts a marked probe message
//! and waits for that very message to come back through the inbound path the operator's
//! messages take, on platforms that deliver a bot's own messages back to it. The inbox
//! recognises the probe *before* the own-message filter would drop it ([`Echoes::arrived`]),
//! so the probe never reaches a subscriber; the backend then removes it where the platform
//! allows. [`run`] is the whole procedure; a backend supplies the post and the clean-up.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::diagnosis::Probe;
use crate::error::Result;
use crate::ids::MessageId;

/// What every probe's text carries, followed by its 16 hex digits.
pub const MARKER_PREFIX: &str = "round-trip probe ";

/// The name of the [`Probe`] a round trip becomes in `connector doctor`.
pub const PROBE_NAME: &str = "round trip";

/// The round-trip probes awaiting their echo, one per pending [`EchoWait`].
#[derive(Debug, Default)]
pub struct Echoes {
    pending: Mutex<HashMap<String, oneshot::Sender<Instant>>>,
}

impl Echoes {
    /// Starts waiting for a new probe: put [`EchoWait::marker`] in the probe's text.
    pub fn expect(&self) -> EchoWait {
        let marker = format!("{MARKER_PREFIX}{:016x}", fastrand::u64(..));
        let (sender, arrival) = oneshot::channel();
        self.lock().insert(marker.clone(), sender);
        EchoWait { marker, arrival }
    }

    /// Whether `text` is the echo of a probe somebody waits for; if so the wait ends and the
    /// message must go no further (it is the connector's own, and never a subscriber's).
    ///
    /// Backends call it on every inbound message *before* they drop their own messages; the
    /// inbox's deliveries call it too.
    pub fn arrived(&self, text: &str) -> bool {
        let Some(start) = text.find(MARKER_PREFIX) else {
            return false;
        };
        let tail = &text[start + MARKER_PREFIX.len()..];
        let Some(digits) = tail.get(..16) else {
            return false;
        };
        let marker = format!("{MARKER_PREFIX}{digits}");
        match self.lock().remove(&marker) {
            Some(waiter) => {
                let _ = waiter.send(Instant::now());
                true
            }
            None => false,
        }
    }

    /// Whether a probe is awaiting its echo.
    pub fn any_pending(&self) -> bool {
        !self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Instant>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One probe awaiting its echo (from [`Echoes::expect`]).
#[derive(Debug)]
pub struct EchoWait {
    marker: String,
    arrival: oneshot::Receiver<Instant>,
}

impl EchoWait {
    /// The text the probe must carry to be recognised: `round-trip probe <16 hex digits>`.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// When the echo arrived, or `None` if it did not within `timeout`.
    pub async fn arrival(self, timeout: Duration) -> Option<Instant> {
        tokio::time::timeout(timeout, self.arrival)
            .await
            .ok()
            .and_then(std::result::Result::ok)
    }
}

/// Which stage of a round trip did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Posting the probe failed.
    Post,
    /// The probe was posted but did not come back on the inbound path in time.
    Return,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Post => "post",
            Stage::Return => "return",
        })
    }
}

/// How a round trip came out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoundTrip {
    /// The probe came back through the inbound path.
    Returned {
        /// From posting the probe to its arrival.
        #[serde(rename = "round_trip_ms", serialize_with = "millis")]
        elapsed: Duration,
        /// The path it came back on ("the gateway", "/sync", …).
        path: String,
        /// A problem removing the probe afterwards, if any (the round trip still passed).
        #[serde(skip_serializing_if = "Option::is_none")]
        cleanup_problem: Option<String>,
    },
    /// A stage did not answer.
    Failed {
        /// Which one.
        stage: Stage,
        /// What happened.
        detail: String,
        /// What to check or do about it.
        #[serde(skip_serializing_if = "Option::is_none")]
        fix: Option<String>,
    },
    /// This connector cannot probe its inbound path this way, and why.
    Unsupported {
        /// Why (the platform does not echo the bot's messages, …).
        reason: String,
    },
}

fn millis<S: serde::Serializer>(
    elapsed: &Duration,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

impl RoundTrip {
    /// A probe that could not even be posted because of `error` (the connector is closed, its
    /// client could not start, …).
    pub fn not_posted(error: &crate::error::Error) -> Self {
        RoundTrip::Failed {
            stage: Stage::Post,
            detail: error.to_string(),
            fix: None,
        }
    }

    /// Whether the probe came back.
    pub fn returned(&self) -> bool {
        matches!(self, RoundTrip::Returned { .. })
    }

    /// The round trip as a `connector doctor` probe.
    pub fn into_probe(self) -> Probe {
        match self {
            RoundTrip::Returned {
                elapsed,
                path,
                cleanup_problem,
            } => {
                let mut detail = format!(
                    "a probe message came back through {path} in {} ms",
                    elapsed.as_millis()
                );
                if let Some(problem) = cleanup_problem {
                    detail.push_str(&format!(" (it could not be removed: {problem})"));
                }
                Probe::pass(PROBE_NAME, detail)
            }
            RoundTrip::Failed { stage, detail, fix } => {
                let detail = match stage {
                    Stage::Post => format!("the probe could not be posted: {detail}"),
                    Stage::Return => detail,
                };
                let probe = Probe::fail(PROBE_NAME, detail);
                match fix {
                    Some(fix) => probe.with_fix(fix),
                    None => probe,
                }
            }
            RoundTrip::Unsupported { reason } => Probe::skipped(PROBE_NAME, reason),
        }
    }
}

/// Runs one round trip: `post` sends a probe whose text carries the marker it is given and
/// answers the posted message's id; the probe must come back through `echoes` (the inbound
/// path) within `timeout`; then `remove` takes it out of the operator's way.
///
/// `path` names the inbound path in reports ("the gateway"); `deaf_fix` is what to check when
/// the probe does not come back. The clean-up runs whether or not the probe came back, so a
/// deaf connector does not leave probes behind either.
pub async fn run<Post, PostFut, Remove, RemoveFut>(
    echoes: &Echoes,
    path: &str,
    deaf_fix: &str,
    timeout: Duration,
    post: Post,
    remove: Remove,
) -> RoundTrip
where
    Post: FnOnce(String) -> PostFut,
    PostFut: Future<Output = Result<MessageId>>,
    Remove: FnOnce(MessageId) -> RemoveFut,
    RemoveFut: Future<Output = Result<()>>,
{
    let wait = echoes.expect();
    let marker = wait.marker().to_owned();
    let started = Instant::now();
    let posted = match post(marker.clone()).await {
        Ok(id) => id,
        Err(error) => {
            // Nobody will see this marker again.
            echoes.arrived(&marker);
            return RoundTrip::Failed {
                stage: Stage::Post,
                detail: error.to_string(),
                fix: Some("fix the failures above first".to_owned()),
            };
        }
    };
    let arrival = wait.arrival(timeout).await;
    if arrival.is_none() {
        echoes.arrived(&marker);
    }
    let cleanup_problem = remove(posted).await.err().map(|e| e.to_string());
    match arrival {
        Some(at) => RoundTrip::Returned {
            elapsed: at.saturating_duration_since(started),
            path: path.to_owned(),
            cleanup_problem,
        },
        None => RoundTrip::Failed {
            stage: Stage::Return,
            detail: format!(
                "the probe was posted but did not come back through {path} within {} s: the \
                 connector is connected but does not receive messages",
                timeout.as_secs_f64()
            ),
            fix: Some(deaf_fix.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn only_a_pending_marker_is_taken() {
        let echoes = Echoes::default();
        let wait = echoes.expect();
        let text = format!("🔁 {} — checking the inbound path", wait.marker());
        assert!(!echoes.arrived("an operator's message"));
        assert!(
            !echoes.arrived("round-trip probe 0123456789abcdef"),
            "not pending"
        );
        assert!(!echoes.arrived("round-trip probe 01"), "too short");
        assert!(echoes.arrived(&text));
        assert!(!echoes.arrived(&text), "taken once");
        assert!(!echoes.any_pending());
    }

    #[tokio::test]
    async fn a_probe_that_comes_back_passes_and_is_removed() {
        let echoes = Echoes::default();
        let removed = Mutex::new(None);
        let outcome = run(
            &echoes,
            "the test path",
            "unused",
            Duration::from_secs(5),
            |marker| {
                // The platform echoes it back on the inbound path.
                assert!(echoes.arrived(&format!("probe: {marker}")));
                async { Ok(MessageId::from("m1")) }
            },
            |id| {
                *removed.lock().unwrap() = Some(id);
                async { Ok(()) }
            },
        )
        .await;
        assert!(outcome.returned(), "{outcome:?}");
        assert_eq!(removed.into_inner().unwrap(), Some(MessageId::from("m1")));
        let probe = outcome.into_probe();
        assert!(probe.passed());
        assert!(probe.detail.unwrap().contains("through the test path in"));
    }

    #[tokio::test]
    async fn a_deaf_connector_names_the_stage_and_still_removes_the_probe() {
        let echoes = Echoes::default();
        let removed = Mutex::new(false);
        let outcome = run(
            &echoes,
            "the gateway",
            "enable the intent",
            Duration::from_millis(50),
            |_| async { Ok(MessageId::from("m1")) },
            |_| {
                *removed.lock().unwrap() = true;
                async { Err(Error::backend_message("test", "gone already")) }
            },
        )
        .await;
        assert!(matches!(
            outcome,
            RoundTrip::Failed {
                stage: Stage::Return,
                ..
            }
        ));
        assert!(*removed.lock().unwrap());
        assert!(!echoes.any_pending(), "the marker is forgotten");
        let probe = outcome.into_probe();
        insta::assert_json_snapshot!(probe, @r#"
        {
          "name": "round trip",
          "outcome": "fail",
          "detail": "the probe was posted but did not come back through the gateway within 0.05 s: the connector is connected but does not receive messages",
          "fix": "enable the intent"
        }
        "#);
    }

    #[tokio::test]
    async fn a_probe_that_cannot_be_posted_fails_at_the_post_stage() {
        let echoes = Echoes::default();
        let outcome = run(
            &echoes,
            "the gateway",
            "unused",
            Duration::from_secs(5),
            |_| async { Err(Error::backend_message("test", "403 Missing Permissions")) },
            |_| async { Ok(()) },
        )
        .await;
        assert!(matches!(
            outcome,
            RoundTrip::Failed {
                stage: Stage::Post,
                ..
            }
        ));
        assert!(!echoes.any_pending());
        insta::assert_json_snapshot!(outcome, @r#"
        {
          "outcome": "failed",
          "stage": "post",
          "detail": "test: 403 Missing Permissions",
          "fix": "fix the failures above first"
        }
        "#);
    }
}
