//! Identifier newtypes: messages, threads, senders, idempotency keys.

use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a platform identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as the platform spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id! {
    /// A message's id on its platform (a Matrix event id, a Discord snowflake, a tmux line id).
    MessageId
}

string_id! {
    /// A thread's id on its platform (a Matrix thread root event id, a Discord thread channel id,
    /// a tmux window name).
    ThreadId
}

string_id! {
    /// Who sent an inbound message, scoped to the connector (`@alice:example.org`, a Discord user
    /// id, `tmux:%3`).
    SenderId
}

string_id! {
    /// A key fixed per logical outbound message and reused on every retry, so a retried send is
    /// never posted twice (a Matrix transaction id, a Discord nonce).
    ///
    /// Keys are at most 25 ASCII alphanumeric characters, the strictest platform's limit.
    IdempotencyKey
}

impl IdempotencyKey {
    /// The longest key accepted by every platform (Discord nonces are at most 25 characters).
    pub const MAX_LEN: usize = 25;

    /// A fresh random key of [`Self::MAX_LEN`] alphanumeric characters.
    pub fn random() -> Self {
        let mut rng = fastrand::Rng::new();
        Self((0..Self::MAX_LEN).map(|_| rng.alphanumeric()).collect())
    }

    /// The key for part `index` of a message split into several parts (`index` 0 is the key
    /// itself), still within [`Self::MAX_LEN`].
    ///
    /// Part keys end in `_{index}`, which a [random](Self::random) key (letters and digits)
    /// never does, so they cannot collide with the key itself; should a caller's own key already
    /// end that way at full length, the part uses `-{index}` instead. Parts of one key always
    /// differ from each other: their endings differ in digits or in where the separator stands.
    pub fn for_part(&self, index: usize) -> Self {
        if index == 0 {
            return self.clone();
        }
        let with = |separator: char| {
            let suffix = format!("{separator}{index}");
            let keep = Self::MAX_LEN.saturating_sub(suffix.len()).min(self.0.len());
            format!("{}{suffix}", &self.0[..keep])
        };
        let part = with('_');
        if part == self.0 {
            return Self(with('-'));
        }
        Self(part)
    }

    /// Checks that `key` is 1 to 25 ASCII letters, digits, `-` or `_`.
    pub fn parse(key: &str) -> crate::Result<Self> {
        let ok = !key.is_empty()
            && key.len() <= Self::MAX_LEN
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(key.to_owned()))
        } else {
            Err(crate::Error::InvalidInput {
                field: "idempotency_key",
                message: format!(
                    "{key:?} must be 1 to {} ASCII letters, digits, '-' or '_'",
                    Self::MAX_LEN
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_valid_and_distinct() {
        let a = IdempotencyKey::random();
        let b = IdempotencyKey::random();
        assert_ne!(a, b);
        assert!(IdempotencyKey::parse(a.as_str()).is_ok());
    }

    #[test]
    fn part_keys_stay_within_the_limit_and_differ() {
        // Keys that end the way a part key does (the old `p{index}` scheme collided with
        // random keys ending in e.g. "p7"), at full length and shorter, and random ones.
        let mut keys: Vec<IdempotencyKey> = [
            "abcdefghijklmnopqrstuvwp7",
            "abcdefghijklmnopqrstuvw_7",
            "abcdefghijklmnopqrstuv_12",
            "abcdefghijklmnopqrstuv-12",
            "short_1",
            "k",
        ]
        .iter()
        .map(|k| IdempotencyKey::parse(k).unwrap())
        .collect();
        keys.extend((0..500).map(|_| IdempotencyKey::random()));
        for key in keys {
            let parts: Vec<_> = (0..120).map(|i| key.for_part(i)).collect();
            for part in &parts {
                assert!(IdempotencyKey::parse(part.as_str()).is_ok(), "{part:?}");
            }
            let unique: std::collections::HashSet<_> = parts.iter().collect();
            assert_eq!(unique.len(), parts.len(), "parts of {key:?} collide");
        }
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"x".repeat(26)).is_err());
    }
}
