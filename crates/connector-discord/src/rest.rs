//! The connector's own REST client: Discord's v10 API, with every failure mapped by `errors`.
//!
//! serenity's HTTP client drops a 429's `retry_after` and its limiter cannot go through a
//! proxy, so the connector makes its REST calls itself (on the reqwest serenity already builds)
//! and leaves all waiting to `RetryPolicy`: the same code runs against Discord and the emulator.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use connector_core::config::secrets::{ExposeSecret, SecretString};
use connector_core::retry::RetryPolicy;
use connector_core::{Error, Result};
use serde_json::Value;
use serenity_reqwest::{Client, Method, header, multipart};

use crate::KIND;
use crate::error::{self, ApiFailure};

/// How long one REST request may take.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A REST failure: Discord answered with an error, or the transport failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Discord answered with a non-success status.
    Api(ApiFailure),
    /// The request did not get an answer.
    Transport(Error),
}

impl Failure {
    /// The core error for this failure of a request made while doing `what`.
    pub(crate) fn into_error(self, what: &str) -> Error {
        match self {
            Self::Api(api) => api.into_error(what),
            Self::Transport(error) => error,
        }
    }

    /// This failure with Discord's status and code kept beside the core error.
    pub(crate) fn into_refusal(self, what: &str) -> Refusal {
        match self {
            Self::Api(api) => Refusal {
                status: Some(api.status),
                code: Some(api.code),
                error: api.into_error(what),
            },
            Self::Transport(error) => Refusal {
                error,
                status: None,
                code: None,
            },
        }
    }
}

/// A file uploaded with a message: its name and its bytes.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// The file name Discord shows.
    pub(crate) filename: String,
    /// The file's contents.
    pub(crate) data: Vec<u8>,
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// A JSON body.
    Json(&'a Value),
    /// `multipart/form-data`: the JSON as `payload_json`, the uploads as `files[n]`.
    Form(&'a Value, &'a [Upload]),
}

impl Payload<'_> {
    fn form(json: &Value, uploads: &[Upload]) -> multipart::Form {
        let mut form = multipart::Form::new().part(
            "payload_json",
            multipart::Part::text(json.to_string())
                .mime_str("application/json")
                .expect("a valid media type"),
        );
        for (index, upload) in uploads.iter().enumerate() {
            form = form.part(
                format!("files[{index}]"),
                multipart::Part::bytes(upload.data.clone()).file_name(upload.filename.clone()),
            );
        }
        form
    }
}

/// An authenticated client of `{base}/api/v10`.
#[derive(Clone)]
pub(crate) struct Rest {
    client: Client,
    api: String,
    authorization: SecretString,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl Rest {
    /// A client of the API under `base_url` (e.g. `https://discord.com`) with a bot token.
    pub(crate) fn new(base_url: &str, token: &SecretString) -> Result<Self> {
        let client = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!(
                "DiscordBot (https://github.com/orchestrator-connectors/connectors, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()
            .map_err(|e| Error::backend(KIND, "cannot build the HTTP client", e))?;
        Ok(Self {
            client,
            api: format!("{}/api/v10", base_url.trim_end_matches('/')),
            authorization: format!("Bot {}", token.expose_secret()).into(),
        })
    }

    /// Calls `method path` once with an optional body; answers the JSON (`Null` for 204).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Payload<'_>>,
    ) -> std::result::Result<Value, Failure> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.api))
            .header(header::AUTHORIZATION, self.authorization.expose_secret());
        match body {
            None => {}
            Some(Payload::Json(json)) => {
                request = request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(json.to_string());
            }
            Some(Payload::Form(json, uploads)) => {
                request = request.multipart(Payload::form(json, uploads));
            }
        }
        let transport = |e| Failure::Transport(error::from_transport(path, e, REQUEST_TIMEOUT));
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(Failure::Api(ApiFailure::parse(
                status,
                retry_after.as_deref(),
                &bytes,
            )));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::Transport(Error::backend(
                KIND,
                format!("{path}: Discord answered with invalid JSON"),
                e,
            ))
        })
    }

    /// Calls `method path` under `retry` (the same request every attempt) with an optional
    /// JSON body; a failure keeps Discord's status and code beside the core error.
    pub(crate) async fn call_retried(
        &self,
        retry: &RetryPolicy,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> std::result::Result<Value, Refusal> {
        self.call_retried_with(retry, method, path, body.map(Payload::Json), what)
            .await
    }

    /// [`Rest::call_retried`] with any payload (a multipart upload is rebuilt every attempt).
    pub(crate) async fn call_retried_with(
        &self,
        retry: &RetryPolicy,
        method: Method,
        path: &str,
        body: Option<Payload<'_>>,
        what: &str,
    ) -> std::result::Result<Value, Refusal> {
        let last = Mutex::new(None);
        let result = retry
            .run(|attempt| {
                let method = method.clone();
                let last = &last;
                async move {
                    if attempt > 1 {
                        tracing::debug!(attempt, path, "retrying");
                    }
                    self.call(method, path, body).await.map_err(|failure| {
                        *last.lock().unwrap_or_else(PoisonError::into_inner) = match &failure {
                            Failure::Api(api) => Some((api.status, api.code)),
                            Failure::Transport(_) => None,
                        };
                        failure.into_error(what)
                    })
                }
            })
            .await;
        result.map_err(|error| {
            let answer = *last.lock().unwrap_or_else(PoisonError::into_inner);
            Refusal {
                error,
                status: answer.map(|(status, _)| status),
                code: answer.map(|(_, code)| code),
            }
        })
    }
}

/// A request that failed for good, with what Discord said if it answered.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The core error.
    pub(crate) error: Error,
    /// The HTTP status of Discord's last answer, if the last attempt got one.
    pub(crate) status: Option<u16>,
    /// Discord's JSON error code of its last answer.
    pub(crate) code: Option<i64>,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        refusal.error
    }
}

/// `text` percent-encoded as one URL path segment (RFC 3986 unreserved characters kept), as
/// Discord wants an emoji (or `name:id`) in a reaction's path.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_emoji_for_the_path() {
        assert_eq!(percent_encode("👍"), "%F0%9F%91%8D");
        assert_eq!(percent_encode("a:1"), "a%3A1");
    }
}
