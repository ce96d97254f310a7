//! The Web API over real HTTP: auth and scopes, the message round trip, threads, metadata,
//! the lose-response fault, rate limits and the v2 file upload.

mod common;

use common::{call, call_form};
use serde_json::json;
use slack_emulator::{Config, Emulator, Failure, Limit, RateLimits};

#[tokio::test]
async fn auth_tokens_and_scopes() {
    let slack = Emulator::start(Config::default()).unwrap();
    let api = slack.api_url();
    let ok = call(&api, slack.bot_token(), "auth.test", json!({})).await;
    assert_eq!(ok.body["ok"], true);
    assert_eq!(ok.body["user_id"], slack.bot_user_id());
    assert!(ok.header("x-oauth-scopes").unwrap().contains("chat:write"));

    let none = call_form(&api, None, "auth.test", &[]).await;
    let bad = call(&api, "xoxb-nope", "auth.test", json!({})).await;
    let app_for_chat = call(&api, slack.app_token(), "chat.postMessage", json!({})).await;
    let bot_for_socket = call(&api, slack.bot_token(), "apps.connections.open", json!({})).await;
    slack.set_scopes(&["channels:history"]);
    let missing = call(
        &api,
        slack.bot_token(),
        "chat.postMessage",
        json!({"channel": slack.channel_id(), "text": "x"}),
    )
    .await;
    assert_eq!(missing.header("x-oauth-scopes"), Some("channels:history"));
    slack.set_scopes(&["chat:write", "channels:history"]);
    let hidden = slack.add_channel("elsewhere", false);
    let not_in = call(
        &api,
        slack.bot_token(),
        "chat.postMessage",
        json!({"channel": hidden, "text": "x"}),
    )
    .await;
    let unknown = call(
        &api,
        slack.bot_token(),
        "chat.postMessage",
        json!({"channel": "C404", "text": "x"}),
    )
    .await;
    insta::assert_json_snapshot!(
        "error_bodies",
        [
            none.body,
            bad.body,
            app_for_chat.body,
            bot_for_socket.body,
            missing.body,
            not_in.body,
            unknown.body
        ]
    );
}

#[tokio::test]
async fn post_update_delete_round_trip_with_history_and_replies() {
    let slack = Emulator::start(Config::default()).unwrap();
    let (api, token, channel) = (
        slack.api_url(),
        slack.bot_token().to_owned(),
        slack.channel_id().to_owned(),
    );
    let posted = call_form(
        &api,
        Some(&token),
        "chat.postMessage",
        &[("channel", &channel), ("text", "first & *bold*")],
    )
    .await;
    assert_eq!(posted.body["ok"], true, "{}", posted.body);
    let ts = posted.body["ts"].as_str().unwrap().to_owned();
    assert_eq!(posted.body["message"]["text"], "first & *bold*");

    let operator = slack.add_user("operator");
    let reply_ts = slack
        .post_as(&operator, &channel, "a reply", Some(&ts))
        .unwrap();
    let bot_reply = call(
        &api,
        &token,
        "chat.postMessage",
        json!({"channel": channel, "text": "bot reply", "thread_ts": reply_ts}),
    )
    .await;
    assert_eq!(
        bot_reply.body["message"]["thread_ts"],
        ts.as_str(),
        "a reply to a reply joins the thread"
    );

    let updated = call(
        &api,
        &token,
        "chat.update",
        json!({"channel": channel, "ts": ts, "text": "edited"}),
    )
    .await;
    assert_eq!(updated.body["text"], "edited");
    let history = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel}),
    )
    .await;
    let messages = history.body["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        1,
        "replies stay out of history: {history:?}"
    );
    assert_eq!(messages[0]["text"], "edited");
    assert_eq!(messages[0]["reply_count"], 2);
    assert!(messages[0]["edited"].is_object());

    let replies = call_form(
        &api,
        Some(&token),
        "conversations.replies",
        &[("channel", &channel), ("ts", &ts)],
    )
    .await;
    let texts: Vec<&str> = replies.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["edited", "a reply", "bot reply"]);
    assert_eq!(slack.replies(&channel, &ts).len(), 2);

    let not_mine = call(
        &api,
        &token,
        "chat.update",
        json!({"channel": channel, "ts": reply_ts, "text": "x"}),
    )
    .await;
    assert_eq!(not_mine.body["error"], "cant_update_message");
    let deleted = call(
        &api,
        &token,
        "chat.delete",
        json!({"channel": channel, "ts": ts}),
    )
    .await;
    assert_eq!(deleted.body["ok"], true);
    let history = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel}),
    )
    .await;
    assert_eq!(history.body["messages"], json!([]));
    let gone = call(
        &api,
        &token,
        "chat.delete",
        json!({"channel": channel, "ts": ts}),
    )
    .await;
    assert_eq!(gone.body["error"], "message_not_found");
}

