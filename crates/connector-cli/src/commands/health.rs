//! `connector health`: probe the connector.

use serde::Serialize;

use crate::cli::Common;
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out, mark};

#[derive(Serialize)]
struct Report<'a> {
    kind: &'a str,
    #[serde(flatten)]
    health: &'a connector_core::ConnectorHealth,
}

pub(crate) async fn run(common: &Common) -> Result<Exit, Error> {
    let connector = super::connect(common).await?;
    let health = connector.health().await;
    if common.json {
        json_line(&Report {
            kind: connector.kind(),
            health: &health,
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
    }
    let _ = connector.close().await;
    Ok(match (health.reachable, health.authenticated) {
        (true, true) => Exit::Ok,
        (false, _) => Exit::Unreachable,
        (true, false) => Exit::Unauthenticated,
    })
}
