//! The roster's `connector` block: types, loading, validation and secrets.
//!
//! ```yaml
//! # roster.yaml — other keys belong to the fleet and are ignored here
//! connector:
//!   kind: matrix
//!   allowed_senders: ["@alice:example.org"]
//!   matrix:
//!     homeserver_url: https://matrix.example.org
//!     user_id: "@orchestrator:example.org"
//!     room_id: "!abcdefghijklmnop:example.org"
//! ```
//!
//! A roster without a `connector` block means tmux. Secrets never live in the roster: the
//! Matrix token comes from `MATRIX_ACCESS_TOKEN`, the Discord token from `DISCORD_BOT_TOKEN`,
//! the Telegram token from `TELEGRAM_BOT_TOKEN`, Slack's from `SLACK_BOT_TOKEN` and
//! `SLACK_APP_TOKEN` (see [`secrets`]).

pub mod kinds;
mod load;
mod pairing;
#[cfg(feature = "schema")]
pub mod schema;
pub mod secrets;
mod slack;
pub mod state_dir;
mod telegram;
mod validate;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::ROSTER_KEY;
pub use pairing::PairingConfig;
pub use slack::{SlackChannelId, SlackConfig};
pub use telegram::{TelegramChatId, TelegramConfig};

/// The settings of one connector: the roster's `connector` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ConnectorConfig {
    /// Which connector to use: `tmux`, `matrix`, `discord`, `telegram`, `slack`, or a kind
    /// registered at run time.
    pub kind: ConnectorKind,
    /// Senders allowed to reach the orchestrator (Matrix, Discord, Telegram or Slack user ids,
    /// tmux senders). Messages from anyone else are dropped and counted. Required for every
    /// kind but tmux unless `allow_any_sender` is true, pairing is on (or, for Discord,
    /// `discord.allowed_roles` is given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_senders: Vec<String>,
    /// Admit messages from anyone who can post in the conversation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_any_sender: bool,
    /// Pairing: a sender not on the allow-list is answered with a code, and becomes an
    /// allowed sender once the operator runs `connector pair approve CODE` on the machine.
    /// Off unless `enabled: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing: Option<PairingConfig>,
    /// Messages queued per subscriber before intake pauses (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1_000_000)))]
    pub queue_capacity: Option<u32>,
    /// tmux settings (kind `tmux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux: Option<TmuxConfig>,
    /// Matrix settings (required for kind `matrix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<MatrixConfig>,
    /// Discord settings (required for kind `discord`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discord: Option<DiscordConfig>,
    /// Telegram settings (required for kind `telegram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramConfig>,
    /// Slack settings (required for kind `slack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackConfig>,
    /// The block of a kind registered at run time (`connector.<kind>`), kept as written for
    /// that kind's factory to parse: see [`kind_block`](Self::kind_block).
    #[serde(skip)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    kind_block: Option<serde_norway::Value>,
}

impl Default for ConnectorConfig {
    /// The configuration of a roster without a `connector` block: the tmux operator console.
    fn default() -> Self {
        Self::new(ConnectorKind::tmux())
    }
}

