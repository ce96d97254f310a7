//! The operator's side of the homeserver over plain HTTP: registering users with the
//! registration token and logging them in (the way `docs/deploy-matrix.md` tells operators to),
//! creating rooms, sending and reading messages, independent of the matrix-sdk the connector
//! under test uses.

use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use serde_json::{Value, json};

use crate::{Conduit, REGISTRATION_TOKEN};

/// How long the helpers keep retrying requests that answer `429 M_LIMIT_EXCEEDED`.
const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(60);

/// A user registered with [`Conduit::register`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The full user id, `@localpart:localhost`.
    pub user_id: String,
    /// The access token of the device registration created.
    pub access_token: String,
    /// The device registration created.
    pub device_id: String,
    /// The password, for tests that log in with one: `<localpart>-password`.
    pub password: String,
}

impl Conduit {
    /// Registers a user through the client API with the registration token: `POST
    /// /_matrix/client/v3/register` answers 401 with a `session`; the same request again with
    /// `auth: {type: m.login.registration_token, token, session}` (and `m.login.dummy` when a
    /// flow still asks for it) creates the account. Answers its id, access token and device.
    /// The first account registered on a server becomes its admin.
    ///
    /// # Panics
    ///
    /// When Conduit refuses, for instance because the localpart is taken.
    pub async fn register(&self, localpart: &str) -> User {
        let url = self.url(&["_matrix", "client", "v3", "register"]);
        let password = format!("{localpart}-password");
        let mut body = json!({
            "username": localpart,
            "password": password,
            "initial_device_display_name": format!("{localpart} (conduit-harness)"),
        });
        let mut auth = None;
        for _ in 0..4 {
            if let Some(auth) = &auth {
                body["auth"] = Value::clone(auth);
            }
            let (status, answer) = self
                .send(None, Method::POST, url.clone(), Some(&body))
                .await;
            match status {
                200 => {
                    let field = |name: &str| {
                        answer[name]
                            .as_str()
                            .unwrap_or_else(|| {
                                panic!("POST {url} answered without `{name}`: {answer}")
                            })
                            .to_owned()
                    };
                    return User {
                        user_id: field("user_id"),
                        access_token: field("access_token"),
                        device_id: field("device_id"),
                        password,
                    };
                }
                401 => {
                    auth = Some(next_stage(&answer).unwrap_or_else(|| {
                        panic!("POST {url} answered 401 with no stage left to complete: {answer}")
                    }))
                }
                _ => panic!("POST {url} answered {status}: {answer}"),
            }
        }
        panic!("POST {url}: registering {localpart} did not finish in four rounds");
    }

    /// Logs `user` in again with its password (`POST /_matrix/client/v3/login`,
    /// `m.login.password`): a new device and access token, as an operator gets for the bot.
    pub async fn login(&self, user: &User, device_name: &str) -> User {
        let url = self.url(&["_matrix", "client", "v3", "login"]);
        let body = json!({
            "type": "m.login.password",
            "identifier": { "type": "m.id.user", "user": user.user_id },
            "password": user.password,
            "initial_device_display_name": device_name,
        });
        let answer = self
            .call(None, Method::POST, url.clone(), Some(&body))
            .await;
        let field = |name: &str| {
            answer[name]
                .as_str()
                .unwrap_or_else(|| panic!("POST {url} answered without `{name}`: {answer}"))
                .to_owned()
        };
        User {
            user_id: field("user_id"),
            access_token: field("access_token"),
            device_id: field("device_id"),
            password: user.password.clone(),
        }
    }

    /// Creates a private, unencrypted room owned by `owner`, invites every member and joins
    /// each of them; returns the room id.
    pub async fn create_room(&self, owner: &User, members: &[&User]) -> String {
        let invite: Vec<&str> = members
            .iter()
            .map(|member| member.user_id.as_str())
            .collect();
        let body = json!({ "preset": "private_chat", "invite": invite });
        let url = self.url(&["_matrix", "client", "v3", "createRoom"]);
        let answer = self.call(Some(owner), Method::POST, url, Some(&body)).await;
        let room_id = answer["room_id"]
            .as_str()
            .unwrap_or_else(|| panic!("createRoom answered without a room_id: {answer}"))
            .to_owned();
        for member in members {
            let url = self.url(&["_matrix", "client", "v3", "rooms", &room_id, "join"]);
            self.call(Some(member), Method::POST, url, Some(&json!({})))
                .await;
        }
        room_id
    }

    /// Sends an `m.text` message as `user` and returns its event id. With `thread_root`, the
    /// message is a reply in that event's thread (an `m.thread` relation, with the reply
    /// fallback clients without threads show).
    pub async fn send_text(
        &self,
        user: &User,
        room_id: &str,
        text: &str,
        thread_root: Option<&str>,
    ) -> String {
        let mut content = json!({ "msgtype": "m.text", "body": text });
        if let Some(root) = thread_root {
            content["m.relates_to"] = json!({
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": true,
                "m.in_reply_to": { "event_id": root },
            });
        }
        let transaction = format!("harness-{:016x}", fastrand::u64(..));
        let url = self.url(&[
            "_matrix",
            "client",
            "v3",
            "rooms",
            room_id,
            "send",
            "m.room.message",
            &transaction,
        ]);
        let answer = self
            .call(Some(user), Method::PUT, url, Some(&content))
            .await;
        answer["event_id"]
            .as_str()
            .unwrap_or_else(|| panic!("send answered without an event_id: {answer}"))
            .to_owned()
    }

