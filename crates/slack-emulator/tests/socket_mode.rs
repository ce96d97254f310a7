//! Socket Mode over a real WebSocket: hello, events_api envelopes, acks and redelivery,
//! disconnect frames and block_actions clicks.

mod common;

use std::time::{Duration, Instant};

use common::{call, connect, is_event, next_envelope, next_frame, redact, send_ack};
use serde_json::{Value, json};
use slack_emulator::{Config, Emulator};

fn quiet() -> Config {
    Config::default().echo_own_messages(false)
}

#[tokio::test]
async fn hello_then_message_and_app_mention_envelopes() {
    let slack = Emulator::start(quiet()).unwrap();
    let (mut ws, hello) = connect(&slack).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["num_connections"], 1);
    assert_eq!(hello["connection_info"]["app_id"], slack.app_id());
    let operator = slack.add_user("operator");
    let text = format!("<@{}> deploy?", slack.bot_user_id());
    let ts = slack
        .post_as(&operator, slack.channel_id(), &text, None)
        .unwrap();
    let message = next_envelope(&mut ws, true, |f| is_event(f, "message", None)).await;
    let mention = next_envelope(&mut ws, true, |f| is_event(f, "app_mention", None)).await;
    assert_eq!(message["type"], "events_api");
    assert_eq!(message["retry_attempt"], 0);
    assert_eq!(message["payload"]["event"]["ts"], ts.as_str());
    assert_eq!(mention["payload"]["event"]["ts"], ts.as_str());
    assert_ne!(
        message["payload"]["event_id"],
        mention["payload"]["event_id"]
    );
    let mut snapshot = message.clone();
    redact(&mut snapshot);
    insta::assert_json_snapshot!("message_envelope", snapshot);

    // Thread replies, edits, deletions and reactions follow.
    let reply = slack
        .post_as(&operator, slack.channel_id(), "in thread", Some(&ts))
        .unwrap();
    let event = next_envelope(&mut ws, true, |f| is_event(f, "message", None)).await;
    assert_eq!(event["payload"]["event"]["thread_ts"], ts.as_str());
    slack
        .edit_as(&operator, slack.channel_id(), &reply, "edited")
        .unwrap();
    let changed = next_envelope(&mut ws, true, |f| {
        is_event(f, "message", Some("message_changed"))
    })
    .await;
    assert_eq!(changed["payload"]["event"]["message"]["text"], "edited");
    slack
        .react_as(&operator, slack.channel_id(), &ts, "eyes")
        .unwrap();
    next_envelope(&mut ws, true, |f| is_event(f, "reaction_added", None)).await;
    slack
        .delete_as(&operator, slack.channel_id(), &reply)
        .unwrap();
    let deleted = next_envelope(&mut ws, true, |f| {
        is_event(f, "message", Some("message_deleted"))
    })
    .await;
    assert_eq!(deleted["payload"]["event"]["deleted_ts"], reply.as_str());

    // Nothing from a channel the bot is not in.
    let elsewhere = slack.add_channel("elsewhere", false);
    slack
        .post_as(&operator, &elsewhere, "unseen", None)
        .unwrap();
    assert!(
        next_frame(&mut ws, Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn acked_envelopes_are_not_redelivered_but_unacked_ones_are() {
    let slack = Emulator::start(quiet()).unwrap();
    let (mut ws, _) = connect(&slack).await;
    let operator = slack.add_user("operator");
    slack
        .post_as(&operator, slack.channel_id(), "acked", None)
        .unwrap();
    let first = next_envelope(&mut ws, true, |_| true).await;
    assert_eq!(first["retry_attempt"], 0);
    assert!(
        next_frame(&mut ws, Duration::from_millis(3500))
            .await
            .is_none(),
        "no redelivery after an ack"
    );
    assert_eq!(slack.unacked(), 0);

    slack
        .post_as(&operator, slack.channel_id(), "not acked", None)
        .unwrap();
    let sent = Instant::now();
    let original = next_frame(&mut ws, Duration::from_secs(2)).await.unwrap();
    let again = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert!(
        sent.elapsed() >= Duration::from_millis(2900),
        "redelivered after about 3 s"
    );
    assert_eq!(again["envelope_id"], original["envelope_id"]);
    assert_eq!(
        (
            again["retry_attempt"].clone(),
            again["retry_reason"].clone()
        ),
        (json!(1), json!("timeout"))
    );
    send_ack(&mut ws, again["envelope_id"].as_str().unwrap()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(slack.unacked(), 0);
}

#[tokio::test]
async fn ignored_acks_redeliver_and_a_new_connection_gets_them() {
    let slack = Emulator::start(quiet()).unwrap();
    let (mut ws, _) = connect(&slack).await;
    slack.faults().ignore_acks(1);
    let operator = slack.add_user("operator");
    slack
        .post_as(&operator, slack.channel_id(), "once", None)
        .unwrap();
    let first = next_envelope(&mut ws, true, |_| true).await;
    slack.faults().drop_sockets();
    assert!(
        next_frame(&mut ws, Duration::from_secs(1)).await.is_none(),
        "the socket is dropped"
    );
    let (mut ws2, _) = connect(&slack).await;
    let again = next_envelope(&mut ws2, true, |_| true).await;
    assert_eq!(again["envelope_id"], first["envelope_id"]);
    assert_eq!(again["retry_attempt"], 1);
}

#[tokio::test]
async fn disconnect_frames_then_close() {
    let slack = Emulator::start(quiet()).unwrap();
    let (mut ws, _) = connect(&slack).await;
    let (mut ws2, hello2) = connect(&slack).await;
    assert_eq!(hello2["num_connections"], 2);
    slack.faults().disconnect_warning();
    assert_eq!(
        next_frame(&mut ws, Duration::from_secs(2)).await.unwrap()["reason"],
        "warning"
    );
    slack.faults().disconnect_refresh_requested();
    let frame = next_frame(&mut ws, Duration::from_secs(2)).await.unwrap();
    assert_eq!(
        (frame["type"].as_str(), frame["reason"].as_str()),
        (Some("disconnect"), Some("refresh_requested"))
    );
    assert!(
        next_frame(&mut ws, Duration::from_secs(2)).await.is_none(),
        "closed after the frame"
    );
    next_frame(&mut ws2, Duration::from_secs(2)).await.unwrap();
    let (mut ws3, _) = connect(&slack).await;
    slack.faults().disconnect_link_disabled();
    assert_eq!(
        next_frame(&mut ws3, Duration::from_secs(2)).await.unwrap()["reason"],
        "link_disabled"
    );
}

#[tokio::test]
async fn click_sends_block_actions_and_response_url_shows_an_ephemeral() {
    let slack = Emulator::start(quiet()).unwrap();
    let (mut ws, _) = connect(&slack).await;
    let blocks = json!([{"type": "actions", "block_id": "approve", "elements": [
        {"type": "button", "action_id": "yes", "value": "ok", "text": {"type": "plain_text", "text": "Yes"}}
    ]}]);
    let posted = call(
        &slack.api_url(),
        slack.bot_token(),
        "chat.postMessage",
        json!({"channel": slack.channel_id(), "text": "Approve?", "blocks": blocks}),
    )
    .await;
    let ts = posted.body["ts"].as_str().unwrap().to_owned();
    let operator = slack.add_user("operator");
    assert!(
        slack
            .click(&operator, slack.channel_id(), &ts, "nope", None)
            .is_err()
    );
    slack
        .click(&operator, slack.channel_id(), &ts, "yes", None)
        .unwrap();
    let envelope = next_envelope(&mut ws, true, |f| f["type"] == "interactive").await;
    let payload = &envelope["payload"];
    assert_eq!(payload["type"], "block_actions");
    assert_eq!(payload["actions"][0]["action_id"], "yes");
    assert_eq!(payload["actions"][0]["value"], "ok");
    assert_eq!(payload["user"]["id"], operator.id.as_str());
    assert_eq!(payload["container"]["message_ts"], ts.as_str());
    assert!(
        payload["trigger_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let response_url = payload["response_url"].as_str().unwrap();
    let answered = reqwest::Client::new()
        .post(response_url)
        .json(&json!({"text": "Approved, thanks"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let seen = slack.ephemeral_seen_by(&operator);
    assert_eq!(seen[0].text, "Approved, thanks");
    assert!(seen[0].via_response_url);
    reqwest::Client::new()
        .post(response_url)
        .json(&json!({"replace_original": true, "text": "Approved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(slack.messages(slack.channel_id())[0].text, "Approved");
    assert_eq!(slack.response_url_posts().len(), 2);
    let _: Value = envelope;
}
