//! One Socket Mode connection: checks the ticket, sends `hello`, writes the envelopes and
//! `disconnect` frames it is told to, and reads the client's acks.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::{WebSocketStream, tungstenite::Message as Frame};

use crate::{
    delivery,
    state::{Connection, Shared, SocketCommand},
};

/// `disconnect` reasons Slack sends.
pub mod disconnect_reason {
    /// Slack asks the app to reconnect (its connection is about to be recycled).
    pub const REFRESH_REQUESTED: &str = "refresh_requested";
    /// Socket Mode was turned off for the app.
    pub const LINK_DISABLED: &str = "link_disabled";
    /// Sent some seconds before a `refresh_requested`; the socket stays open.
    pub const WARNING: &str = "warning";
}

fn debug_info() -> Value {
    json!({"host": "applink-emulated-1", "build_number": 1, "approximate_connection_time": 18060})
}

/// Whether `ticket` is one handed out by `apps.connections.open` and not yet used (it is used up).
pub(crate) fn redeem_ticket(shared: &Shared, query: Option<&str>) -> bool {
    let ticket = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("ticket="));
    let mut world = shared.lock();
    let Some(ticket) = ticket else {
        return false;
    };
    let before = world.sockets.tickets.len();
    world.sockets.tickets.retain(|t| t != ticket);
    before != world.sockets.tickets.len()
}

/// Runs one connection until it closes, the client leaves or the server stops.
pub(crate) async fn run<S>(
    mut ws: WebSocketStream<S>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Registered before `hello` goes out: frames queued meanwhile follow it in order.
    let (id, hello) = {
        let mut world = shared.lock();
        world.sockets.next_connection += 1;
        let id = world.sockets.next_connection;
        let hello = json!({
            "type": "hello",
            "num_connections": world.sockets.connections.len() + 1,
            "debug_info": debug_info(),
            "connection_info": {"app_id": world.app_id},
        });
        world.sockets.sent.push(hello.clone());
        world.sockets.connections.push(Connection { id, tx });
        (id, hello)
    };
    if ws.send(Frame::text(hello.to_string())).await.is_err() {
        shared.lock().sockets.connections.retain(|c| c.id != id);
        return;
    }
    delivery::flush(&mut shared.lock());
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            command = rx.recv() => match command {
                Some(SocketCommand::Frame(text)) => {
                    if ws.send(Frame::text(text)).await.is_err() { break; }
                }
                Some(SocketCommand::Warn) => {
                    let frame = disconnect_frame(&shared, disconnect_reason::WARNING);
                    if ws.send(Frame::text(frame)).await.is_err() { break; }
                }
                Some(SocketCommand::Disconnect(reason)) => {
                    let frame = disconnect_frame(&shared, reason);
                    let _ = ws.send(Frame::text(frame)).await;
                    let _ = ws.close(None).await;
                    break;
                }
                Some(SocketCommand::Drop) | None => break,
            },
            incoming = ws.next() => match incoming {
                Some(Ok(Frame::Text(text))) => {
                    if let Ok(frame) = serde_json::from_str::<Value>(&text) {
                        delivery::ack(&mut shared.lock(), frame);
                    }
                }
                Some(Ok(Frame::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    shared.lock().sockets.connections.retain(|c| c.id != id);
}

fn disconnect_frame(shared: &Shared, reason: &str) -> String {
    let frame = json!({"type": "disconnect", "reason": reason, "debug_info": debug_info()});
    shared.lock().sockets.sent.push(frame.clone());
    frame.to_string()
}
