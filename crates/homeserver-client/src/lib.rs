//! The operator's side of a Matrix homeserver over plain HTTP, independent of the matrix-sdk
//! the connector under test uses: creating rooms, sending and reading messages, raw requests.
//!
//! `synapse-harness` and `conduit-harness` each start a real server and register users their
//! server's way; everything after that is the client-server API, the same on both, and lives
//! here once ([`HomeserverClient`], [`User`]), and so does running the server's process
//! ([`process::HomeserverProcess`]).

pub mod process;

use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use serde_json::{Value, json};

/// How long [`HomeserverClient::call`] keeps retrying requests that answer
/// `429 M_LIMIT_EXCEEDED`.
const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(60);

/// A user registered on a test homeserver.
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

impl User {
    /// The user a successful `register` or `login` answer describes (`user_id`,
    /// `access_token`, `device_id`), with the `password` it was made with.
    ///
    /// # Panics
    ///
    /// When a field is missing, naming `what` was asked (`POST …/register`) and the answer.
    pub fn from_session(answer: &Value, password: String, what: &str) -> Self {
        let field = |name: &str| {
            answer[name]
                .as_str()
                .unwrap_or_else(|| panic!("{what} answered without `{name}`: {answer}"))
                .to_owned()
        };
        Self {
            user_id: field("user_id"),
            access_token: field("access_token"),
            device_id: field("device_id"),
            password,
        }
    }
}

/// A homeserver's client-server API at `http://127.0.0.1:PORT`.
#[derive(Clone, Debug)]
pub struct HomeserverClient {
    http: reqwest::Client,
    base_url: String,
}

impl HomeserverClient {
    /// A client of the homeserver at `base_url` (never through an `HTTP(S)_PROXY`).
    ///
    /// # Panics
    ///
    /// When the HTTP client cannot be built.
    pub fn new(base_url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client for the test homeserver");
        Self::with_http(http, base_url)
    }

    /// A client of the homeserver at `base_url` through `http` (a harness's own client).
    pub fn with_http(http: reqwest::Client, base_url: impl Into<String>) -> Self {
        Self {
            http,
            base_url: base_url.into(),
        }
    }

    /// The underlying HTTP client (for readiness probes and the like).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
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

    /// The room's latest `limit` timeline events as `user` sees them, oldest first
    /// (`GET /rooms/{id}/messages?dir=b`, with the event `filter` when given). Each is the
    /// event as the server serves it.
    pub async fn timeline(
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

    /// One request, as `user` when given, and its status and JSON body (a body that is not
    /// JSON comes back as a JSON string). Unlike the other helpers it neither retries nor
    /// panics on an error status: it is for tests that check those answers.
    ///
    /// `path_and_query` is appended to the base URL as is, so it must be percent-encoded
    /// already (room ids start with `!`, which needs none).
    pub async fn request(
        &self,
        user: Option<&User>,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|error| panic!("`{method}` is not an HTTP method: {error}"));
        let url = format!("{}{path_and_query}", self.base_url);
        let url = Url::parse(&url).unwrap_or_else(|error| panic!("bad URL {url}: {error}"));
        self.send(user, method, url, body).await
    }

    /// The base URL with these path segments, each percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = Url::parse(&self.base_url).expect("the base URL parses");
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .clear()
            .extend(segments);
        url
    }

    /// A request that must succeed: `429 M_LIMIT_EXCEEDED` answers are waited out (as long as
    /// `retry_after_ms` says, for up to a minute in all); any other error status panics with
    /// the answer.
    pub async fn call(
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

    /// Sends one request and reads its answer: the status and the JSON body.
    pub async fn send(
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
