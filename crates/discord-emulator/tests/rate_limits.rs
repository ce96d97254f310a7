//! HTTP rate limits: headers on every answer, 429 body and headers once a bucket is empty,
//! `retry_after` honoured, per-channel buckets, the global limit and injected 429s.

mod common;

use std::time::{Duration, Instant};

use common::Api;
use discord_emulator::{Config, Emulator, Limit, RateLimits};
use serde_json::json;

#[tokio::test]
async fn message_create_allows_five_per_five_seconds_per_channel() {
    let emu = Emulator::start(Config::default()).unwrap();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    let mut bucket = None;
    for i in 0..5 {
        let ok = bot.post(&path, &json!({"content": format!("m{i}")})).await;
        assert_eq!(ok.status, 200);
        assert_eq!(ok.header("x-ratelimit-limit"), Some("5"));
        assert_eq!(
            ok.header("x-ratelimit-remaining"),
            Some((4 - i).to_string().as_str())
        );
        let reset_after: f64 = ok
            .header("x-ratelimit-reset-after")
            .unwrap()
            .parse()
            .unwrap();
        assert!(reset_after > 0.0 && reset_after <= 5.0);
        let reset: f64 = ok.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset > 1_600_000_000.0, "an epoch time in seconds");
        let id = ok.header("x-ratelimit-bucket").unwrap().to_owned();
        assert_eq!(bucket.get_or_insert(id.clone()), &id, "one bucket");
    }
    let limited = bot.post(&path, &json!({"content": "too many"})).await;
    assert_eq!(limited.status, 429);
    let body = limited.json();
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry_after = body["retry_after"]
        .as_f64()
        .expect("retry_after is a float");
    assert!(retry_after > 0.0 && retry_after <= 5.0, "{retry_after}");
    let header: f64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(header, retry_after.ceil());
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(limited.header("x-ratelimit-scope"), Some("user"));
    assert!(limited.header("x-ratelimit-global").is_none());
    assert_eq!(
        emu.messages(emu.channel_id()).len(),
        5,
        "the refused request had no effect"
    );
    assert_eq!(emu.rate_limited_count(), 1);

    // Another channel has its own bucket.
    let other = emu.add_channel("other", true);
    assert_eq!(
        bot.post(
            &format!("/channels/{other}/messages"),
            &json!({"content": "x"})
        )
        .await
        .status,
        200
    );

    // Waiting retry_after is enough.
    tokio::time::sleep(Duration::from_secs_f64(retry_after)).await;
    assert_eq!(
        bot.post(&path, &json!({"content": "after waiting"}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_global_limit_counts_every_route() {
    let limits = RateLimits::unlimited().global(Some(Limit::new(3, Duration::from_secs(2))));
    let emu = Emulator::start(Config::default().rate_limits(limits)).unwrap();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    assert_eq!(bot.get("/users/@me").await.status, 200);
    assert_eq!(
        bot.get(&format!("/channels/{}", emu.channel_id()))
            .await
            .status,
        200
    );
    assert_eq!(bot.get("/gateway/bot").await.status, 200);
    let limited = bot.get("/users/@me").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["global"], true);
    assert_eq!(limited.header("x-ratelimit-global"), Some("true"));
    assert_eq!(limited.header("x-ratelimit-scope"), Some("global"));
    // Users have their own global limit.
    let operator = emu.add_user("operator");
    assert_eq!(
        Api::user(&emu.base_url(), &operator.token)
            .get("/users/@me")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_injected_429_must_be_waited_out() {
    let emu = Emulator::start(Config::default()).unwrap();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    emu.faults()
        .fail_next_rate_limited(
            "POST /channels/{channel_id}/messages",
            1,
            Duration::from_millis(700),
            false,
        )
        .unwrap();
    let started = Instant::now();
    let injected = bot.post(&path, &json!({"content": "x"})).await;
    assert_eq!(injected.status, 429);
    assert_eq!(injected.json()["retry_after"], 0.7);
    assert_eq!(injected.header("retry-after"), Some("1"));
    assert_eq!(emu.rate_limited_count(), 0, "injected 429s are not counted");
    // Retrying at once meets a real 429...
    let early = bot.post(&path, &json!({"content": "x"})).await;
    assert_eq!(early.status, 429);
    assert_eq!(emu.rate_limited_count(), 1);
    // ...retrying after retry_after succeeds.
    let wait = Duration::from_millis(700).saturating_sub(started.elapsed());
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert_eq!(bot.post(&path, &json!({"content": "x"})).await.status, 200);

    // fail_next with 429 uses the default retry_after.
    emu.faults().fail_next("GET /users/@me", 1, 429).unwrap();
    let default = bot.get("/users/@me").await;
    assert_eq!(default.json()["retry_after"], 1.0);
}

#[tokio::test]
async fn reactions_are_limited_to_one_per_quarter_second() {
    let emu = Emulator::start(Config::default()).unwrap();
    let operator = emu.add_user("operator");
    let m = emu
        .post_as(&operator, emu.channel_id(), "react to me")
        .unwrap();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let put = |emoji: &'static str| {
        bot.send(bot.request(
            reqwest::Method::PUT,
            &format!(
                "/channels/{}/messages/{}/reactions/{emoji}/@me",
                emu.channel_id(),
                m.id
            ),
        ))
    };
    assert_eq!(put("%F0%9F%91%80").await.status, 204);
    let limited = put("%E2%9C%85").await;
    assert_eq!(limited.status, 429, "the bucket is shared by every emoji");
    let retry = limited.json()["retry_after"].as_f64().unwrap();
    tokio::time::sleep(Duration::from_secs_f64(retry)).await;
    assert_eq!(put("%E2%9C%85").await.status, 204);
}
