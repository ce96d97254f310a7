//! `connector doctor` for Matrix: each part of the setup checked in order, with a fix for what
//! fails.
//!
//! | probe | request | fails when |
//! | --- | --- | --- |
//! | homeserver reachable | `GET /_matrix/client/versions` | no answer from `homeserver_url` |
//! | token accepted | `GET /account/whoami` | 401 (`M_UNKNOWN_TOKEN`, …) |
//! | identity matches user_id | (whoami's answer) | the token is another user's |
//! | room joined | `GET /joined_rooms` | the bot is not in `room_id` |
//! | may post messages | `GET /rooms/{room}/state` | the bot's power level is below `m.room.message`'s |
//! | encryption supported | (the room's state) | `m.room.encryption` is set and the build lacks `e2e-encryption` |
//! | state directory usable | lock `<state_dir>/lock` | another connector holds it, or it cannot be created |
//!
//! A probe whose precondition failed is skipped, naming the failure. The probes run on their
//! own client (restored from the token with a placeholder device), so they work without an
//! open connector too — which is what a doctor needs when `open` fails.

use std::time::Duration;

use connector_core::config::secrets::{ExposeSecret, SecretString};
use connector_core::{Error, Probe};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::client::account::whoami;
use matrix_sdk::ruma::api::client::membership::joined_rooms;
use matrix_sdk::ruma::api::client::state::get_state_events;
use matrix_sdk::{Client, SessionMeta, SessionTokens};
use serde_json::Value;

use crate::error;
use crate::settings::MatrixSettings;
use crate::state_lock::StateLock;

/// The time bound of one probe's request.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// The feature a build needs for encrypted rooms, as a user enables it.
const E2E_FIX: &str = "build with the e2e-encryption feature (connector-registry's \
                       `matrix-e2e-encryption`, or connector-matrix's `e2e-encryption`)";

/// Runs every probe for `settings` with `token`.
pub(crate) async fn run(settings: &MatrixSettings, token: &SecretString) -> Vec<Probe> {
    let mut probes = Vec::new();
    let bot = settings.user_id.as_str();
    let room = settings.room_id.as_str();
    let url = settings.homeserver_url.as_str();

    let client = match probe_client(settings, token).await {
        Ok(client) => client,
        Err(error) => {
            probes.push(
                Probe::fail("homeserver reachable", error.to_string()).with_fix(format!(
                    "set connector.matrix.homeserver_url to the homeserver's client API URL \
                     (now {url})"
                )),
            );
            return skip_rest(probes, "the homeserver URL is not usable");
        }
    };
    let config = RequestConfig::new().disable_retry().timeout(STEP_TIMEOUT);

    match client.fetch_server_versions(Some(config.skip_auth())).await {
        Ok(versions) => probes.push(Probe::pass(
            "homeserver reachable",
            match versions.versions.last() {
                Some(latest) => format!("{url} answers (spec versions up to {latest})"),
                None => format!("{url} answers"),
            },
        )),
        Err(e) => {
            probes.push(
                Probe::fail(
                    "homeserver reachable",
                    format!(
                        "GET {url}/_matrix/client/versions: {}",
                        error::from_http("versions", e)
                    ),
                )
                .with_fix(format!(
                    "check that the homeserver is up and that connector.matrix.homeserver_url \
                     ({url}) is its client API URL: `curl {url}/_matrix/client/versions` must \
                     answer"
                )),
            );
            return skip_rest(probes, "the homeserver is unreachable");
        }
    }

    let token_fix = format!(
        "set MATRIX_ACCESS_TOKEN to a token of {bot} (Element → Settings → Help & About → \
         Access Token, or the login API)"
    );
    let owner = match client
        .send(whoami::v3::Request::new())
        .with_request_config(config)
        .await
    {
        Ok(answer) => {
            probes.push(Probe::pass(
                "token accepted",
                format!("whoami: {}", answer.user_id),
            ));
            answer.user_id
        }
        Err(e) => {
            let error = error::from_http("whoami", e);
            let detail = match &error {
                Error::Unauthorized { reason, .. } => {
                    format!("the homeserver refuses MATRIX_ACCESS_TOKEN: {reason}")
                }
                other => format!("whoami failed: {other}"),
            };
            probes.push(Probe::fail("token accepted", detail).with_fix(token_fix));
            return skip_rest(probes, "the token was not accepted");
        }
    };

    if owner == settings.user_id {
        probes.push(Probe::pass(
            "identity matches user_id",
            format!("the token belongs to {bot}"),
        ));
    } else {
        probes.push(
            Probe::fail(
                "identity matches user_id",
                format!("the token belongs to {owner}, but connector.matrix.user_id is {bot}"),
            )
            .with_fix(format!(
                "{token_fix}; or, if {owner} is the bot, set connector.matrix.user_id to {owner}"
            )),
        );
        return skip_rest(probes, format!("the token is not {bot}'s"));
    }

    match client
        .send(joined_rooms::v3::Request::new())
        .with_request_config(config)
        .await
    {
        Ok(joined) if joined.joined_rooms.contains(&settings.room_id) => {
            probes.push(Probe::pass("room joined", format!("{bot} is in {room}")));
        }
        Ok(_) => {
            probes.push(
                Probe::fail("room joined", format!("{bot} is not joined to {room}")).with_fix(
                    format!(
                        "invite {bot} to {room} (in Element: /invite {bot}), then join as the \
                         bot: POST {url}/_matrix/client/v3/join/{room} with its token"
                    ),
                ),
            );
            return skip_rest(probes, format!("{bot} is not in {room}"));
        }
        Err(e) => {
            probes.push(
                Probe::fail(
                    "room joined",
                    format!(
                        "listing joined rooms failed: {}",
                        error::from_http("joined_rooms", e)
                    ),
                )
                .with_fix("retry; if it persists, check the homeserver's logs"),
            );
            return skip_rest(probes, "the room's membership is unknown");
        }
    }

    let state = match client
        .send(get_state_events::v3::Request::new(settings.room_id.clone()))
        .with_request_config(config)
        .await
    {
        Ok(answer) => answer
            .room_state
            .iter()
            .filter_map(|event| serde_json::from_str::<Value>(event.json().get()).ok())
            .collect::<Vec<_>>(),
        Err(e) => {
            let detail = format!(
                "reading the room's state failed: {}",
                error::from_http("room state", e)
            );
            probes.push(
                Probe::fail("may post messages", detail.clone())
                    .with_fix("retry; if it persists, check the homeserver's logs"),
            );
            probes.push(
                Probe::fail("encryption supported", detail)
                    .with_fix("retry; if it persists, check the homeserver's logs"),
            );
            return probes;
        }
    };
    probes.push(may_post(&state, bot, room));
    probes.push(encryption(&state, room));
    probes
}

