//! Errors: the crate's own [`Error`], and the `{"ok":false,…}` answers the Bot API gives.

use serde_json::{Value, json};

/// What can go wrong when driving the emulator from a test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The emulator could not be hosted: its runtime or its port (see `emulator_host`).
    #[error(transparent)]
    Host(#[from] emulator_host::HostError),
    /// A fault names a method the emulator does not serve, or a status that is not an error.
    #[error("fault for `{method}`: {reason}")]
    Fault {
        /// The method as given.
        method: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A test action was refused the way Telegram would refuse it (no such chat, message,
    /// button, topic…).
    #[error("refused: {0}")]
    Refused(String),
}

/// A Bot API error answer: `error_code`, `description` and, for 429, `retry_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    pub(crate) description: String,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    fn new(code: u16, description: impl Into<String>) -> Self {
        ApiError {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    /// The response body, in the Bot API's shape.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(retry_after) = self.retry_after {
            body["parameters"] = json!({ "retry_after": retry_after });
        }
        body
    }

    /// 400 `Bad Request: <what>`.
    pub(crate) fn bad_request(what: impl std::fmt::Display) -> Self {
        Self::new(400, format!("Bad Request: {what}"))
    }

    /// 401, a token the emulator does not know.
    pub(crate) fn unauthorized() -> Self {
        Self::new(401, "Unauthorized")
    }

    /// 404, a method the emulator does not know (or a path that is not `/bot<token>/<method>`).
    pub(crate) fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    /// 409 `Conflict: <what>`.
    pub(crate) fn conflict(what: &str) -> Self {
        Self::new(409, format!("Conflict: {what}"))
    }

    /// 429 with `retry_after` seconds.
    pub(crate) fn too_many_requests(retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(429, format!("Too Many Requests: retry after {retry_after}"))
        }
    }

    /// Another status injected by a fault (`500 Internal Server Error`, …).
    pub(crate) fn injected(code: u16) -> Self {
        let reason = hyper::StatusCode::from_u16(code)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        Self::new(code, reason)
    }

    /// 413, a body larger than the server takes.
    pub(crate) fn request_too_large() -> Self {
        Self::new(413, "Request Entity Too Large")
    }

    pub(crate) fn chat_not_found() -> Self {
        Self::bad_request("chat not found")
    }

    pub(crate) fn message_thread_not_found() -> Self {
        Self::bad_request("message thread not found")
    }

    pub(crate) fn reply_not_found() -> Self {
        Self::bad_request("message to be replied not found")
    }

    pub(crate) fn not_modified() -> Self {
        Self::bad_request(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        )
    }

    pub(crate) fn query_too_old() -> Self {
        Self::bad_request("query is too old and response timeout expired or query ID is invalid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_carries_retry_after_in_parameters() {
        let body = ApiError::too_many_requests(7).body();
        assert_eq!(body["parameters"]["retry_after"], 7);
        assert_eq!(body["description"], "Too Many Requests: retry after 7");
        assert_eq!(ApiError::injected(502).description, "Bad Gateway");
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = Error::Fault {
            method: "sendMesage".into(),
            reason: "no such method",
        };
        assert_eq!(e.to_string(), "fault for `sendMesage`: no such method");
    }
}
