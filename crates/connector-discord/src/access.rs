//! Who may reach the orchestrator on Discord: the user allow-list, allowed roles, and
//! `require_mention`.
//!
//! A sender passes if their user id is in `allowed_senders` (or `allow_any_sender` is set) **or**
//! they have one of `discord.allowed_roles`. The bot itself never passes. With
//! `require_mention`, a message (in the channel or in a thread alike) must mention the bot,
//! and the mention is removed from the text delivered; reactions need no mention (they are on
//! the bot's own messages).
//!
//! The shared `Inbox` only knows user ids, so the Discord pump decides here and hands the inbox
//! only what passed (the inbox still drops the bot's own messages and repeats).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use connector_core::{SenderId, SenderPolicy, allowlist::SenderVerdict};

/// The access rules of one connector.
#[derive(Debug)]
pub(crate) struct Access {
    policy: SenderPolicy,
    roles: HashSet<u64>,
    require_mention: bool,
    own_id: u64,
    rejected: AtomicU64,
}

/// Whether a sender passed the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Deliver.
    Allowed,
    /// The bot itself.
    Own,
    /// Neither listed nor holding an allowed role: dropped and counted.
    NotAllowed,
}

impl Access {
    /// Rules from the configured sender policy, the allowed role ids and `require_mention`.
    pub(crate) fn new(
        policy: SenderPolicy,
        roles: impl IntoIterator<Item = u64>,
        require_mention: bool,
        own_id: u64,
    ) -> Self {
        Self {
            policy: policy.with_own_identity(own_id.to_string()),
            roles: roles.into_iter().collect(),
            require_mention,
            own_id,
            rejected: AtomicU64::new(0),
        }
    }

    /// Whether some sender could pass by role, so their roles are worth looking up.
    pub(crate) fn uses_roles(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Whether `user` needs their roles looked at (not admitted or refused by id alone).
    pub(crate) fn needs_roles(&self, user: u64) -> bool {
        self.uses_roles()
            && self.policy.check(&SenderId::new(user.to_string())) == SenderVerdict::NotAllowed
    }

    /// The verdict on `user` holding `roles` (`None`: roles unknown); a refusal is counted.
    pub(crate) fn check(&self, user: u64, roles: Option<&[u64]>) -> Verdict {
        match self.policy.check(&SenderId::new(user.to_string())) {
            SenderVerdict::Own => Verdict::Own,
            SenderVerdict::Allowed => Verdict::Allowed,
            SenderVerdict::NotAllowed
                if roles.is_some_and(|held| held.iter().any(|r| self.roles.contains(r))) =>
            {
                Verdict::Allowed
            }
            SenderVerdict::NotAllowed => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    user,
                    "inbound dropped: neither in allowed_senders nor holding an allowed role"
                );
                Verdict::NotAllowed
            }
        }
    }

    /// How many messages and reactions were dropped for their sender.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// The text to deliver for a message's `content` that mentions the users `mentions`:
    /// unchanged without `require_mention`; with it, `None` unless the bot is mentioned, else
    /// the text without the bot's mentions.
    pub(crate) fn addressed_text(&self, content: &str, mentions: &[u64]) -> Option<String> {
        if !self.require_mention {
            return Some(content.to_owned());
        }
        let plain = format!("<@{}>", self.own_id);
        let nick = format!("<@!{}>", self.own_id);
        let in_text = content.contains(&plain) || content.contains(&nick);
        if !in_text && !mentions.contains(&self.own_id) {
            return None;
        }
        Some(strip_mention(content, &plain, &nick))
    }
}

/// `content` without the mentions `plain` and `nick`, and the blanks they leave at the ends or
/// doubled inside a line.
fn strip_mention(content: &str, plain: &str, nick: &str) -> String {
    let removed = content.replace(nick, "").replace(plain, "");
    removed
        .lines()
        .map(|line| {
            let mut out = String::with_capacity(line.len());
            let mut blank = false;
            for c in line.trim().chars() {
                if c == ' ' {
                    if !blank {
                        out.push(c);
                    }
                    blank = true;
                } else {
                    out.push(c);
                    blank = false;
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_by_id_or_role() {
        let access = Access::new(SenderPolicy::allow_list(["10"]), [500], false, 1);
        assert_eq!(access.check(10, None), Verdict::Allowed);
        assert_eq!(access.check(1, Some(&[500])), Verdict::Own);
        assert_eq!(access.check(11, Some(&[500, 7])), Verdict::Allowed);
        assert_eq!(access.check(12, Some(&[7])), Verdict::NotAllowed);
        assert_eq!(access.check(13, None), Verdict::NotAllowed);
        assert_eq!(access.rejected(), 2);
        assert!(!access.needs_roles(10));
        assert!(access.needs_roles(11));
        let no_roles = Access::new(SenderPolicy::allow_list(["10"]), [], false, 1);
        assert!(!no_roles.needs_roles(11));
    }

    #[test]
    fn require_mention_strips_the_mention() {
        let access = Access::new(SenderPolicy::allow_any(), [], true, 42);
        assert_eq!(access.addressed_text("deploy?", &[]), None);
        assert_eq!(access.addressed_text("<@7> deploy?", &[7]), None);
        assert_eq!(
            access.addressed_text("<@42> deploy?", &[42]).as_deref(),
            Some("deploy?")
        );
        assert_eq!(
            access
                .addressed_text("ok <@!42>  go\n<@42>\nnext", &[])
                .as_deref(),
            Some("ok go\n\nnext")
        );
        let open = Access::new(SenderPolicy::allow_any(), [], false, 42);
        assert_eq!(
            open.addressed_text("<@42> hi", &[42]).as_deref(),
            Some("<@42> hi")
        );
    }
}
