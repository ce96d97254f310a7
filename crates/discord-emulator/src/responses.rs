//! Building the emulator's HTTP responses: JSON bodies and empty 204s, with extra headers.

use http_body_util::Full;
use hyper::{
    Response, StatusCode,
    body::Bytes,
    header::{self, HeaderValue},
};

/// Builds a JSON response with extra headers.
pub(crate) fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
    headers: &[(&'static str, String)],
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_headers(&mut response, headers);
    response
}

/// An empty 204.
pub(crate) fn no_content(headers: &[(&'static str, String)]) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    add_headers(&mut response, headers);
    response
}

fn add_headers(response: &mut Response<Full<Bytes>>, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
}
