//! Live messages on Discord (the emulator with Discord-like rate limits): a burst of updates
//! ends as one message showing the last, with no 429 surfaced and no update after `finish`; a
//! restart keeps editing the same message; text that outgrows a message continues in a second.

mod common;

use std::sync::Arc;

use common::World;
use connector_core::OrchestratorConnector;
use connector_core::live::{LiveKey, LiveMessages};

fn live(world: &World, connector: Arc<dyn OrchestratorConnector>) -> Arc<LiveMessages> {
    let ledger = LiveMessages::ledger_in(world.state.path());
    Arc::new(LiveMessages::new(connector, Some(ledger)).expect("the ledger"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_ends_as_one_message_showing_the_last_update() {
    let world = World::start();
    let connector = world.open().await;
    let live = live(&world, connector.clone());
    let key = LiveKey::new("fleet").unwrap();

    let burst: Vec<_> = (0..100)
        .map(|n| tokio::spawn(live.update(&key, &format!("fleet: {n}/100 steps"), None, false)))
        .collect();
    for update in burst {
        update
            .await
            .unwrap()
            .expect("no error surfaced (429s included)");
    }
    let done = live
        .update(&key, "fleet: all 100 steps done", None, true)
        .await
        .unwrap();
    let messages = world.bot_messages(world.channel());
    assert_eq!(messages.len(), 1, "one message: {messages:#?}");
    assert_eq!(messages[0].content, "fleet: all 100 steps done");
    assert_eq!(done.message_ids[0].as_str(), messages[0].id.to_string());
    let edits = world
        .emulator
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert!(edits < 20, "coalesced: {edits} edits for 101 updates");
    assert_eq!(world.emulator.rate_limited_count(), 0, "no 429 met");

    // Finished: nothing edits it again; the key's next update is a new message.
    live.update(&key, "fleet: next run", None, false)
        .await
        .unwrap();
    let messages = world.bot_messages(world.channel());
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].content, "fleet: all 100 steps done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_continues_the_same_message_and_long_text_continues_in_order() {
    let world = World::start();
    let key = LiveKey::new("build").unwrap();
    let connector = world.open().await;
    let first = live(&world, connector.clone())
        .update(&key, "build: compiling", None, false)
        .await
        .unwrap();
    connector.close().await.unwrap();

    let connector = world.open().await;
    let live = live(&world, connector.clone());
    let again = live
        .update(&key, "build: testing", None, false)
        .await
        .unwrap();
    assert_eq!(again.message_ids, first.message_ids, "the same message");
    let long = format!("{}\n{}", "a".repeat(1990), "b".repeat(600));
    let grown = live.update(&key, &long, None, false).await.unwrap();
    assert_eq!(grown.message_ids.len(), 2);
    assert_eq!(grown.message_ids[0], first.message_ids[0]);
    let messages = world.bot_messages(world.channel());
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(messages[0].content.trim_end(), "a".repeat(1990));
    assert_eq!(messages[1].content, "b".repeat(600));
    connector.close().await.unwrap();
}
