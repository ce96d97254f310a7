//! Which senders may reach the orchestrator: the allow-list and the connector's own identities.

use std::collections::HashSet;

use crate::ids::SenderId;

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

/// Who may talk to the orchestrator.
///
/// Secure by default: only senders on the allow-list are admitted, unless the config says
/// `allow_any_sender: true`. The connector's own identities are always refused, so its own
/// messages never come back as operator messages.
#[derive(Debug, Clone, Default)]
pub struct SenderPolicy {
    allowed: HashSet<SenderId>,
    allow_any: bool,
    own: HashSet<SenderId>,
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
        } else if self.allow_any || self.allowed.contains(sender) {
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
}
