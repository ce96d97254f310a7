//! Errors: the crate's own [`Error`], and the JSON error bodies Discord answers REST calls with.

use hyper::StatusCode;
use serde_json::{Value, json};

/// What can go wrong when driving the emulator from a test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The emulator could not be hosted: its runtime or its port (see `emulator_host`).
    #[error(transparent)]
    Host(#[from] emulator_host::HostError),
    /// A route pattern given to a fault or a rate limit is malformed or names no emulated route.
    #[error("route pattern `{pattern}`: {reason}")]
    RoutePattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A click the emulator refuses: the message has no button with that `custom_id`, or the
    /// button is disabled or sends no interaction (a link or premium button).
    #[error("cannot click `{custom_id}`: {reason}")]
    Click {
        /// The `custom_id` asked for.
        custom_id: String,
        /// Why the click cannot happen.
        reason: &'static str,
    },
    /// A control call was refused the way Discord would refuse the matching REST call.
    #[error("Discord error {code} ({status}): {message}")]
    Api {
        /// The HTTP status the REST call would have got.
        status: u16,
        /// Discord's JSON error code.
        code: u32,
        /// Discord's message for it.
        message: String,
    },
}

/// A Discord JSON error: `{"message", "code"}` and, for 50035, an `errors` tree.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: u32,
    pub(crate) message: String,
    pub(crate) errors: Option<Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: None,
        }
    }

    /// The response body, in Discord's shape.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({ "message": self.message, "code": self.code });
        if let Some(errors) = &self.errors {
            body["errors"] = errors.clone();
        }
        body
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, 0, "404: Not Found")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, 0, "405: Method Not Allowed")
    }

    /// The body of a 5xx answer injected by a fault.
    pub(crate) fn server_error(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Server Error");
        Self::new(status, 0, format!("{}: {reason}", status.as_u16()))
    }

    pub(crate) fn unknown_channel() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10003, "Unknown Channel")
    }

    pub(crate) fn unknown_guild() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10004, "Unknown Guild")
    }

    pub(crate) fn unknown_member() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10007, "Unknown Member")
    }

    pub(crate) fn unknown_message() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10008, "Unknown Message")
    }

    pub(crate) fn unknown_webhook() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10015, "Unknown Webhook")
    }

    pub(crate) fn unknown_interaction() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10062, "Unknown interaction")
    }

    pub(crate) fn already_acknowledged() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            40060,
            "Interaction has already been acknowledged.",
        )
    }

    pub(crate) fn invalid_webhook_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token")
    }

    pub(crate) fn unknown_emoji() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 10014, "Unknown Emoji")
    }

    pub(crate) fn request_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            40005,
            "Request entity too large",
        )
    }

    pub(crate) fn missing_access() -> Self {
        Self::new(StatusCode::FORBIDDEN, 50001, "Missing Access")
    }

    pub(crate) fn cannot_edit_others_message() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            50005,
            "Cannot edit a message authored by another user",
        )
    }

    pub(crate) fn empty_message() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        )
    }

    pub(crate) fn system_message() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            50021,
            "Cannot execute action on a system message",
        )
    }

    pub(crate) fn missing_permissions() -> Self {
        Self::new(StatusCode::FORBIDDEN, 50013, "Missing Permissions")
    }

    pub(crate) fn wrong_channel_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            50024,
            "Cannot execute action on this channel type",
        )
    }

    pub(crate) fn invalid_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        )
    }

    pub(crate) fn thread_already_created() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            160_004,
            "A thread has already been created for this message",
        )
    }

    /// The same error with its field errors moved under `key` (a body's `data` object).
    pub(crate) fn nested(mut self, key: &str) -> Self {
        if let Some(tree) = self.errors.take() {
            self.errors = Some(json!({ key: tree }));
        }
        self
    }

    /// 50035 with the collected field errors.
    pub(crate) fn invalid_form(errors: FormErrors) -> Self {
        let mut error = Self::new(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
        error.errors = Some(errors.tree);
        error
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api {
            status: e.status.as_u16(),
            code: e.code,
            message: e.message,
        }
    }
}

/// Field errors of an Invalid Form Body answer, nested by path:
/// `{"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "..."}]}}`.
///
/// Discord's `_errors` codes are strings (serenity reads them as `String`); the OpenAPI spec
/// types them as integers. The emulator follows the wire, see the README.
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    tree: Value,
}

impl FormErrors {
    /// Records an error at `path` (`&[]` for the body itself).
    pub(crate) fn add(&mut self, path: &[&str], code: &str, message: impl Into<String>) {
        if !self.tree.is_object() {
            self.tree = json!({});
        }
        let mut node = &mut self.tree;
        for key in path {
            node = node
                .as_object_mut()
                .map(|map| map.entry((*key).to_owned()).or_insert_with(|| json!({})))
                .expect("error tree nodes are objects");
        }
        let list = node
            .as_object_mut()
            .map(|map| map.entry("_errors").or_insert_with(|| json!([])))
            .expect("error tree nodes are objects");
        if let Some(list) = list.as_array_mut() {
            list.push(json!({ "code": code, "message": message.into() }));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.tree.is_object()
    }

    /// `Err(50035)` when any error was recorded.
    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_form(self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_nest_by_path() {
        let mut errors = FormErrors::default();
        assert!(errors.is_empty());
        errors.add(
            &["content"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        );
        errors.add(
            &["embeds", "0", "title"],
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
        let body = ApiError::invalid_form(errors).body();
        assert_eq!(
            body,
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {
                    "content": {"_errors": [
                        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
                    ]},
                    "embeds": {"0": {"title": {"_errors": [
                        {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                    ]}}}
                }
            })
        );
    }

    #[test]
    fn errors_display_what_went_wrong() {
        let cases = [
            (
                Error::RoutePattern {
                    pattern: "GET /x".to_owned(),
                    reason: "it matches none of the emulated routes (see ROUTES)",
                },
                "route pattern `GET /x`: it matches none of the emulated routes (see ROUTES)",
            ),
            (
                ApiError::unknown_channel().into(),
                "Discord error 10003 (404): Unknown Channel",
            ),
            (
                Error::Click {
                    custom_id: "yes".to_owned(),
                    reason: "the button is disabled",
                },
                "cannot click `yes`: the button is disabled",
            ),
            (
                Error::Host(emulator_host::HostError::Bind {
                    port: 80,
                    source: std::io::Error::other("denied"),
                }),
                "cannot listen on 127.0.0.1:80",
            ),
        ];
        for (error, display) in cases {
            assert_eq!(error.to_string(), display);
        }
    }

    #[test]
    fn error_messages_are_discords() {
        let cases = [
            (ApiError::unauthorized(), 401, 0, "401: Unauthorized"),
            (ApiError::unknown_channel(), 404, 10003, "Unknown Channel"),
            (ApiError::unknown_message(), 404, 10008, "Unknown Message"),
            (ApiError::missing_access(), 403, 50001, "Missing Access"),
            (
                ApiError::unknown_interaction(),
                404,
                10062,
                "Unknown interaction",
            ),
            (
                ApiError::already_acknowledged(),
                400,
                40060,
                "Interaction has already been acknowledged.",
            ),
            (
                ApiError::empty_message(),
                400,
                50006,
                "Cannot send an empty message",
            ),
        ];
        for (error, status, code, message) in cases {
            assert_eq!(error.status.as_u16(), status);
            assert_eq!(error.body(), json!({"message": message, "code": code}));
        }
    }
}
