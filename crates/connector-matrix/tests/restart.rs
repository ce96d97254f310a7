//! No loss, no replay across connector restarts: the first start skips history, a restart
//! delivers exactly what was posted while the connector was down — in order, once — including
//! more than one `/sync` batch holds. On Synapse and on Conduit.

mod common;

use common::{World, recv, recv_texts};
use connector_core::OrchestratorConnector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_deliver_what_was_missed_exactly_once() {
    restarts_deliver_what_was_missed_exactly_once_on(World::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_deliver_what_was_missed_exactly_once_on_conduit() {
    restarts_deliver_what_was_missed_exactly_once_on(World::start_conduit().await).await;
}

async fn restarts_deliver_what_was_missed_exactly_once_on(world: World) {
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
    messages_wait_on_the_server_until_someone_subscribes_on(World::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_wait_on_the_server_until_someone_subscribes_on_conduit() {
    messages_wait_on_the_server_until_someone_subscribes_on(World::start_conduit().await).await;
}

async fn messages_wait_on_the_server_until_someone_subscribes_on(world: World) {
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

/// The very first start replays nothing, again and again, on Conduit: each round the operator
/// posts and types (a typing notice, like any receipt, presence or key upload, moves Conduit's
/// counter — its sync position — past the room's last event), a connector starts for the first
/// time from a fresh state directory and stops; the operator posts more than one Conduit sync
/// batch holds (10 events) while it is down; it starts again and delivers exactly those, then a
/// live one — nothing posted before its first start. See docs/deploy-matrix.md ("Where Conduit
/// and Synapse differ").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_replays_nothing_on_conduit_twenty_times() {
    let world = World::start_conduit().await;
    let typing = format!(
        "/_matrix/client/v3/rooms/{}/typing/{}",
        world.room, world.operator.user_id
    );
    for round in 0..20 {
        // A first start from another state directory just before (same device), so the server
        // may still hold that start's initial sync when this round's starts.
        let earlier = tempfile::tempdir().unwrap();
        let config = common::roster(
            &world.homeserver.base_url(),
            &world.bot.user_id,
            &world.room,
            &world.operator.user_id,
            earlier.path(),
        );
        connector_matrix::MatrixConnector::open(&config, &world.env())
            .await
            .expect("open the Matrix connector")
            .close()
            .await
            .unwrap();
        for i in 0..3 {
            world
                .post(&format!("round {round}: before the start {i}"))
                .await;
        }
        let (status, answer) = world
            .homeserver
            .request(
                Some(&world.operator),
                "PUT",
                &typing,
                Some(&serde_json::json!({ "typing": true, "timeout": 1000 })),
            )
            .await;
        assert_eq!(status, 200, "typing: {answer}");

        let state = tempfile::tempdir().unwrap();
        let config = common::roster(
            &world.homeserver.base_url(),
            &world.bot.user_id,
            &world.room,
            &world.operator.user_id,
            state.path(),
        );
        let open = || async {
            connector_matrix::MatrixConnector::open(&config, &world.env())
                .await
                .expect("open the Matrix connector")
        };
        // The first start: it saves its position and stops before anything new arrives.
        let first = open().await;
        first.close().await.unwrap();
        drop(first);

        let missed: Vec<String> = (0..12)
            .map(|i| format!("round {round}: after the first start {i:02}"))
            .collect();
        for text in &missed {
            world.post(text).await;
        }
        let connector = open().await;
        let mut subscription = connector.subscribe().await.unwrap();
        assert_eq!(
            recv_texts(
                &mut subscription,
                missed.len(),
                &format!("round {round}'s missed message")
            )
            .await,
            missed,
            "round {round}: history from before the first start was replayed"
        );
        world.post(&format!("round {round}: live")).await;
        assert_eq!(
            recv(&mut subscription, "the live message").await.text,
            format!("round {round}: live")
        );
        connector.close().await.unwrap();
    }
}

/// A question answered while the connector is down — by a keycap reaction, and another by a
/// reply — is answered once after the restart (the reaction and the reply come through the
/// sync after the saved position), and a second restart delivers nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_given_while_down_arrive_once() {
    answers_given_while_down_arrive_once_on(World::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_given_while_down_arrive_once_on_conduit() {
    answers_given_while_down_arrive_once_on(World::start_conduit().await).await;
}

async fn answers_given_while_down_arrive_once_on(world: World) {
    use connector_core::question::{Choice, Question};
    use connector_core::questions::render::KEYCAPS;

    let choices = || vec![Choice::new("merge", "Merge"), Choice::new("close", "Close")];
    let connector = world.open().await;
    let tapped = Question::new("Merge PR #12?", choices()).unwrap();
    let replied = Question::new("Merge PR #13?", choices()).unwrap();
    let tapped_at = connector.ask(tapped.clone()).await.unwrap().message_ids[0].clone();
    let replied_at = connector.ask(replied.clone()).await.unwrap().message_ids[0].clone();
    connector.close().await.unwrap();
    drop(connector);

    // Down: the operator taps 2️⃣ on the first and replies "merge" to the second.
    world
        .react(&world.operator, tapped_at.as_str(), KEYCAPS[1])
        .await;
    world
        .reply(&world.operator, replied_at.as_str(), "merge")
        .await;

    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = recv(&mut subscription, "an answer given while down").await;
        let carried = answer.answer.clone().expect("an answer, not a message");
        assert_eq!(answer.sender.as_str(), world.operator.user_id);
        let choice = carried.choice_id().map(str::to_owned);
        answers.push((carried.question_id, choice));
    }
    answers.sort();
    let mut expected = vec![
        (tapped.id.clone(), Some("close".to_owned())),
        (replied.id.clone(), Some("merge".to_owned())),
    ];
    expected.sort();
    assert_eq!(answers, expected);
    common::eventually(common::PATIENCE, "the outcome shown", || async {
        world
            .shown_text(tapped_at.as_str())
            .await
            .contains("✅ Close — operator")
            .then_some(())
    })
    .await;
    world.post("sentinel 1").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel 1",
        "an answer came twice, or the reply came as a message too"
    );
    connector.close().await.unwrap();
    drop(connector);

    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    world.post("sentinel 2").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel 2",
        "a second restart delivered an answer again"
    );
    connector.close().await.unwrap();
}
