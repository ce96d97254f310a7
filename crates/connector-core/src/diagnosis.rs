//! What `connector doctor` checks: named probes, each passed or failed with a concrete fix.

use serde::{Deserialize, Serialize};

use crate::health::ConnectorHealth;

/// How one probe came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProbeOutcome {
    /// The check passed.
    Pass,
    /// The check failed; the probe's `fix` says what to do.
    Fail,
    /// Not run, because a probe it depends on failed (e.g. no token, so no permission check).
    Skipped,
}

/// One check of a connector's setup, as `connector doctor` prints it.
///
/// ```
/// use connector_core::Probe;
/// let probe = Probe::fail("channel visible", "GET /channels/42: 50001 Missing Access")
///     .with_fix("give the bot's role View Channel on #ops");
/// assert!(!probe.passed());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Probe {
    /// What was checked, short and lower case ("token accepted", "room joined").
    pub name: String,
    /// Passed, failed or skipped.
    pub outcome: ProbeOutcome,
    /// What was found: the identity, the server's answer, the reason for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For a failure, a concrete step that fixes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Probe {
    /// A passed probe.
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, ProbeOutcome::Pass, Some(detail.into()))
    }

    /// A failed probe; add the fix with [`Probe::with_fix`].
    pub fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, ProbeOutcome::Fail, Some(detail.into()))
    }

    /// A probe not run because `reason` (usually an earlier failure).
    pub fn skipped(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(name, ProbeOutcome::Skipped, Some(reason.into()))
    }

    fn new(name: impl Into<String>, outcome: ProbeOutcome, detail: Option<String>) -> Self {
        Self {
            name: name.into(),
            outcome,
            detail,
            fix: None,
        }
    }

    /// This probe with a fix attached.
    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Whether the probe passed.
    pub fn passed(&self) -> bool {
        self.outcome == ProbeOutcome::Pass
    }

    /// Whether the probe failed (skipped probes are neither passed nor failed).
    pub fn failed(&self) -> bool {
        self.outcome == ProbeOutcome::Fail
    }
}

/// The probes a connector without a finer diagnosis reports: its [`ConnectorHealth`] as two
/// checks, "reachable" and "authenticated".
pub fn probes_from_health(health: &ConnectorHealth) -> Vec<Probe> {
    let detail = health.detail.clone().unwrap_or_default();
    let reachable = if health.reachable {
        Probe::pass("reachable", "the platform answers")
    } else {
        Probe::fail("reachable", detail.clone())
    };
    let authenticated = match (health.reachable, health.authenticated) {
        (_, true) => Probe::pass("authenticated", "credentials accepted, target usable"),
        (false, false) => Probe::skipped("authenticated", "the platform is unreachable"),
        (true, false) => Probe::fail("authenticated", detail),
    };
    vec![reachable, authenticated]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_maps_to_two_probes() {
        let probes = probes_from_health(&ConnectorHealth::unreachable("connection refused"));
        assert_eq!(probes[0].outcome, ProbeOutcome::Fail);
        assert_eq!(probes[0].detail.as_deref(), Some("connection refused"));
        assert_eq!(probes[1].outcome, ProbeOutcome::Skipped);

        let probes = probes_from_health(&ConnectorHealth::unauthenticated("token rejected"));
        assert!(probes[0].passed());
        assert!(probes[1].failed());

        let probes = probes_from_health(&ConnectorHealth::healthy());
        assert!(probes.iter().all(Probe::passed));
    }

    #[test]
    fn probe_serializes_without_empty_fields() {
        let probe = Probe::fail("room joined", "not a member of !r:hs")
            .with_fix("invite @bot:hs to !r:hs, then restart");
        insta::assert_json_snapshot!(probe, @r###"
        {
          "name": "room joined",
          "outcome": "fail",
          "detail": "not a member of !r:hs",
          "fix": "invite @bot:hs to !r:hs, then restart"
        }
        "###);
    }
}
