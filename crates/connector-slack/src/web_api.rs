//! Slack's Web API by hand: one form-encoded POST per call, `{"ok":…}` answers mapped onto
//! connector-core's errors. The client retries nothing itself: callers wrap calls in core's
//! [`RetryPolicy`], which honours `Retry-After` on HTTP 429.

use std::time::Duration;

use connector_core::config::secrets::{ExposeSecret, SecretString};
use connector_core::retry::RetryPolicy;
use connector_core::{Error, Result};
use serde_json::Value;

use crate::KIND;

/// How long one Web API call may take before it counts as lost.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Slack error codes that mean the token itself is refused.
const AUTH_ERRORS: &[&str] = &[
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
];

/// Slack error codes worth another attempt.
const TRANSIENT_ERRORS: &[&str] = &[
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// One call's arguments, form-encoded (JSON-valued arguments such as `blocks` as JSON text).
pub(crate) type Form = Vec<(&'static str, String)>;

/// A successful answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The JSON body (`"ok": true` and the method's fields).
    pub(crate) body: Value,
    /// The scopes granted to the token, from the `x-oauth-scopes` header.
    pub(crate) scopes: Option<String>,
}

/// A failed call: the core error, Slack's error code if it answered one, and whether the call
/// may have taken effect.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The error to report (retryable or not).
    pub(crate) error: Error,
    /// Slack's `error` code (`channel_not_found`, `missing_scope`, …).
    pub(crate) code: Option<String>,
    /// True when the request may have reached Slack and taken effect although no answer came
    /// back (a connection dropped after the request was written, a 5xx).
    pub(crate) maybe_done: bool,
}

/// A Web API client for one token.
#[derive(Clone)]
pub(crate) struct WebApi {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl std::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl WebApi {
    /// A client calling `{base}/{method}` with `token` (`xoxb-…` or `xapp-…`).
    pub(crate) fn new(base: &str, token: &SecretString) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .tls_backend_preconfigured(crate::tls::client_config()?.as_ref().clone())
            .build()
            .map_err(|e| Error::backend(KIND, "cannot build the HTTP client", e))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.clone(),
        })
    }

    /// Calls `method` once.
    pub(crate) async fn call(
        &self,
        method: &str,
        form: &[(&'static str, String)],
    ) -> std::result::Result<Answer, Failure> {
        let url = format!("{}/{method}", self.base);
        let sent = self
            .http
            .post(url)
            .bearer_auth(self.token.expose_secret())
            .form(form)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                let refused = e.is_connect();
                let reason = connector_core::error::with_innermost_cause(
                    &format!("{method}: no answer from Slack"),
                    &e,
                );
                let error = if refused {
                    Error::Unreachable {
                        kind: KIND.into(),
                        reason,
                        source: Some(Box::new(e)),
                    }
                } else {
                    Error::Transient {
                        kind: KIND.into(),
                        reason,
                        source: Some(Box::new(e)),
                    }
                };
                return Err(Failure {
                    error,
                    code: None,
                    maybe_done: !refused,
                });
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let scopes = header("x-oauth-scopes");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await;
        if status == 429 {
            return Err(Failure {
                error: Error::RateLimited {
                    kind: KIND.into(),
                    retry_after: Some(retry_after.unwrap_or(Duration::from_secs(1))),
                },
                code: Some("ratelimited".into()),
                maybe_done: false,
            });
        }
        let body: Option<Value> = text.ok().and_then(|t| serde_json::from_str(&t).ok());
        if status >= 500 || body.is_none() {
            return Err(Failure {
                error: Error::Transient {
                    kind: KIND.into(),
                    reason: format!("{method}: HTTP {status}"),
                    source: None,
                },
                code: None,
                maybe_done: true,
            });
        }
        let body = body.unwrap_or_default();
        if body.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(Answer { body, scopes });
        }
        let code = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown_error")
            .to_owned();
        let error = if AUTH_ERRORS.contains(&code.as_str()) {
            Error::Unauthorized {
                kind: KIND.into(),
                reason: format!("{method}: {code}"),
            }
        } else if TRANSIENT_ERRORS.contains(&code.as_str()) {
            Error::Transient {
                kind: KIND.into(),
                reason: format!("{method}: {code}"),
                source: None,
            }
        } else if code == "ratelimited" {
            Error::RateLimited {
                kind: KIND.into(),
                retry_after,
            }
        } else {
            let mut reason = format!("{method}: {code}");
            if let Some(needed) = body.get("needed").and_then(Value::as_str) {
                reason.push_str(&format!(" (needs the scope {needed})"));
            }
            Error::Rejected {
                kind: KIND.into(),
                reason,
            }
        };
        let maybe_done = TRANSIENT_ERRORS.contains(&code.as_str());
        Err(Failure {
            error,
            code: Some(code),
            maybe_done,
        })
    }

    /// Calls `method` under `retry`; only calls that are safe to repeat (reads, edits) go
    /// through here. Answers the last failure when the attempts are spent.
    pub(crate) async fn call_retried(
        &self,
        retry: &RetryPolicy,
        method: &str,
        form: &[(&'static str, String)],
    ) -> std::result::Result<Answer, Failure> {
        let mut attempt = 1;
        loop {
            match self.call(method, form).await {
                Ok(answer) => return Ok(answer),
                Err(failure) => match retry.delay_after(&failure.error, attempt) {
                    Some(delay) => {
                        tracing::debug!(method, attempt, ?delay, error = %failure.error, "retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(failure),
                },
            }
        }
    }

    /// As [`call_retried`](Self::call_retried), answering the body or the core error.
    pub(crate) async fn body(
        &self,
        retry: &RetryPolicy,
        method: &str,
        form: &[(&'static str, String)],
    ) -> Result<Value> {
        self.call_retried(retry, method, form)
            .await
            .map(|a| a.body)
            .map_err(|f| f.error)
    }
}

/// A string field of a JSON object.
pub(crate) fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}
