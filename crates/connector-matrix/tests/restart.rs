//! No loss, no replay across connector restarts: the first start skips history, a restart
//! delivers exactly what was posted while the connector was down — in order, once — including
//! more than one `/sync` batch holds.

mod common;

use common::{World, recv, recv_texts};
use connector_core::OrchestratorConnector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_deliver_what_was_missed_exactly_once() {
    let world = World::start().await;
    for i in 0..3 {
        world.post(&format!("history {i}")).await;
    }

    // First start ever: no saved position, and the history before it is not replayed.
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    world.post("after the first start").await;
    assert_eq!(
        recv(&mut subscription, "the first live message").await.text,
        "after the first start",
        "history was replayed on the first start"
    );
    connector.close().await.unwrap();
    assert!(
        subscription.recv().await.is_none(),
        "closing ends subscriptions"
    );
    drop(connector);

    // Down: the operator posts 50.
    let missed: Vec<String> = (0..50).map(|i| format!("while down {i:02}")).collect();
    for text in &missed {
        world.post(text).await;
    }
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    assert_eq!(
        recv_texts(&mut subscription, 50, "a missed message").await,
        missed
    );
    world.post("sentinel 1").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel 1",
        "a missed message came twice, or an older one came back"
    );
    connector.close().await.unwrap();
    drop(connector);

    // Down again, for more than one sync batch holds (100 events): the gap is paged in.
    let many: Vec<String> = (0..150).map(|i| format!("long outage {i:03}")).collect();
    for text in &many {
        world.post(text).await;
    }
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    assert_eq!(
        recv_texts(&mut subscription, 150, "a message of the long outage").await,
        many
    );
    world.post("sentinel 2").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel 2"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_wait_on_the_server_until_someone_subscribes() {
    let world = World::start().await;
    let connector = world.open().await;
    // Posted after open but before anyone listens: held, not dropped.
    world.post("early 1").await;
    world.post("early 2").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mut subscription = connector.subscribe().await.unwrap();
    assert_eq!(
        recv_texts(&mut subscription, 2, "an early message").await,
        ["early 1", "early 2"]
    );
    connector.close().await.unwrap();
}