    /// The latest `m.room.message` events among the room's latest `limit` events as `user` sees
    /// them, oldest first (`GET /rooms/{id}/messages?dir=b`; Conduit ignores the request's
    /// type filter, so the other events are dropped here and count against `limit`). Each is the event as the server serves it: `event_id`, `sender`,
    /// `content` (`body`, `msgtype`, `m.relates_to`, …), `origin_server_ts`.
    pub async fn messages(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        let mut events = self.timeline(user, room_id, limit).await;
        events.retain(|event| event["type"] == "m.room.message");
        events
    }

    /// As [`messages`](Self::messages), but every timeline event: state, membership,
    /// reactions, redactions.
    pub async fn events(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        self.timeline(user, room_id, limit).await
    }

    async fn timeline(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        let mut url = self.url(&["_matrix", "client", "v3", "rooms", room_id, "messages"]);
        url.query_pairs_mut()
            .append_pair("dir", "b")
            .append_pair("limit", &limit.to_string());
        let answer = self.call(Some(user), Method::GET, url, None).await;
        let Some(chunk) = answer["chunk"].as_array() else {
            panic!("/messages answered without a chunk: {answer}");
        };
        chunk.iter().rev().cloned().collect()
    }

    /// One request to the homeserver, as `user` when given, and its status and JSON body (a
    /// body that is not JSON comes back as a JSON string). Unlike the other helpers it neither
    /// retries nor panics on an error status: it is for tests that check those answers.
    ///
    /// `path_and_query` is appended to [`base_url`](Self::base_url) as is, so it must be
    /// percent-encoded already (room ids start with `!`, which needs none).
    pub async fn request(
        &self,
        user: Option<&User>,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|error| panic!("`{method}` is not an HTTP method: {error}"));
        let url = format!("{}{path_and_query}", self.base_url());
        let url = Url::parse(&url).unwrap_or_else(|error| panic!("bad URL {url}: {error}"));
        self.send(user, method, url, body).await
    }

    /// `base_url` with these path segments, each percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = Url::parse(&self.base_url()).expect("the base URL parses");
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .clear()
            .extend(segments);
        url
    }

    /// A request that must succeed: `429 M_LIMIT_EXCEEDED` answers are waited out (as long as
    /// `retry_after_ms` says, for up to [`RATE_LIMIT_PATIENCE`] in all); any other error
    /// status panics with the answer.
    async fn call(
        &self,
        user: Option<&User>,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Value {
        let started = Instant::now();
        loop {
            let (status, answer) = self.send(user, method.clone(), url.clone(), body).await;
            match status {
                200..=299 => return answer,
                429 if started.elapsed() < RATE_LIMIT_PATIENCE => {
                    let wait = answer["retry_after_ms"].as_u64().unwrap_or(500);
                    tokio::time::sleep(Duration::from_millis(wait.clamp(50, 10_000))).await;
                }
                _ => panic!("{method} {url} answered {status}: {answer}"),
            }
        }
    }

    /// Sends one request and reads its answer.
    async fn send(
        &self,
        user: Option<&User>,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(user) = user {
            request = request.bearer_auth(&user.access_token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {url} failed: {error}"));
        let status = answer.status().as_u16();
        let text = answer
            .text()
            .await
            .unwrap_or_else(|error| panic!("{method} {url}: could not read the answer: {error}"));
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }
}

/// The `auth` dict for the next round of a user-interactive registration: the registration
/// token while no flow has it completed, then `m.login.dummy`; `None` when no flow has a stage
/// the harness can complete.
fn next_stage(answer: &Value) -> Option<Value> {
    let session = answer["session"].as_str()?;
    let completed: Vec<&str> = answer["completed"]
        .as_array()
        .map(|done| done.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let flows = answer["flows"].as_array()?;
    let stage = flows.iter().find_map(|flow| {
        flow["stages"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .find(|stage| !completed.contains(stage))
            .filter(|stage| ["m.login.registration_token", "m.login.dummy"].contains(stage))
    })?;
    Some(match stage {
        "m.login.registration_token" => json!({
            "type": stage,
            "token": REGISTRATION_TOKEN,
            "session": session,
        }),
        _ => json!({ "type": stage, "session": session }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_stage_comes_first_then_the_dummy_one() {
        let first = json!({
            "session": "s1",
            "flows": [{ "stages": ["m.login.registration_token", "m.login.dummy"] }],
        });
        assert_eq!(
            next_stage(&first),
            Some(json!({
                "type": "m.login.registration_token",
                "token": REGISTRATION_TOKEN,
                "session": "s1",
            }))
        );
        let second = json!({
            "session": "s1",
            "completed": ["m.login.registration_token"],
            "flows": [{ "stages": ["m.login.registration_token", "m.login.dummy"] }],
        });
        assert_eq!(
            next_stage(&second),
            Some(json!({ "type": "m.login.dummy", "session": "s1" }))
        );
        let unknown = json!({ "session": "s1", "flows": [{ "stages": ["m.login.recaptcha"] }] });
        assert_eq!(next_stage(&unknown), None);
    }
}