impl ConnectorConfig {
    /// The directory where this connector's state lives: the Matrix, Discord, Telegram or
    /// Slack block's
    /// `state_dir` (or its default), and for tmux a default named after the server and the
    /// session or target (`$XDG_STATE_HOME/orchestrator-connector/tmux/default-orchestrator`).
    /// `None` for a kind registered at run time.
    ///
    /// # Errors
    ///
    /// When neither `XDG_STATE_HOME` nor `HOME` is set and the block names no `state_dir`.
    pub fn state_dir(&self, env: &dyn secrets::Environment) -> crate::Result<Option<PathBuf>> {
        match self.kind.as_str() {
            ConnectorKind::MATRIX => self
                .matrix
                .as_ref()
                .map(|m| m.state_dir_or_default(env))
                .transpose(),
            ConnectorKind::DISCORD => self
                .discord
                .as_ref()
                .map(|d| d.state_dir_or_default(env))
                .transpose(),
            ConnectorKind::TELEGRAM => self
                .telegram
                .as_ref()
                .map(|t| t.state_dir_or_default(env))
                .transpose(),
            ConnectorKind::SLACK => self
                .slack
                .as_ref()
                .map(|s| s.state_dir_or_default(env))
                .transpose(),
            ConnectorKind::TMUX => {
                let tmux = self.tmux.clone().unwrap_or_default().with_defaults();
                let server = match (&tmux.socket_path, &tmux.socket_name) {
                    (Some(path), _) => path.display().to_string(),
                    (None, Some(name)) => name.clone(),
                    (None, None) => TmuxConfig::DEFAULT_SOCKET_NAME.to_owned(),
                };
                let place = tmux.session.or(tmux.target).unwrap_or_default();
                let key = state_dir::path_component(&format!("{server}-{place}"));
                state_dir::default_state_dir(env, ConnectorKind::TMUX, &key).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// A configuration of `kind` with no backend block and no allow-list.
    pub fn new(kind: ConnectorKind) -> Self {
        Self {
            kind,
            allowed_senders: Vec::new(),
            allow_any_sender: false,
            pairing: None,
            queue_capacity: None,
            tmux: None,
            matrix: None,
            discord: None,
            telegram: None,
            slack: None,
            kind_block: None,
        }
    }

    /// The queue size per subscriber, from the config or the default.
    pub fn queue_capacity(&self) -> usize {
        self.queue_capacity
            .map_or(crate::fanout::DEFAULT_QUEUE_CAPACITY, |c| c as usize)
    }

    /// The block of a kind registered at run time, as written: the key named after the kind
    /// (`connector.my-echo` for kind `my-echo`), the way `matrix` and `discord` have theirs.
    ///
    /// Like sqlx's `ExternalDriverConfig`, core keeps the block as a value and the kind's
    /// factory parses it, with [`parse_kind_block`](Self::parse_kind_block). The loader takes
    /// the key only for a kind that is not built in; any other unknown key is still an error.
    pub fn kind_block(&self) -> Option<&serde_norway::Value> {
        self.kind_block.as_ref()
    }

    /// This configuration with `block` as the kind's own block (see
    /// [`kind_block`](Self::kind_block)), for building a configuration in code.
    #[must_use]
    pub fn with_kind_block(mut self, block: serde_norway::Value) -> Self {
        self.kind_block = Some(block);
        self
    }

    /// Parses the kind's own block as `T`: `None` when the roster gives none; a problem in it
    /// is an [`Error::Config`](crate::Error::Config) naming its path
    /// (`connector.my-echo.greeting`), like the built-in blocks' problems.
    ///
    /// ```
    /// use connector_core::config::ConnectorConfig;
    /// #[derive(serde::Deserialize)]
    /// struct Echo { greeting: String }
    /// let config = ConnectorConfig::from_roster_str(
    ///     "connector: {kind: my-echo, allow_any_sender: true, my-echo: {greeting: hi}}",
    /// )?;
    /// let echo: Echo = config.parse_kind_block()?.expect("the roster gives one");
    /// assert_eq!(echo.greeting, "hi");
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn parse_kind_block<T: serde::de::DeserializeOwned>(&self) -> crate::Result<Option<T>> {
        let Some(block) = &self.kind_block else {
            return Ok(None);
        };
        let root = format!("{}.{}", load::ROSTER_KEY, self.kind);
        serde_path_to_error::deserialize(block.clone())
            .map(Some)
            .map_err(|e| load::path_error(&root, &e))
    }

    /// The pairing settings, when the roster switches pairing on.
    pub fn pairing_enabled(&self) -> Option<&PairingConfig> {
        self.pairing.as_ref().filter(|p| p.enabled)
    }

    /// The sender policy this configuration asks for (own identities are added by the backend;
    /// pairing with
    /// [`SenderPolicy::with_pairing`](crate::SenderPolicy::with_pairing)).
    pub fn sender_policy(&self) -> crate::SenderPolicy {
        if self.allow_any_sender {
            crate::SenderPolicy::allow_any()
        } else {
            crate::SenderPolicy::allow_list(self.allowed_senders.iter().cloned())
        }
    }
}

/// A connector kind: `tmux`, `matrix`, `discord`, `telegram`, `slack`, or one registered at
/// run time.
///
/// Lower-case ASCII letters, digits, `-` and `_`, starting with a letter, at most 32 long.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConnectorKind(
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^[a-z][a-z0-9_-]{0,31}$"))
    )]
    String,
);

