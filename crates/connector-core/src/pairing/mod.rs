//! Pairing: an operator is admitted by a short code approved at the machine, instead of a
//! platform user id looked up and written into `allowed_senders`.
//!
//! With `connector.pairing: {enabled: true}` in the roster, a sender the allow-list does not
//! admit is answered (by the backend, in the conversation) with a code and the command to run,
//! `connector pair approve CODE`; their message is not delivered. The person at the machine
//! runs it, the sender joins the paired senders in `pairing.yaml` in the connector's state
//! directory ([`PairingStore`]), and the running connector admits their next message — no
//! restart: the [`SenderPolicy`](crate::SenderPolicy) asks [`Pairing::is_paired`], which
//! reads the file again whenever it changed (one `stat` per check of a sender the roster does
//! not list). `connector pair revoke SENDER` takes them off the same way.
//!
//! A backend needs two calls: build its policy with
//! [`SenderPolicy::with_pairing`](crate::SenderPolicy::with_pairing)`(`[`Pairing::from_config`]`)`,
//! and, when the inbox refuses a sender's message, send them what
//! [`Pairing::stranger_wrote`] answers (if anything), as a reply to that message.
//!
//! # Why the codes are safe
//!
//! - **Approved only at the machine.** A code is approved by writing the state directory
//!   (owner-only `0700`/`0600`), i.e. by someone who can run commands as the connector's user
//!   there. No chat message approves, denies or revokes anything, so an attacker in the chat
//!   can ask for a code but never use one: a code is not a password the stranger types, it is
//!   the operator's way to tell which of the waiting senders is them.
//! - **Bound to one sender.** A code admits exactly the sender it was sent to; approving a
//!   stranger's code by mistake is the remaining risk, which is why `connector pair list` shows
//!   each code's sender and age, and the reply says nobody can approve from the chat.
//! - **Unguessable.** 8 characters from a 31-symbol alphabet (≈ 39.6 bits), drawn from the
//!   operating system's CSPRNG (`getrandom`) with rejection sampling, so no one can predict or
//!   forge another sender's code, and a lookalike-free alphabet (no `0 O 1 I L`) so the operator
//!   does not mistype it into someone else's.
//! - **Short-lived and bounded.** A code expires after 60 minutes (`code_minutes`); at most 3
//!   are pending at once (`max_pending`), one per sender, and a sender who keeps writing is
//!   sent their code again at most every 10 minutes ([`REMIND_AFTER`]), so strangers cannot
//!   flood the conversation or the file. A code works once: approved, denied and expired
//!   codes are remembered ([`USED_KEPT`]) and refused as such when replayed.
//! - **Logged.** Every code issued, sent again, withheld, approved, denied, expired or revoked
//!   is logged (`tracing`, target `connector_core::pairing`).

mod code;
mod reply;
mod store;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use jiff::Timestamp;

pub use code::{ALPHABET, CODE_LENGTH, PairingCode};
pub use reply::stranger_text;
pub use store::{
    ApprovedSender, Issued, Outcome, PairingLimits, PairingState, PairingStore, PendingCode,
    REMIND_AFTER, Refusal, USED_KEPT, UsedCode, seconds,
};

use crate::config::{ConnectorConfig, PairingConfig};
use crate::error::Result;
use crate::ids::SenderId;

/// Where the time comes from (tests move it).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A running connector's side of pairing: who is paired (kept up to date with the file) and
/// the answers to strangers.
pub struct Pairing {
    store: PairingStore,
    limits: PairingLimits,
    clock: Clock,
    cache: Mutex<Cache>,
}

/// The paired senders as last read, and what the file looked like then.
#[derive(Default)]
struct Cache {
    seen: Option<Fingerprint>,
    approved: HashSet<SenderId>,
}

/// What tells a changed file from the same one: every write replaces it (a new inode), and
/// its size and mtime change too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Fingerprint {
    fn of(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        })
    }
}

