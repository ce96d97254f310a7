//! HTTP rate limits as the docs describe them: per-route buckets split by top-level resource,
//! a global per-identity limit, `X-RateLimit-*` headers, and 429 bodies with `retry_after`.

use std::{
    collections::HashMap,
    time::{Duration, Instant, SystemTime},
};

use serde_json::{Value, json};

use crate::{
    errors::Error,
    routes::{Route, RoutePattern},
};

/// A number of requests allowed per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in each window.
    pub requests: u32,
    /// The window's length.
    pub per: Duration,
}

impl Limit {
    /// `requests` per `per`.
    #[must_use]
    pub const fn new(requests: u32, per: Duration) -> Limit {
        Limit { requests, per }
    }
}

/// The emulator's rate limits. Discord publishes no numbers ("should not be hard coded"), so
/// [`RateLimits::discord_like`] uses commonly observed ones; tests can set their own.
///
/// ```
/// use std::time::Duration;
/// use discord_emulator::RateLimits;
/// let limits = RateLimits::unlimited()
///     .route("POST /channels/{channel_id}/messages", 2, Duration::from_secs(1))
///     .unwrap();
/// # let _ = limits;
/// ```
#[derive(Clone, Debug)]
pub struct RateLimits {
    routes: Vec<(RoutePattern, Limit)>,
    default_route: Option<Limit>,
    global: Option<Limit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::discord_like()
    }
}

impl RateLimits {
    /// Message create 5 per 5 s per channel (as Discord), edits and typing 5 per 5 s, reactions
    /// 1 per 250 ms, thread creation 5 per 5 s, any other route 50 per second, and the global
    /// limit of 50 requests per second (docs, rate limits, "Global Rate Limit").
    #[must_use]
    pub fn discord_like() -> RateLimits {
        let five_per_five = Limit::new(5, Duration::from_secs(5));
        let reaction = Limit::new(1, Duration::from_millis(250));
        let table = [
            ("POST /channels/{channel_id}/messages", five_per_five),
            (
                "PATCH /channels/{channel_id}/messages/{message_id}",
                five_per_five,
            ),
            (
                "DELETE /channels/{channel_id}/messages/{message_id}",
                Limit::new(5, Duration::from_secs(1)),
            ),
            ("POST /channels/{channel_id}/typing", five_per_five),
            ("POST /channels/{channel_id}/threads", five_per_five),
            (
                "POST /channels/{channel_id}/messages/{message_id}/threads",
                five_per_five,
            ),
            (
                "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
                reaction,
            ),
            (
                "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
                reaction,
            ),
        ];
        RateLimits {
            routes: table
                .into_iter()
                .map(|(p, l)| {
                    (
                        RoutePattern::parse(p).expect("the table's patterns are valid"),
                        l,
                    )
                })
                .collect(),
            default_route: Some(Limit::new(50, Duration::from_secs(1))),
            global: Some(Limit::new(50, Duration::from_secs(1))),
        }
    }

    /// No limits at all (and no `X-RateLimit-*` headers).
    #[must_use]
    pub fn unlimited() -> RateLimits {
        RateLimits {
            routes: Vec::new(),
            default_route: None,
            global: None,
        }
    }

    /// Limits the routes matching `pattern` (see [`RoutePattern`]); the first matching rule
    /// wins, and rules added later come first.
    ///
    /// # Errors
    ///
    /// When the pattern is malformed or matches no route.
    pub fn route(
        mut self,
        pattern: &str,
        requests: u32,
        per: Duration,
    ) -> Result<RateLimits, Error> {
        let pattern = RoutePattern::parse(pattern)?;
        self.routes.insert(0, (pattern, Limit::new(requests, per)));
        Ok(self)
    }

    /// The limit of routes no rule names (`None`: unlimited).
    #[must_use]
    pub fn default_route(mut self, limit: Option<Limit>) -> RateLimits {
        self.default_route = limit;
        self
    }

    /// The global per-token limit (`None`: none).
    #[must_use]
    pub fn global(mut self, limit: Option<Limit>) -> RateLimits {
        self.global = limit;
        self
    }

    fn limit_for(&self, method: &str, route: &Route, path: &str) -> Option<Limit> {
        self.routes
            .iter()
            .find(|(p, _)| p.matches(method, route, path))
            .map(|(_, l)| *l)
            .or(self.default_route)
    }
}

#[derive(Debug)]
struct Window {
    limit: u32,
    used: u32,
    reset_at: Instant,
    reset_unix: f64,
}

