//! `connector health`: probe the connector, and with `--round-trip` prove it is listening.

use std::time::Duration;

use connector_core::RoundTrip;
use serde::Serialize;

use crate::cli::{Common, HealthArgs};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out, mark};

#[derive(Serialize)]
struct Report<'a> {
    kind: &'a str,
    #[serde(flatten)]
    health: &'a connector_core::ConnectorHealth,
    #[serde(skip_serializing_if = "Option::is_none")]
    round_trip: Option<&'a RoundTrip>,
}

pub(crate) async fn run(common: &Common, args: &HealthArgs) -> Result<Exit, Error> {
    let connector = super::connect(common).await?;
    let health = connector.health().await;
    let round_trip = match args.round_trip && health.is_healthy() {
        true => {
            let wait = Duration::from_secs_f64(args.timeout.clamp(0.1, 3600.0));
            Some(connector.round_trip(wait).await)
        }
        false => None,
    };
    if common.json {
        json_line(&Report {
            kind: connector.kind(),
            health: &health,
            round_trip: round_trip.as_ref(),
        })?;
    } else {
        line_out(&format!(
            "{}: reachable {} authenticated {}",
            connector.kind(),
            mark(health.reachable),
            mark(health.authenticated)
        ))?;
        if let Some(detail) = &health.detail {
            line_out(&format!("detail: {detail}"))?;
        }
        if let Some(outcome) = &round_trip {
            let probe = outcome.clone().into_probe();
            let verdict = match (probe.passed(), probe.failed()) {
                (true, _) => mark(true),
                (_, true) => mark(false),
                _ => "–",
            };
            line_out(&format!(
                "round trip: {verdict} {}",
                probe.detail.unwrap_or_default()
            ))?;
            if let Some(fix) = probe.fix {
                line_out(&format!("fix: {fix}"))?;
            }
        }
    }
    let _ = connector.close().await;
    Ok(
        match (health.reachable, health.authenticated, &round_trip) {
            (true, true, Some(RoundTrip::Failed { .. })) => Exit::Deaf,
            (true, true, _) => Exit::Ok,
            (false, _, _) => Exit::Unreachable,
            (true, false, _) => Exit::Unauthenticated,
        },
    )
}
