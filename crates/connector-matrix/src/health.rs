//! The health probe: homeserver reachable, token accepted, bot joined to the room.
//!
//! Three requests, each bounded, the whole probe within [`PROBE_TIMEOUT`]; the first that fails
//! says what is wrong in the detail.

use std::time::Duration;

use connector_core::{ConnectorHealth, Error, Timestamp};
use matrix_sdk::Client;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::client::membership::joined_rooms;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};

use crate::error;

/// The longest a health probe takes.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One request of the probe.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

/// Probes the homeserver for `user_id` in `room_id`.
pub(crate) async fn probe(
    client: &Client,
    homeserver: &str,
    user_id: &OwnedUserId,
    room_id: &OwnedRoomId,
) -> ConnectorHealth {
    match tokio::time::timeout(PROBE_TIMEOUT, steps(client, homeserver, user_id, room_id)).await {
        Ok(health) => health,
        Err(_) => ConnectorHealth::unreachable(format!(
            "homeserver {homeserver} did not answer within {PROBE_TIMEOUT:?}"
        )),
    }
}

async fn steps(
    client: &Client,
    homeserver: &str,
    user_id: &OwnedUserId,
    room_id: &OwnedRoomId,
) -> ConnectorHealth {
    let config = RequestConfig::new()
        .disable_retry()
        .timeout(STEP_TIMEOUT)
        .skip_auth();
    if let Err(e) = client.fetch_server_versions(Some(config)).await {
        let error = error::from_http("GET /versions", e);
        return ConnectorHealth::unreachable(format!(
            "homeserver {homeserver} unreachable: {error}"
        ));
    }
    let config = RequestConfig::new().disable_retry().timeout(STEP_TIMEOUT);
    match client
        .send(matrix_sdk::ruma::api::client::account::whoami::v3::Request::new())
        .with_request_config(config)
        .await
    {
        Ok(_) => {}
        Err(e) => {
            return match error::from_http("whoami", e) {
                Error::Unauthorized { reason, .. } => ConnectorHealth::unauthenticated(format!(
                    "{reason}: the homeserver refuses MATRIX_ACCESS_TOKEN for {user_id}"
                )),
                other => ConnectorHealth::unreachable(format!("whoami failed: {other}")),
            };
        }
    }
    match client
        .send(joined_rooms::v3::Request::new())
        .with_request_config(config)
        .await
    {
        Ok(joined) if joined.joined_rooms.contains(room_id) => {
            let mut health = ConnectorHealth::healthy();
            health.last_seen = Some(Timestamp::now());
            health
        }
        Ok(_) => ConnectorHealth::unauthenticated(format!(
            "{user_id} is not joined to {room_id}: invite the bot and join it"
        )),
        Err(e) => ConnectorHealth::unreachable(format!(
            "listing joined rooms failed: {}",
            error::from_http("joined_rooms", e)
        )),
    }
}
