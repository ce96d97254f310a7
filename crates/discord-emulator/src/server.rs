//! The HTTP server: the accept loop, hyper connections, the gateway's WebSocket upgrade and the
//! attachment files; REST requests go to [`crate::rest`].

use std::sync::Arc;

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
    Shared, control, errors::ApiError, gateway, responses::json_response, rest,
    snowflake::Snowflake, state::CONTROL_PATH,
};

/// The largest request body accepted (docs, Create Message: "maximum request size ... 25 MiB").
const MAX_BODY: usize = 25 * 1024 * 1024;

/// Returned to hyper to drop a connection without answering (a lost response).
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response deliberately lost")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until `shutdown` flips.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
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

async fn handle(
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    req: Request<Incoming>,
) -> Answer {
    let path = req.uri().path().to_owned();
    if path == "/gateway" || path == "/gateway/" {
        return Ok(upgrade(shared, shutdown, req));
    }
    if let Some(rest) = path.strip_prefix("/attachments/") {
        return Ok(attachment(&shared, rest));
    }
    if let Some(control_path) = path.strip_prefix(CONTROL_PATH)
        && (control_path.is_empty() || control_path.starts_with('/'))
    {
        let (parts, body) = req.into_parts();
        let body = match read_body(body).await? {
            Ok(body) => body,
            Err(too_large) => return Ok(too_large),
        };
        return Ok(control::handle(&shared, &parts.method, control_path, &body));
    }
    let Some(api_path) = path
        .strip_prefix("/api/v10")
        .filter(|p| p.is_empty() || p.starts_with('/'))
    else {
        return Ok(json_response(
            StatusCode::NOT_FOUND,
            &ApiError::not_found().body(),
            &[],
        ));
    };
    let api_path = api_path.to_owned();
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await? {
        Ok(body) => body,
        Err(too_large) => return Ok(too_large),
    };
    let outcome = rest::handle(&shared, &parts, &api_path, body);
    if outcome.lose {
        return Err(DropConnection);
    }
    Ok(outcome.response)
}

/// The request's body, or the 413 answer when it is larger than [`MAX_BODY`]; a body that
/// cannot be read drops the connection.
async fn read_body(body: Incoming) -> Result<Result<Bytes, Response<Full<Bytes>>>, DropConnection> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(Ok(collected.to_bytes())),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            let e = ApiError::request_too_large();
            Ok(Err(json_response(e.status, &e.body(), &[])))
        }
        Err(_) => Err(DropConnection),
    }
}

/// Serves an uploaded file at `/attachments/{channel}/{attachment}/{filename}`.
fn attachment(shared: &Shared, rest: &str) -> Response<Full<Bytes>> {
    // `{channel_id}/{attachment_id}/{filename}`: the attachment id alone finds the file.
    let id = rest.split('/').nth(1).and_then(|id| id.parse::<u64>().ok());
    let world = shared.lock();
    match id.and_then(|id| world.files.get(&Snowflake(id))) {
        Some(bytes) => {
            let mut response = Response::new(Full::new(Bytes::from(bytes.clone())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
        None => json_response(StatusCode::NOT_FOUND, &ApiError::not_found().body(), &[]),
    }
}

/// Answers the WebSocket handshake (RFC 6455) and hands the upgraded socket to the gateway.
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
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v == "13");
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|_| is_upgrade && version_ok)
    else {
        let body = serde_json::json!({"message": "Expected a WebSocket upgrade", "code": 0});
        return json_response(StatusCode::BAD_REQUEST, &body, &[]);
    };
    let accept = derive_accept_key(key.as_bytes());
    let query = req.uri().query().map(str::to_owned);
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        gateway::run(ws, shared, query, shutdown).await;
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
