//! The pairing store: codes pending, codes used, and the senders approved, in `pairing.yaml`
//! in the connector's state directory (owner-only).
//!
//! The connector (issuing codes) and `connector pair` (approving, denying, revoking) are
//! different processes that change the same file: every change takes the file's lock, reads
//! it, changes it and writes it back whole ([`PairingStore::update`]), so neither loses the
//! other's. The decisions themselves are plain methods of [`PairingState`] that take the time
//! as an argument, so tests move the clock at will.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::code::PairingCode;
use crate::config::PairingConfig;
use crate::error::Result;
use crate::ids::SenderId;
use crate::state_file::{Durability, StateFile};

/// How long a sender who keeps writing waits before being sent their code again.
pub const REMIND_AFTER: Duration = Duration::from_secs(10 * 60);

/// How many used (approved, denied or expired) codes are remembered, so that a replayed or
/// expired code is refused as such rather than as unknown.
pub const USED_KEPT: usize = 64;

/// The limits a connector issues codes under (from `connector.pairing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairingLimits {
    /// How long a code stays valid.
    pub lifetime: Duration,
    /// How many codes may be pending at once.
    pub max_pending: usize,
    /// How long a sender waits before being sent their code again.
    pub remind_after: Duration,
}

impl From<&PairingConfig> for PairingLimits {
    fn from(config: &PairingConfig) -> Self {
        Self {
            lifetime: config.code_lifetime(),
            max_pending: config.max_pending(),
            remind_after: REMIND_AFTER,
        }
    }
}

/// What `pairing.yaml` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PairingState {
    /// Senders approved at the machine: admitted besides the roster's `allowed_senders`.
    #[serde(default)]
    pub approved: Vec<ApprovedSender>,
    /// Codes sent and not yet approved, denied or expired (expired ones leave at the next
    /// change).
    #[serde(default)]
    pub pending: Vec<PendingCode>,
    /// The latest codes used up, newest last (at most [`USED_KEPT`]).
    #[serde(default)]
    pub used: Vec<UsedCode>,
}

/// A sender admitted by pairing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ApprovedSender {
    /// The platform's id of the sender.
    pub sender: SenderId,
    /// When `connector pair approve` admitted them.
    pub approved_at: Timestamp,
    /// The code they were approved with.
    pub code: PairingCode,
}

/// A code sent to a sender, waiting for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PendingCode {
    /// The code.
    pub code: PairingCode,
    /// Who it was sent to.
    pub sender: SenderId,
    /// When it was first sent.
    pub issued_at: Timestamp,
    /// When it stops being valid.
    pub expires_at: Timestamp,
    /// When it was last sent (the first time, or a reminder).
    pub sent_at: Timestamp,
}

/// A code that can no longer be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UsedCode {
    /// The code.
    pub code: PairingCode,
    /// Who it was sent to.
    pub sender: SenderId,
    /// What became of it.
    pub outcome: Outcome,
    /// When.
    pub at: Timestamp,
}

/// What became of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// `connector pair approve`: its sender was admitted.
    Approved,
    /// `connector pair deny`: refused.
    Denied,
    /// Nobody approved it in time.
    Expired,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
        })
    }
}

/// Why `connector pair` refused a code or a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No such code is pending or was used lately: mistyped, or never issued.
    UnknownCode,
    /// The code expired before anybody approved it.
    Expired {
        /// When it expired.
        at: Timestamp,
    },
    /// The code was approved or denied already: a code works once.
    Used {
        /// Approved or denied.
        outcome: Outcome,
        /// When.
        at: Timestamp,
    },
    /// `revoke`: the sender is not among the paired senders.
    NotPaired,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownCode => f.write_str(
                "no such code is pending: check it against the message the connector sent \
                 (`connector pair list` shows the pending codes)",
            ),
            Self::Expired { at } => write!(
                f,
                "expired at {}: ask the sender to write to the bot again for a new code",
                seconds(*at)
            ),
            Self::Used { outcome, at } => write!(
                f,
                "already used ({outcome} at {}): a code works once; `connector pair list` shows \
                 who is paired",
                seconds(*at)
            ),
            Self::NotPaired => f.write_str(
                "not a paired sender (`connector pair list` shows them; senders in the roster's \
                 allowed_senders are removed there, not here)",
            ),
        }
    }
}

/// `2025-06-01T12:00:00Z`: a time to the second, for people.
pub fn seconds(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What [`PairingState::issue`] decided for a stranger's message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Issued {
    /// A new code: send it.
    New(PendingCode),
    /// The sender's pending code, due to be sent again.
    Again(PendingCode),
    /// The sender's pending code was sent lately: say nothing.
    Quiet(PendingCode),
    /// As many codes as allowed are pending: no code, say nothing.
    Full,
    /// The sender is paired already (approved since the check): nothing to send.
    Paired,
}