/// The state directory probe of a connector that holds the lock itself.
pub(crate) fn state_dir_held(settings: &MatrixSettings) -> Probe {
    Probe::pass(
        STATE_PROBE,
        format!(
            "{} is locked by this connector",
            settings.state_dir.display()
        ),
    )
}

/// The state directory probe without an open connector: the lock is taken and let go at once.
pub(crate) fn state_dir_free(settings: &MatrixSettings) -> Probe {
    let dir = settings.state_dir.display();
    match StateLock::acquire(&settings.state_dir) {
        Ok(lock) => {
            drop(lock);
            Probe::pass(STATE_PROBE, format!("{dir} is writable and free"))
        }
        Err(error) if !error.config_problems().is_empty() => {
            Probe::fail(STATE_PROBE, error.to_string()).with_fix(format!(
                "stop the connector that holds {dir}, or give this one its own \
                 connector.matrix.state_dir"
            ))
        }
        Err(error) => Probe::fail(STATE_PROBE, error.to_string()).with_fix(format!(
            "make {dir} writable for this user, or set connector.matrix.state_dir to a \
             directory that is"
        )),
    }
}

/// The name of the state directory probe.
const STATE_PROBE: &str = "state directory usable";

/// The names of the probes after the reachability check, in order.
const LATER_PROBES: [&str; 5] = [
    "token accepted",
    "identity matches user_id",
    "room joined",
    "may post messages",
    "encryption supported",
];

/// `probes` followed by every later probe not yet run, skipped because of `reason`.
fn skip_rest(mut probes: Vec<Probe>, reason: impl Into<String>) -> Vec<Probe> {
    let reason = reason.into();
    for name in LATER_PROBES {
        if !probes.iter().any(|p| p.name == name) {
            probes.push(Probe::skipped(name, reason.clone()));
        }
    }
    probes
}

/// The state event of `kind` (with the empty state key) among `state`.
fn state_event<'a>(state: &'a [Value], kind: &str) -> Option<&'a Value> {
    state
        .iter()
        .find(|event| event["type"] == kind && event["state_key"] == "")
}

