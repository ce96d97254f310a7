//! The `connector.slack` block and Slack's ids.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConnectorKind, secrets, state_dir};

/// The `connector.slack` block.
///
/// ```yaml
/// connector:
///   kind: slack
///   allowed_senders: ["U024BE7LH"]
///   slack:
///     channel_id: C0123456789
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SlackConfig {
    /// The conversation the operator talks in: a channel (`C…`), a private channel (`G…` or
    /// `C…`) or a direct message with the bot (`D…`). The bot must be a member.
    pub channel_id: SlackChannelId,
    /// Where the backfill position, the event dedupe book and the sent-message book are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
}

impl SlackConfig {
    /// A block for `channel_id` with the default state directory.
    pub fn new(channel_id: SlackChannelId) -> Self {
        Self {
            channel_id,
            state_dir: None,
        }
    }

    /// Where the connector keeps its state: `state_dir`, or the default directory named after
    /// the channel id (see [`state_dir::default_state_dir`]).
    pub fn state_dir_or_default(&self, env: &dyn secrets::Environment) -> crate::Result<PathBuf> {
        match &self.state_dir {
            Some(dir) => Ok(dir.clone()),
            None => {
                state_dir::default_state_dir(env, ConnectorKind::SLACK, self.channel_id.as_str())
            }
        }
    }
}

/// A Slack conversation id: `C`, `G` or `D` and then 6 to 20 upper-case letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SlackChannelId(String);

impl TryFrom<String> for SlackChannelId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        if is_slack_id(&text, b"CGD") {
            Ok(Self(text))
        } else {
            Err(format!(
                "{text:?} is not a Slack channel id like C0123456789 (channel details → About, \
                 at the bottom; not the channel's name)"
            ))
        }
    }
}

impl From<SlackChannelId> for String {
    fn from(id: SlackChannelId) -> Self {
        id.0
    }
}

impl SlackChannelId {
    /// The id `text`, if it is a Slack conversation id.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        Self::try_from(text.into()).ok()
    }

    /// The id as Slack writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SlackChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `^[<prefixes>][A-Z0-9]{6,20}$`
fn is_slack_id(id: &str, prefixes: &[u8]) -> bool {
    let bytes = id.as_bytes();
    bytes.first().is_some_and(|b| prefixes.contains(b))
        && (7..=21).contains(&bytes.len())
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `^[UW][A-Z0-9]{6,20}$`: a Slack user id, as `allowed_senders` lists it.
pub(crate) fn is_user_id(id: &str) -> bool {
    is_slack_id(id, b"UW")
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for SlackChannelId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SlackChannelId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Slack conversation id: C, G or D and then 6 to 20 upper-case letters and digits.",
            "type": "string",
            "pattern": "^[CGD][A-Z0-9]{6,20}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_a_prefix_and_upper_case_letters_and_digits() {
        for ok in ["C0123456789", "G0E000002", "D024BE91L"] {
            assert!(SlackChannelId::new(ok).is_some(), "{ok}");
        }
        for bad in ["", "C", "c0123456789", "#general", "U024BE7LH", "C01234"] {
            assert!(SlackChannelId::new(bad).is_none(), "{bad}");
        }
        assert!(is_user_id("U024BE7LH") && is_user_id("W0E000001"));
        assert!(!is_user_id("C024BE7LH") && !is_user_id("@alice"));
    }
}
