//! The operator's side of the homeserver over plain HTTP: registering users, creating rooms,
//! sending and reading messages, independent of the matrix-sdk the connector under test uses.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::{Method, Url};
use serde_json::{Value, json};
use sha1::Sha1;

use crate::Synapse;

/// How long the helpers keep retrying requests that answer `429 M_LIMIT_EXCEEDED`.
const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(60);

/// A user registered with [`Synapse::register`].
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

impl Synapse {
    /// Registers a (non-admin) user through the shared-secret admin API
    /// (`/_synapse/admin/v1/register`) and returns its id, access token and device.
    ///
    /// # Panics
    ///
    /// When Synapse refuses, for instance because the localpart is taken.
    pub async fn register(&self, localpart: &str) -> User {
        let url = self.url(&["_synapse", "admin", "v1", "register"]);
        let nonce = self.call(None, Method::GET, url.clone(), None).await;
        let nonce = nonce["nonce"]
            .as_str()
            .unwrap_or_else(|| panic!("GET {url} answered without a nonce: {nonce}"))
            .to_owned();
        let password = format!("{localpart}-password");
        let mac = registration_mac(&self.shared_secret, &nonce, localpart, &password);
        let body = json!({
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": false,
            "mac": mac,
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
            password,
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

    /// The latest `limit` `m.room.message` events of the room as `user` sees them, oldest
    /// first (`GET /rooms/{id}/messages?dir=b`, filtered to that type so that state events do
    /// not use up the limit). Each is the event as the server serves it: `event_id`, `sender`,
    /// `content` (`body`, `msgtype`, `m.relates_to`, …), `origin_server_ts`.
    pub async fn messages(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        self.timeline(
            user,
            room_id,
            limit,
            Some(r#"{"types":["m.room.message"]}"#),
        )
        .await
    }

    /// As [`messages`](Self::messages), but every timeline event: state, membership,
    /// reactions, redactions.
    pub async fn events(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        self.timeline(user, room_id, limit, None).await
    }

    async fn timeline(
        &self,
        user: &User,
        room_id: &str,
        limit: u32,
        filter: Option<&str>,
    ) -> Vec<Value> {
        let mut url = self.url(&["_matrix", "client", "v3", "rooms", room_id, "messages"]);
        url.query_pairs_mut()
            .append_pair("dir", "b")
            .append_pair("limit", &limit.to_string());
        if let Some(filter) = filter {
            url.query_pairs_mut().append_pair("filter", filter);
        }
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

/// The `mac` of a shared-secret registration: HMAC-SHA1, keyed with the shared secret, of
/// `nonce\0username\0password\0notadmin`, in lower-case hex.
fn registration_mac(shared_secret: &str, nonce: &str, username: &str, password: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(shared_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    for (index, part) in [nonce, username, password, "notadmin"].iter().enumerate() {
        if index > 0 {
            mac.update(b"\0");
        }
        mac.update(part.as_bytes());
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checked against Python: `hmac.new(b"secret", b"abc\0alice\0pw\0notadmin", "sha1")`.
    #[test]
    fn the_registration_mac_is_hmac_sha1_of_the_nul_joined_fields() {
        assert_eq!(
            registration_mac("secret", "abc", "alice", "pw"),
            "42e32623fe124933c326f9d2d67ff7c617915a10"
        );
    }
}
