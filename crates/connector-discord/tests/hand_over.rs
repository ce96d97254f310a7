//! A subscription dropped while the pump hands a message over does not swallow the message:
//! the next subscription gets it, exactly once, and the saved position never passes a message
//! that no subscription took (so a restart delivers it instead of skipping it).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{World, eventually, next};
use connector_core::{ConnectorConfig, OrchestratorConnector, Subscription};
use discord_emulator::Message;

/// Time for the gateway to bring a posted message to the pump, which then waits inside the
/// hand-over for room in the full queue. The assertions hold however long this is; it only
/// makes the race they guard against happen on every run.
const REACH_THE_PUMP: Duration = Duration::from_millis(500);

/// The roster block with one message of room per subscription, so a second unread message
/// waits inside the hand-over.
fn one_slot_config(world: &World) -> ConnectorConfig {
    let mut config = world.config();
    config.queue_capacity = Some(1);
    config
}

/// The channel's saved position, as written to `positions.json` after each delivery.
fn saved_position(world: &World) -> Option<u64> {
    let text = std::fs::read_to_string(world.state.path().join("positions.json")).ok()?;
    let positions: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).ok()?;
    positions.get(&world.channel().0.to_string())?.parse().ok()
}

/// Opens the connector with a one-message queue and a subscription that never reads, fills
/// that queue with one message, posts `two`, and drops the subscription while the pump waits
/// to hand `two` over. Returns the connector and `two`.
async fn drop_the_subscription_during_the_hand_over(
    world: &World,
) -> (Arc<dyn OrchestratorConnector>, Message) {
    let connector = world.open_with(&one_slot_config(world)).await;
    let unread: Subscription = connector.subscribe().await.expect("subscribe");
    let one = world.post(world.channel(), "one");
    eventually("`one` is handed over and its position saved", || {
        (saved_position(world) == Some(one.id.0)).then_some(())
    })
    .await;
    let two = world.post(world.channel(), "two");
    tokio::time::sleep(REACH_THE_PUMP).await;
    drop(unread);
    tokio::time::sleep(REACH_THE_PUMP).await;
    assert_eq!(
        saved_position(world),
        Some(one.id.0),
        "no subscription took `two`: the saved position must not pass it"
    );
    (connector, two)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_dropped_during_hand_over_passes_the_message_to_the_next() {
    let world = World::start();
    let (connector, two) = drop_the_subscription_during_the_hand_over(&world).await;
    let mut next_one = connector.subscribe().await.expect("subscribe again");
    let message = next(
        &mut next_one,
        "`two`, offered again to the new subscription",
    )
    .await;
    assert_eq!(message.text, "two");
    assert_eq!(message.message_id.as_str(), two.id.0.to_string());
    world.post(world.channel(), "three");
    assert_eq!(
        next(&mut next_one, "`three`, right after `two`").await.text,
        "three"
    );
    connector.close().await.unwrap();
    drop(next_one);

    // A restart replays neither: the position moved past `two` only once it was taken.
    let connector = world.open_with(&one_slot_config(&world)).await;
    let mut after_restart = connector
        .subscribe()
        .await
        .expect("subscribe after restart");
    world.post(world.channel(), "four");
    assert_eq!(
        next(
            &mut after_restart,
            "`four`, the first news after the restart"
        )
        .await
        .text,
        "four"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_nobody_took_before_close_arrives_after_restart() {
    let world = World::start();
    let (connector, _two) = drop_the_subscription_during_the_hand_over(&world).await;
    connector.close().await.unwrap();

    let connector = world.open_with(&one_slot_config(&world)).await;
    let mut after_restart = connector
        .subscribe()
        .await
        .expect("subscribe after restart");
    assert_eq!(
        next(&mut after_restart, "`two`, backfilled after the restart")
            .await
            .text,
        "two"
    );
    world.post(world.channel(), "three");
    assert_eq!(
        next(&mut after_restart, "`three`, right after `two`")
            .await
            .text,
        "three"
    );
    connector.close().await.unwrap();
}
