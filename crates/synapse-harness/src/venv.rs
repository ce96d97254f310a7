//! Finding the Python venv that `cargo xtask test` filled with Synapse.
//!
//! The rule is the one in `xtask/src/provision.rs`: `$SYNAPSE_VENV`, else
//! `$HOME/.cache/orchestrator-connectors/synapse-venv`. A missing venv is a loud failure, never a
//! skipped test.

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
};

/// The environment variable naming the venv.
pub const SYNAPSE_VENV: &str = "SYNAPSE_VENV";

/// The venv's Python, which runs `python -m synapse.app.homeserver`.
///
/// # Panics
///
/// When the venv has no `bin/python`, with the command that provisions it.
pub(crate) fn python() -> PathBuf {
    match python_in(env::var_os(SYNAPSE_VENV), env::var_os("HOME")) {
        Ok(python) => python,
        Err(message) => panic!("{message}"),
    }
}

/// [`python`] with the environment passed in, so that it can be tested without touching it.
fn python_in(venv: Option<OsString>, home: Option<OsString>) -> Result<PathBuf, String> {
    let venv = match venv.filter(|venv| !venv.is_empty()) {
        Some(venv) => PathBuf::from(venv),
        None => Path::new(&home.unwrap_or_else(|| "/tmp".into()))
            .join(".cache/orchestrator-connectors/synapse-venv"),
    };
    let python = venv.join("bin/python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "Synapse is not installed: run `cargo xtask test` (it provisions the venv) or set \
             {SYNAPSE_VENV} (looked for {})",
            python.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_venv_is_under_the_home_cache() {
        let error = python_in(None, Some("/nonexistent-home".into())).unwrap_err();
        assert_eq!(
            error,
            "Synapse is not installed: run `cargo xtask test` (it provisions the venv) or set \
             SYNAPSE_VENV (looked for \
             /nonexistent-home/.cache/orchestrator-connectors/synapse-venv/bin/python)"
        );
    }

    #[test]
    fn synapse_venv_overrides_the_default_and_empty_means_unset() {
        let error = python_in(Some("/elsewhere".into()), Some("/home".into())).unwrap_err();
        assert!(
            error.contains("(looked for /elsewhere/bin/python)"),
            "{error}"
        );

        let error = python_in(Some("".into()), Some("/home".into())).unwrap_err();
        assert!(
            error.contains("/home/.cache/orchestrator-connectors"),
            "{error}"
        );
    }
}
