//! The optional capabilities against a real Synapse — reactions, edits, typing, history — and
//! what inbound edits and strangers' messages become.

mod common;

use common::{World, recv};
use connector_core::{
    Capability, HistoryQuery, MessageId, OrchestratorConnector, OutboundMessage, ThreadId,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_edits_typing_and_history() {
    let world = World::start().await;
    let connector = world.open().await;
    let caps = connector.capabilities();
    for capability in [
        Capability::Threads,
        Capability::Markdown,
        Capability::History,
        Capability::Reactions,
        Capability::Edits,
        Capability::Typing,
    ] {
        assert!(caps.supports(capability), "{capability}");
    }
    assert!(!caps.supports(Capability::Attachments));

    let question = world.post("ship it?").await;
    let question_id = MessageId::new(question.as_str());
    connector.react(&question_id, None, "👍").await.unwrap();
    connector
        .react(&question_id, None, "👍")
        .await
        .expect("reacting twice is not an error");
    let events = world.synapse.events(&world.operator, &world.room, 50).await;
    let reactions: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "m.reaction")
        .collect();
    assert_eq!(reactions.len(), 1, "{reactions:#?}");
    let annotation = &reactions[0]["content"]["m.relates_to"];
    assert_eq!(annotation["rel_type"], "m.annotation");
    assert_eq!(annotation["event_id"], question.as_str());
    assert_eq!(annotation["key"], "👍");

    let sent = connector
        .send(OutboundMessage::new("shipping to *prod*"))
        .await
        .unwrap();
    let sent_id = sent.message_id().unwrap().clone();
    connector
        .edit(&sent_id, None, "shipping to *staging*")
        .await
        .unwrap();
    let edit = world
        .messages(10)
        .await
        .into_iter()
        .find(|m| m["content"]["m.relates_to"]["rel_type"] == "m.replace")
        .expect("the edit event");
    assert_eq!(
        edit["content"]["m.relates_to"]["event_id"],
        sent_id.as_str()
    );
    assert_eq!(
        edit["content"]["m.new_content"]["body"],
        "shipping to *staging*"
    );
    assert_eq!(
        edit["content"]["m.new_content"]["formatted_body"],
        "shipping to <em>staging</em>"
    );

    connector.typing(None).await.unwrap();

    let in_thread = connector
        .send(OutboundMessage::new("thread detail").in_thread(question.as_str()))
        .await
        .unwrap();
    let history = connector.history(HistoryQuery::latest(10)).await.unwrap();
    let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["ship it?", "shipping to *prod*"],
        "main conversation, oldest first, both directions, no edits, no thread replies"
    );
    assert_eq!(history[0].sender.as_str(), world.operator.user_id);
    let thread = connector
        .history(HistoryQuery::latest(10).in_thread(question.as_str()))
        .await
        .unwrap();
    let texts: Vec<&str> = thread.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["ship it?", "thread detail"]);
    assert_eq!(thread[1].thread_id, Some(ThreadId::new(question.as_str())));
    assert_eq!(thread[1].message_id, in_thread.message_ids[0]);
    let last = connector.history(HistoryQuery::latest(1)).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].text, "shipping to *prod*");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_edits_and_strangers_are_not_delivered() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    let original = world.post("deploy to prod").await;
    assert_eq!(
        recv(&mut subscription, "the original").await.text,
        "deploy to prod"
    );
    let edit = json!({
        "msgtype": "m.text",
        "body": "* deploy to staging",
        "m.new_content": { "msgtype": "m.text", "body": "deploy to staging" },
        "m.relates_to": { "rel_type": "m.replace", "event_id": original },
    });
    let (status, answer) = world
        .synapse
        .request(
            Some(&world.operator),
            "PUT",
            &format!(
                "/_matrix/client/v3/rooms/{}/send/m.room.message/edit-1",
                world.room
            ),
            Some(&edit),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    world
        .synapse
        .send_text(&world.stranger, &world.room, "I am not the operator", None)
        .await;
    world.post("sentinel").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel",
        "an edit or a stranger's message was delivered"
    );
    let health = connector.health().await;
    assert_eq!(health.rejected_senders, 1, "{health:?}");
    assert!(
        health
            .detail
            .unwrap_or_default()
            .contains("allowed_senders"),
        "the detail names the allow-list"
    );
    connector.close().await.unwrap();
}