#[tokio::test]
async fn history_pages_with_cursor_and_bounds_and_returns_metadata_on_request() {
    let slack = Emulator::start(Config::default()).unwrap();
    let (api, token, channel) = (
        slack.api_url(),
        slack.bot_token().to_owned(),
        slack.channel_id().to_owned(),
    );
    let mut stamps = Vec::new();
    for i in 0..5 {
        let metadata = json!({"event_type": "task_posted", "event_payload": {"n": i}});
        let posted = call(
            &api,
            &token,
            "chat.postMessage",
            json!({"channel": channel, "text": format!("m{i}"), "metadata": metadata}),
        )
        .await;
        stamps.push(posted.body["ts"].as_str().unwrap().to_owned());
    }
    let page1 = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel, "limit": 2}),
    )
    .await;
    assert_eq!(page1.body["has_more"], true);
    assert!(
        page1.body["messages"][0].get("metadata").is_none(),
        "no metadata unless asked"
    );
    let cursor = page1.body["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let page2 = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel, "limit": 2, "cursor": cursor, "include_all_metadata": true}),
    )
    .await;
    let texts: Vec<&str> = page2.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["m2", "m1"]);
    assert_eq!(
        page2.body["messages"][0]["metadata"],
        json!({"event_type": "task_posted", "event_payload": {"n": 2}})
    );

    let bounded = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel, "oldest": stamps[1], "latest": stamps[3], "inclusive": true}),
    )
    .await;
    assert_eq!(bounded.body["messages"].as_array().unwrap().len(), 3);
    let exclusive = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel, "oldest": stamps[1], "latest": stamps[3]}),
    )
    .await;
    assert_eq!(exclusive.body["messages"].as_array().unwrap().len(), 1);
    let bad = call(
        &api,
        &token,
        "conversations.history",
        json!({"channel": channel, "cursor": "%%%"}),
    )
    .await;
    assert_eq!(bad.body["error"], "invalid_cursor");
}

#[tokio::test]
async fn long_text_is_truncated_at_forty_thousand_characters() {
    let slack = Emulator::start(Config::default()).unwrap();
    let text = "x".repeat(slack_emulator::MAX_TEXT_CHARS + 10);
    let posted = call(
        &slack.api_url(),
        slack.bot_token(),
        "chat.postMessage",
        json!({"channel": slack.channel_id(), "text": text}),
    )
    .await;
    assert_eq!(
        posted.body["message"]["text"].as_str().unwrap().len(),
        slack_emulator::MAX_TEXT_CHARS
    );
}

#[tokio::test]
async fn lost_response_applies_post_message_exactly_once() {
    let slack = Emulator::start(Config::default()).unwrap();
    slack.faults().lose_response("chat.postMessage", 1);
    let url = format!("{}chat.postMessage", slack.api_url());
    let lost = reqwest::Client::new()
        .post(&url)
        .bearer_auth(slack.bot_token())
        .json(&json!({"channel": slack.channel_id(), "text": "only once"}))
        .send()
        .await;
    assert!(lost.is_err(), "the connection is dropped before the answer");
    let history = call(
        &slack.api_url(),
        slack.bot_token(),
        "conversations.history",
        json!({"channel": slack.channel_id()}),
    )
    .await;
    let messages = history.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "only once");
    assert!(
        slack
            .api_calls()
            .iter()
            .any(|c| c.lost && c.method == "chat.postMessage")
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let limits = RateLimits::none().with("auth.test", Limit::per_minute(2));
    let slack = Emulator::start(Config::default().rate_limits(limits)).unwrap();
    for _ in 0..2 {
        assert_eq!(
            call(&slack.api_url(), slack.bot_token(), "auth.test", json!({}))
                .await
                .status,
            200
        );
    }
    let limited = call(&slack.api_url(), slack.bot_token(), "auth.test", json!({})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body, json!({"ok": false, "error": "ratelimited"}));
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));

    slack
        .faults()
        .fail_next("users.info", 1, Failure::RateLimited { retry_after: 7 });
    let injected = call(
        &slack.api_url(),
        slack.bot_token(),
        "users.info",
        json!({"user": slack.bot_user_id()}),
    )
    .await;
    assert_eq!(
        (injected.status.as_u16(), injected.header("retry-after")),
        (429, Some("7"))
    );
    slack
        .faults()
        .fail_next("users.info", 1, Failure::Error("fatal_error".into()));
    let failed = call(
        &slack.api_url(),
        slack.bot_token(),
        "users.info",
        json!({"user": slack.bot_user_id()}),
    )
    .await;
    assert_eq!(failed.body["error"], "fatal_error");
    let ok = call(
        &slack.api_url(),
        slack.bot_token(),
        "users.info",
        json!({"user": slack.bot_user_id()}),
    )
    .await;
    assert_eq!(ok.body["user"]["is_bot"], true);
}

