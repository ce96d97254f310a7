//! The optional capabilities against the emulator: reactions, edits, typing, history.

mod common;

use common::{World, next};
use connector_core::{Capability, HistoryQuery, MessageId, OutboundMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_edit_type_and_read_history() {
    let world = World::start();
    let connector = world.open().await;
    let caps = connector.capabilities();
    for capability in [
        Capability::Threads,
        Capability::Reactions,
        Capability::Edits,
        Capability::Typing,
        Capability::History,
    ] {
        assert!(caps.supports(capability), "{capability}");
    }
    assert_eq!(caps.max_message_len(), Some(2000));
    let mut inbox = connector.subscribe().await.expect("subscribe");

    let question = world.post(world.channel(), "ship it?");
    let received = next(&mut inbox, "the question").await;
    connector
        .react(&received.message_id, None, "👍")
        .await
        .expect("react");
    let reactions = world
        .emulator
        .message(world.channel(), question.id)
        .expect("the message")
        .reactions;
    assert_eq!(reactions[0].emoji, "👍");
    assert!(reactions[0].users.contains(&world.emulator.bot_user_id()));

    let receipt = connector
        .send(OutboundMessage::new("shipping…"))
        .await
        .expect("send");
    let id: &MessageId = &receipt.message_ids[0];
    connector.edit(id, None, "shipped").await.expect("edit");
    assert_eq!(world.bot_messages(world.channel())[0].content, "shipped");

    connector.typing(None).await.expect("typing");
    assert!(
        world
            .emulator
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/typing") && r.by_bot),
        "typing reached the server"
    );

    let history = connector
        .history(HistoryQuery::latest(10))
        .await
        .expect("history");
    let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["ship it?", "shipped"],
        "both directions, oldest first"
    );
    connector.close().await.unwrap();
}