impl Window {
    fn fresh(limit: Limit, now: Instant) -> Window {
        Window {
            limit: limit.requests,
            used: 0,
            reset_at: now + limit.per,
            reset_unix: unix_now() + limit.per.as_secs_f64(),
        }
    }
}

/// The verdict for one request.
#[derive(Debug)]
pub(crate) struct Verdict {
    /// `X-RateLimit-*` (and on 429, `Retry-After`, `X-RateLimit-Scope`/`-Global`) headers.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Set when the request must be answered 429 with this body.
    pub(crate) limited: Option<Value>,
}

/// Rate-limit state: one window per (identity, bucket, top-level resource), one global window
/// per identity.
#[derive(Debug)]
pub(crate) struct Limiter {
    config: RateLimits,
    buckets: HashMap<(String, &'static str, &'static str, Option<String>), Window>,
    global: HashMap<String, Window>,
    /// 429s answered because a bucket was exhausted (not injected ones).
    pub(crate) limited_count: u64,
}

impl Limiter {
    pub(crate) fn new(config: RateLimits) -> Limiter {
        Limiter {
            config,
            buckets: HashMap::new(),
            global: HashMap::new(),
            limited_count: 0,
        }
    }

    pub(crate) fn set_config(&mut self, config: RateLimits) {
        self.config = config;
        self.buckets.clear();
        self.global.clear();
    }

    /// Counts the request against its buckets, or refuses it.
    pub(crate) fn check(
        &mut self,
        identity: &str,
        method: &str,
        route: &'static Route,
        path: &str,
        major: Option<String>,
        now: Instant,
    ) -> Verdict {
        let global = self
            .config
            .global
            .filter(|_| !route.id.is_interaction_endpoint());
        if let Some(limit) = global {
            let window = self
                .global
                .entry(identity.to_owned())
                .or_insert_with(|| Window::fresh(limit, now));
            if now >= window.reset_at {
                *window = Window::fresh(limit, now);
            }
            if window.used >= window.limit {
                let retry = window.reset_at.saturating_duration_since(now);
                self.limited_count += 1;
                let mut headers = vec![("X-RateLimit-Global", "true".to_owned())];
                headers.extend(scope_headers("global", retry));
                return Verdict {
                    headers,
                    limited: Some(body(retry, true)),
                };
            }
            window.used += 1;
        }
        let Some(limit) = self.config.limit_for(method, route, path) else {
            return Verdict {
                headers: Vec::new(),
                limited: None,
            };
        };
        let key = (identity.to_owned(), route.method, route.path, major);
        let window = self
            .buckets
            .entry(key)
            .or_insert_with(|| Window::fresh(limit, now));
        if now >= window.reset_at {
            *window = Window::fresh(limit, now);
        }
        if window.used >= window.limit {
            let retry = window.reset_at.saturating_duration_since(now);
            let mut headers = bucket_headers(route, window, now);
            headers.extend(scope_headers("user", retry));
            self.limited_count += 1;
            return Verdict {
                headers,
                limited: Some(body(retry, false)),
            };
        }
        window.used += 1;
        Verdict {
            headers: bucket_headers(route, window, now),
            limited: None,
        }
    }

    /// Empties the bucket for `retry_after`, as an injected 429 says it is.
    pub(crate) fn exhaust(
        &mut self,
        identity: &str,
        route: &'static Route,
        major: Option<String>,
        retry_after: Duration,
        now: Instant,
    ) {
        let key = (identity.to_owned(), route.method, route.path, major);
        let limit = self.buckets.get(&key).map_or(1, |w| w.limit);
        self.buckets.insert(
            key,
            Window {
                limit,
                used: limit,
                reset_at: now + retry_after,
                reset_unix: unix_now() + retry_after.as_secs_f64(),
            },
        );
    }
}

