//! The files one Synapse runs from: `homeserver.yaml`, its log configuration and signing key.
//!
//! They are written directly rather than with `--generate-config`, which costs a Python start-up
//! (~1.6 s) per homeserver. YAML is a superset of JSON, so `serde_json` writes them.

use std::{fs, io, path::Path};

use serde_json::{Value, json};

/// The server name every harness homeserver uses: user ids are `@name:localhost`.
pub const SERVER_NAME: &str = "localhost";

/// `rc_message.per_second` of a homeserver from
/// [`Synapse::start_with_rate_limits`](crate::Synapse::start_with_rate_limits).
pub const STRICT_MESSAGE_PER_SECOND: f64 = 0.5;

/// `rc_message.burst_count` of a homeserver from
/// [`Synapse::start_with_rate_limits`](crate::Synapse::start_with_rate_limits): a user may send
/// this many events at once, then one every 2 s; the next answers `429 M_LIMIT_EXCEEDED`.
pub const STRICT_MESSAGE_BURST: u32 = 2;

/// The signing key of every harness homeserver, in Synapse's `ed25519 <id> <unpadded base64
/// seed>` format. Nothing federates, so a fixed test-only key is enough.
const SIGNING_KEY: &str = "ed25519 a_test QdWGbhCNFdiqO8MpBFM9TSRQ7Ur5/aVBDXjtm2kytx4\n";

/// Which rate limits the homeserver enforces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RateLimits {
    /// Every `rc_*` limit raised far above anything a test does.
    Relaxed,
    /// As `Relaxed`, except `rc_message`, which is [`STRICT_MESSAGE_PER_SECOND`] and
    /// [`STRICT_MESSAGE_BURST`], for tests of 429 handling.
    StrictMessages,
}

/// Where the files of one homeserver live, all inside its temporary directory.
pub(crate) struct Layout<'a> {
    /// The temporary directory.
    pub(crate) dir: &'a Path,
}

impl Layout<'_> {
    /// `homeserver.yaml`.
    pub(crate) fn config(&self) -> std::path::PathBuf {
        self.dir.join("homeserver.yaml")
    }

    /// The log Synapse writes through its logging configuration.
    pub(crate) fn log(&self) -> std::path::PathBuf {
        self.dir.join("homeserver.log")
    }

    /// Writes `homeserver.yaml`, the log configuration and the signing key.
    pub(crate) fn write(
        &self,
        port: u16,
        shared_secret: &str,
        limits: RateLimits,
    ) -> io::Result<()> {
        let dir = self.dir;
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let relaxed = json!({ "per_second": 1_000_000, "burst_count": 1_000_000 });
        let message = match limits {
            RateLimits::Relaxed => relaxed.clone(),
            RateLimits::StrictMessages => json!({
                "per_second": STRICT_MESSAGE_PER_SECOND,
                "burst_count": STRICT_MESSAGE_BURST,
            }),
        };
        let config = json!({
            "server_name": SERVER_NAME,
            "pid_file": path("homeserver.pid"),
            "listeners": [{
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": false,
                "x_forwarded": false,
                "resources": [{ "names": ["client"], "compress": false }],
            }],
            "database": { "name": "sqlite3", "args": { "database": path("homeserver.db") } },
            "log_config": path("log.config"),
            "media_store_path": path("media_store"),
            "signing_key_path": path("signing.key"),
            "registration_shared_secret": shared_secret,
            "macaroon_secret_key": secret(),
            "form_secret": secret(),
            "enable_registration": false,
            "report_stats": false,
            "enable_metrics": false,
            "trusted_key_servers": [],
            "suppress_key_server_warning": true,
            "federation_domain_whitelist": [],
            "url_preview_enabled": false,
            "presence": { "enabled": false },
            // Synapse caches /sync answers for 2 minutes by default: a client syncing again from
            // the same device would get a stale `next_batch` and replay old events.
            "caches": { "sync_response_cache_duration": 0 },
            // The minimum bcrypt allows: registering a user drops from ~0.3 s to a few ms.
            "bcrypt_rounds": 4,
            "rc_message": message,
            "rc_registration": relaxed,
            "rc_registration_token_validity": relaxed,
            "rc_login": { "address": relaxed, "account": relaxed, "failed_attempts": relaxed },
            "rc_admin_redaction": relaxed,
            "rc_joins": { "local": relaxed, "remote": relaxed },
            "rc_joins_per_room": relaxed,
            "rc_key_requests": relaxed,
            "rc_3pid_validation": relaxed,
            "rc_invites": { "per_room": relaxed, "per_user": relaxed, "per_issuer": relaxed },
            "rc_third_party_invite": relaxed,
            "rc_media_create": relaxed,
            "rc_presence": { "per_user": relaxed },
            "rc_delayed_event_mgmt": relaxed,
            "rc_room_creation": relaxed,
            "rc_reports": relaxed,
            "rc_user_directory": relaxed,
            "rc_profile": relaxed,
        });
        // Unbuffered, straight to a file: a failing test can read everything up to the failure.
        let logging = json!({
            "version": 1,
            "formatters": { "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s",
            }},
            "handlers": { "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": self.log().to_string_lossy(),
                "encoding": "utf8",
            }},
            "root": { "level": "INFO", "handlers": ["file"] },
            "disable_existing_loggers": false,
        });
        fs::write(self.config(), pretty(&config))?;
        fs::write(dir.join("log.config"), pretty(&logging))?;
        fs::write(dir.join("signing.key"), SIGNING_KEY)
    }
}

/// A random 32-character alphanumeric secret.
pub(crate) fn secret() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("a JSON value always serialises")
}
