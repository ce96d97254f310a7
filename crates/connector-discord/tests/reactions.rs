//! Inbound reactions: the operator's reactions on the bot's messages, and their removals, arrive
//! once each, with their target, emoji and thread; reactions on other messages, by the bot or by
//! strangers do not. Those given or taken back while the connector was closed arrive after it
//! is opened again (the catch-up), once, and nothing that did not change is delivered again.

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

/// Posts two sentinels and expects them next, then nothing. The first may come from the
/// backfill after READY, which the reaction catch-up follows; the second, posted once the
/// first arrived, comes from the gateway after both: whatever the catch-up delivers is before it.
async fn settle(world: &World, inbox: &mut connector_core::Subscription) {
    for text in ["sentinel", "second sentinel"] {
        world.post(world.channel(), text);
        assert_eq!(next(inbox, text).await.text, text);
    }
    assert!(inbox.try_recv().is_none(), "nothing else arrived");
}

/// The reaction event's emoji and whether it is a removal.
fn change(event: &InboundMessage) -> (String, bool) {
    let reaction = event.reaction.as_ref().expect("a reaction event");
    (reaction.emoji.clone(), reaction.removed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_given_and_taken_back_while_closed_arrive_once_after_reopening() {
    let world = World::start();
    let channel = world.channel();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let receipt = connector
        .send(OutboundMessage::new("Merge PR #12?"))
        .await
        .expect("send");
    let ours = receipt.message_ids[0].clone();
    world
        .emulator
        .react_as(&world.operator, channel, snowflake(&ours), "👍")
        .unwrap();
    let thumbs = next(&mut inbox, "the 👍 before closing").await;
    assert_eq!(change(&thumbs), ("👍".to_owned(), false));
    connector.close().await.unwrap();
    drop(inbox);

    // While the connector is closed: ✅ given, 👍 taken back.
    world
        .emulator
        .react_as(&world.operator, channel, snowflake(&ours), "✅")
        .unwrap();
    world
        .emulator
        .unreact_as(&world.operator, channel, snowflake(&ours), "👍")
        .unwrap();

    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let mut caught_up = vec![
        next(&mut inbox, "the first caught-up reaction").await,
        next(&mut inbox, "the second caught-up reaction").await,
    ];
    caught_up.sort_by_key(|e| e.reaction.as_ref().map(|r| r.removed));
    assert_reaction(&caught_up[0], &ours, "✅", world.operator.id);
    assert_eq!(change(&caught_up[1]), ("👍".to_owned(), true));
    assert_eq!(
        caught_up[1].reaction.as_ref().unwrap().message_id,
        ours,
        "{caught_up:?}"
    );
    assert_eq!(caught_up[1].sender.as_str(), world.operator.id.to_string());
    assert_ne!(caught_up[1].message_id, thumbs.message_id);
    settle(&world, &mut inbox).await;

    // The ledger knows ✅ is on: a ✅ taken back live is news once, given again news again.
    world
        .emulator
        .unreact_as(&world.operator, channel, snowflake(&ours), "✅")
        .unwrap();
    let taken_back = next(&mut inbox, "the ✅ taken back live").await;
    assert_eq!(change(&taken_back), ("✅".to_owned(), true));
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_still_on_is_not_delivered_again_after_reopening() {
    let world = World::start();
    let channel = world.channel();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let receipt = connector
        .send(
            OutboundMessage::new("Deploy?")
                .in_thread(world.post(channel, "release 1.2").id.to_string()),
        )
        .await
        .expect("send into a thread");
    next(&mut inbox, "the operator's root message").await;
    let ours = receipt.message_ids[0].clone();
    let thread = receipt.thread_id.clone().expect("a thread");
    let thread_id: Snowflake = thread.as_str().parse().unwrap();
    world
        .emulator
        .react_as(&world.operator, thread_id, snowflake(&ours), "👀")
        .unwrap();
    let first = next(&mut inbox, "the 👀").await;
    assert_eq!(first.thread_id.as_ref(), Some(&thread));
    connector.close().await.unwrap();
    drop(inbox);

    // Closed and opened twice, 👀 still on: not news.
    for _ in 0..2 {
        let connector = world.open().await;
        let mut inbox = connector.subscribe().await.expect("subscribe");
        settle(&world, &mut inbox).await;
        connector.close().await.unwrap();
    }

    // Taken back and given again after the restarts: the ids continue the generations saved
    // before them, so neither repeats the first add's id.
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world
        .emulator
        .unreact_as(&world.operator, thread_id, snowflake(&ours), "👀")
        .unwrap();
    let removed = next(&mut inbox, "the 👀 taken back").await;
    assert_eq!(change(&removed), ("👀".to_owned(), true));
    assert_eq!(removed.thread_id.as_ref(), Some(&thread));
    world
        .emulator
        .react_as(&world.operator, thread_id, snowflake(&ours), "👀")
        .unwrap();
    let again = next(&mut inbox, "the 👀 given again").await;
    assert_eq!(change(&again), ("👀".to_owned(), false));
    let ids = [&first.message_id, &removed.message_id, &again.message_id];
    assert!(
        ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2],
        "{ids:?}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_reaction_while_closed_is_not_delivered() {
    let world = World::start();
    let channel = world.channel();
    let connector = world.open().await;
    let receipt = connector
        .send(OutboundMessage::new("Anyone?"))
        .await
        .expect("send");
    let ours = receipt.message_ids[0].clone();
    connector.close().await.unwrap();

    world
        .emulator
        .react_as(&world.stranger, channel, snowflake(&ours), "🎉")
        .unwrap();
    // Reopened twice: the stranger is turned away once, then remembered.
    for rejected in [1, 0] {
        let connector = world.open().await;
        let mut inbox = connector.subscribe().await.expect("subscribe");
        settle(&world, &mut inbox).await;
        assert_eq!(connector.health().await.rejected_senders, rejected);
        connector.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catch_up_pages_through_the_users_of_an_emoji() {
    let world = World::start();
    let channel = world.channel();
    // A hundred strangers with lower ids than the allowed sender: the allowed sender's 👍 is
    // on the second page of Get Reactions.
    let crowd: Vec<_> = (0..100)
        .map(|i| world.emulator.add_user(&format!("crowd{i}")))
        .collect();
    let late = world.emulator.add_user("late operator");
    assert!(crowd.iter().all(|u| u.id < late.id));
    let config = connector_core::ConnectorConfig::from_roster_str(&format!(
        "connector:\n  kind: discord\n  allowed_senders: ['{}']\n  discord:\n    \
         channel_id: '{channel}'\n    state_dir: '{}'\n",
        late.id,
        world.state.path().display()
    ))
    .expect("a valid roster");
    let connector = world.open_with(&config).await;
    let receipt = connector
        .send(OutboundMessage::new("Vote?"))
        .await
        .expect("send");
    let ours = snowflake(&receipt.message_ids[0]);
    connector.close().await.unwrap();

    for user in crowd.iter().chain([&late]) {
        world.emulator.react_as(user, channel, ours, "👍").unwrap();
    }
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let event = next(&mut inbox, "the allowed sender's 👍").await;
    assert_reaction(&event, &receipt.message_ids[0], "👍", late.id);
    for text in ["sentinel", "second sentinel"] {
        world.emulator.post_as(&late, channel, text).unwrap();
        assert_eq!(next(&mut inbox, text).await.text, text);
    }
    assert!(inbox.try_recv().is_none(), "nothing else arrived");
    assert_eq!(connector.health().await.rejected_senders, 100);
    let pages: Vec<String> = world
        .emulator
        .requests()
        .iter()
        .filter(|r| r.by_bot && r.method == "GET" && r.path.contains("/reactions/"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(pages.len(), 2, "one full page, then the rest: {pages:?}");
    connector.close().await.unwrap();
}
