//! The harness against a real Synapse: users, rooms, messages, threads, a crash and a restart,
//! and the strict rate limit that 429 tests rely on.

use std::time::Instant;

use serde_json::json;
use synapse_harness::{STRICT_MESSAGE_BURST, Synapse};

#[tokio::test]
#[allow(
    clippy::print_stderr,
    reason = "timings for a person running --nocapture"
)]
async fn messages_survive_a_crash_and_a_restart() {
    let started = Instant::now();
    let mut synapse = Synapse::start().await;
    let ready = started.elapsed();
    assert!(synapse.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(synapse.server_name(), "localhost");

    let registering = Instant::now();
    let alice = synapse.register("alice").await;
    let bob = synapse.register("bob").await;
    let registered = registering.elapsed();
    assert_eq!(alice.user_id, "@alice:localhost");
    assert_ne!(alice.access_token, bob.access_token);
    assert!(!bob.device_id.is_empty());

    let room = synapse.create_room(&alice, &[&bob]).await;
    let root = synapse.send_text(&alice, &room, "question?", None).await;
    let reply = synapse.send_text(&bob, &room, "answer.", Some(&root)).await;

    let messages = synapse.messages(&bob, &room, 10).await;
    let bodies: Vec<&str> = messages
        .iter()
        .map(|message| message["content"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["question?", "answer."], "{messages:#?}");
    assert_eq!(messages[0]["event_id"], root.as_str());
    assert_eq!(messages[0]["sender"], alice.user_id.as_str());
    assert_eq!(messages[1]["event_id"], reply.as_str());
    assert_eq!(
        messages[1]["content"]["m.relates_to"]["rel_type"],
        "m.thread"
    );
    assert_eq!(
        messages[1]["content"]["m.relates_to"]["event_id"],
        root.as_str()
    );
    // Bob joined, so the unfiltered timeline holds his membership too.
    let events = synapse.events(&bob, &room, 50).await;
    assert!(
        events.iter().any(|event| event["type"] == "m.room.member"
            && event["state_key"] == bob.user_id.as_str()
            && event["content"]["membership"] == "join"),
        "{events:#?}"
    );

    let pid = synapse.pid().unwrap();
    synapse.kill().await;
    assert_eq!(synapse.pid(), None);
    let versions = format!("{}/_matrix/client/versions", synapse.base_url());
    assert!(
        reqwest::get(&versions).await.is_err(),
        "Synapse still answers after SIGKILL"
    );

    let restarted = Instant::now();
    synapse.restart().await;
    let ready_again = restarted.elapsed();
    assert_ne!(synapse.pid(), Some(pid));
    let bodies_after: Vec<String> = synapse
        .messages(&alice, &room, 10)
        .await
        .iter()
        .map(|message| message["content"]["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bodies_after, ["question?", "answer."]);
    // The same token still works: the session lives in the database, not the process.
    synapse.send_text(&bob, &room, "still here", None).await;

    synapse.stop().await;
    assert_eq!(synapse.pid(), None);
    synapse.restart().await;
    assert_eq!(synapse.messages(&alice, &room, 1).await.len(), 1);

    // Shown with --nocapture; the harness's start-up time matters to every Matrix test.
    eprintln!(
        "start to ready: {ready:?}; two users registered in {registered:?}; \
         restart after SIGKILL to ready: {ready_again:?}"
    );
}

#[tokio::test]
async fn the_strict_variant_answers_429_once_the_burst_is_spent() {
    let synapse = Synapse::start_with_rate_limits().await;
    let alice = synapse.register("alice").await;
    let bob = synapse.register("bob").await;
    // Creating, inviting and joining count against rc_message: the helpers wait those out.
    let room = synapse.create_room(&alice, &[&bob]).await;

    let mut statuses = Vec::new();
    for index in 0..=STRICT_MESSAGE_BURST {
        let path = format!("/_matrix/client/v3/rooms/{room}/send/m.room.message/burst-{index}");
        let body = json!({ "msgtype": "m.text", "body": format!("burst {index}") });
        let (status, answer) = synapse.request(Some(&bob), "PUT", &path, Some(&body)).await;
        if status == 429 {
            assert_eq!(answer["errcode"], "M_LIMIT_EXCEEDED", "{answer}");
            assert!(answer["retry_after_ms"].as_u64().is_some(), "{answer}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

    // The helpers themselves wait out the limit.
    synapse.send_text(&bob, &room, "after the wait", None).await;
    let last = synapse.messages(&alice, &room, 1).await;
    assert_eq!(last[0]["content"]["body"], "after the wait");
}
