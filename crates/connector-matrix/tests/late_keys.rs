//! The room key comes after the message (feature `e2e-encryption`), against a real Synapse.
//!
//! The race is made real: the operator — a matrix-sdk client that encrypts — talks to Synapse
//! through a small reverse proxy that withholds its `PUT /sendToDevice/m.room.encrypted/…`
//! requests (the Olm-encrypted `m.room_key` for the bot's device) and answers them `200 {}`.
//! The operator's Megolm message therefore reaches the bot's sync long before its key. The
//! test then shows the message is not delivered while the key is missing, survives a restart
//! of the connector in its persisted waiting list, and is delivered exactly once when the test
//! hands the withheld to-device message to Synapse.

#![cfg(feature = "e2e-encryption")]

mod common;

use std::sync::{Arc, Mutex, PoisonError};

use common::{PATIENCE, World, eventually, recv};
use connector_core::OrchestratorConnector;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use serde_json::Value;
use synapse_harness::User;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_key_comes_later_is_delivered_once_even_across_a_restart() {
    let world = World::start().await;
    world.enable_encryption().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    // The operator, behind the proxy that keeps its room keys back.
    let proxy = KeyWithholdingProxy::start(world.homeserver.base_url()).await;
    let (operator, room, _store) = world
        .encrypting_operator(&proxy.url, "operator (late keys test)")
        .await;

    // (1) The message goes out; its key does not.
    let text = "roll back prod to v1.1 now";
    let sent = room
        .send(RoomMessageEventContent::text_plain(text))
        .await
        .expect("the operator sends an encrypted message");
    let event_id = sent.response.event_id.to_string();
    let withheld = proxy.withheld();
    assert!(
        !withheld.is_empty(),
        "the operator's client sent the room key as to-device messages"
    );
    assert!(
        withheld
            .iter()
            .any(|body| body.to_string().contains(&world.bot.user_id)),
        "one of them is for the bot: {withheld:?}"
    );

    // (2) The connector saw the message and could not read it: it waits, undelivered, and is
    // written down in the state directory.
    eventually(PATIENCE, "the message waiting for its key", || {
        waiting(&connector)
    })
    .await;
    assert!(subscription.try_recv().is_none(), "nothing was delivered");
    assert!(
        waiting_file(&world).contains(&event_id),
        "the waiting list on disk names {event_id}"
    );

    // (3) A restart before the key comes: the new connector still waits for it.
    connector.close().await.unwrap();
    drop(subscription);
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    eventually(
        PATIENCE,
        "the message still waiting after the restart",
        || waiting(&connector),
    )
    .await;
    assert!(subscription.try_recv().is_none(), "nothing was delivered");

    // (4) The key arrives: the message is delivered, once.
    proxy.stop_withholding();
    let device = User {
        access_token: operator.access_token().expect("the operator's token"),
        ..world.operator.clone()
    };
    for (n, body) in withheld.iter().enumerate() {
        let (status, answer) = world
            .homeserver
            .request(
                Some(&device),
                "PUT",
                &format!("/_matrix/client/v3/sendToDevice/m.room.encrypted/late-key-{n}"),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "delivering the withheld key: {answer}");
    }
    let message = recv(&mut subscription, "the message once its key came").await;
    assert_eq!(message.message_id.as_str(), event_id);
    assert_eq!(message.text, text);
    assert_eq!(message.sender.as_str(), world.operator.user_id);

    // A later message (same Megolm session) arrives next: the first came exactly once.
    let later = room
        .send(RoomMessageEventContent::text_plain("and tell me when done"))
        .await
        .expect("the operator's next message");
    let next = recv(&mut subscription, "the operator's next message").await;
    assert_eq!(
        next.message_id.as_str(),
        later.response.event_id.as_str(),
        "no second copy of {event_id} came first"
    );
    assert!(subscription.try_recv().is_none(), "nothing else came");
    let detail = connector.health().await.detail.unwrap_or_default();
    assert!(
        !detail.contains("waits"),
        "nothing waits any more: {detail}"
    );
    assert!(
        !waiting_file(&world).contains(&event_id),
        "the waiting list on disk forgot {event_id}"
    );
    connector.close().await.unwrap();
    proxy.abort();
}

/// The health detail, if it says one encrypted message waits for its key.
async fn waiting(connector: &connector_matrix::MatrixConnector) -> Option<String> {
    let detail = connector.health().await.detail.unwrap_or_default();
    detail
        .contains("1 encrypted message waits for its room key")
        .then_some(detail)
}

/// The connector's waiting list as it is on disk.
fn waiting_file(world: &World) -> String {
    let entries: Vec<_> = std::fs::read_dir(world.state.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("undecrypted-") && name.ends_with(".json"))
        })
        .collect();
    let [path] = entries.as_slice() else {
        panic!("one waiting list in the state directory: {entries:?}")
    };
    std::fs::read_to_string(path).unwrap()
}

/// A reverse proxy in front of Synapse that, while withholding, keeps back every
/// `PUT /_matrix/client/v3/sendToDevice/m.room.encrypted/{txn}` (answering `200 {}`) and
/// passes everything else on. One request per connection (`Connection: close`).
struct KeyWithholdingProxy {
    url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct ProxyState {
    withholding: Mutex<bool>,
    withheld: Mutex<Vec<Value>>,
}

impl KeyWithholdingProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(ProxyState {
            withholding: Mutex::new(true),
            withheld: Mutex::default(),
        });
        let http = reqwest::Client::new();
        let task = tokio::spawn({
            let state = Arc::clone(&state);
            async move {
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        return;
                    };
                    let (state, http, upstream) =
                        (Arc::clone(&state), http.clone(), upstream.clone());
                    tokio::spawn(async move {
                        if let Err(error) = serve(socket, &state, &http, &upstream).await {
                            tracing::warn!(%error, "proxy: a request failed");
                        }
                    });
                }
            }
        });
        Self { url, state, task }
    }

    /// The bodies of the withheld to-device requests.
    fn withheld(&self) -> Vec<Value> {
        self.state
            .withheld
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn stop_withholding(&self) {
        *self
            .state
            .withholding
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = false;
    }

    fn abort(self) {
        self.task.abort();
    }
}

/// Serves one request on `socket`.
async fn serve(
    mut socket: TcpStream,
    state: &ProxyState,
    http: &reqwest::Client,
    upstream: &str,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 8192];
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    let withholding = *state
        .withholding
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let (status, content_type, answer) = if withholding
        && method == "PUT"
        && target.starts_with("/_matrix/client/v3/sendToDevice/m.room.encrypted/")
    {
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        state
            .withheld
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(json);
        (200, "application/json".to_owned(), b"{}".to_vec())
    } else {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = http.request(method, format!("{upstream}{target}"));
        for (name, value) in &headers {
            if !matches!(
                name.as_str(),
                "host" | "content-length" | "connection" | "accept-encoding" | "transfer-encoding"
            ) {
                request = request.header(name, value);
            }
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(std::io::Error::other)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let answer = response.bytes().await.map_err(std::io::Error::other)?;
        (status, content_type, answer.to_vec())
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&answer).await?;
    socket.shutdown().await
}
