//! Which senders may reach the orchestrator: the allow-list, the connector's own identities,
//! a backend's own [`SenderRule`] (Discord's allowed roles), and the senders paired at the
//! machine ([`crate::pairing`]).
//!
//! The [`Inbox`](crate::Inbox) holds the policy, decides on every sender with it and counts
//! the ones refused, for every backend alike.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use crate::ids::SenderId;
use crate::pairing::Pairing;

/// The verdict of a [`SenderPolicy`] on one sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderVerdict {
    /// Deliver the message.
    Allowed,
    /// The connector's own message: never delivered back to its subscribers.
    Own,
    /// Not on the allow-list: dropped and counted.
    NotAllowed,
}

/// A backend's own way of admitting a sender the allow-list does not name, consulted by
/// [`SenderPolicy::check`] after the list: Discord admits members holding one of
/// `discord.allowed_roles`.
///
/// The rule only widens the list; the connector's own identities stay refused. It answers
/// from what it already knows (the backend learns what it needs, say a member's roles, before
/// handing the message to the inbox), so a refusal is still decided and counted by the inbox.
///
/// ```
/// use std::sync::Arc;
/// use connector_core::allowlist::{SenderRule, SenderVerdict};
/// use connector_core::{SenderId, SenderPolicy};
///
/// #[derive(Debug)]
/// struct Staff;
/// impl SenderRule for Staff {
///     fn admits(&self, sender: &SenderId) -> bool {
///         sender.as_str().starts_with("staff-")
///     }
/// }
/// let policy = SenderPolicy::allow_list(["op"]).with_rule(Arc::new(Staff));
/// assert_eq!(policy.check(&"staff-ann".into()), SenderVerdict::Allowed);
/// assert_eq!(policy.check(&"eve".into()), SenderVerdict::NotAllowed);
/// ```
pub trait SenderRule: Send + Sync + fmt::Debug {
    /// Whether `sender`, not on the allow-list, is admitted all the same.
    fn admits(&self, sender: &SenderId) -> bool;
}

/// Who may talk to the orchestrator.
///
/// Secure by default: only senders on the allow-list are admitted, unless the config says
/// `allow_any_sender: true`; a backend may admit more with a [`SenderRule`]. The connector's
/// own identities are always refused, so its own messages never come back as operator
/// messages.
#[derive(Debug, Clone, Default)]
pub struct SenderPolicy {
    allowed: HashSet<SenderId>,
    allow_any: bool,
    own: HashSet<SenderId>,
    rule: Option<Arc<dyn SenderRule>>,
    paired: Option<Arc<Pairing>>,
}

impl SenderPolicy {
    /// Admits only the senders in `allowed`.
    pub fn allow_list(allowed: impl IntoIterator<Item = impl Into<SenderId>>) -> Self {
        Self {
            allowed: allowed.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Admits every sender except the connector's own identities.
    pub fn allow_any() -> Self {
        Self {
            allow_any: true,
            ..Self::default()
        }
    }

    /// This policy, also refusing messages from `own` (the connector's own user or bot).
    #[must_use]
    pub fn with_own_identity(mut self, own: impl Into<SenderId>) -> Self {
        self.own.insert(own.into());
        self
    }

    /// This policy, also admitting the senders `rule` admits (see [`SenderRule`]).
    #[must_use]
    pub fn with_rule(mut self, rule: Arc<dyn SenderRule>) -> Self {
        self.rule = Some(rule);
        self
    }

    /// This policy, also admitting the senders approved with `connector pair approve`, read
    /// from `pairing`'s store whenever it changes (no restart); `None` leaves it as it is, so
    /// a backend writes `config.sender_policy().with_pairing(Pairing::from_config(…)?)`.
    #[must_use]
    pub fn with_pairing(mut self, pairing: Option<Arc<Pairing>>) -> Self {
        if pairing.is_some() {
            self.paired = pairing;
        }
        self
    }

    /// The pairing this policy admits paired senders by, if pairing is on: the backend asks it
    /// what to answer a refused sender ([`Pairing::stranger_wrote`]).
    pub fn pairing(&self) -> Option<&Arc<Pairing>> {
        self.paired.as_ref()
    }

    /// Adds an identity of the connector itself (learnt at run time, e.g. from a whoami call).
    pub fn add_own_identity(&mut self, own: impl Into<SenderId>) {
        self.own.insert(own.into());
    }

    /// Whether every sender but the connector itself is admitted.
    pub fn allows_any(&self) -> bool {
        self.allow_any
    }

    /// The verdict on `sender`.
    pub fn check(&self, sender: &SenderId) -> SenderVerdict {
        if self.own.contains(sender) {
            SenderVerdict::Own
        } else if self.allow_any
            || self.allowed.contains(sender)
            || self.rule.as_ref().is_some_and(|rule| rule.admits(sender))
            || self.paired.as_ref().is_some_and(|p| p.is_paired(sender))
        {
            SenderVerdict::Allowed
        } else {
            SenderVerdict::NotAllowed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let policy = SenderPolicy::allow_list(["@op:x"]).with_own_identity("@bot:x");
        assert_eq!(policy.check(&"@op:x".into()), SenderVerdict::Allowed);
        assert_eq!(policy.check(&"@eve:x".into()), SenderVerdict::NotAllowed);
        assert_eq!(policy.check(&"@bot:x".into()), SenderVerdict::Own);
        let open = SenderPolicy::allow_any().with_own_identity("@bot:x");
        assert_eq!(open.check(&"@eve:x".into()), SenderVerdict::Allowed);
        assert_eq!(open.check(&"@bot:x".into()), SenderVerdict::Own);
        assert_eq!(
            SenderPolicy::default().check(&"@op:x".into()),
            SenderVerdict::NotAllowed
        );
    }

    #[derive(Debug)]
    struct Vips;

    impl SenderRule for Vips {
        fn admits(&self, sender: &SenderId) -> bool {
            sender.as_str().starts_with("vip")
        }
    }

    #[test]
    fn a_rule_widens_the_list_but_never_admits_the_connector_itself() {
        let policy = SenderPolicy::allow_list(["op"])
            .with_own_identity("vip-bot")
            .with_rule(Arc::new(Vips));
        assert_eq!(policy.check(&"op".into()), SenderVerdict::Allowed);
        assert_eq!(policy.check(&"vip-ann".into()), SenderVerdict::Allowed);
        assert_eq!(policy.check(&"eve".into()), SenderVerdict::NotAllowed);
        assert_eq!(policy.check(&"vip-bot".into()), SenderVerdict::Own);
    }
}
