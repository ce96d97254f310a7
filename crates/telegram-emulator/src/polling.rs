//! `getUpdates`: long polling with `offset`, `limit`, `timeout` and `allowed_updates`, one
//! poll at a time (a newer one terminates the waiting one with 409), refused while a webhook
//! is set.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::{errors::ApiError, params::Params, state::Shared};

/// The most updates one call answers (docs, getUpdates: "Values between 1-100").
const MAX_LIMIT: i64 = 100;

/// Serves one `getUpdates` call, waiting up to `timeout` seconds for an update.
pub(crate) async fn get_updates(shared: &Shared, params: &Params) -> Result<Value, ApiError> {
    let limit = usize::try_from(params.int("limit").unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT))
        .unwrap_or(100);
    let timeout = Duration::from_secs(
        params
            .int("timeout")
            .unwrap_or(0)
            .clamp(0, 50)
            .unsigned_abs(),
    );
    let deadline = Instant::now() + timeout;
    let (generation, mut changed) = {
        let mut world = shared.lock();
        if world.webhook.is_some() {
            return Err(ApiError::conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        if let Some(list) = params.get("allowed_updates").and_then(Value::as_array) {
            let allowed = list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            world.updates.set_allowed(allowed);
        }
        let now = world.now();
        world
            .updates
            .confirm(params.int("offset").unwrap_or(0), now);
        let generation = world.updates.begin_poll();
        let batch = world.updates.batch(limit);
        if !batch.is_empty() || timeout.is_zero() {
            return Ok(Value::Array(batch));
        }
        (generation, world.updates.subscribe())
    };
    loop {
        let woke = tokio::time::timeout_at(deadline, changed.changed()).await;
        let world = shared.lock();
        if !world.updates.is_current(generation) {
            return Err(ApiError::conflict(
                "terminated by other getUpdates request; make sure that only one bot instance is running",
            ));
        }
        let batch = world.updates.batch(limit);
        if !batch.is_empty() || woke.is_err() {
            return Ok(Value::Array(batch));
        }
    }
}