impl PairingState {
    /// Whether `sender` is among the approved senders.
    pub fn is_approved(&self, sender: &SenderId) -> bool {
        self.approved.iter().any(|a| &a.sender == sender)
    }

    /// The pending codes not yet expired at `now`.
    pub fn live_codes(&self, now: Timestamp) -> impl Iterator<Item = &PendingCode> {
        self.pending.iter().filter(move |p| p.expires_at > now)
    }

    /// Decides on a message from `sender`, who is not allowed: a new code (made by `fresh`),
    /// the same code again, or nothing (see [`Issued`]). One code per sender at a time; at
    /// most `limits.max_pending` pending; a code is sent again at most every
    /// `limits.remind_after`.
    pub fn issue(
        &mut self,
        sender: &SenderId,
        now: Timestamp,
        limits: &PairingLimits,
        fresh: impl FnOnce() -> Result<PairingCode>,
    ) -> Result<Issued> {
        self.expire(now);
        if self.is_approved(sender) {
            return Ok(Issued::Paired);
        }
        if let Some(pending) = self.pending.iter_mut().find(|p| &p.sender == sender) {
            if now >= pending.sent_at + signed(limits.remind_after) {
                pending.sent_at = now;
                return Ok(Issued::Again(pending.clone()));
            }
            return Ok(Issued::Quiet(pending.clone()));
        }
        if self.pending.len() >= limits.max_pending {
            return Ok(Issued::Full);
        }
        let mut code = fresh()?;
        // Never two live codes alike, nor a code equal to one lately used.
        while self.pending.iter().any(|p| p.code == code)
            || self.used.iter().any(|u| u.code == code)
        {
            code = PairingCode::random()?;
        }
        let pending = PendingCode {
            code,
            sender: sender.clone(),
            issued_at: now,
            expires_at: now + signed(limits.lifetime),
            sent_at: now,
        };
        self.pending.push(pending.clone());
        Ok(Issued::New(pending))
    }

    /// Approves `code`: its sender joins the approved senders and the code is used up.
    pub fn approve(
        &mut self,
        code: &PairingCode,
        now: Timestamp,
    ) -> std::result::Result<ApprovedSender, Refusal> {
        let pending = self.take(code, now, Outcome::Approved)?;
        let approved = ApprovedSender {
            sender: pending.sender,
            approved_at: now,
            code: pending.code,
        };
        self.approved.retain(|a| a.sender != approved.sender);
        self.approved.push(approved.clone());
        tracing::info!(sender = %approved.sender, %code, "pairing: code approved; sender admitted");
        Ok(approved)
    }

    /// Denies `code`: it is used up and its sender stays out (they may ask again later).
    pub fn deny(
        &mut self,
        code: &PairingCode,
        now: Timestamp,
    ) -> std::result::Result<PendingCode, Refusal> {
        let denied = self.take(code, now, Outcome::Denied)?;
        tracing::info!(sender = %denied.sender, %code, "pairing: code denied");
        Ok(denied)
    }

    /// Removes `sender` from the approved senders.
    pub fn revoke(&mut self, sender: &SenderId) -> std::result::Result<ApprovedSender, Refusal> {
        let at = self
            .approved
            .iter()
            .position(|a| &a.sender == sender)
            .ok_or(Refusal::NotPaired)?;
        tracing::info!(%sender, "pairing: paired sender revoked");
        Ok(self.approved.remove(at))
    }

    /// Takes the pending `code` out, recording `outcome`; refuses a code that is unknown,
    /// expired or used.
    fn take(
        &mut self,
        code: &PairingCode,
        now: Timestamp,
        outcome: Outcome,
    ) -> std::result::Result<PendingCode, Refusal> {
        self.expire(now);
        let Some(at) = self.pending.iter().position(|p| &p.code == code) else {
            tracing::info!(%code, %outcome, "pairing: code refused");
            return Err(match self.used.iter().rev().find(|u| &u.code == code) {
                Some(used) if used.outcome == Outcome::Expired => Refusal::Expired { at: used.at },
                Some(used) => Refusal::Used {
                    outcome: used.outcome,
                    at: used.at,
                },
                None => Refusal::UnknownCode,
            });
        };
        let pending = self.pending.remove(at);
        self.retire(&pending, outcome, now);
        Ok(pending)
    }

