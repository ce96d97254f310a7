//! Faults on the way to Telegram: a long poll dropped while the operator posts, a 429 storm on
//! sends, a send whose answer is lost, a refused connection, 5xx pages, and the server stopped
//! and restarted.

mod common;

use std::time::{Duration, Instant};

use common::{ChatShape, World, next};
use connector_core::{Error, OutboundMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_long_polls_lose_and_double_nothing() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let texts: Vec<String> = (0..200).map(|i| format!("operator {i:03}")).collect();
    for (i, text) in texts.iter().enumerate() {
        if i % 50 == 0 {
            // The next poll is served (its updates handed out) and its answer dropped.
            world
                .emulator
                .faults()
                .lose_next_response("getUpdates")
                .unwrap();
        }
        world.post(text);
    }
    for text in &texts {
        assert_eq!(&next(&mut inbox, text).await.text, text, "in order, once");
    }
    world.post("sentinel");
    assert_eq!(
        next(&mut inbox, "the sentinel").await.text,
        "sentinel",
        "nothing was delivered twice"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_on_sends_delivers_each_message_once_in_order() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    // Four refusals of one second each: the first send waits them out.
    world
        .emulator
        .faults()
        .fail_next_rate_limited("sendMessage", 4, 1)
        .unwrap();
    let started = Instant::now();
    let texts: Vec<String> = (0..5).map(|i| format!("update {i}")).collect();
    for text in &texts {
        connector
            .send(OutboundMessage::new(text))
            .await
            .expect("sent despite the storm");
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4),
        "retry_after (1 s, four times) was honoured: {waited:?}"
    );
    assert_eq!(world.bot_texts(), texts, "every message once, in order");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_was_lost_is_not_repeated() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    world
        .emulator
        .faults()
        .lose_next_response("sendMessage")
        .unwrap();
    let sent = connector.send(OutboundMessage::new("deploy now")).await;
    assert!(
        matches!(sent, Err(Error::MaybeDelivered { .. })),
        "the caller is told it may have been delivered: {sent:?}"
    );
    assert!(!sent.unwrap_err().is_retryable());
    assert_eq!(
        world.bot_texts(),
        ["deploy now"],
        "exactly one message, no silent double"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_a_refused_connection_is_retryable() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    // nginx's HTML 502 page and a JSON 500: nothing was posted, so both are retried.
    world
        .emulator
        .faults()
        .fail_next("sendMessage", 1, 502)
        .unwrap();
    world
        .emulator
        .faults()
        .fail_next("sendMessage", 1, 500)
        .unwrap();
    connector
        .send(OutboundMessage::new("after two server errors"))
        .await
        .expect("retried past 5xx");
    assert_eq!(world.bot_texts(), ["after two server errors"]);

    world.stop().await;
    let refused = connector.send(OutboundMessage::new("while stopped")).await;
    assert!(
        matches!(&refused, Err(Error::Unreachable { .. })),
        "a refused connection never posted anything: retryable, not MaybeDelivered: {refused:?}"
    );
    world.restart().await;
    connector
        .send(OutboundMessage::new("after the restart"))
        .await
        .expect("sends work again");
    assert_eq!(
        world.bot_texts(),
        ["after two server errors", "after the restart"]
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_posted_while_the_server_is_down_arrives_after_it_is_back() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post("before");
    assert_eq!(next(&mut inbox, "the first message").await.text, "before");
    world.stop().await;
    let down = common::eventually("health to turn false", || {
        let health = block_on(connector.health());
        (!health.is_healthy()).then_some(health)
    })
    .await;
    assert!(down.detail.is_some(), "{down:?}");
    // The emulator keeps its state while stopped: these wait for the bot.
    for i in 0..3 {
        world.post(&format!("while down {i}"));
    }
    world.restart().await;
    for i in 0..3 {
        assert_eq!(
            next(&mut inbox, "a message posted while down").await.text,
            format!("while down {i}")
        );
    }
    connector.close().await.unwrap();
}

/// Runs a health probe to completion from the synchronous `eventually` closure.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offset_that_cannot_be_saved_is_named_in_health() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    // A directory where the file should be: every save fails (even for root).
    let file = world.state.path().join("updates.json");
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    world.post("still delivered");
    assert_eq!(
        next(&mut inbox, "the message").await.text,
        "still delivered"
    );
    let detail = common::eventually("health to name the failed save", || {
        let health = block_on(connector.health());
        health
            .detail
            .filter(|d| d.contains("offset cannot be saved"))
    })
    .await;
    assert!(detail.contains("deliver again"), "{detail}");
    connector.close().await.unwrap();
}
