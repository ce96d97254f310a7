//! Who may reach the orchestrator on Discord: the user allow-list, allowed roles, and
//! `require_mention`.
//!
//! A sender passes if their user id is in `allowed_senders` (or `allow_any_sender` is set) **or**
//! they have one of `discord.allowed_roles`. The bot itself never passes. With
//! `require_mention`, a message (in the channel or in a thread alike) must mention the bot,
//! and the mention is removed from the text delivered; reactions need no mention (they are on
//! the bot's own messages).
//!
//! The decision on a sender is the shared `Inbox`'s, as for every backend: the connector gives
//! it [`Access::inbox_policy`], the allow-list widened by a [`SenderRule`] admitting holders of
//! an allowed role, and the inbox counts every refusal (health's `rejected_senders`). The pump
//! learns a sender's roles (from the event, or looked up over REST) and asks the inbox through
//! [`Access::check`] before it acts on a message or a reaction; `require_mention` is not a
//! question of who sends, so it stays here and drops nothing from the count.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use connector_core::allowlist::{SenderRule, SenderVerdict};
use connector_core::{Inbox, SenderId, SenderPolicy};

/// The access rules of one connector.
#[derive(Debug)]
pub(crate) struct Access {
    /// The configured allow-list and the bot itself, without the roles.
    policy: SenderPolicy,
    roles: Arc<AllowedRoles>,
    require_mention: bool,
    own_id: u64,
}

/// The role part of the allow-list, as a rule of the inbox's sender policy: admits a user
/// known to hold one of the allowed roles.
#[derive(Debug, Default)]
struct AllowedRoles {
    allowed: HashSet<u64>,
    /// The roles each user was last seen holding (learnt by the pump), when roles are used.
    held: Mutex<HashMap<u64, Vec<u64>>>,
}

impl SenderRule for AllowedRoles {
    fn admits(&self, sender: &SenderId) -> bool {
        let Ok(user) = sender.as_str().parse::<u64>() else {
            return false;
        };
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .is_some_and(|held| held.iter().any(|r| self.allowed.contains(r)))
    }
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
            roles: Arc::new(AllowedRoles {
                allowed: roles.into_iter().collect(),
                held: Mutex::default(),
            }),
            require_mention,
            own_id,
        }
    }

    /// The policy the connector's inbox decides with: the allow-list, the bot itself, and the
    /// allowed roles.
    pub(crate) fn inbox_policy(&self) -> SenderPolicy {
        let rule: Arc<dyn SenderRule> = self.roles.clone();
        self.policy.clone().with_rule(rule)
    }

    /// Whether some sender could pass by role, so their roles are worth looking up.
    pub(crate) fn uses_roles(&self) -> bool {
        !self.roles.allowed.is_empty()
    }

    /// Whether `user` needs their roles looked at (not admitted or refused by id alone).
    pub(crate) fn needs_roles(&self, user: u64) -> bool {
        self.uses_roles()
            && self.policy.check(&SenderId::new(user.to_string())) == SenderVerdict::NotAllowed
    }

    /// `inbox`'s verdict on `user` holding `roles` (`None`: roles unknown); the inbox counts a
    /// refusal.
    pub(crate) fn check(&self, inbox: &Inbox, user: u64, roles: Option<&[u64]>) -> Verdict {
        if self.uses_roles() {
            let mut held = self
                .roles
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match roles {
                Some(roles) => held.insert(user, roles.to_vec()),
                None => held.remove(&user),
            };
        }
        match inbox.check_sender(&SenderId::new(user.to_string())) {
            SenderVerdict::Own => Verdict::Own,
            SenderVerdict::Allowed => Verdict::Allowed,
            SenderVerdict::NotAllowed => {
                tracing::debug!(
                    user,
                    "inbound dropped: neither in allowed_senders nor holding an allowed role"
                );
                Verdict::NotAllowed
            }
        }
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
        let inbox = Inbox::new(access.inbox_policy());
        assert_eq!(access.check(&inbox, 10, None), Verdict::Allowed);
        assert_eq!(access.check(&inbox, 1, Some(&[500])), Verdict::Own);
        assert_eq!(access.check(&inbox, 11, Some(&[500, 7])), Verdict::Allowed);
        assert_eq!(access.check(&inbox, 12, Some(&[7])), Verdict::NotAllowed);
        assert_eq!(access.check(&inbox, 13, None), Verdict::NotAllowed);
        // The refusals are the inbox's, counted once each.
        assert_eq!(inbox.stats().rejected_senders, 2);
        assert!(!access.needs_roles(10));
        assert!(access.needs_roles(11));
        let no_roles = Access::new(SenderPolicy::allow_list(["10"]), [], false, 1);
        assert!(!no_roles.needs_roles(11));
    }

    #[tokio::test]
    async fn the_inbox_admits_by_role_what_the_pump_checked() {
        let access = Access::new(SenderPolicy::allow_list(["10"]), [500], false, 1);
        let inbox = Inbox::new(access.inbox_policy());
        let mut subscription = inbox.subscribe();
        let message = |id: &str, user: &str| {
            connector_core::InboundMessage::new(id, user, "hi", connector_core::Timestamp::now())
        };
        assert_eq!(access.check(&inbox, 11, Some(&[500])), Verdict::Allowed);
        assert_eq!(
            inbox.deliver(message("m1", "11")).await,
            connector_core::inbox::Admission::Delivered(1)
        );
        assert_eq!(access.check(&inbox, 12, Some(&[7])), Verdict::NotAllowed);
        // A sender the role check refused, handed over anyway, is refused and counted again.
        assert_eq!(
            inbox.deliver(message("m2", "12")).await,
            connector_core::inbox::Admission::SenderNotAllowed
        );
        assert_eq!(subscription.recv().await.unwrap().sender.as_str(), "11");
        assert_eq!(inbox.stats().rejected_senders, 2);
        assert_eq!(inbox.stats().delivered, 1);
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