    /// Moves the codes expired at `now` to the used ones.
    fn expire(&mut self, now: Timestamp) {
        let (expired, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.expires_at <= now);
        self.pending = live;
        for pending in expired {
            tracing::info!(sender = %pending.sender, code = %pending.code, "pairing code expired");
            self.retire(&pending, Outcome::Expired, pending.expires_at);
        }
    }

    fn retire(&mut self, pending: &PendingCode, outcome: Outcome, at: Timestamp) {
        self.used.push(UsedCode {
            code: pending.code.clone(),
            sender: pending.sender.clone(),
            outcome,
            at,
        });
        let excess = self.used.len().saturating_sub(USED_KEPT);
        self.used.drain(..excess);
    }
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

/// `pairing.yaml` in a state directory: read by anyone, changed under its lock.
#[derive(Debug, Clone)]
pub struct PairingStore {
    file: StateFile,
}

impl PairingStore {
    /// The file's name in the state directory.
    pub const FILE_NAME: &'static str = "pairing.yaml";

    /// The store in `state_dir` (the connector's: see
    /// [`ConnectorConfig::state_dir`](crate::ConnectorConfig::state_dir)).
    pub fn in_dir(state_dir: &Path) -> Self {
        Self {
            file: StateFile::new(state_dir.join(Self::FILE_NAME))
                .holding("the paired senders and the pending pairing codes")
                .without_it(
                    "every paired sender must pair again; the roster's allowed_senders still \
                     pass",
                )
                .owner_only(),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// What the file holds (nothing yet: an empty state).
    pub fn read(&self) -> Result<PairingState> {
        Ok(self
            .file
            .read_with(|bytes| serde_norway::from_slice::<PairingState>(bytes))?
            .unwrap_or_default())
    }

    /// Reads the file under its lock, lets `change` change the state, and writes it back
    /// (durably) if it changed; answers what `change` answered.
    pub fn update<T>(&self, change: impl FnOnce(&mut PairingState) -> Result<T>) -> Result<T> {
        let _lock = self.file.lock()?;
        let before = self.read()?;
        let mut state = before.clone();
        let answer = change(&mut state)?;
        if state != before {
            let mut text = String::from(
                "# Written by the connector and `connector pair`; change it with `connector pair`.\n",
            );
            text.push_str(
                &serde_norway::to_string(&state)
                    .map_err(|e| self.file.corrupt(format!("cannot encode it: {e}")))?,
            );
            self.file.write(text.as_bytes(), Durability::Synced)?;
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(1_000_000 + minutes)
    }

    fn limits() -> PairingLimits {
        PairingLimits::from(&PairingConfig::enabled())
    }

    fn code(text: &str) -> PairingCode {
        PairingCode::parse(text).unwrap()
    }

    fn issue(state: &mut PairingState, sender: &str, minutes: i64, fresh: &str) -> Issued {
        let fresh = code(fresh);
        state
            .issue(&sender.into(), at(minutes), &limits(), || Ok(fresh))
            .unwrap()
    }

    #[test]
    fn one_code_per_sender_sent_again_at_most_every_ten_minutes() {
        let mut state = PairingState::default();
        let Issued::New(first) = issue(&mut state, "eve", 0, "AAAAAAAA") else {
            panic!("a new code")
        };
        assert_eq!(first.expires_at, at(60));
        assert!(
            matches!(issue(&mut state, "eve", 1, "BBBBBBBB"), Issued::Quiet(p) if p.code == first.code)
        );
        assert!(matches!(
            issue(&mut state, "eve", 9, "BBBBBBBB"),
            Issued::Quiet(_)
        ));
        assert!(
            matches!(issue(&mut state, "eve", 10, "BBBBBBBB"), Issued::Again(p) if p.code == first.code)
        );
        assert!(matches!(
            issue(&mut state, "eve", 15, "BBBBBBBB"),
            Issued::Quiet(_)
        ));
        assert_eq!(state.pending.len(), 1);
    }

    #[test]
    fn at_most_three_pending_then_room_again_as_codes_expire() {
        let mut state = PairingState::default();
        for (n, sender) in ["a", "b", "c"].iter().enumerate() {
            let fresh = ["AAAAAAAA", "BBBBBBBB", "CCCCCCCC"][n];
            assert!(matches!(
                issue(&mut state, sender, n as i64, fresh),
                Issued::New(_)
            ));
        }
        assert_eq!(issue(&mut state, "d", 5, "DDDDDDDD"), Issued::Full);
        // a's code (issued at 0) expires at 60: room for d, and a gets a new one later.
        assert!(matches!(
            issue(&mut state, "d", 60, "DDDDDDDD"),
            Issued::New(_)
        ));
        assert_eq!(state.used.len(), 1);
        assert_eq!(state.used[0].outcome, Outcome::Expired);
        assert_eq!(issue(&mut state, "a", 60, "EEEEEEEE"), Issued::Full);
    }

    #[test]
    fn approve_admits_once_and_refuses_wrong_expired_and_replayed_codes() {
        let mut state = PairingState::default();
        issue(&mut state, "eve", 0, "AAAAAAAA");
        issue(&mut state, "bob", 0, "BBBBBBBB");
        assert_eq!(
            state.approve(&code("ZZZZZZZZ"), at(1)),
            Err(Refusal::UnknownCode)
        );
        let approved = state.approve(&code("AAAAAAAA"), at(2)).unwrap();
        assert_eq!(approved.sender.as_str(), "eve");
        assert!(state.is_approved(&"eve".into()));
        assert_eq!(
            state.approve(&code("AAAAAAAA"), at(3)),
            Err(Refusal::Used {
                outcome: Outcome::Approved,
                at: at(2)
            })
        );
        assert_eq!(
            state.deny(&code("AAAAAAAA"), at(3)).unwrap_err(),
            Refusal::Used {
                outcome: Outcome::Approved,
                at: at(2)
            }
        );
        assert_eq!(
            state.approve(&code("BBBBBBBB"), at(60)),
            Err(Refusal::Expired { at: at(60) })
        );
        assert!(!state.is_approved(&"bob".into()));
        // An approved sender gets no code.
        assert_eq!(issue(&mut state, "eve", 70, "CCCCCCCC"), Issued::Paired);
        assert_eq!(state.revoke(&"eve".into()).unwrap().sender.as_str(), "eve");
        assert_eq!(state.revoke(&"eve".into()), Err(Refusal::NotPaired));
    }

    #[test]
    fn deny_uses_the_code_up_and_the_sender_may_ask_again() {
        let mut state = PairingState::default();
        issue(&mut state, "eve", 0, "AAAAAAAA");
        assert_eq!(
            state
                .deny(&code("AAAAAAAA"), at(1))
                .unwrap()
                .sender
                .as_str(),
            "eve"
        );
        assert!(matches!(
            state.approve(&code("AAAAAAAA"), at(2)),
            Err(Refusal::Used {
                outcome: Outcome::Denied,
                ..
            })
        ));
        assert!(matches!(
            issue(&mut state, "eve", 3, "BBBBBBBB"),
            Issued::New(_)
        ));
    }

    #[test]
    fn used_codes_are_bounded() {
        let mut state = PairingState::default();
        for n in 0..(USED_KEPT + 10) {
            let sender = format!("s{n}");
            let fresh = PairingCode::random().unwrap();
            let fresh_text = fresh.as_str().to_owned();
            state
                .issue(&sender.as_str().into(), at(0), &limits(), || Ok(fresh))
                .unwrap();
            state.deny(&code(&fresh_text), at(0)).unwrap();
        }
        assert_eq!(state.used.len(), USED_KEPT);
    }

    #[test]
    fn refusals_say_what_to_do() {
        let texts: Vec<String> = [
            Refusal::UnknownCode,
            Refusal::Expired { at: at(0) },
            Refusal::Used {
                outcome: Outcome::Approved,
                at: at(0),
            },
            Refusal::NotPaired,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        insta::assert_snapshot!(texts.join("\n"), @r"
        no such code is pending: check it against the message the connector sent (`connector pair list` shows the pending codes)
        expired at 1971-11-26T10:40:00Z: ask the sender to write to the bot again for a new code
        already used (approved at 1971-11-26T10:40:00Z): a code works once; `connector pair list` shows who is paired
        not a paired sender (`connector pair list` shows them; senders in the roster's allowed_senders are removed there, not here)
        ");
    }

    #[test]
    fn the_store_persists_changes_under_its_lock_owner_only() {
        let dir = std::env::temp_dir().join(format!("pairing-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = PairingStore::in_dir(&dir);
        assert_eq!(store.read().unwrap(), PairingState::default());
        let issued = store
            .update(|s| s.issue(&"eve".into(), at(0), &limits(), PairingCode::random))
            .unwrap();
        let Issued::New(pending) = issued else {
            panic!("a new code")
        };
        let again = PairingStore::in_dir(&dir).read().unwrap();
        assert_eq!(again.pending, std::slice::from_ref(&pending));
        store
            .update(|s| Ok(s.approve(&pending.code, at(1))))
            .unwrap()
            .unwrap();
        assert!(store.read().unwrap().is_approved(&"eve".into()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(store.path(), "approved: 3\n").unwrap();
        assert!(store.read().unwrap_err().to_string().contains("is corrupt"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
