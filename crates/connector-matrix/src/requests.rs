//! How every request to the homeserver is bounded: no retries inside matrix-sdk, one time bound.

use std::time::Duration;

use matrix_sdk::config::RequestConfig;

/// The time bound of one ordinary request (sync long-polls get their poll time on top).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Request settings for every call: no retries inside matrix-sdk (its default retries
/// transient errors for up to 15 minutes). The connector retries with `RetryPolicy`, where it
/// controls the idempotency and the time bound.
pub(crate) fn request_config() -> RequestConfig {
    RequestConfig::new()
        .disable_retry()
        .timeout(REQUEST_TIMEOUT)
}
