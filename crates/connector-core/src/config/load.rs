//! Reading the `connector` block out of a roster YAML (or JSON) document.

use std::path::Path;

use serde_norway::Value;

use super::{ConnectorConfig, validate};
use crate::config::kinds;
use crate::error::{ConfigProblem, Error, Result};

/// The roster key that holds the connector block.
pub const ROSTER_KEY: &str = "connector";

/// Keys that look like secrets; a roster must never hold one.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "api_key",
    "api_token",
    "app_token",
    "bot_token",
    "client_secret",
    "discord_bot_token",
    "matrix_access_token",
    "password",
    "secret",
    "slack_app_token",
    "slack_bot_token",
    "telegram_bot_token",
    "token",
];

impl ConnectorConfig {
    /// Reads the `connector` block of the roster at `path`; a roster without one means tmux.
    pub fn from_roster_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_roster_str(&text)
    }

    /// Reads the `connector` block of a roster document (YAML or JSON); other keys are ignored.
    ///
    /// ```
    /// use connector_core::config::ConnectorConfig;
    /// let config = ConnectorConfig::from_roster_str("agents: [a, b]\n")?;
    /// assert_eq!(config.kind.as_str(), "tmux");
    /// let err = ConnectorConfig::from_roster_str("connector: {kind: matrix, matrix: {homeserver_url: x}}")
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("connector.matrix"));
    /// # Ok::<(), connector_core::Error>(())
    /// ```
    pub fn from_roster_str(text: &str) -> Result<Self> {
        let roster: Value =
            serde_norway::from_str(text).map_err(|e| Error::config("roster", yaml_message(&e)))?;
        let block = match roster {
            Value::Null => return Ok(Self::default()),
            Value::Mapping(mut map) => match map.remove(ROSTER_KEY) {
                None | Some(Value::Null) => return Ok(Self::default()),
                Some(block) => block,
            },
            other => {
                return Err(Error::config(
                    "roster",
                    format!(
                        "expected a mapping at the top level, found {}",
                        type_name(&other)
                    ),
                ));
            }
        };
        Self::from_block(block)
    }

    /// Reads a `connector` block given as a YAML value.
    pub fn from_block(block: Value) -> Result<Self> {
        if !block.is_mapping() {
            return Err(Error::config(
                ROSTER_KEY,
                format!(
                    "expected a mapping with a `kind` key, found {}",
                    type_name(&block)
                ),
            ));
        }
        let secrets = secret_keys(&block, ROSTER_KEY, None);
        if !secrets.is_empty() {
            return Err(Error::Config { problems: secrets });
        }
        let mut block = block;
        let kind_block = take_kind_block(&mut block);
        let mut config: Self =
            serde_path_to_error::deserialize(block).map_err(|e| path_error(ROSTER_KEY, &e))?;
        config.kind_block = kind_block;
        config.validate()?;
        Ok(config)
    }

    /// Checks the rules beyond the block's shape, listing every problem.
    pub fn validate(&self) -> Result<()> {
        let problems = validate::problems(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config { problems })
        }
    }
}

/// The keys of the `connector` block itself; a kind named like one has no block of its own.
const BLOCK_KEYS: &[&str] = &[
    "kind",
    "allowed_senders",
    "allow_any_sender",
    "pairing",
    "queue_capacity",
];

/// Removes and returns the block named after a kind that is not built in (`connector.my-echo`
/// for kind `my-echo`), which its factory parses; see [`ConnectorConfig::kind_block`].
fn take_kind_block(block: &mut Value) -> Option<Value> {
    let kind = block.get("kind").and_then(Value::as_str)?.to_owned();
    if kinds::built_in(&kind).is_some()
        || BLOCK_KEYS.contains(&kind.as_str())
        || !validate::is_kind_name(&kind)
    {
        return None;
    }
    block.as_mapping_mut()?.remove(kind.as_str())
}

/// A deserialization error at a path below `root` (`connector`, `connector.my-echo`).
pub(super) fn path_error(
    root: &str,
    error: &serde_path_to_error::Error<serde_norway::Error>,
) -> Error {
    let inner = error.path().to_string();
    let path = if inner == "." {
        root.to_owned()
    } else {
        format!("{root}.{inner}")
    };
    Error::config(path, yaml_message(error.inner()))
}

/// Problems for every token-like key in `value`, naming the environment variable to use.
fn secret_keys(value: &Value, path: &str, kind: Option<&str>) -> Vec<ConfigProblem> {
    let Value::Mapping(map) = value else {
        return Vec::new();
    };
    let kind = kind.or_else(|| map.get("kind").and_then(Value::as_str));
    let mut problems = Vec::new();
    for (key, child) in map {
        let Some(key) = key.as_str() else { continue };
        let child_path = format!("{path}.{key}");
        if SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
            // Inside a kind's own block (`connector.matrix.token`), that kind's secret.
            let block = path
                .rsplit('.')
                .next()
                .filter(|b| kinds::built_in(b).is_some_and(|k| !k.secrets.is_empty()));
            let scope = block.or(kind);
            let variable = secret_variable(scope, key);
            problems.push(ConfigProblem::new(
                child_path,
                format!("secrets must not be written in the roster: remove this key and set {variable} in the environment"),
            ));
        } else {
            problems.extend(secret_keys(child, &child_path, kind));
        }
    }
    problems
}

