//! What the connector needs from the `connector.slack` block and the environment.

use std::path::PathBuf;

use connector_core::config::ConnectorConfig;
use connector_core::config::secrets::Environment;
use connector_core::{Error, Result};

/// The environment variable that points the connector at another Web API base than
/// `https://slack.com/api`: a proxy, or the `slack-emulator` in tests.
pub const SLACK_API_BASE_URL: &str = "SLACK_API_BASE_URL";

/// Where Slack's Web API lives when no [`SLACK_API_BASE_URL`] is given.
pub(crate) const SLACK_API: &str = "https://slack.com/api";

/// The validated Slack settings of one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlackSettings {
    /// The conversation the operator talks in (`C…`, `G…` or `D…`).
    pub(crate) channel_id: String,
    /// Where the positions, the event book and the question book are kept.
    pub(crate) state_dir: PathBuf,
    /// The Web API base, without a trailing `/` (`https://slack.com/api`).
    pub(crate) api_base: String,
}

impl SlackSettings {
    /// Reads and checks the `connector.slack` block; `env` supplies `SLACK_API_BASE_URL`,
    /// `XDG_STATE_HOME` and `HOME`.
    pub(crate) fn from_config(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        config.validate()?;
        let slack = config.slack.as_ref().ok_or_else(|| {
            Error::config(
                "connector.slack",
                "required when kind is slack (give channel_id)",
            )
        })?;
        let state_dir = slack.state_dir_or_default(env)?;
        let overridden = env
            .var(SLACK_API_BASE_URL)
            .and_then(|v| v.into_string().ok())
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty());
        if let Some(url) = &overridden
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Secret {
                variable: SLACK_API_BASE_URL.into(),
                message: format!("{url:?} must start with http:// or https://"),
            });
        }
        Ok(Self {
            channel_id: slack.channel_id.as_str().to_owned(),
            state_dir,
            api_base: overridden.unwrap_or_else(|| SLACK_API.to_owned()),
        })
    }

    /// The file holding the `ts` of recent sends by idempotency key.
    pub(crate) fn sent_path(&self) -> PathBuf {
        self.state_dir.join("slack-sent.json")
    }

    /// The file holding the delivery positions and the recent event ids.
    pub(crate) fn state_path(&self) -> PathBuf {
        self.state_dir.join("slack-inbound.json")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config() -> ConnectorConfig {
        ConnectorConfig::from_roster_str(
            "connector:\n  kind: slack\n  allowed_senders: ['U024BE7LH']\n  slack:\n    \
             channel_id: C0123456789\n    state_dir: /tmp/slack-state\n",
        )
        .expect("valid roster")
    }

    #[test]
    fn defaults_to_slack_and_takes_an_override() {
        let env = HashMap::<String, String>::new();
        let s = SlackSettings::from_config(&config(), &env).unwrap();
        assert_eq!(s.api_base, SLACK_API);
        assert_eq!(s.channel_id, "C0123456789");
        let env = HashMap::from([(
            SLACK_API_BASE_URL.to_owned(),
            "http://127.0.0.1:9/api/".to_owned(),
        )]);
        let s = SlackSettings::from_config(&config(), &env).unwrap();
        assert_eq!(s.api_base, "http://127.0.0.1:9/api");
        let env = HashMap::from([(SLACK_API_BASE_URL.to_owned(), "ftp://x".to_owned())]);
        assert!(SlackSettings::from_config(&config(), &env).is_err());
    }
}
