//! Delivery positions survive a restart: what the operator posts while the connector is down
//! is delivered exactly once on the next start, in the channel and in its threads.

mod common;

use common::{World, next};
use connector_core::OutboundMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_posted_while_down_arrive_once_after_restart() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let root = world.post(world.channel(), "before the restart");
    assert_eq!(
        next(&mut inbox, "the first message").await.text,
        "before the restart"
    );
    let receipt = connector
        .send(OutboundMessage::new("in a thread").in_thread(root.id.to_string()))
        .await
        .expect("start a thread");
    let thread = receipt.thread_id.expect("a thread");
    world.post(root.id, "thread message before");
    assert_eq!(
        next(&mut inbox, "the thread message").await.text,
        "thread message before"
    );
    connector.close().await.unwrap();
    drop(inbox);

    let texts: Vec<String> = (0..20).map(|i| format!("while down {i:02}")).collect();
    for text in &texts {
        world.post(world.channel(), text);
    }
    world.post(root.id, "thread message while down");

    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    for text in &texts {
        let message = next(&mut inbox, text).await;
        assert_eq!(&message.text, text);
        assert_eq!(message.thread_id, None);
    }
    let in_thread = next(&mut inbox, "the thread message posted while down").await;
    assert_eq!(in_thread.text, "thread message while down");
    assert_eq!(in_thread.thread_id.as_ref(), Some(&thread));
    world.post(world.channel(), "sentinel");
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_replays_no_history() {
    let world = World::start();
    world.post(world.channel(), "old news");
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post(world.channel(), "fresh");
    assert_eq!(next(&mut inbox, "the fresh message").await.text, "fresh");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_started_while_down_is_backfilled() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let root = world.post(world.channel(), "question");
    next(&mut inbox, "the question").await;
    connector.close().await.unwrap();
    drop(inbox);

    world.start_thread_as_operator(root.id, "follow-up").await;
    world.post(root.id, "in a thread the connector never saw");

    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let message = next(&mut inbox, "the message in the new thread").await;
    assert_eq!(message.text, "in a thread the connector never saw");
    assert_eq!(
        message.thread_id.as_ref().map(|t| t.as_str().to_owned()),
        Some(root.id.to_string())
    );
    world.post(world.channel(), "sentinel");
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    connector.close().await.unwrap();
}
