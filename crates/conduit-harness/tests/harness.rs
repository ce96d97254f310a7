//! The harness against a real Conduit: accounts by registration token, a password login, rooms,
//! messages, threads, a crash and a restart.

use conduit_harness::Conduit;

#[tokio::test]
async fn messages_survive_a_crash_and_a_restart() {
    let mut conduit = Conduit::start().await;
    assert!(conduit.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(conduit.server_name(), "localhost");

    let alice = conduit.register("alice").await;
    let bob = conduit.register("bob").await;
    assert_eq!(alice.user_id, "@alice:localhost");
    assert_ne!(alice.access_token, bob.access_token);
    assert!(!bob.device_id.is_empty());

    let bob_again = conduit.login(&bob, "a second device").await;
    assert_eq!(bob_again.user_id, bob.user_id);
    assert_ne!(bob_again.device_id, bob.device_id);

    let room = conduit.create_room(&alice, &[&bob]).await;
    let root = conduit.send_text(&alice, &room, "question?", None).await;
    let reply = conduit
        .send_text(&bob_again, &room, "answer.", Some(&root))
        .await;

    let messages = conduit.messages(&bob, &room, 50).await;
    let bodies: Vec<&str> = messages
        .iter()
        .map(|message| message["content"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["question?", "answer."], "{messages:#?}");
    assert_eq!(messages[0]["event_id"], root.as_str());
    assert_eq!(messages[1]["event_id"], reply.as_str());
    assert_eq!(
        messages[1]["content"]["m.relates_to"]["rel_type"],
        "m.thread"
    );
    let events = conduit.events(&bob, &room, 50).await;
    assert!(
        events.iter().any(|event| event["type"] == "m.room.member"
            && event["state_key"] == bob.user_id.as_str()
            && event["content"]["membership"] == "join"),
        "{events:#?}"
    );

    let pid = conduit.pid().unwrap();
    conduit.kill().await;
    assert_eq!(conduit.pid(), None);
    conduit.restart().await;
    assert_ne!(conduit.pid(), Some(pid));
    let after = conduit.messages(&alice, &room, 50).await;
    assert_eq!(after.len(), 2, "{after:#?}");

    conduit.stop().await;
    conduit.restart().await;
    let (status, answer) = conduit
        .request(
            Some(&alice),
            "GET",
            "/_matrix/client/v3/account/whoami",
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["user_id"], alice.user_id.as_str());
}