impl fmt::Debug for Pairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pairing")
            .field("store", &self.store.path())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Pairing {
    /// Pairing in `state_dir` with `config`'s limits, reading `pairing.yaml` once.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or is corrupt (the error says what to do).
    pub fn open(state_dir: &Path, config: &PairingConfig) -> Result<Self> {
        let pairing = Self {
            store: PairingStore::in_dir(state_dir),
            limits: PairingLimits::from(config),
            clock: Arc::new(Timestamp::now),
            cache: Mutex::default(),
        };
        pairing.refresh()?;
        Ok(pairing)
    }

    /// The pairing `config` asks for, kept in `state_dir` (the connector's: see
    /// [`ConnectorConfig::state_dir`]); `None` when the roster does not turn it on.
    ///
    /// ```
    /// use connector_core::pairing::Pairing;
    /// use connector_core::ConnectorConfig;
    /// # let dir = std::env::temp_dir().join(format!("pairing-doc-{}", std::process::id()));
    /// let config = ConnectorConfig::from_roster_str(
    ///     "connector: {kind: discord, pairing: {enabled: true}, discord: {channel_id: '223456789012345678'}}",
    /// )?;
    /// let policy = config.sender_policy().with_pairing(Pairing::from_config(&config, &dir)?);
    /// assert!(policy.pairing().is_some());
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn from_config(config: &ConnectorConfig, state_dir: &Path) -> Result<Option<Arc<Self>>> {
        match config.pairing_enabled() {
            Some(pairing) if !config.allow_any_sender => {
                Ok(Some(Arc::new(Self::open(state_dir, pairing)?)))
            }
            _ => Ok(None),
        }
    }

    /// This pairing with another clock (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The store (`pairing.yaml`).
    pub fn store(&self) -> &PairingStore {
        &self.store
    }

    /// The limits codes are issued under.
    pub fn limits(&self) -> &PairingLimits {
        &self.limits
    }

    /// Whether `sender` was approved at the machine (and not revoked since): reads the file
    /// again if it changed since the last look. An unreadable or corrupt file admits nobody
    /// (logged).
    pub fn is_paired(&self, sender: &SenderId) -> bool {
        if let Err(error) = self.refresh() {
            tracing::error!(%error, "pairing: cannot read the paired senders; admitting none by pairing");
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.approved.clear();
            cache.seen = None;
        }
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .approved
            .contains(sender)
    }

    /// Reads the paired senders again if the file changed since the last look.
    fn refresh(&self) -> Result<()> {
        let now = Fingerprint::of(self.store.path());
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.seen.is_some() && cache.seen == now {
            return Ok(());
        }
        let state = self.store.read()?;
        let approved: HashSet<SenderId> = state.approved.into_iter().map(|a| a.sender).collect();
        if cache.approved != approved {
            tracing::info!(paired = approved.len(), "pairing: paired senders read anew");
        }
        cache.approved = approved;
        cache.seen = now;
        Ok(())
    }

    /// A sender the allow-list refused wrote to the bot: the text to answer them with — their
    /// code, new or sent again — or `None` when nothing is to be sent (their code was sent
    /// lately, as many codes as allowed are pending, or they are paired meanwhile). Every
    /// decision is logged. Blocks briefly on the store's lock and the disk: async code runs it
    /// on the blocking pool.
    ///
    /// # Errors
    ///
    /// When the store cannot be read or written.
    pub fn stranger_wrote(&self, sender: &SenderId) -> Result<Option<String>> {
        let now = (self.clock)();
        let issued = self
            .store
            .update(|state| state.issue(sender, now, &self.limits, PairingCode::random))?;
        Ok(match issued {
            Issued::New(pending) => {
                tracing::info!(%sender, code = %pending.code, expires_at = %pending.expires_at, "pairing: code sent to a sender not on the allow-list");
                Some(stranger_text(&pending, now))
            }
            Issued::Again(pending) => {
                tracing::info!(%sender, code = %pending.code, "pairing: code sent again");
                Some(stranger_text(&pending, now))
            }
            Issued::Quiet(pending) => {
                tracing::debug!(%sender, code = %pending.code, "pairing: code sent lately; not again yet");
                None
            }
            Issued::Full => {
                tracing::warn!(%sender, max_pending = self.limits.max_pending, "pairing: no code for a sender: as many codes as allowed are pending (`connector pair list`)");
                None
            }
            Issued::Paired => None,
        })
    }
}

/// What a backend calls for a message its inbox refused: the text to answer `sender` with,
/// when the `inbox` pairs and a code is due ([`Pairing::stranger_wrote`], run on the blocking
/// pool). A failure is logged and answers `None`: the message stays undelivered either way.
pub async fn answer_for_stranger(inbox: &crate::Inbox, sender: &SenderId) -> Option<String> {
    let pairing = inbox.pairing()?;
    let sender = sender.clone();
    match tokio::task::spawn_blocking(move || pairing.stranger_wrote(&sender)).await {
        Ok(Ok(text)) => text,
        Ok(Err(error)) => {
            tracing::warn!(%error, "pairing: cannot issue a code");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "pairing: the task issuing a code failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use jiff::SignedDuration;

    use super::*;

    #[test]
    fn approval_by_another_process_is_seen_without_a_restart_and_revoke_too() {
        let dir = std::env::temp_dir().join(format!("pairing-runtime-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let minutes = Arc::new(AtomicI64::new(0));
        let clock: Clock = Arc::new({
            let minutes = Arc::clone(&minutes);
            move || {
                Timestamp::UNIX_EPOCH
                    + SignedDuration::from_mins(1_000_000 + minutes.load(Ordering::SeqCst))
            }
        });
        let pairing = Pairing::open(&dir, &PairingConfig::enabled())
            .unwrap()
            .with_clock(clock);
        let eve = SenderId::from("eve");
        assert!(!pairing.is_paired(&eve));
        let text = pairing.stranger_wrote(&eve).unwrap().expect("a code");
        assert_eq!(pairing.stranger_wrote(&eve).unwrap(), None, "rate limited");
        minutes.store(10, Ordering::SeqCst);
        assert_eq!(
            pairing.stranger_wrote(&eve).unwrap().as_deref(),
            Some(text.replace("60 minutes", "50 minutes").as_str())
        );

        // `connector pair approve`, another process: a store of its own on the same directory.
        let other = PairingStore::in_dir(&dir);
        let code = other.read().unwrap().pending[0].code.clone();
        let now = (pairing.clock)();
        other
            .update(|s| Ok(s.approve(&code, now)))
            .unwrap()
            .unwrap();
        assert!(pairing.is_paired(&eve), "seen without a restart");
        other.update(|s| Ok(s.revoke(&eve))).unwrap().unwrap();
        assert!(!pairing.is_paired(&eve), "revoked without a restart");

        // Corrupt: nobody is admitted by pairing, and nothing panics.
        other
            .update(|s| Ok(s.approve(&code, now)))
            .unwrap()
            .unwrap_err();
        std::fs::write(other.path(), "approved: [{sender: 1}]\n").unwrap();
        assert!(!pairing.is_paired(&eve));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