/// The headers and body of an injected 429.
pub(crate) fn injected(
    route: &Route,
    retry_after: Duration,
    global: bool,
) -> (Vec<(&'static str, String)>, Value) {
    let mut headers = vec![
        ("X-RateLimit-Limit", "1".to_owned()),
        ("X-RateLimit-Remaining", "0".to_owned()),
        (
            "X-RateLimit-Reset",
            format!("{:.3}", unix_now() + retry_after.as_secs_f64()),
        ),
        (
            "X-RateLimit-Reset-After",
            format!("{:.3}", retry_after.as_secs_f64()),
        ),
        ("X-RateLimit-Bucket", bucket_id(route)),
    ];
    if global {
        headers.push(("X-RateLimit-Global", "true".to_owned()));
    }
    headers.extend(scope_headers(
        if global { "global" } else { "user" },
        retry_after,
    ));
    (headers, body(retry_after, global))
}

fn bucket_headers(route: &Route, window: &Window, now: Instant) -> Vec<(&'static str, String)> {
    let reset_after = window.reset_at.saturating_duration_since(now);
    vec![
        ("X-RateLimit-Limit", window.limit.to_string()),
        (
            "X-RateLimit-Remaining",
            (window.limit - window.used.min(window.limit)).to_string(),
        ),
        ("X-RateLimit-Reset", format!("{:.3}", window.reset_unix)),
        (
            "X-RateLimit-Reset-After",
            format!("{:.3}", reset_after.as_secs_f64()),
        ),
        ("X-RateLimit-Bucket", bucket_id(route)),
    ]
}

fn scope_headers(scope: &str, retry: Duration) -> Vec<(&'static str, String)> {
    vec![
        (
            "Retry-After",
            retry.as_secs_f64().ceil().max(0.0).to_string(),
        ),
        ("X-RateLimit-Scope", scope.to_owned()),
    ]
}

/// The 429 body: `message`, `retry_after` (seconds, float), `global`; `code` 0 so it also
/// satisfies the spec's `RatelimitedResponse` (docs: "`code?` ... for some limits").
fn body(retry: Duration, global: bool) -> Value {
    let retry_after = (retry.as_secs_f64() * 1000.0).ceil() / 1000.0;
    json!({
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": global,
        "code": 0,
    })
}

/// A stable bucket id for a route: FNV-1a of `METHOD template`, as 32 hex digits like Discord's.
pub(crate) fn bucket_id(route: &Route) -> String {
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in route.method.bytes().chain(*b" ").chain(route.path.bytes()) {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    format!("{hash:032x}")
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{Match, find};

    fn route(method: &str, path: &str) -> &'static Route {
        match find(method, path) {
            Match::Found(r, _) => r,
            _ => panic!("no route"),
        }
    }

    #[test]
    fn buckets_count_down_then_refuse_until_reset() {
        let limits = RateLimits::unlimited()
            .route(
                "POST /channels/{channel_id}/messages",
                2,
                Duration::from_secs(5),
            )
            .unwrap();
        let mut limiter = Limiter::new(limits);
        let r = route("POST", "/channels/1/messages");
        let now = Instant::now();
        let check = |l: &mut Limiter, major: &str, at| {
            l.check(
                "bot",
                "POST",
                r,
                "/channels/1/messages",
                Some(major.to_owned()),
                at,
            )
        };
        let first = check(&mut limiter, "1", now);
        assert!(first.limited.is_none());
        assert!(
            first
                .headers
                .contains(&("X-RateLimit-Remaining", "1".to_owned()))
        );
        assert!(check(&mut limiter, "1", now).limited.is_none());
        let third = check(&mut limiter, "1", now);
        let body = third.limited.expect("third request is limited");
        assert_eq!(body["global"], false);
        assert_eq!(body["retry_after"], 5.0);
        assert!(third.headers.contains(&("Retry-After", "5".to_owned())));
        // Another channel is another bucket.
        assert!(check(&mut limiter, "2", now).limited.is_none());
        // After the window, the bucket is full again.
        assert!(
            check(&mut limiter, "1", now + Duration::from_secs(5))
                .limited
                .is_none()
        );
        assert_eq!(limiter.limited_count, 1);
    }

    #[test]
    fn the_global_limit_applies_across_routes() {
        let limits = RateLimits::unlimited().global(Some(Limit::new(1, Duration::from_secs(1))));
        let mut limiter = Limiter::new(limits);
        let now = Instant::now();
        let a = route("GET", "/users/@me");
        let b = route("GET", "/channels/1");
        assert!(
            limiter
                .check("bot", "GET", a, "/users/@me", None, now)
                .limited
                .is_none()
        );
        let refused = limiter.check("bot", "GET", b, "/channels/1", None, now);
        assert_eq!(refused.limited.unwrap()["global"], true);
        assert!(
            refused
                .headers
                .contains(&("X-RateLimit-Global", "true".to_owned()))
        );
        assert!(
            limiter
                .check("user", "GET", b, "/channels/1", None, now)
                .limited
                .is_none()
        );
    }

    #[test]
    fn bucket_ids_are_stable_and_distinct() {
        let a = bucket_id(route("POST", "/channels/1/messages"));
        let b = bucket_id(route("GET", "/channels/1/messages"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(a, bucket_id(route("POST", "/channels/2/messages")));
    }
}
