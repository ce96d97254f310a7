//! The HTTP server: the accept loop, the ack watchdog, and routing — `/api/<method>` to the Web
//! API, `/socket` to Socket Mode, upload URLs and `response_url`s.

use std::{sync::Arc, time::Duration};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    Request, Response, StatusCode,
    body::{Bytes, Incoming},
    header::{self, HeaderValue},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, sync::watch};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{handshake::derive_accept_key, protocol::Role},
};

use crate::{
    delivery, interactive, multipart, socket_mode,
    state::Shared,
    web_api::{self, files::UPLOAD_PATH},
};

/// The largest request body accepted (Slack's file uploads go up to 1 GB; tests stay small).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How often unacked envelopes are checked for redelivery.
const WATCHDOG_TICK: Duration = Duration::from_millis(50);

/// Returned to hyper to drop a connection without answering (a lost response).
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response deliberately lost")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections and redelivers unacked envelopes until `shutdown` flips.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(WATCHDOG_TICK);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tick.tick() => delivery::flush(&mut shared.lock()),
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, Arc::clone(&shared), shutdown.clone()));
            }
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = {
        let shutdown = shutdown.clone();
        service_fn(move |req| handle(Arc::clone(&shared), shutdown.clone(), req))
    };
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        _ = connection => {}
        _ = shutdown.changed() => {}
    }
}

type Answer = Result<Response<Full<Bytes>>, DropConnection>;

fn json_response(
    status: u16,
    body: &serde_json::Value,
    headers: &[(&'static str, String)],
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

fn text_response(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

async fn handle(
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    req: Request<Incoming>,
) -> Answer {
    let path = req.uri().path().to_owned();
    if path == "/socket" {
        return Ok(upgrade(shared, shutdown, req));
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(text_response(StatusCode::PAYLOAD_TOO_LARGE, "too large")),
    };
    let header = |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(method) = path.strip_prefix("/api/") {
        let request = web_api::Request {
            method,
            authorization: header(header::AUTHORIZATION),
            content_type: header(header::CONTENT_TYPE),
            query: parts.uri.query(),
            body: &body,
        };
        let outcome = web_api::handle(&shared, &request);
        if outcome.lose {
            return Err(DropConnection);
        }
        return Ok(json_response(
            outcome.status,
            &outcome.body,
            &outcome.headers,
        ));
    }
    if let Some(file_id) = path.strip_prefix(UPLOAD_PATH) {
        let bytes = multipart::file_bytes(header(header::CONTENT_TYPE), &body);
        let stored = web_api::files::receive_upload(&mut shared.lock(), file_id, bytes);
        return Ok(if stored {
            text_response(StatusCode::OK, &format!("OK - {}", body.len()))
        } else {
            text_response(StatusCode::NOT_FOUND, "not found")
        });
    }
    if let Some(token) = path.strip_prefix(interactive::RESPONSE_PATH) {
        let body = serde_json::from_slice(&body)
            .ok()
            .or_else(|| form_payload(&body));
        let Some(body) = body else {
            return Ok(json_response(
                200,
                &serde_json::json!({"ok": false, "error": "invalid_payload"}),
                &[],
            ));
        };
        let known = interactive::respond(&mut shared.lock(), token, body);
        return Ok(if known {
            json_response(200, &serde_json::json!({"ok": true}), &[])
        } else {
            json_response(
                404,
                &serde_json::json!({"ok": false, "error": "expired_url"}),
                &[],
            )
        });
    }
    Ok(json_response(
        404,
        &serde_json::json!({"ok": false, "error": "unknown_method"}),
        &[],
    ))
}

/// A `payload=<json>` form body.
fn form_payload(body: &[u8]) -> Option<serde_json::Value> {
    let text = std::str::from_utf8(body).ok()?;
    let payload = text.split('&').find_map(|p| p.strip_prefix("payload="))?;
    serde_json::from_str(&crate::params::percent_decode(payload)).ok()
}

/// Answers the WebSocket handshake (RFC 6455) for a valid ticket and hands the socket over.
fn upgrade(
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    mut req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let headers = req.headers();
    let is_upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|_| is_upgrade)
    else {
        return text_response(StatusCode::BAD_REQUEST, "expected a WebSocket upgrade");
    };
    let accept = derive_accept_key(key.as_bytes());
    if !socket_mode::redeem_ticket(&shared, req.uri().query()) {
        return text_response(StatusCode::UNAUTHORIZED, "invalid ticket");
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        socket_mode::run(ws, shared, shutdown).await;
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}