#[tokio::test]
async fn restricted_history_limits_calls_and_page_size() {
    let slack =
        Emulator::start(Config::default().rate_limits(RateLimits::none().restricted_history()))
            .unwrap();
    let operator = slack.add_user("operator");
    for i in 0..20 {
        slack
            .post_as(&operator, slack.channel_id(), &format!("{i}"), None)
            .unwrap();
    }
    let first = call(
        &slack.api_url(),
        slack.bot_token(),
        "conversations.history",
        json!({"channel": slack.channel_id(), "limit": 100}),
    )
    .await;
    assert_eq!(
        first.body["messages"].as_array().unwrap().len(),
        slack_emulator::RESTRICTED_HISTORY_PAGE
    );
    let second = call(
        &slack.api_url(),
        slack.bot_token(),
        "conversations.history",
        json!({"channel": slack.channel_id()}),
    )
    .await;
    assert_eq!(second.status, 429);
}

#[tokio::test]
async fn file_upload_v2_lands_in_a_thread() {
    let slack = Emulator::start(Config::default()).unwrap();
    let (api, token, channel) = (
        slack.api_url(),
        slack.bot_token().to_owned(),
        slack.channel_id().to_owned(),
    );
    let parent = call(
        &api,
        &token,
        "chat.postMessage",
        json!({"channel": channel, "text": "report follows"}),
    )
    .await;
    let thread_ts = parent.body["ts"].as_str().unwrap().to_owned();
    let url = call_form(
        &api,
        Some(&token),
        "files.getUploadURLExternal",
        &[("filename", "report.txt"), ("length", "5")],
    )
    .await;
    let upload_url = url.body["upload_url"].as_str().unwrap();
    let file_id = url.body["file_id"].as_str().unwrap().to_owned();
    let uploaded = reqwest::Client::new()
        .post(upload_url)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    let files = json!([{"id": file_id, "title": "Report"}]).to_string();
    let done = call_form(
        &api,
        Some(&token),
        "files.completeUploadExternal",
        &[
            ("files", &files),
            ("channel_id", &channel),
            ("thread_ts", &thread_ts),
            ("initial_comment", "here"),
        ],
    )
    .await;
    assert_eq!(
        done.body["files"][0]["id"],
        file_id.as_str(),
        "{}",
        done.body
    );
    let replies = slack.replies(&channel, &thread_ts);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].files, std::slice::from_ref(&file_id));
    let file = &slack.uploaded_files()[0];
    assert_eq!(
        (file.bytes.as_deref(), file.title.as_deref()),
        (Some(&b"hello"[..]), Some("Report"))
    );
    let info = call(&api, &token, "files.info", json!({"file": file_id})).await;
    assert_eq!(info.body["file"]["size"], 5);
}

#[tokio::test]
async fn restart_keeps_state_on_the_same_port() {
    let slack = Emulator::start(Config::default()).unwrap();
    let operator = slack.add_user("operator");
    slack
        .post_as(&operator, slack.channel_id(), "before", None)
        .unwrap();
    slack.stop();
    assert!(
        reqwest::get(format!("{}auth.test", slack.api_url()))
            .await
            .is_err()
    );
    slack.restart().unwrap();
    let history = call(
        &slack.api_url(),
        slack.bot_token(),
        "conversations.history",
        json!({"channel": slack.channel_id()}),
    )
    .await;
    assert_eq!(history.body["messages"][0]["text"], "before");
}
