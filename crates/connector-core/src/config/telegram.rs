//! The `connector.telegram` block and Telegram's integer ids.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConnectorKind, secrets, state_dir};

/// The `connector.telegram` block.
///
/// ```yaml
/// connector:
///   kind: telegram
///   allowed_senders: ["123456789"]
///   telegram:
///     chat_id: -1001234567890   # a forum supergroup; a private chat is the operator's user id
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TelegramConfig {
    /// The chat the operator talks in: a private chat (the operator's user id, positive), a
    /// group (negative) or a supergroup, forum or not (`-100…`). A number or a string.
    pub chat_id: TelegramChatId,
    /// Where the polling position and the sent-message book are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
}

impl TelegramConfig {
    /// A block for `chat_id` with the default state directory.
    pub fn new(chat_id: TelegramChatId) -> Self {
        Self {
            chat_id,
            state_dir: None,
        }
    }

    /// Where the connector keeps its state: `state_dir`, or the default directory named after
    /// the chat id (see [`state_dir::default_state_dir`]).
    pub fn state_dir_or_default(&self, env: &dyn secrets::Environment) -> crate::Result<PathBuf> {
        match &self.state_dir {
            Some(dir) => Ok(dir.clone()),
            None => state_dir::default_state_dir(
                env,
                ConnectorKind::TELEGRAM,
                &self.chat_id.to_string(),
            ),
        }
    }
}

/// A Telegram chat id: a non-zero integer of at most 16 digits (Telegram promises ids fit in
/// 52 bits), written as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "IntegerRepr", into = "i64")]
pub struct TelegramChatId(i64);

#[derive(Deserialize)]
#[serde(untagged)]
enum IntegerRepr {
    Number(i64),
    Text(String),
}

impl TryFrom<IntegerRepr> for TelegramChatId {
    type Error = String;

    fn try_from(repr: IntegerRepr) -> Result<Self, String> {
        let (id, shown) = match repr {
            IntegerRepr::Number(n) => (Some(n), n.to_string()),
            IntegerRepr::Text(text) => (text.trim().parse::<i64>().ok(), format!("{text:?}")),
        };
        match id {
            Some(id) if is_chat_id(id) => Ok(Self(id)),
            _ => Err(format!(
                "{shown} is not a Telegram chat id: a non-zero integer like 123456789 (a private \
                 chat) or -1001234567890 (a supergroup), not the @username"
            )),
        }
    }
}

impl From<TelegramChatId> for i64 {
    fn from(id: TelegramChatId) -> Self {
        id.0
    }
}

impl TelegramChatId {
    /// The chat id `id`, if it is one (non-zero, at most 16 digits).
    pub fn new(id: i64) -> Option<Self> {
        is_chat_id(id).then_some(Self(id))
    }

    /// The id as Telegram writes it.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Whether this is a private chat with one user (a positive id).
    pub fn is_private(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for TelegramChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Non-zero, at most 16 digits.
fn is_chat_id(id: i64) -> bool {
    id != 0 && id.unsigned_abs() < 10_u64.pow(16)
}

/// `^[1-9][0-9]{0,15}$`: a Telegram user id, as `allowed_senders` lists it.
pub(crate) fn is_user_id(id: &str) -> bool {
    (1..=16).contains(&id.len()) && !id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for TelegramChatId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TelegramChatId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Telegram chat id: a non-zero integer of at most 16 digits (negative for groups, -100… for supergroups), as a number or a string.",
            "oneOf": [
                { "type": "string", "pattern": "^\\s*-?[1-9][0-9]{0,15}\\s*$" },
                { "type": "integer", "minimum": -9_999_999_999_999_999i64, "maximum": 9_999_999_999_999_999i64, "not": { "const": 0 } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_ids_are_non_zero_integers_of_at_most_16_digits() {
        for ok in [
            1,
            -1,
            123_456_789,
            -1_001_234_567_890,
            9_999_999_999_999_999,
        ] {
            assert!(TelegramChatId::new(ok).is_some(), "{ok}");
        }
        for bad in [0, 10_000_000_000_000_000, i64::MIN] {
            assert!(TelegramChatId::new(bad).is_none(), "{bad}");
        }
        assert!(is_user_id("123456789"));
        for bad in ["", "0", "0123", "-5", "12a", "12345678901234567"] {
            assert!(!is_user_id(bad), "{bad}");
        }
    }
}
