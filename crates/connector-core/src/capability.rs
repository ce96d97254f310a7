//! Optional capabilities a connector may offer beyond send, subscribe and health.

use std::fmt;

/// One optional capability. New capabilities may be added without a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Capability {
    /// Messages can be sent into and received from threads (`thread_id`).
    Threads,
    /// Reactions can be added to messages ([`react`](crate::OrchestratorConnector::react)).
    Reactions,
    /// Sent messages can be edited ([`edit`](crate::OrchestratorConnector::edit)).
    Edits,
    /// A typing indicator can be shown ([`typing`](crate::OrchestratorConnector::typing)).
    Typing,
    /// Outbound messages may carry attachments.
    Attachments,
    /// Recent messages can be fetched ([`history`](crate::OrchestratorConnector::history)).
    History,
    /// Outbound text is rendered as Markdown.
    Markdown,
    /// Questions with choices can be asked ([`ask`](crate::OrchestratorConnector::ask)).
    Questions,
}

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 8] = [
        Self::Threads,
        Self::Reactions,
        Self::Edits,
        Self::Typing,
        Self::Attachments,
        Self::History,
        Self::Markdown,
        Self::Questions,
    ];

    /// The capability's name as used in docs and JSON (`threads`, `reactions`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Threads => "threads",
            Self::Reactions => "reactions",
            Self::Edits => "edits",
            Self::Typing => "typing",
            Self::Attachments => "attachments",
            Self::History => "history",
            Self::Markdown => "markdown",
            Self::Questions => "questions",
        }
    }

    const fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of optional capabilities a connector reports, plus its message size limit.
///
/// ```
/// use connector_core::{Capabilities, Capability};
/// let caps = Capabilities::NONE.with(Capability::Threads).with_max_message_len(2000);
/// assert!(caps.supports(Capability::Threads));
/// assert!(!caps.supports(Capability::Edits));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    bits: u32,
    max_message_len: Option<usize>,
}

impl Capabilities {
    /// No optional capability and no size limit.
    pub const NONE: Self = Self {
        bits: 0,
        max_message_len: None,
    };

    /// This set plus `capability`.
    #[must_use]
    pub const fn with(self, capability: Capability) -> Self {
        Self {
            bits: self.bits | capability.bit(),
            ..self
        }
    }

    /// This set with the platform's limit on one message's length (in the platform's unit).
    #[must_use]
    pub const fn with_max_message_len(self, len: usize) -> Self {
        Self {
            max_message_len: Some(len),
            ..self
        }
    }

    /// Whether `capability` is offered.
    pub const fn supports(self, capability: Capability) -> bool {
        self.bits & capability.bit() != 0
    }

    /// The platform's limit on one message's length, if it has one. Longer text is chunked.
    pub const fn max_message_len(self) -> Option<usize> {
        self.max_message_len
    }

    /// The offered capabilities, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.supports(*c))
    }
}

impl serde::Serialize for Capabilities {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Capabilities", 2)?;
        s.serialize_field("supported", &self.iter().collect::<Vec<_>>())?;
        s.serialize_field("max_message_len", &self.max_message_len)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let caps = Capabilities::NONE
            .with(Capability::Reactions)
            .with(Capability::History);
        assert_eq!(
            caps.iter().collect::<Vec<_>>(),
            [Capability::Reactions, Capability::History]
        );
        for c in Capability::ALL {
            assert_eq!(
                caps.supports(c),
                matches!(c, Capability::Reactions | Capability::History)
            );
        }
    }
}
