//! Where a backend keeps its state (sync positions, crypto stores) when the config names none.

use std::path::{Path, PathBuf};

use crate::config::secrets::Environment;
use crate::error::{Error, Result};

/// `$XDG_STATE_HOME/orchestrator-connector/<kind>/<key>`, or `~/.local/state/…` without it.
///
/// `key` must already be one safe path component (a channel id, a sanitised user id). Fails,
/// naming `connector.<kind>.state_dir`, when neither variable is set.
///
/// ```
/// use std::collections::HashMap;
/// use connector_core::config::state_dir::default_state_dir;
/// let env: HashMap<String, String> = [("HOME".to_owned(), "/home/op".to_owned())].into();
/// let dir = default_state_dir(&env, "discord", "1288776452373725234")?;
/// assert_eq!(dir.to_str(), Some("/home/op/.local/state/orchestrator-connector/discord/1288776452373725234"));
/// # Ok::<(), connector_core::Error>(())
/// ```
pub fn default_state_dir(env: &dyn Environment, kind: &str, key: &str) -> Result<PathBuf> {
    let base = match env
        .var("XDG_STATE_HOME")
        .filter(|v| Path::new(v).is_absolute())
    {
        Some(state_home) => PathBuf::from(state_home),
        None => match env.var("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local").join("state"),
            None => {
                return Err(Error::config(
                    format!("connector.{kind}.state_dir"),
                    "neither XDG_STATE_HOME nor HOME is set: give a state_dir",
                ));
            }
        },
    };
    Ok(base.join("orchestrator-connector").join(kind).join(key))
}

/// An id made safe as one path component: anything but ASCII letters, digits, `.`, `-` and `_`
/// becomes `_` (`@bot:example.org` → `_bot_example.org`), and `..` becomes `__`.
///
/// Backends name their state directories and files with it (the Matrix user and room ids), and
/// `connector check` with it shows the same directory the backend will use.
///
/// ```
/// use connector_core::config::state_dir::path_component;
/// assert_eq!(path_component("@bot:example.org"), "_bot_example.org");
/// ```
pub fn path_component(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Never `.` or `..`, which would climb out of the directory.
    cleaned.replace("..", "__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitises_ids_into_one_path_component() {
        assert_eq!(
            path_component("@bot:example.org:8448"),
            "_bot_example.org_8448"
        );
        assert_eq!(path_component("!a/b..c"), "_a_b__c");
    }
}
