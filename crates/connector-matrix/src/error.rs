//! How matrix-sdk's errors map onto `connector_core::Error`, so retries and health can act on them.
//!
//! | Matrix answer | core error | retried by `RetryPolicy` |
//! | --- | --- | --- |
//! | no connection, connection reset | `Unreachable` | yes |
//! | request timed out | `Timeout` | yes |
//! | 401 `M_UNKNOWN_TOKEN` / `M_MISSING_TOKEN` | `Unauthorized` ("token rejected") | no |
//! | 429 `M_LIMIT_EXCEEDED` | `RateLimited` with the server's `retry_after_ms` | yes, after it |
//! | 5xx | `Transient` | yes |
//! | other 4xx (`M_FORBIDDEN`, …) | `Rejected` | no |

use std::time::{Duration, SystemTime};

use connector_core::Error;
use matrix_sdk::HttpError;
use matrix_sdk::ruma::api::error::{ErrorKind, LimitExceededErrorData, RetryAfter};

use crate::KIND;

/// The reason reported when the homeserver refuses the access token.
pub(crate) const TOKEN_REJECTED: &str = "token rejected";

/// Maps an error of a matrix-sdk call made while doing `what` (e.g. "send").
pub(crate) fn from_sdk(what: &str, error: matrix_sdk::Error) -> Error {
    match error {
        matrix_sdk::Error::Http(http) => from_http(what, *http),
        other => Error::backend(KIND, format!("{what} failed: {other}"), other),
    }
}

/// Maps an HTTP-level error of a request made while doing `what`.
pub(crate) fn from_http(what: &str, error: HttpError) -> Error {
    if let HttpError::Reqwest(reqwest) = &error {
        let reason = format!("{what}: {}", describe_network(reqwest));
        if reqwest.is_timeout() {
            return Error::Timeout {
                operation: format!("matrix {what}"),
                after: crate::requests::REQUEST_TIMEOUT,
            };
        }
        return Error::Unreachable {
            kind: KIND.into(),
            reason,
            source: Some(Box::new(error)),
        };
    }
    let Some(api) = error.as_client_api_error() else {
        return Error::backend(KIND, format!("{what} failed: {error}"), error);
    };
    let status = api.status_code.as_u16();
    match api.error_kind() {
        Some(ErrorKind::UnknownToken(_) | ErrorKind::MissingToken) => Error::Unauthorized {
            kind: KIND.into(),
            reason: format!("{TOKEN_REJECTED} ({api})"),
        },
        Some(ErrorKind::LimitExceeded(LimitExceededErrorData { retry_after, .. })) => {
            Error::RateLimited {
                kind: KIND.into(),
                retry_after: retry_after.as_ref().map(wait_of),
            }
        }
        _ if status == 429 => Error::RateLimited {
            kind: KIND.into(),
            retry_after: None,
        },
        _ if status >= 500 => Error::Transient {
            kind: KIND.into(),
            reason: format!("{what}: {api}"),
            source: Some(Box::new(error)),
        },
        _ => Error::Rejected {
            kind: KIND.into(),
            reason: format!("{what}: {api}"),
        },
    }
}

/// Whether `error` is the homeserver refusing our token.
pub(crate) fn is_token_rejected(error: &Error) -> bool {
    matches!(error, Error::Unauthorized { .. })
}

/// How long a `RetryAfter` asks us to wait from now.
fn wait_of(retry_after: &RetryAfter) -> Duration {
    match retry_after {
        RetryAfter::Delay(delay) => *delay,
        RetryAfter::DateTime(at) => at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    }
}

/// A network failure in words an operator can act on.
fn describe_network(error: &matrix_sdk::reqwest::Error) -> String {
    let summary = if error.is_connect() {
        "cannot connect to the homeserver"
    } else if error.is_timeout() {
        "the homeserver did not answer in time"
    } else {
        "the connection to the homeserver failed"
    };
    connector_core::error::with_innermost_cause(summary, error)
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::api::EndpointError;
    use matrix_sdk::ruma::api::client::uiaa::UiaaResponse;

    use super::*;

    fn api_error(status: u16, body: &str) -> Error {
        let response = matrix_sdk::ruma::exports::http::Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap();
        let ruma = UiaaResponse::from_http_response(response);
        let http = HttpError::Api(Box::new(
            matrix_sdk::ruma::api::error::FromHttpResponseError::Server(ruma),
        ));
        from_http("send", http)
    }

    #[test]
    fn maps_matrix_errors_by_code() {
        let unknown = api_error(
            401,
            r#"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed."}"#,
        );
        assert!(is_token_rejected(&unknown), "{unknown:?}");
        assert!(unknown.to_string().contains("token rejected"), "{unknown}");

        let limited = api_error(
            429,
            r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":1500}"#,
        );
        assert_eq!(limited.retry_after(), Some(Duration::from_millis(1500)));
        assert!(limited.is_retryable());

        let forbidden = api_error(403, r#"{"errcode":"M_FORBIDDEN","error":"not in room"}"#);
        assert!(matches!(forbidden, Error::Rejected { .. }), "{forbidden:?}");
        assert!(!forbidden.is_retryable());

        let bad_gateway = api_error(502, "<html>bad gateway</html>");
        assert!(bad_gateway.is_retryable(), "{bad_gateway:?}");
    }
}
