//! The kinds this project provides, and which are compiled into this build.

use connector_core::config::kinds::BuiltInKind;

/// A connector kind this project provides: core's [`BuiltInKind`] with where its backend comes
/// from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KnownKind {
    /// The kind, as written in `connector.kind`.
    pub kind: &'static str,
    /// The environment variables its backend reads secrets from (core's table, which the
    /// backend's descriptor lists too).
    pub secrets: &'static [&'static str],
    /// The cargo feature of connector-registry that compiles it in (named after the kind).
    pub feature: &'static str,
    /// The backend crate.
    pub crate_name: &'static str,
    /// Whether this release has the backend crate at all.
    pub released: bool,
    /// Whether this build has it compiled in.
    pub compiled_in: bool,
}

/// Every kind this project provides, the default (tmux) first.
pub const KNOWN_KINDS: &[KnownKind] = &[
    KnownKind {
        kind: BuiltInKind::TMUX.name,
        secrets: BuiltInKind::TMUX.secrets,
        feature: "tmux",
        crate_name: "connector-tmux",
        released: true,
        compiled_in: cfg!(feature = "tmux"),
    },
    KnownKind {
        kind: BuiltInKind::MATRIX.name,
        secrets: BuiltInKind::MATRIX.secrets,
        feature: "matrix",
        crate_name: "connector-matrix",
        released: true,
        compiled_in: cfg!(feature = "matrix"),
    },
    KnownKind {
        kind: BuiltInKind::DISCORD.name,
        secrets: BuiltInKind::DISCORD.secrets,
        feature: "discord",
        crate_name: "connector-discord",
        released: true,
        compiled_in: cfg!(feature = "discord"),
    },
    KnownKind {
        kind: BuiltInKind::TELEGRAM.name,
        secrets: BuiltInKind::TELEGRAM.secrets,
        feature: "telegram",
        crate_name: "connector-telegram",
        released: true,
        compiled_in: cfg!(feature = "telegram"),
    },
    KnownKind {
        kind: BuiltInKind::SLACK.name,
        secrets: BuiltInKind::SLACK.secrets,
        feature: "slack",
        crate_name: "connector-slack",
        released: true,
        compiled_in: cfg!(feature = "slack"),
    },
];

/// Whether `kind` is one this project provides (compiled in or not).
pub fn is_known_kind(kind: &str) -> bool {
    KNOWN_KINDS.iter().any(|k| k.kind == kind)
}

/// The kind to use: the one given, or tmux when the roster names none.
pub fn resolve_kind(kind: Option<&str>) -> &str {
    kind.unwrap_or(BuiltInKind::TMUX.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(is_known_kind("tmux") && is_known_kind("matrix") && is_known_kind("discord"));
        assert!(!is_known_kind("irc"));
        assert_eq!(resolve_kind(None), "tmux");
        assert_eq!(resolve_kind(Some("matrix")), "matrix");
        assert!(KNOWN_KINDS.iter().all(|k| k.kind == k.feature));
        let table: Vec<(&str, &[&str])> = connector_core::config::kinds::BUILT_IN_KINDS
            .iter()
            .map(|k| (k.name, k.secrets))
            .collect();
        let known: Vec<(&str, &[&str])> = KNOWN_KINDS.iter().map(|k| (k.kind, k.secrets)).collect();
        assert_eq!(known, table, "one entry per built-in kind of core's table");
    }
}
