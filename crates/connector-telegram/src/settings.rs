//! What the connector needs from the `connector.telegram` block and the environment.

use std::path::PathBuf;

use connector_core::config::secrets::Environment;
use connector_core::config::{ConnectorConfig, TelegramConfig};
use connector_core::{Error, Result};

/// The environment variable that points the connector at another Bot API server than
/// `https://api.telegram.org`: a self-hosted `telegram-bot-api`, or the emulator in tests.
///
/// Calls then go to `{TELEGRAM_API_BASE_URL}/bot<token>/<method>`.
pub const TELEGRAM_API_BASE_URL: &str = "TELEGRAM_API_BASE_URL";

/// Where the Bot API lives when no [`TELEGRAM_API_BASE_URL`] is given.
pub(crate) const TELEGRAM_BASE_URL: &str = "https://api.telegram.org";

/// The validated Telegram settings of one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TelegramSettings {
    /// The chat the operator talks in.
    pub(crate) chat_id: i64,
    /// Where the polling position, the question book and the thread book are kept.
    pub(crate) state_dir: PathBuf,
    /// `https://api.telegram.org`, or the value of [`TELEGRAM_API_BASE_URL`] (no trailing `/`).
    pub(crate) base_url: String,
}

impl TelegramSettings {
    /// Reads and checks the `connector.telegram` block; `env` supplies
    /// `TELEGRAM_API_BASE_URL`, `XDG_STATE_HOME` and `HOME`.
    pub(crate) fn from_config(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        config.validate()?;
        let telegram: &TelegramConfig = config.telegram.as_ref().ok_or_else(|| {
            Error::config(
                "connector.telegram",
                "required when kind is telegram (give chat_id)",
            )
        })?;
        let state_dir = telegram.state_dir_or_default(env)?;
        let overridden = env
            .var(TELEGRAM_API_BASE_URL)
            .and_then(|v| v.into_string().ok())
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty());
        if let Some(url) = &overridden
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Secret {
                variable: TELEGRAM_API_BASE_URL.into(),
                message: format!("{url:?} must start with http:// or https://"),
            });
        }
        Ok(Self {
            chat_id: telegram.chat_id.get(),
            state_dir,
            base_url: overridden.unwrap_or_else(|| TELEGRAM_BASE_URL.to_owned()),
        })
    }

    /// The file holding the polling position (the next `offset`).
    pub(crate) fn position_path(&self) -> PathBuf {
        self.state_dir.join("updates.json")
    }

    /// The file holding the forum topics started from messages.
    pub(crate) fn threads_path(&self) -> PathBuf {
        self.state_dir.join("threads.json")
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
            "connector:\n  kind: telegram\n  allowed_senders: ['123456789']\n  telegram:\n    \
             chat_id: -1001234567890{state}\n"
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
        let s = TelegramSettings::from_config(&config(None), &env(&[("HOME", "/home/u")])).unwrap();
        assert_eq!(s.chat_id, -1_001_234_567_890);
        assert_eq!(
            s.state_dir,
            Path::new("/home/u/.local/state/orchestrator-connector/telegram/-1001234567890")
        );
        assert_eq!(s.base_url, TELEGRAM_BASE_URL);
        let s = TelegramSettings::from_config(
            &config(Some("/var/lib/t")),
            &env(&[(TELEGRAM_API_BASE_URL, "http://127.0.0.1:9/")]),
        )
        .unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:9");
        assert_eq!(s.position_path(), Path::new("/var/lib/t/updates.json"));
        let bad = TelegramSettings::from_config(
            &config(Some("/x")),
            &env(&[(TELEGRAM_API_BASE_URL, "ftp://x")]),
        );
        assert!(bad.is_err());
    }
}
