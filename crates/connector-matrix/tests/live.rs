//! Live messages on Matrix (Synapse): a burst of updates ends as one message whose latest
//! `m.replace` shows the last update; a restart keeps editing the same event.

mod common;

use std::sync::Arc;

use common::World;
use connector_core::OrchestratorConnector;
use connector_core::live::{LiveKey, LiveMessages};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_ends_as_one_event_edited_to_the_last_update_across_a_restart() {
    let world = World::start().await;
    let state = tempfile::tempdir().unwrap();
    let key = LiveKey::new("fleet").unwrap();
    let open_live = |connector: Arc<dyn OrchestratorConnector>| {
        Arc::new(LiveMessages::new(connector, Some(LiveMessages::ledger_in(state.path()))).unwrap())
    };
    let connector: Arc<dyn OrchestratorConnector> = Arc::new(world.open().await);
    let live = open_live(connector.clone());
    let burst: Vec<_> = (0..100)
        .map(|n| tokio::spawn(live.update(&key, &format!("step {n}"), None, false)))
        .collect();
    let mut first = None;
    for update in burst {
        let receipt = update.await.unwrap().expect("no error surfaced");
        first.get_or_insert(receipt.message_ids);
    }
    let first = first.unwrap();
    connector.close().await.unwrap();
    drop(live);

    // A restarted orchestrator edits the same event.
    let connector: Arc<dyn OrchestratorConnector> = Arc::new(world.open().await);
    let done = open_live(connector.clone())
        .update(&key, "all 100 steps done", None, true)
        .await
        .unwrap();
    assert_eq!(done.message_ids, first);
    let messages = world.messages(100).await;
    let originals: Vec<_> = messages
        .iter()
        .filter(|m| m["content"]["m.relates_to"]["rel_type"] != "m.replace")
        .collect();
    assert_eq!(originals.len(), 1, "one message: {originals:#?}");
    let latest_edit = messages
        .iter()
        .rev()
        .find(|m| m["content"]["m.relates_to"]["rel_type"] == "m.replace")
        .expect("edits");
    assert_eq!(
        latest_edit["content"]["m.relates_to"]["event_id"],
        first[0].as_str()
    );
    assert_eq!(
        latest_edit["content"]["m.new_content"]["body"],
        "all 100 steps done"
    );
    let edits = messages.len() - 1;
    assert!(edits < 30, "coalesced: {edits} edits for 101 updates");
    connector.close().await.unwrap();
}
