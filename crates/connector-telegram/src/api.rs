//! The Bot API over plain HTTPS: `POST {base}/bot<token>/<method>` with a JSON (or multipart)
//! body, answers `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description"}`.
//!
//! reqwest does no retries of its own; [`Api::call_retried`] and [`Api::send_retried`] run a
//! call under connector-core's [`RetryPolicy`], which honours 429's `retry_after`. A call that
//! posts something is never repeated once its request went out (see [`Failure::Lost`]).
//!
//! Posts go over a fresh connection each (a client without an idle pool): on a pooled
//! keep-alive connection that the server closed while idle, a request fails after it was
//! written though the server never read it, which cannot be told apart from a lost answer. On
//! a fresh connection, "connection refused" means not sent, and a dropped connection means the
//! server had the request. Reads and edits share a pooled client.

use std::time::Duration;

use connector_core::config::secrets::{ExposeSecret, SecretString};
use connector_core::retry::RetryPolicy;
use connector_core::{Error, Result};
use serde_json::Value;

use crate::KIND;
use crate::error::Failure;

/// How long an ordinary call may take before its answer counts as lost.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A Bot API client for one bot.
#[derive(Clone)]
pub(crate) struct Api {
    /// Pooled: reads, edits, the long poll.
    client: reqwest::Client,
    /// Unpooled: calls that post something (see the module docs).
    post_client: reqwest::Client,
    /// `{base}/bot<token>`: holds the token, never logged.
    bot_url: SecretString,
    /// `{base}/file/bot<token>`: where `getFile`'s paths are downloaded.
    file_url: SecretString,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

impl Api {
    /// A client for the bot with `token` at `base_url` (no trailing `/`).
    pub(crate) fn new(base_url: &str, token: &SecretString) -> Result<Self> {
        let build = |pooled: bool| {
            let builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
            let builder = if pooled {
                builder
            } else {
                builder.pool_max_idle_per_host(0)
            };
            builder
                .build()
                .map_err(|e| Error::backend(KIND, "build the HTTP client", e))
        };
        let token = token.expose_secret();
        Ok(Self {
            client: build(true)?,
            post_client: build(false)?,
            bot_url: format!("{base_url}/bot{token}").into(),
            file_url: format!("{base_url}/file/bot{token}").into(),
        })
    }

    /// The download URL of a file `getFile` named (it holds the bot token, as Telegram's does).
    pub(crate) fn file_download_url(&self, file_path: &str) -> String {
        format!("{}/{file_path}", self.file_url.expose_secret())
    }

    /// One call with a JSON body, answering `result`.
    pub(crate) async fn call(&self, method: &str, params: &Value) -> Result<Value, Failure> {
        self.call_within(method, params, CALL_TIMEOUT).await
    }

    /// One call that posts something, over a fresh connection (see the module docs).
    pub(crate) async fn post(&self, method: &str, params: &Value) -> Result<Value, Failure> {
        let request = self
            .post_client
            .post(format!("{}/{method}", self.bot_url.expose_secret()))
            .timeout(CALL_TIMEOUT)
            .json(params);
        self.answer(method, request).await
    }

    /// One call with a JSON body that may take `timeout` (a long poll).
    pub(crate) async fn call_within(
        &self,
        method: &str,
        params: &Value,
        timeout: Duration,
    ) -> Result<Value, Failure> {
        let request = self
            .client
            .post(format!("{}/{method}", self.bot_url.expose_secret()))
            .timeout(timeout)
            .json(params);
        self.answer(method, request).await
    }

    /// One call with a multipart body (file uploads).
    pub(crate) async fn call_multipart(
        &self,
        method: &str,
        form: reqwest::multipart::Form,
    ) -> Result<Value, Failure> {
        let request = self
            .post_client
            .post(format!("{}/{method}", self.bot_url.expose_secret()))
            .timeout(CALL_TIMEOUT)
            .multipart(form);
        self.answer(method, request).await
    }

    async fn answer(
        &self,
        method: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, Failure> {
        let response = request.send().await.map_err(|e| transport(method, e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|source| Failure::Lost {
            method: method.to_owned(),
            source: without_url(source),
        })?;
        let Ok(json) = serde_json::from_slice::<Value>(&body) else {
            let text = String::from_utf8_lossy(&body);
            return Err(Failure::Garbled {
                method: method.to_owned(),
                status,
                body: text.chars().take(200).collect(),
            });
        };
        if json.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(json.get("result").cloned().unwrap_or(Value::Null));
        }
        Err(Failure::Api {
            method: method.to_owned(),
            code: json
                .get("error_code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(status),
            description: json
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("(no description)")
                .to_owned(),
            retry_after: json
                .pointer("/parameters/retry_after")
                .and_then(Value::as_u64),
            migrate_to: json
                .pointer("/parameters/migrate_to_chat_id")
                .and_then(Value::as_i64),
        })
    }

    /// A call safe to repeat (reads, edits), retried under `retry`.
    pub(crate) async fn call_retried(
        &self,
        retry: &RetryPolicy,
        method: &str,
        params: &Value,
        what: &str,
    ) -> Result<Value> {
        retry
            .run(|_| async {
                self.call(method, params)
                    .await
                    .map_err(|f| f.into_error(what))
            })
            .await
    }

    /// A call that posts something, retried under `retry` only while Telegram certainly did
    /// not apply it (refused connection, 429, 5xx); a lost answer is
    /// [`Error::MaybeDelivered`].
    pub(crate) async fn send_retried(
        &self,
        retry: &RetryPolicy,
        method: &str,
        params: &Value,
        what: &str,
    ) -> Result<Value> {
        retry
            .run(|_| async {
                self.post(method, params)
                    .await
                    .map_err(|f| f.into_send_error(what))
            })
            .await
    }
}

/// A transport error of `send`: before the request went out, or after.
fn transport(method: &str, error: reqwest::Error) -> Failure {
    let method = method.to_owned();
    let source = without_url(error);
    if source.is_connect() {
        Failure::NotSent { method, source }
    } else {
        Failure::Lost { method, source }
    }
}

/// The error without its URL, which holds the token.
fn without_url(error: reqwest::Error) -> reqwest::Error {
    error.without_url()
}