impl ConnectorKind {
    /// The tmux kind, the default.
    pub const TMUX: &'static str = "tmux";
    /// The Matrix kind.
    pub const MATRIX: &'static str = "matrix";
    /// The Discord kind.
    pub const DISCORD: &'static str = "discord";
    /// The Telegram kind.
    pub const TELEGRAM: &'static str = "telegram";
    /// The Slack kind.
    pub const SLACK: &'static str = "slack";

    /// A kind named `name` (not validated: [`ConnectorConfig`] validation checks it).
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The tmux kind.
    pub fn tmux() -> Self {
        Self::new(Self::TMUX)
    }

    /// The kind's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the tmux connector uses its pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum TmuxMode {
    /// A pane of the connector's own session where the operator reads and types; outbound text
    /// is shown, never executed.
    #[default]
    Console,
    /// An existing pane (`target`) running a program: outbound text is pasted into its input,
    /// its output lines come back as inbound messages.
    Pane,
}

/// What a line break in an outbound message becomes in pane mode.
///
/// The same rule applies however the message is delivered (`connector send`, `mcp`, `bridge`,
/// the library): it depends on this setting alone, never on what the pane's program was last
/// seen doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum TmuxLineBreaks {
    /// Every line break (`\n`, `\r\n` or a lone `\r`) is folded into ` ⏎ `: a message is one
    /// line of input, submitted by the one Enter the connector presses. Safe for shells and
    /// REPLs: a message can never become several commands.
    #[default]
    Fold,
    /// Line breaks are pasted as they are, in one paste (bracketed when the program has turned
    /// bracketed paste on, as agent CLIs and bash/zsh do), then Enter is pressed: an agent CLI
    /// gets one multi-line prompt. A shell runs every line it was sent, and a program without
    /// bracketed paste (`dash`, most REPLs) takes each line as submitted on its own.
    Paste,
}

/// The `connector.tmux` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TmuxConfig {
    /// The tmux server's socket name (`tmux -L NAME`). Default: tmux's default server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^[A-Za-z0-9_.-]{1,64}$"))
    )]
    pub socket_name: Option<String>,
    /// The tmux server's socket path (`tmux -S PATH`), absolute. Excludes `socket_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^/")))]
    pub socket_path: Option<PathBuf>,
    /// Console mode or pane endpoint.
    #[serde(default)]
    pub mode: TmuxMode,
    /// The session the console lives in (console mode; default `orchestrator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))
    )]
    pub session: Option<String>,
    /// The pane to talk to, `session:window.pane` or a pane id `%N` (required in pane mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(regex(
            pattern = r"^([A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_-]{1,64}(\.[0-9]{1,4})?)?|%[0-9]{1,9})$"
        ))
    )]
    pub target: Option<String>,
    /// Pane mode: milliseconds between pasting a message and pressing Enter (default 50).
    /// Agent CLIs that read the terminal raw take an Enter right after a paste as part of it;
    /// programs reading lines (shells, `cat`, most REPLs) are safe with 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(max = 10_000)))]
    pub submit_delay_ms: Option<u32>,
    /// Pane mode: what a line break in a message becomes — `fold` (default: one line, breaks
    /// shown as ` ⏎ `) or `paste` (pasted literally, for agent CLIs taking multi-line prompts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_breaks: Option<TmuxLineBreaks>,
}

impl TmuxConfig {
    /// The server used when the block names no socket: tmux's own default one (`tmux -L default`).
    pub const DEFAULT_SOCKET_NAME: &'static str = "default";
    /// The console's session when the block names none.
    pub const DEFAULT_SESSION: &'static str = "orchestrator";
    /// Milliseconds between a paste and its Enter in pane mode when the block gives none.
    pub const DEFAULT_SUBMIT_DELAY_MS: u32 = 50;

