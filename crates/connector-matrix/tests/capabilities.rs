//! The optional capabilities against a real Synapse — reactions both ways, edits, typing,
//! history — and what inbound edits and strangers' messages become.

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
        Capability::Attachments,
    ] {
        assert!(caps.supports(capability), "{capability}");
    }

    let question = world.post("ship it?").await;
    let question_id = MessageId::new(question.as_str());
    connector.react(&question_id, None, "👍").await.unwrap();
    connector
        .react(&question_id, None, "👍")
        .await
        .expect("reacting twice is not an error");
    let events = world
        .homeserver
        .events(&world.operator, &world.room, 50)
        .await;
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
        .homeserver
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
        .homeserver
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

/// Redacts `event` as `user` (taking a reaction back); answers the redaction's event id.
async fn redact_as(world: &World, user: &synapse_harness::User, event: &str) -> String {
    let txn = format!("redact-{}", txn_suffix(event, "", &user.user_id));
    let (status, answer) = world
        .homeserver
        .request(
            Some(user),
            "PUT",
            &format!(
                "/_matrix/client/v3/rooms/{}/redact/{event}/{txn}",
                world.room
            ),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["event_id"].as_str().unwrap().to_owned()
}

/// A transaction id suffix unique per (target, emoji, user).
fn txn_suffix(target: &str, emoji: &str, user: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    (target, emoji, user).hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_reactions_on_our_messages_come_in() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();

    let ours = connector
        .send(OutboundMessage::new("deploy v1.2?"))
        .await
        .unwrap();
    let ours = ours.message_id().unwrap().as_str().to_owned();
    let theirs = world.post("my own note").await;
    assert_eq!(
        recv(&mut subscription, "the note").await.text,
        "my own note"
    );

    // Not delivered: the operator's reaction on their own message, a stranger's on ours.
    world.react(&world.operator, &theirs, "👀").await;
    let stranger_reaction = world.react(&world.stranger, &ours, "👎").await;
    // Delivered: the operator's on ours.
    let reaction_id = world.react(&world.operator, &ours, "👍").await;
    let reaction = recv(&mut subscription, "the operator's reaction").await;
    assert!(reaction.is_reaction(), "{reaction:?}");
    assert_eq!(reaction.message_id.as_str(), reaction_id);
    assert_eq!(reaction.sender.as_str(), world.operator.user_id);
    assert_eq!(reaction.text, "👍");
    let annotation = reaction.reaction.as_ref().unwrap();
    assert_eq!(
        (annotation.message_id.as_str(), annotation.emoji.as_str()),
        (ours.as_str(), "👍")
    );
    assert!(!annotation.removed);
    let approval_id = world.react(&world.operator, &ours, "✅").await;
    assert_eq!(recv(&mut subscription, "the approval").await.text, "✅");

    // Taking 👍 back (a redaction) is reported, with what was taken back; the stranger taking
    // theirs back is not.
    redact_as(&world, &world.stranger, &stranger_reaction).await;
    let redaction_id = redact_as(&world, &world.operator, &reaction_id).await;
    let removed = recv(&mut subscription, "the reaction taken back").await;
    assert_eq!(removed.message_id.as_str(), redaction_id);
    assert_eq!(removed.sender.as_str(), world.operator.user_id);
    let annotation = removed.reaction.as_ref().expect("a reaction event");
    assert!(annotation.removed, "{removed:?}");
    assert_eq!(
        (annotation.message_id.as_str(), annotation.emoji.as_str()),
        (ours.as_str(), "👍")
    );
    world.post("sentinel").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel",
        "a reaction that is not the operator's on ours was delivered"
    );
    connector.close().await.unwrap();
    drop(connector);

    // After a restart the connector no longer remembers what it sent: the homeserver says.
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    world.react(&world.operator, &ours, "🚀").await;
    let reaction = recv(&mut subscription, "a reaction after the restart").await;
    assert_eq!(reaction.reaction.unwrap().emoji, "🚀");
    // The approval given before the restart, taken back after it, is still recognised.
    redact_as(&world, &world.operator, &approval_id).await;
    let removed = recv(&mut subscription, "the approval taken back").await;
    let annotation = removed.reaction.expect("a reaction event");
    assert!(annotation.removed);
    assert_eq!(
        (annotation.message_id.as_str(), annotation.emoji.as_str()),
        (ours.as_str(), "✅")
    );
    connector.close().await.unwrap();
}
