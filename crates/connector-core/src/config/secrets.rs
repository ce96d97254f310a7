//! Secrets from the environment: `VAR`, `VAR_FILE`, or a systemd credential.
//!
//! A secret is looked up, in order, as:
//! 1. the variable itself (`MATRIX_ACCESS_TOKEN=…`);
//! 2. `VAR_FILE`, the path of a file holding it (Docker and systemd `EnvironmentFile` style);
//! 3. `$CREDENTIALS_DIRECTORY/VAR`, a credential passed by systemd's `LoadCredential=VAR:…`.
//!
//! Setting both `VAR` and `VAR_FILE` is an error, as is an empty value. Secrets are held as
//! [`SecretString`], whose `Debug` prints `[REDACTED]`, so they cannot reach a log by accident.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

pub use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// The Matrix access token's environment variable.
pub const MATRIX_ACCESS_TOKEN: &str = "MATRIX_ACCESS_TOKEN";
/// The Discord bot token's environment variable.
pub const DISCORD_BOT_TOKEN: &str = "DISCORD_BOT_TOKEN";
/// The Telegram bot token's environment variable.
pub const TELEGRAM_BOT_TOKEN: &str = "TELEGRAM_BOT_TOKEN";
/// The Slack bot token's (`xoxb-…`) environment variable.
pub const SLACK_BOT_TOKEN: &str = "SLACK_BOT_TOKEN";
/// The Slack app-level token's (`xapp-…`, for Socket Mode) environment variable.
pub const SLACK_APP_TOKEN: &str = "SLACK_APP_TOKEN";

/// Where secrets are read from: the process environment, or a map in tests.
pub trait Environment: Send + Sync {
    /// The value of variable `name`, if set.
    fn var(&self, name: &str) -> Option<OsString>;
}

/// The process's environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<OsString> {
        self.get(name).map(OsString::from)
    }
}

/// Reads the secret `variable` (see the module docs for where from).
pub fn require(env: &dyn Environment, variable: &str) -> Result<SecretString> {
    lookup(env, variable)?.ok_or_else(|| Error::Secret {
        variable: variable.to_owned(),
        message: format!(
            "not set: export {variable}=… or point {variable}_FILE at a file holding it \
             (never put it in the roster)"
        ),
    })
}

/// Reads the secret `variable` if it is provided at all.
pub fn lookup(env: &dyn Environment, variable: &str) -> Result<Option<SecretString>> {
    let file_var = format!("{variable}_FILE");
    let error = |message: String| Error::Secret {
        variable: variable.to_owned(),
        message,
    };
    let direct = env.var(variable);
    let file = env.var(&file_var);
    let value = match (direct, file) {
        (Some(_), Some(_)) => {
            return Err(error(format!(
                "both {variable} and {file_var} are set: keep one"
            )));
        }
        (Some(value), None) => value
            .into_string()
            .map_err(|_| error("is not valid UTF-8".into()))?,
        (None, Some(path)) => read_file(PathBuf::from(path), variable)?,
        (None, None) => match env.var("CREDENTIALS_DIRECTORY") {
            Some(dir) => {
                let path = PathBuf::from(dir).join(variable);
                if path.exists() {
                    read_file(path, variable)?
                } else {
                    return Ok(None);
                }
            }
            None => return Ok(None),
        },
    };
    let value = value.trim_end_matches(['\n', '\r']).to_owned();
    if value.trim().is_empty() {
        return Err(error("is empty".into()));
    }
    Ok(Some(SecretString::from(value)))
}

fn read_file(path: PathBuf, variable: &str) -> Result<String> {
    std::fs::read_to_string(&path).map_err(|e| Error::Secret {
        variable: variable.to_owned(),
        message: format!("cannot read {}: {e}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_variable_and_never_debug_prints_it() {
        let secret = require(
            &env(&[(MATRIX_ACCESS_TOKEN, "hunter2")]),
            MATRIX_ACCESS_TOKEN,
        )
        .unwrap();
        assert_eq!(secret.expose_secret(), "hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn reads_file_variant_and_credentials_directory() {
        let dir = std::env::temp_dir().join(format!("connector-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(DISCORD_BOT_TOKEN);
        std::fs::write(&file, "abc.def\n").unwrap();
        let via_file = env(&[("DISCORD_BOT_TOKEN_FILE", file.to_str().unwrap())]);
        assert_eq!(
            require(&via_file, DISCORD_BOT_TOKEN)
                .unwrap()
                .expose_secret(),
            "abc.def"
        );
        let via_credentials = env(&[("CREDENTIALS_DIRECTORY", dir.to_str().unwrap())]);
        assert_eq!(
            require(&via_credentials, DISCORD_BOT_TOKEN)
                .unwrap()
                .expose_secret(),
            "abc.def"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_variable() {
        let messages: Vec<String> = [
            env(&[]),
            env(&[
                (MATRIX_ACCESS_TOKEN, "a"),
                ("MATRIX_ACCESS_TOKEN_FILE", "/x"),
            ]),
            env(&[(MATRIX_ACCESS_TOKEN, "  ")]),
            env(&[("MATRIX_ACCESS_TOKEN_FILE", "/nonexistent/token")]),
        ]
        .iter()
        .map(|e| require(e, MATRIX_ACCESS_TOKEN).unwrap_err().to_string())
        .collect();
        insta::assert_snapshot!(messages.join("\n"), @r"
        MATRIX_ACCESS_TOKEN: not set: export MATRIX_ACCESS_TOKEN=… or point MATRIX_ACCESS_TOKEN_FILE at a file holding it (never put it in the roster)
        MATRIX_ACCESS_TOKEN: both MATRIX_ACCESS_TOKEN and MATRIX_ACCESS_TOKEN_FILE are set: keep one
        MATRIX_ACCESS_TOKEN: is empty
        MATRIX_ACCESS_TOKEN: cannot read /nonexistent/token: No such file or directory (os error 2)
        ");
    }
}
