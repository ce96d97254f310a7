//! The HTTP server: the accept loop, `/bot<token>/<method>` calls (token, method, faults,
//! parameters, answer) and the file download route `/file/bot<token>/<file_path>`.

use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    Method, Request, Response, StatusCode,
    body::{Bytes, Incoming},
    header::{self, HeaderValue},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    errors::ApiError, fault_state::Injected, method_params::METHODS, methods, params::Params,
    polling, state::Shared,
};

/// The largest request body accepted (docs, sending files: 50 MB for uploads).
const MAX_BODY: usize = 50 * 1024 * 1024;

/// Returned to hyper to drop a connection without answering (a lost response).
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response deliberately lost")
    }
}

impl std::error::Error for DropConnection {}

type Answer = Result<Response<Full<Bytes>>, DropConnection>;

/// Accepts connections until `shutdown` flips; open connections are dropped then too.
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
                let shared = Arc::clone(&shared);
                let mut shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
                    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = connection => {}
                        _ = shutdown.changed() => {}
                    }
                });
            }
        }
    }
}

fn respond(
    status: u16,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn error(e: &ApiError) -> Response<Full<Bytes>> {
    respond(e.code, "application/json", e.body().to_string())
}

fn ok(result: Value) -> Response<Full<Bytes>> {
    respond(
        200,
        "application/json",
        json!({"ok": true, "result": result}).to_string(),
    )
}

/// The answer an injected fault gives.
fn injected(answer: Injected) -> Response<Full<Bytes>> {
    match answer {
        Injected::RateLimited(retry_after) => error(&ApiError::too_many_requests(retry_after)),
        Injected::Status(code @ (502 | 504)) => {
            let reason = if code == 502 {
                "502 Bad Gateway"
            } else {
                "504 Gateway Time-out"
            };
            let page = format!(
                "<html>\r\n<head><title>{reason}</title></head>\r\n<body>\r\n<center><h1>{reason}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
            );
            respond(code, "text/html", page)
        }
        Injected::Status(code) => error(&ApiError::injected(code)),
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return Ok(download(&shared, rest));
    }
    let Some((token, method)) = path.strip_prefix("/bot").and_then(|r| r.split_once('/')) else {
        return Ok(error(&ApiError::not_found()));
    };
    if !token_is_well_formed(token) {
        return Ok(error(&ApiError::not_found()));
    }
    if token != shared.lock().token {
        return Ok(error(&ApiError::unauthorized()));
    }
    let Some(spec) = METHODS.iter().find(|m| m.name.eq_ignore_ascii_case(method)) else {
        return Ok(error(&ApiError::not_found()));
    };
    if req.method() != Method::GET && req.method() != Method::POST {
        return Ok(error(&ApiError::not_found()));
    }
    let lower = spec.name.to_ascii_lowercase();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let query = req.uri().query().map(str::to_owned);
    let Ok(body) = Limited::new(req.into_body(), MAX_BODY).collect().await else {
        return Ok(error(&ApiError::request_too_large()));
    };
    let body = body.to_bytes();
    if let Some(answer) = shared.lock().faults.take_failure(&lower) {
        return Ok(injected(answer));
    }
    let params = match Params::parse(spec, content_type.as_deref(), query.as_deref(), &body) {
        Ok(params) => params,
        Err(e) => return Ok(error(&e)),
    };
    let result = if spec.name == "getUpdates" {
        polling::get_updates(&shared, &params).await
    } else {
        let mut world = shared.lock();
        methods::call(&mut world, spec.name, &params)
    };
    let (lose, delay) = {
        let mut world = shared.lock();
        (world.faults.take_loss(&lower), world.faults.delay(&lower))
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if lose {
        return Err(DropConnection);
    }
    Ok(match result {
        Ok(result) => ok(result),
        Err(e) => error(&e),
    })
}

/// `<bot id>:<secret>`, the shape of every Bot API token; other paths are 404 before any 401.
fn token_is_well_formed(token: &str) -> bool {
    token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !secret.is_empty()
    })
}

/// Serves a file by its `file_path`, for the token's bot.
fn download(shared: &Shared, rest: &str) -> Response<Full<Bytes>> {
    let world = shared.lock();
    let Some((token, file_path)) = rest.split_once('/') else {
        return error(&ApiError::not_found());
    };
    if token != world.token {
        return error(&ApiError::unauthorized());
    }
    match world.files.values().find(|f| f.file_path == file_path) {
        Some(file) => respond(200, "application/octet-stream", file.data.clone()),
        None => error(&ApiError::not_found()),
    }
}
