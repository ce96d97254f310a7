//! Exactly-once delivery, in order, across gateway faults: a dropped socket (Resume) in the
//! middle of 200 operator messages, op 7 Reconnect and op 9 Invalid Session in the middle of 50.

mod common;

use std::collections::HashSet;

use common::{World, eventually, next};
use connector_core::Subscription;

/// Posts `count` messages, calling `fault` after the first two fifths, and checks each arrives
/// once, in order and that the bot identified `identifies` times in all (1: it resumed).
async fn posts_with_a_fault(world: &World, count: usize, identifies: u32, fault: impl Fn(&World)) {
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let texts: Vec<String> = (0..count).map(|i| format!("message {i:03}")).collect();
    for (i, text) in texts.iter().enumerate() {
        world.post(world.channel(), text);
        if i + 1 == count * 2 / 5 {
            fault(world);
            // Let the fault land, so the next posts meet a socket being replaced.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    world.post(world.channel(), "sentinel");
    expect_in_order(&mut inbox, &texts).await;
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    assert!(inbox.try_recv().is_none(), "nothing delivered twice");
    eventually("the expected number of Identify calls", || {
        (world.emulator.identify_count() == identifies).then_some(())
    })
    .await;
    connector.close().await.unwrap();
}

async fn expect_in_order(inbox: &mut Subscription, texts: &[String]) {
    let mut ids = HashSet::new();
    for text in texts {
        let message = next(inbox, text).await;
        assert_eq!(&message.text, text, "in order, once each");
        assert!(ids.insert(message.message_id), "ids are distinct");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_socket_resumes_without_loss_or_repeat() {
    let world = World::start();
    posts_with_a_fault(&world, 200, 1, |w| {
        w.emulator.faults().drop_gateway_connections()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_request_is_followed() {
    let world = World::start();
    posts_with_a_fault(&world, 50, 1, |w| w.emulator.faults().send_reconnect()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumable_invalid_session() {
    let world = World::start();
    posts_with_a_fault(&world, 50, 1, |w| {
        w.emulator.faults().send_invalid_session(true)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_session_backfills_what_the_new_session_missed() {
    let world = World::start();
    posts_with_a_fault(&world, 50, 2, |w| {
        w.emulator.faults().send_invalid_session(false)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_outage_heals_without_loss() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post(world.channel(), "before the outage");
    assert_eq!(
        next(&mut inbox, "the first message").await.text,
        "before the outage"
    );
    world.stop().await;
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    // Posted while the bot cannot be reached: delivered after it reconnects.
    world.post(world.channel(), "during the outage");
    world.restart().await;
    world.post(world.channel(), "after the outage");
    assert_eq!(
        next(&mut inbox, "the message posted during the outage")
            .await
            .text,
        "during the outage"
    );
    assert_eq!(
        next(&mut inbox, "the message posted after").await.text,
        "after the outage"
    );
    connector.close().await.unwrap();
}