/// Whether `bot` may send `m.room.message` in the room, by its power levels.
///
/// From room version 12 the room's creators (the create event's sender and its
/// `additional_creators`) outrank every power level.
fn may_post(state: &[Value], bot: &str, room: &str) -> Probe {
    const NAME: &str = "may post messages";
    if let Some(create) = state_event(state, "m.room.create") {
        let version = create["content"]["room_version"].as_str().unwrap_or("1");
        let creators_rule = version.parse::<u32>().is_ok_and(|v| v >= 12);
        let is_creator = create["sender"] == bot
            || create["content"]["additional_creators"]
                .as_array()
                .is_some_and(|c| c.iter().any(|u| u == bot));
        if creators_rule && is_creator {
            return Probe::pass(
                NAME,
                format!("{bot} created {room}: no power level limits it"),
            );
        }
    }
    let Some(levels) = state_event(state, "m.room.power_levels") else {
        return Probe::pass(
            NAME,
            format!("{room} has no power levels: everyone may post"),
        );
    };
    let levels = &levels["content"];
    let level_of = |value: &Value, default: i64| value.as_i64().unwrap_or(default);
    let own = level_of(&levels["users"][bot], level_of(&levels["users_default"], 0));
    let needed = level_of(
        &levels["events"]["m.room.message"],
        level_of(&levels["events_default"], 0),
    );
    if own >= needed {
        Probe::pass(
            NAME,
            format!("{bot} has power level {own}; m.room.message needs {needed}"),
        )
    } else {
        Probe::fail(
            NAME,
            format!(
                "{bot} has power level {own}, but sending m.room.message in {room} needs {needed}"
            ),
        )
        .with_fix(format!(
            "raise {bot}'s power level in {room} to at least {needed} (Element → Room settings \
             → Roles & Permissions), or lower \"Send messages\" to {own}"
        ))
    }
}

/// Whether the build can talk in the room: an encrypted room needs `e2e-encryption`.
fn encryption(state: &[Value], room: &str) -> Probe {
    const NAME: &str = "encryption supported";
    let Some(event) = state_event(state, "m.room.encryption") else {
        return Probe::pass(NAME, format!("{room} is not encrypted"));
    };
    let algorithm = event["content"]["algorithm"].as_str().unwrap_or("unknown");
    if cfg!(feature = "e2e-encryption") {
        Probe::pass(
            NAME,
            format!("{room} is encrypted ({algorithm}); this build has e2e-encryption"),
        )
    } else {
        Probe::fail(
            NAME,
            format!(
                "{room} is encrypted ({algorithm}), but this build lacks the e2e-encryption \
                 feature: the connector cannot read the operator's messages"
            ),
        )
        .with_fix(E2E_FIX)
    }
}

/// A client for the probes, restored from `token` with a placeholder device (as `whoami`
/// needs no device), without any store.
async fn probe_client(
    settings: &MatrixSettings,
    token: &SecretString,
) -> connector_core::Result<Client> {
    let client = Client::builder()
        .homeserver_url(&settings.homeserver_url)
        .request_config(RequestConfig::new().disable_retry().timeout(STEP_TIMEOUT))
        .build()
        .await
        .map_err(|e| {
            Error::config(
                "connector.matrix.homeserver_url",
                format!("cannot build a Matrix client: {e}"),
            )
        })?;
    client
        .restore_session(MatrixSession {
            meta: SessionMeta {
                user_id: settings.user_id.clone(),
                device_id: "CONNECTOR_DOCTOR".into(),
            },
            tokens: SessionTokens {
                access_token: token.expose_secret().to_owned(),
                refresh_token: None,
            },
        })
        .await
        .map_err(|e| error::from_sdk("prepare the probes", e))?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn levels(users: Value, message: Option<i64>) -> Vec<Value> {
        let mut content = json!({ "users": users, "users_default": 0, "events_default": 0 });
        if let Some(message) = message {
            content["events"] = json!({ "m.room.message": message });
        }
        vec![
            json!({ "type": "m.room.create", "state_key": "", "sender": "@op:x",
                    "content": { "room_version": "12" } }),
            json!({ "type": "m.room.power_levels", "state_key": "", "content": content }),
        ]
    }

    #[test]
    fn power_levels_decide_who_may_post() {
        assert!(may_post(&levels(json!({}), None), "@bot:x", "!r").passed());
        let low = may_post(&levels(json!({ "@bot:x": 10 }), Some(50)), "@bot:x", "!r");
        assert!(low.failed());
        assert!(low.fix.unwrap().contains("at least 50"));
        assert!(may_post(&levels(json!({ "@bot:x": 50 }), Some(50)), "@bot:x", "!r").passed());
        assert!(
            may_post(&levels(json!({}), Some(100)), "@op:x", "!r").passed(),
            "a room-v12 creator outranks power levels"
        );
    }

    #[test]
    fn encrypted_rooms_need_the_feature() {
        let plain = encryption(&[], "!r");
        assert!(plain.passed());
        let encrypted = encryption(
            &[json!({ "type": "m.room.encryption", "state_key": "",
                      "content": { "algorithm": "m.megolm.v1.aes-sha2" } })],
            "!r",
        );
        assert_eq!(encrypted.passed(), cfg!(feature = "e2e-encryption"));
        if encrypted.failed() {
            assert!(encrypted.fix.unwrap().contains("e2e-encryption"));
        }
    }

    #[test]
    fn skipped_probes_name_the_reason() {
        let probes = skip_rest(
            vec![Probe::fail("homeserver reachable", "down")],
            "the homeserver is unreachable",
        );
        let names: Vec<&str> = probes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names[0], "homeserver reachable");
        assert_eq!(&names[1..], LATER_PROBES);
        assert!(probes[1..].iter().all(|p| !p.passed() && !p.failed()));
    }
}