/// The variable a secret written under `key` belongs in: the kind's only secret, the one of
/// its secrets `key` names (`app_token` → `SLACK_APP_TOKEN`), or else every candidate.
fn secret_variable(kind: Option<&str>, key: &str) -> String {
    let secrets: Vec<&str> = match kind.and_then(kinds::built_in) {
        Some(kind) if !kind.secrets.is_empty() => kind.secrets.to_vec(),
        _ => kinds::all_secrets().collect(),
    };
    let key = key.to_ascii_uppercase();
    let named: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|secret| secret.ends_with(&key))
        .collect();
    match (secrets.as_slice(), named.as_slice()) {
        ([secret], _) | (_, [secret]) => format!("{secret} (or {secret}_FILE)"),
        _ => {
            let (last, rest) = secrets
                .split_last()
                .expect("every kind table names a secret");
            format!("{} or {last} (or their _FILE variants)", rest.join(", "))
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The YAML error's message without serde_norway's location suffix noise.
fn yaml_message(error: &impl std::fmt::Display) -> String {
    error.to_string()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Echo {
        greeting: String,
        #[serde(default)]
        repeat: u8,
    }

    #[test]
    fn a_registered_kind_keeps_its_own_block_for_its_factory() {
        let config = ConnectorConfig::from_roster_str(
            "connector: {kind: my-echo, allow_any_sender: true, my-echo: {greeting: hi, repeat: 2}}",
        )
        .unwrap();
        let echo: Echo = config.parse_kind_block().unwrap().unwrap();
        assert_eq!((echo.greeting.as_str(), echo.repeat), ("hi", 2));
        // The block is the kind's alone: it is not part of the serialized connector block.
        let serialized = serde_norway::to_string(&config).unwrap();
        assert!(!serialized.contains("greeting"), "{serialized}");
        let without = ConnectorConfig::from_roster_str("connector: {kind: my-echo}").unwrap();
        assert!(without.kind_block().is_none());
        assert!(without.parse_kind_block::<Echo>().unwrap().is_none());
    }

    #[test]
    fn problems_in_a_kind_block_name_their_path() {
        let messages: Vec<String> = [
            "connector: {kind: my-echo, my-echo: {greeting: hi, repeat: many}}",
            "connector: {kind: my-echo, my-echo: {greting: hi}}",
            "connector: {kind: my-echo, my-echo: hello}",
        ]
        .iter()
        .map(|roster| {
            let config = ConnectorConfig::from_roster_str(roster).unwrap();
            config.parse_kind_block::<Echo>().unwrap_err().to_string()
        })
        .collect();
        insta::assert_snapshot!(messages.join("\n"), @r#"
        connector.my-echo.repeat: invalid type: string "many", expected u8
        connector.my-echo.greting: unknown field `greting`, expected `greeting` or `repeat`
        connector.my-echo: invalid type: string "hello", expected struct Echo
        "#);
    }

    #[test]
    fn only_the_block_named_after_a_registered_kind_is_taken() {
        let messages: Vec<String> = [
            // A built-in kind has no run-time block: another kind's block is an unknown key.
            "connector: {kind: tmux, my-echo: {greeting: hi}}",
            // A registered kind's block is named after it: a typo is still an unknown key.
            "connector: {kind: my-echo, my-ecko: {greeting: hi}}",
            // Secrets stay out of the roster, in a kind's own block too.
            "connector: {kind: my-echo, my-echo: {token: abc}}",
        ]
        .iter()
        .map(|roster| {
            ConnectorConfig::from_roster_str(roster)
                .unwrap_err()
                .to_string()
        })
        .collect();
        insta::assert_snapshot!(messages.join("\n"), @r"
        connector.my-echo: unknown field `my-echo`, expected one of `kind`, `allowed_senders`, `allow_any_sender`, `pairing`, `queue_capacity`, `tmux`, `matrix`, `discord`, `telegram`, `slack`
        connector.my-ecko: unknown field `my-ecko`, expected one of `kind`, `allowed_senders`, `allow_any_sender`, `pairing`, `queue_capacity`, `tmux`, `matrix`, `discord`, `telegram`, `slack`
        connector.my-echo.token: secrets must not be written in the roster: remove this key and set MATRIX_ACCESS_TOKEN, DISCORD_BOT_TOKEN, TELEGRAM_BOT_TOKEN, SLACK_BOT_TOKEN or SLACK_APP_TOKEN (or their _FILE variants) in the environment
        ");
    }
}