    /// This block with the defaults the tmux connector applies written out: the socket (when
    /// neither `socket_name` nor `socket_path` is given), the console's session (console mode)
    /// and `submit_delay_ms`. What `connector check` shows as the resolved block.
    ///
    /// ```
    /// use connector_core::config::TmuxConfig;
    /// let resolved = TmuxConfig::default().with_defaults();
    /// assert_eq!(resolved.session.as_deref(), Some(TmuxConfig::DEFAULT_SESSION));
    /// assert_eq!(resolved.submit_delay_ms, Some(TmuxConfig::DEFAULT_SUBMIT_DELAY_MS));
    /// ```
    #[must_use]
    pub fn with_defaults(&self) -> Self {
        let mut resolved = self.clone();
        if resolved.socket_name.is_none() && resolved.socket_path.is_none() {
            resolved.socket_name = Some(Self::DEFAULT_SOCKET_NAME.to_owned());
        }
        if resolved.mode == TmuxMode::Console && resolved.session.is_none() {
            resolved.session = Some(Self::DEFAULT_SESSION.to_owned());
        }
        resolved
            .submit_delay_ms
            .get_or_insert(Self::DEFAULT_SUBMIT_DELAY_MS);
        resolved
    }
}

/// The `connector.matrix` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct MatrixConfig {
    /// The homeserver's client-server API base URL, e.g. `https://matrix.example.org`.
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"))
    )]
    pub homeserver_url: String,
    /// The bot's user id, e.g. `@orchestrator:example.org`; must match the token's user.
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?$"))
    )]
    pub user_id: String,
    /// The room's id (starting with `!`), not an alias.
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^![A-Za-z0-9._~+/=-]+(:[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$"))
    )]
    pub room_id: String,
    /// Where the sync position (and crypto store) are kept. Default: the platform's state
    /// directory, e.g. `~/.local/state/orchestrator-connector/matrix/<user>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
}

impl MatrixConfig {
    /// Where the connector keeps its state: `state_dir`, or the default directory named after
    /// the bot's user id (see [`state_dir::default_state_dir`] and
    /// [`state_dir::path_component`]).
    pub fn state_dir_or_default(&self, env: &dyn secrets::Environment) -> crate::Result<PathBuf> {
        match &self.state_dir {
            Some(dir) => Ok(dir.clone()),
            None => state_dir::default_state_dir(
                env,
                ConnectorKind::MATRIX,
                &state_dir::path_component(&self.user_id),
            ),
        }
    }
}

/// The `connector.discord` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct DiscordConfig {
    /// The channel the operator talks in (a snowflake, as a string or a number).
    pub channel_id: Snowflake,
    /// Where the last seen message id is kept for backfill after a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// Role ids whose members may reach the orchestrator, besides `allowed_senders`: a sender
    /// passes if their user id is in `allowed_senders` or they have one of these roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_roles: Vec<Snowflake>,
    /// Deliver only messages that mention the bot (`@bot`), with the mention removed from the
    /// text; in the channel and in its threads alike. Reactions need no mention. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_mention: bool,
}

impl DiscordConfig {
    /// Where the connector keeps its positions: `state_dir`, or the default directory named
    /// after the channel id (see [`state_dir::default_state_dir`]).
    pub fn state_dir_or_default(&self, env: &dyn secrets::Environment) -> crate::Result<PathBuf> {
        match &self.state_dir {
            Some(dir) => Ok(dir.clone()),
            None => {
                state_dir::default_state_dir(env, ConnectorKind::DISCORD, self.channel_id.as_str())
            }
        }
    }
}

/// A Discord id: 17 to 20 decimal digits, written as a string or a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "SnowflakeRepr", into = "String")]
pub struct Snowflake(String);

#[derive(Deserialize)]
#[serde(untagged)]
enum SnowflakeRepr {
    Text(String),
    Number(u64),
}

impl TryFrom<SnowflakeRepr> for Snowflake {
    type Error = String;

    fn try_from(repr: SnowflakeRepr) -> Result<Self, String> {
        let text = match repr {
            SnowflakeRepr::Text(text) => text,
            SnowflakeRepr::Number(n) => n.to_string(),
        };
        if validate::is_snowflake(&text) {
            Ok(Self(text))
        } else {
            Err(format!("{text:?} is not a Discord id (17 to 20 digits)"))
        }
    }
}

impl From<Snowflake> for String {
    fn from(id: Snowflake) -> Self {
        id.0
    }
}

impl Snowflake {
    /// The id's digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Snowflake {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Snowflake".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Discord id: 17 to 20 digits, as a string or a number.",
            "oneOf": [
                { "type": "string", "pattern": "^[0-9]{17,20}$" },
                { "type": "integer", "minimum": 10_000_000_000_000_000u64, "maximum": u64::MAX }
            ]
        })
    }
}
