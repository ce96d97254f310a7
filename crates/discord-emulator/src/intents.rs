//! Gateway intents: the bit set an app sends in Identify, and which of them are privileged.

use std::{fmt, ops};

/// A set of gateway intents (Discord docs, gateway, "List of Intents").
///
/// ```
/// use discord_emulator::Intents;
/// let wanted = Intents::GUILDS | Intents::GUILD_MESSAGES | Intents::MESSAGE_CONTENT;
/// assert_eq!(wanted.bits(), 33281);
/// assert!(wanted.intersects(Intents::PRIVILEGED));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Intents(u64);

impl Intents {
    /// `1 << 0`: guilds, channels, threads.
    pub const GUILDS: Intents = Intents(1 << 0);
    /// `1 << 1`, privileged: guild members, and thread members other than the app.
    pub const GUILD_MEMBERS: Intents = Intents(1 << 1);
    /// `1 << 2`: bans and audit log entries.
    pub const GUILD_MODERATION: Intents = Intents(1 << 2);
    /// `1 << 3`: emojis, stickers, soundboard.
    pub const GUILD_EXPRESSIONS: Intents = Intents(1 << 3);
    /// `1 << 4`: integrations.
    pub const GUILD_INTEGRATIONS: Intents = Intents(1 << 4);
    /// `1 << 5`: webhooks.
    pub const GUILD_WEBHOOKS: Intents = Intents(1 << 5);
    /// `1 << 6`: invites.
    pub const GUILD_INVITES: Intents = Intents(1 << 6);
    /// `1 << 7`: voice states.
    pub const GUILD_VOICE_STATES: Intents = Intents(1 << 7);
    /// `1 << 8`, privileged: presences.
    pub const GUILD_PRESENCES: Intents = Intents(1 << 8);
    /// `1 << 9`: messages in guild channels and threads.
    pub const GUILD_MESSAGES: Intents = Intents(1 << 9);
    /// `1 << 10`: reactions in guilds.
    pub const GUILD_MESSAGE_REACTIONS: Intents = Intents(1 << 10);
    /// `1 << 11`: typing in guilds.
    pub const GUILD_MESSAGE_TYPING: Intents = Intents(1 << 11);
    /// `1 << 12`: direct messages.
    pub const DIRECT_MESSAGES: Intents = Intents(1 << 12);
    /// `1 << 13`: reactions in direct messages.
    pub const DIRECT_MESSAGE_REACTIONS: Intents = Intents(1 << 13);
    /// `1 << 14`: typing in direct messages.
    pub const DIRECT_MESSAGE_TYPING: Intents = Intents(1 << 14);
    /// `1 << 15`, privileged: message `content`, `embeds`, `attachments`, `components`.
    pub const MESSAGE_CONTENT: Intents = Intents(1 << 15);
    /// `1 << 16`: scheduled events.
    pub const GUILD_SCHEDULED_EVENTS: Intents = Intents(1 << 16);
    /// `1 << 20`: auto moderation rules.
    pub const AUTO_MODERATION_CONFIGURATION: Intents = Intents(1 << 20);
    /// `1 << 21`: auto moderation actions.
    pub const AUTO_MODERATION_EXECUTION: Intents = Intents(1 << 21);
    /// `1 << 24`: poll votes in guilds.
    pub const GUILD_MESSAGE_POLLS: Intents = Intents(1 << 24);
    /// `1 << 25`: poll votes in direct messages.
    pub const DIRECT_MESSAGE_POLLS: Intents = Intents(1 << 25);

    /// The privileged intents: `GUILD_MEMBERS`, `GUILD_PRESENCES` and `MESSAGE_CONTENT`.
    pub const PRIVILEGED: Intents =
        Intents(Self::GUILD_MEMBERS.0 | Self::GUILD_PRESENCES.0 | Self::MESSAGE_CONTENT.0);

    /// Every intent the docs list; any other bit closes the gateway with 4013.
    pub const ALL: Intents = Intents(0b11_0011_0001_1111_1111_1111_1111);

    /// No intents.
    #[must_use]
    pub const fn empty() -> Intents {
        Intents(0)
    }

    /// The set with exactly these bits, known or not.
    #[must_use]
    pub const fn from_bits_retain(bits: u64) -> Intents {
        Intents(bits)
    }

    /// The bits, as sent in Identify.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether every intent of `other` is in `self`.
    #[must_use]
    pub const fn contains(self, other: Intents) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share an intent.
    #[must_use]
    pub const fn intersects(self, other: Intents) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl ops::BitOr for Intents {
    type Output = Intents;

    fn bitor(self, rhs: Intents) -> Intents {
        Intents(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for Intents {
    fn bitor_assign(&mut self, rhs: Intents) {
        self.0 |= rhs.0;
    }
}

impl ops::BitAnd for Intents {
    type Output = Intents;

    fn bitand(self, rhs: Intents) -> Intents {
        Intents(self.0 & rhs.0)
    }
}

impl ops::Sub for Intents {
    type Output = Intents;

    fn sub(self, rhs: Intents) -> Intents {
        Intents(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Intents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Intents({:#b})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_the_union_of_the_listed_intents() {
        let listed = [
            Intents::GUILDS,
            Intents::GUILD_MEMBERS,
            Intents::GUILD_MODERATION,
            Intents::GUILD_EXPRESSIONS,
            Intents::GUILD_INTEGRATIONS,
            Intents::GUILD_WEBHOOKS,
            Intents::GUILD_INVITES,
            Intents::GUILD_VOICE_STATES,
            Intents::GUILD_PRESENCES,
            Intents::GUILD_MESSAGES,
            Intents::GUILD_MESSAGE_REACTIONS,
            Intents::GUILD_MESSAGE_TYPING,
            Intents::DIRECT_MESSAGES,
            Intents::DIRECT_MESSAGE_REACTIONS,
            Intents::DIRECT_MESSAGE_TYPING,
            Intents::MESSAGE_CONTENT,
            Intents::GUILD_SCHEDULED_EVENTS,
            Intents::AUTO_MODERATION_CONFIGURATION,
            Intents::AUTO_MODERATION_EXECUTION,
            Intents::GUILD_MESSAGE_POLLS,
            Intents::DIRECT_MESSAGE_POLLS,
        ];
        let union = listed.iter().fold(Intents::empty(), |acc, i| acc | *i);
        assert_eq!(union, Intents::ALL);
        assert!(!Intents::ALL.contains(Intents::from_bits_retain(1 << 17)));
    }

    #[test]
    fn the_docs_example_is_guilds_and_guild_moderation() {
        assert_eq!(
            Intents::from_bits_retain(5),
            Intents::GUILDS | Intents::GUILD_MODERATION
        );
        assert_eq!((Intents::GUILDS | Intents::GUILD_MESSAGES).bits(), 513);
    }
}
