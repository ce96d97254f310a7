//! Finding the `conduit` binary that `cargo xtask test` built.
//!
//! The rule is the one in `xtask/src/provision.rs`: `$CONDUIT_CACHE/bin/conduit`, else
//! `$HOME/.cache/orchestrator-connectors/conduit/bin/conduit`. A missing binary is a loud
//! failure, never a skipped test.

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
};

/// The environment variable naming the cache directory Conduit is built in.
pub const CONDUIT_CACHE: &str = "CONDUIT_CACHE";

/// The `conduit` binary.
///
/// # Panics
///
/// When it is missing, with the command that builds it.
pub(crate) fn conduit() -> PathBuf {
    match conduit_in(env::var_os(CONDUIT_CACHE), env::var_os("HOME")) {
        Ok(binary) => binary,
        Err(message) => panic!("{message}"),
    }
}

/// [`conduit`] with the environment passed in, so that it can be tested without touching it.
fn conduit_in(cache: Option<OsString>, home: Option<OsString>) -> Result<PathBuf, String> {
    let cache = match cache.filter(|cache| !cache.is_empty()) {
        Some(cache) => PathBuf::from(cache),
        None => Path::new(&home.unwrap_or_else(|| "/tmp".into()))
            .join(".cache/orchestrator-connectors/conduit"),
    };
    let binary = cache.join("bin/conduit");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "Conduit is not built: run `cargo xtask test` (it builds ../shared/conduit) or set \
             {CONDUIT_CACHE} (looked for {})",
            binary.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cache_is_under_the_home_cache() {
        let error = conduit_in(None, Some("/nonexistent-home".into())).unwrap_err();
        assert_eq!(
            error,
            "Conduit is not built: run `cargo xtask test` (it builds ../shared/conduit) or set \
             CONDUIT_CACHE (looked for \
             /nonexistent-home/.cache/orchestrator-connectors/conduit/bin/conduit)"
        );
    }

    #[test]
    fn conduit_cache_overrides_the_default_and_empty_means_unset() {
        let error = conduit_in(Some("/elsewhere".into()), Some("/home".into())).unwrap_err();
        assert!(
            error.contains("(looked for /elsewhere/bin/conduit)"),
            "{error}"
        );
        let error = conduit_in(Some("".into()), Some("/home".into())).unwrap_err();
        assert!(
            error.contains("/home/.cache/orchestrator-connectors/conduit"),
            "{error}"
        );
    }
}
