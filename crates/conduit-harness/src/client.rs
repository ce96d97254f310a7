//! The operator's side of the homeserver over plain HTTP: registering users with the
//! registration token and logging them in (the way `docs/deploy-matrix.md` tells operators to),
//! creating rooms, sending and reading messages, independent of the matrix-sdk the connector
//! under test uses.

use homeserver_client::HomeserverClient;
pub use homeserver_client::User;
use reqwest::{Method, Url};
use serde_json::{Value, json};

use crate::{Conduit, REGISTRATION_TOKEN};

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
                    return User::from_session(&answer, password, &format!("POST {url}"));
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
        User::from_session(&answer, user.password.clone(), &format!("POST {url}"))
    }

    /// The client-server API of this server ([`HomeserverClient`]).
    pub fn client(&self) -> HomeserverClient {
        HomeserverClient::with_http(self.http.clone(), self.base_url())
    }

    /// Creates a private, unencrypted room owned by `owner`, invites every member and joins
    /// each of them; returns the room id.
    pub async fn create_room(&self, owner: &User, members: &[&User]) -> String {
        self.client().create_room(owner, members).await
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
        self.client()
            .send_text(user, room_id, text, thread_root)
            .await
    }

    /// The latest `m.room.message` events among the room's latest `limit` events as `user` sees
    /// them, oldest first (`GET /rooms/{id}/messages?dir=b`; Conduit ignores the request's
    /// type filter, so the other events are dropped here and count against `limit`). Each is
    /// the event as the server serves it: `event_id`, `sender`, `content` (`body`, `msgtype`,
    /// `m.relates_to`, …), `origin_server_ts`.
    pub async fn messages(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        let mut events = self.client().timeline(user, room_id, limit, None).await;
        events.retain(|event| event["type"] == "m.room.message");
        events
    }

    /// As [`messages`](Self::messages), but every timeline event: state, membership,
    /// reactions, redactions.
    pub async fn events(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        self.client().timeline(user, room_id, limit, None).await
    }

    /// One request to the homeserver, as `user` when given, and its status and JSON body
    /// (see [`HomeserverClient::request`]): for tests that check error answers.
    pub async fn request(
        &self,
        user: Option<&User>,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.client()
            .request(user, method, path_and_query, body)
            .await
    }

    fn url(&self, segments: &[&str]) -> Url {
        self.client().url(segments)
    }

    async fn call(
        &self,
        user: Option<&User>,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Value {
        self.client().call(user, method, url, body).await
    }

    async fn send(
        &self,
        user: Option<&User>,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.client().send(user, method, url, body).await
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
