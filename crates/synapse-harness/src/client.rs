//! The operator's side of the homeserver over plain HTTP: registering users, creating rooms,
//! sending and reading messages, independent of the matrix-sdk the connector under test uses.

use hmac::{Hmac, Mac};
use homeserver_client::HomeserverClient;
pub use homeserver_client::User;
use reqwest::{Method, Url};
use serde_json::{Value, json};
use sha1::Sha1;

use crate::Synapse;

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
        User::from_session(&answer, password, &format!("POST {url}"))
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

    /// The latest `limit` `m.room.message` events of the room as `user` sees them, oldest
    /// first (`GET /rooms/{id}/messages?dir=b`, filtered to that type so that state events do
    /// not use up the limit). Each is the event as the server serves it: `event_id`, `sender`,
    /// `content` (`body`, `msgtype`, `m.relates_to`, …), `origin_server_ts`.
    pub async fn messages(&self, user: &User, room_id: &str, limit: u32) -> Vec<Value> {
        self.client()
            .timeline(
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
