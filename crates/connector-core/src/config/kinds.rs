//! The kinds this project provides and the secrets each reads: one table that the backends'
//! descriptors, the registry and `connector check` all read.

use super::ConnectorKind;
use super::secrets::{
    DISCORD_BOT_TOKEN, MATRIX_ACCESS_TOKEN, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, TELEGRAM_BOT_TOKEN,
};

/// A kind this project provides, whether or not its backend is compiled into this build.
///
/// Only what every reader needs lives here: the backends' descriptors take their
/// [`secrets`](Self::secrets) from it, the registry adds the cargo feature and the crate, and
/// `connector check` reports each secret of the kind a roster names. The defaults of a kind's
/// block live on its config type ([`TmuxConfig::with_defaults`](super::TmuxConfig::with_defaults),
/// [`MatrixConfig::state_dir_or_default`](super::MatrixConfig::state_dir_or_default), …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuiltInKind {
    /// The kind, as written in `connector.kind`.
    pub name: &'static str,
    /// The environment variables its backend reads secrets from (see [`super::secrets`]).
    pub secrets: &'static [&'static str],
}

impl BuiltInKind {
    /// tmux: local, no secret.
    pub const TMUX: Self = Self {
        name: ConnectorKind::TMUX,
        secrets: &[],
    };
    /// Matrix: the bot's access token.
    pub const MATRIX: Self = Self {
        name: ConnectorKind::MATRIX,
        secrets: &[MATRIX_ACCESS_TOKEN],
    };
    /// Discord: the bot's token.
    pub const DISCORD: Self = Self {
        name: ConnectorKind::DISCORD,
        secrets: &[DISCORD_BOT_TOKEN],
    };
    /// Telegram: the bot's token from BotFather.
    pub const TELEGRAM: Self = Self {
        name: ConnectorKind::TELEGRAM,
        secrets: &[TELEGRAM_BOT_TOKEN],
    };
    /// Slack: the bot token (`xoxb-`) and the app-level token for Socket Mode (`xapp-`).
    pub const SLACK: Self = Self {
        name: ConnectorKind::SLACK,
        secrets: &[SLACK_BOT_TOKEN, SLACK_APP_TOKEN],
    };
}

/// Every kind this project provides, the default (tmux) first.
pub const BUILT_IN_KINDS: &[BuiltInKind] = &[
    BuiltInKind::TMUX,
    BuiltInKind::MATRIX,
    BuiltInKind::DISCORD,
    BuiltInKind::TELEGRAM,
    BuiltInKind::SLACK,
];

/// The built-in kind named `kind`, if it is one.
///
/// ```
/// use connector_core::config::kinds::built_in;
/// assert_eq!(built_in("matrix").unwrap().secrets, ["MATRIX_ACCESS_TOKEN"]);
/// assert!(built_in("my-echo").is_none());
/// ```
pub fn built_in(kind: &str) -> Option<&'static BuiltInKind> {
    BUILT_IN_KINDS.iter().find(|k| k.name == kind)
}

/// Every secret variable of the built-in kinds, in table order.
pub fn all_secrets() -> impl Iterator<Item = &'static str> {
    BUILT_IN_KINDS
        .iter()
        .flat_map(|k| k.secrets.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_kind_once() {
        let names: Vec<&str> = BUILT_IN_KINDS.iter().map(|k| k.name).collect();
        assert_eq!(names, ["tmux", "matrix", "discord", "telegram", "slack"]);
        assert_eq!(
            all_secrets().collect::<Vec<_>>(),
            [
                "MATRIX_ACCESS_TOKEN",
                "DISCORD_BOT_TOKEN",
                "TELEGRAM_BOT_TOKEN",
                "SLACK_BOT_TOKEN",
                "SLACK_APP_TOKEN"
            ]
        );
        assert!(built_in("tmux").unwrap().secrets.is_empty());
    }
}
