//! The kinds this project provides, and which are compiled into this build.

use connector_core::config::ConnectorKind;

/// A connector kind this project provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KnownKind {
    /// The kind, as written in `connector.kind`.
    pub kind: &'static str,
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
        kind: ConnectorKind::TMUX,
        feature: "tmux",
        crate_name: "connector-tmux",
        released: true,
        compiled_in: cfg!(feature = "tmux"),
    },
    KnownKind {
        kind: ConnectorKind::MATRIX,
        feature: "matrix",
        crate_name: "connector-matrix",
        released: true,
        compiled_in: cfg!(feature = "matrix"),
    },
    KnownKind {
        kind: ConnectorKind::DISCORD,
        feature: "discord",
        crate_name: "connector-discord",
        released: true,
        compiled_in: cfg!(feature = "discord"),
    },
];

/// Whether `kind` is one this project provides (compiled in or not).
pub fn is_known_kind(kind: &str) -> bool {
    KNOWN_KINDS.iter().any(|k| k.kind == kind)
}

/// The kind to use: the one given, or tmux when the roster names none.
pub fn resolve_kind(kind: Option<&str>) -> &str {
    kind.unwrap_or(ConnectorKind::TMUX)
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
    }
}
