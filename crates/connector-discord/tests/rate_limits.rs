//! Rate limits and lost answers on sends: every message once, in order, the server's
//! retry-after honoured, and a send whose answer was lost posted once (nonce).

mod common;

use std::time::{Duration, Instant};

use common::World;
use connector_core::OutboundMessage;

const SEND: &str = "POST /channels/{channel_id}/messages";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_delays_but_never_drops_or_repeats() {
    let world = World::start();
    let connector = world.open().await;
    // Injected 429s first, then Discord-like limits (5 messages per 5 s per channel).
    let wait = Duration::from_millis(700);
    world
        .emulator
        .faults()
        .fail_next_rate_limited(SEND, 2, wait, false)
        .unwrap();
    let started = Instant::now();
    let texts: Vec<String> = (0..8).map(|i| format!("status {i}")).collect();
    for text in &texts {
        connector
            .send(OutboundMessage::new(text))
            .await
            .expect("a rate-limited send succeeds in the end");
    }
    assert!(started.elapsed() >= wait * 2, "retry-after honoured");
    let posted: Vec<String> = world
        .bot_messages(world.channel())
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(posted, texts, "every message once, in order");
    assert!(
        world.emulator.rate_limited_count() > 0,
        "the bucket ran dry at least once"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_retried_without_a_second_post() {
    let world = World::start();
    let connector = world.open().await;
    world.emulator.faults().lose_next_response(SEND).unwrap();
    let receipt = connector
        .send(OutboundMessage::new("posted once"))
        .await
        .expect("the retry finds the message");
    let posted = world.bot_messages(world.channel());
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(receipt.message_ids[0].as_str(), posted[0].id.to_string());
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried() {
    let world = World::start();
    let connector = world.open().await;
    world.emulator.faults().fail_next(SEND, 2, 502).unwrap();
    connector
        .send(OutboundMessage::new("after two 502s"))
        .await
        .expect("retried");
    assert_eq!(world.bot_messages(world.channel()).len(), 1);
    connector.close().await.unwrap();
}
