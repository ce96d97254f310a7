//! What the connector needs from the `connector.discord` block and the environment.

use std::path::PathBuf;

use connector_core::config::secrets::Environment;
use connector_core::config::{ConnectorConfig, DiscordConfig};
use connector_core::{Error, Result};

/// The environment variable that points the connector at another API host than
/// `https://discord.com`: a self-hosted proxy, or the Discord emulator in tests.
///
/// When set, REST calls and the gateway lookup go to `{DISCORD_API_BASE_URL}/api/v10/...`.
pub const DISCORD_API_BASE_URL: &str = "DISCORD_API_BASE_URL";

/// Where Discord lives when no [`DISCORD_API_BASE_URL`] is given.
pub(crate) const DISCORD_BASE_URL: &str = "https://discord.com";

/// The validated Discord settings of one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiscordSettings {
    /// The channel the operator talks in.
    pub(crate) channel_id: u64,
    /// Where the delivery positions are kept.
    pub(crate) state_dir: PathBuf,
    /// `https://discord.com`, or the value of [`DISCORD_API_BASE_URL`] (no trailing `/`).
    pub(crate) base_url: String,
    /// Whether `base_url` came from [`DISCORD_API_BASE_URL`].
    pub(crate) base_url_overridden: bool,
    /// Roles whose members may reach the orchestrator besides `allowed_senders`.
    pub(crate) allowed_roles: Vec<u64>,
    /// Deliver only messages that mention the bot.
    pub(crate) require_mention: bool,
}

impl DiscordSettings {
    /// Reads and checks the `connector.discord` block; `env` supplies `DISCORD_API_BASE_URL`,
    /// `XDG_STATE_HOME` and `HOME`.
    pub(crate) fn from_config(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        config.validate()?;
        let discord: &DiscordConfig = config.discord.as_ref().ok_or_else(|| {
            Error::config(
                "connector.discord",
                "required when kind is discord (give channel_id)",
            )
        })?;
        let channel_text = String::from(discord.channel_id.clone());
        let channel_id = channel_text.parse::<u64>().map_err(|e| {
            Error::config(
                "connector.discord.channel_id",
                format!("{channel_text:?} is not a Discord id: {e}"),
            )
        })?;
        let state_dir = discord.state_dir_or_default(env)?;
        let overridden = env
            .var(DISCORD_API_BASE_URL)
            .and_then(|v| v.into_string().ok())
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty());
        if let Some(url) = &overridden
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Secret {
                variable: DISCORD_API_BASE_URL.into(),
                message: format!("{url:?} must start with http:// or https://"),
            });
        }
        let allowed_roles = discord
            .allowed_roles
            .iter()
            .enumerate()
            .map(|(i, role)| {
                role.as_str().parse::<u64>().map_err(|e| {
                    Error::config(
                        format!("connector.discord.allowed_roles[{i}]"),
                        format!("{role:?} is not a Discord id: {e}"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            channel_id,
            state_dir,
            allowed_roles,
            require_mention: discord.require_mention,
            base_url_overridden: overridden.is_some(),
            base_url: overridden.unwrap_or_else(|| DISCORD_BASE_URL.to_owned()),
        })
    }

    /// The file holding the last delivered message id of each conversation.
    pub(crate) fn position_path(&self) -> PathBuf {
        self.state_dir.join("positions.json")
    }

    /// The file holding the reactions on the bot's recent messages.
    pub(crate) fn reactions_path(&self) -> PathBuf {
        self.state_dir.join("reactions.json")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use std::path::Path;

    use super::*;

    fn config(state_dir: Option<&str>) -> ConnectorConfig {
        let state = state_dir.map_or(String::new(), |d| format!("\n    state_dir: {d}"));
        ConnectorConfig::from_roster_str(&format!(
            "connector:\n  kind: discord\n  allowed_senders: ['123456789012345678']\n  discord:\n    \
             channel_id: '223456789012345678'{state}\n"
        ))
        .expect("valid roster")
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let s = DiscordSettings::from_config(&config(None), &env(&[("HOME", "/home/u")])).unwrap();
        assert_eq!(s.channel_id, 223_456_789_012_345_678);
        assert_eq!(
            s.state_dir,
            Path::new("/home/u/.local/state/orchestrator-connector/discord/223456789012345678")
        );
        assert_eq!(s.base_url, DISCORD_BASE_URL);
        assert!(!s.base_url_overridden);
        let s = DiscordSettings::from_config(
            &config(Some("/var/lib/d")),
            &env(&[(DISCORD_API_BASE_URL, "http://127.0.0.1:9/")]),
        )
        .unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:9");
        assert!(s.base_url_overridden);
        assert_eq!(s.position_path(), Path::new("/var/lib/d/positions.json"));
        let bad = DiscordSettings::from_config(
            &config(Some("/x")),
            &env(&[(DISCORD_API_BASE_URL, "ftp://x")]),
        );
        assert!(bad.is_err());
    }
}
