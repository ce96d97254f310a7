//! Inbound reactions: the operator's reactions on the bot's messages, and their removals, arrive
//! once each, with their target, emoji and thread; reactions on other messages, by the bot or by
//! strangers do not.

mod common;

use common::{World, next};
use connector_core::{InboundMessage, MessageId, OutboundMessage};
use discord_emulator::Snowflake;

fn snowflake(id: &MessageId) -> Snowflake {
    id.as_str().parse().expect("a snowflake")
}

fn assert_reaction(event: &InboundMessage, target: &MessageId, emoji: &str, sender: Snowflake) {
    let reaction = event.reaction.as_ref().expect("a reaction event");
    assert_eq!(&reaction.message_id, target);
    assert_eq!(reaction.emoji, emoji);
    assert_eq!(event.sender.as_str(), sender.to_string());
    assert_eq!(event.text, emoji);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_reaction_on_our_message_arrives_once() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let channel = world.channel();
    let receipt = connector
        .send(OutboundMessage::new("Merge PR #12?"))
        .await
        .expect("send");
    let ours = &receipt.message_ids[0];

    // None of these is reported: the operator on their own message, the bot on its own, a
    // stranger on ours.
    let note = world.post(channel, "my own note");
    assert_eq!(
        next(&mut inbox, "the operator's note").await.text,
        "my own note"
    );
    world
        .emulator
        .react_as(&world.operator, channel, note.id, "👀")
        .unwrap();
    connector
        .react(ours, None, "✅")
        .await
        .expect("the bot reacts");
    world
        .emulator
        .react_as(&world.stranger, channel, snowflake(ours), "👎")
        .unwrap();

    world
        .emulator
        .react_as(&world.operator, channel, snowflake(ours), "👍")
        .unwrap();
    let event = next(&mut inbox, "the operator's reaction").await;
    assert_reaction(&event, ours, "👍", world.operator.id);
    assert_eq!(event.thread_id, None);
    assert!(event.attachments.is_empty());

    // Taken back, then given again: each is news, each reported once.
    world
        .emulator
        .unreact_as(&world.operator, channel, snowflake(ours), "👍")
        .unwrap();
    let taken_back = next(&mut inbox, "the reaction taken back").await;
    let reaction = taken_back.reaction.as_ref().expect("a reaction event");
    assert!(reaction.removed, "{taken_back:?}");
    assert_eq!(&reaction.message_id, ours);
    assert_eq!(reaction.emoji, "👍");
    assert_eq!(taken_back.sender.as_str(), world.operator.id.to_string());
    assert_ne!(taken_back.message_id, event.message_id);
    world
        .emulator
        .react_as(&world.operator, channel, snowflake(ours), "👍")
        .unwrap();
    let again = next(&mut inbox, "the reaction given again").await;
    assert_reaction(&again, ours, "👍", world.operator.id);
    let ids = [&event.message_id, &taken_back.message_id, &again.message_id];
    assert!(
        ids[0] != ids[2] && ids[1] != ids[2],
        "every event has its own id: {ids:?}"
    );
    // The stranger taking theirs back is not reported either.
    world
        .emulator
        .unreact_as(&world.stranger, channel, snowflake(ours), "👎")
        .unwrap();

    world.post(channel, "sentinel");
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    assert!(inbox.try_recv().is_none(), "nothing else arrived");
    assert_eq!(
        connector.health().await.rejected_senders,
        2,
        "the stranger's reaction and its removal were counted"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_in_a_thread_carries_the_thread() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let root = world.post(world.channel(), "Deploy?");
    next(&mut inbox, "the root").await;
    let receipt = connector
        .send(OutboundMessage::new("Deploying to staging").in_thread(root.id.to_string()))
        .await
        .expect("send into a thread");
    let thread = receipt.thread_id.clone().expect("a thread");
    let ours = &receipt.message_ids[0];
    world
        .emulator
        .react_as(&world.operator, root.id, snowflake(ours), "🚀")
        .unwrap();
    let event = next(&mut inbox, "the reaction in the thread").await;
    assert_reaction(&event, ours, "🚀", world.operator.id);
    assert_eq!(event.thread_id.as_ref(), Some(&thread));
    connector.close().await.unwrap();
}
