//! Credentials and rate limits: a bad token, a token of another user, a token revoked while
//! running, and 429 answers waited out without posting twice.

mod common;

use std::time::{Duration, Instant};

use common::{World, eventually, recv, roster, token_env};
use connector_core::{Error, OrchestratorConnector, OutboundMessage};
use connector_matrix::MatrixConnector;
use synapse_harness::{STRICT_MESSAGE_PER_SECOND, Synapse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_or_another_users_token_is_refused_clearly() {
    let world = World::start().await;

    let bad = MatrixConnector::open(&world.config(), &token_env("syt_not_a_real_token")).await;
    match bad {
        Err(Error::Unauthorized { reason, .. }) => {
            assert!(reason.contains("token rejected"), "{reason}");
            assert!(reason.contains("M_UNKNOWN_TOKEN"), "{reason}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }

    let missing = MatrixConnector::open(&world.config(), &std::collections::HashMap::new()).await;
    assert!(
        matches!(&missing, Err(Error::Secret { variable, .. }) if variable == "MATRIX_ACCESS_TOKEN"),
        "{missing:?}"
    );

    // The operator's token with the bot's user id.
    let mismatch = MatrixConnector::open(&world.config(), &token_env(&world.operator.access_token))
        .await
        .unwrap_err();
    let problems = mismatch.config_problems();
    assert_eq!(problems.len(), 1, "{mismatch}");
    assert_eq!(problems[0].path, "connector.matrix.user_id");
    assert!(
        problems[0].message.contains(&world.operator.user_id),
        "names the token's user: {mismatch}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_while_running_turns_health_unauthenticated() {
    let world = World::start().await;
    let connector = world.open().await;
    assert!(connector.health().await.is_healthy());

    let (status, answer) = world
        .homeserver
        .request(
            Some(&world.bot),
            "POST",
            "/_matrix/client/v3/logout",
            Some(&serde_json::json!({})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let health = eventually(Duration::from_secs(10), "health noticing", || async {
        let health = connector.health().await;
        (!health.authenticated).then_some(health)
    })
    .await;
    assert!(health.reachable, "{health:?}");
    let detail = health.detail.unwrap_or_default();
    assert!(detail.contains("token rejected"), "{detail}");

    let started = Instant::now();
    let send = connector.send(OutboundMessage::new("after logout")).await;
    assert!(matches!(send, Err(Error::Unauthorized { .. })), "{send:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a rejected token is not retried"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_and_nothing_posts_twice() {
    let world = World::on(Synapse::start_with_rate_limits().await).await;
    let state = tempfile::tempdir().unwrap();
    let config = roster(
        &world.homeserver.base_url(),
        &world.bot.user_id,
        &world.room,
        &world.operator.user_id,
        state.path(),
    );
    let connector = MatrixConnector::open(&config, &world.env()).await.unwrap();
    let mut subscription = connector.subscribe().await.unwrap();

    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let receipt = connector
            .send(OutboundMessage::new(format!("limited {i}")))
            .await
            .unwrap_or_else(|e| panic!("send {i} under the rate limit: {e}"));
        ids.extend(receipt.message_ids);
    }
    // Beyond the burst, the limit allows one message every 1 / STRICT_MESSAGE_PER_SECOND s.
    let floor = Duration::from_secs_f64(2.0 / STRICT_MESSAGE_PER_SECOND);
    assert!(
        started.elapsed() >= floor,
        "five sends went through faster than the limit allows ({:?}): was a 429 ignored?",
        started.elapsed()
    );
    let bodies: Vec<String> = world
        .messages(20)
        .await
        .iter()
        .filter(|m| m["sender"] == world.bot.user_id.as_str())
        .map(|m| m["content"]["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bodies,
        (0..5).map(|i| format!("limited {i}")).collect::<Vec<_>>(),
        "each once, in order"
    );
    assert_eq!(ids.len(), 5);

    // The sync loop was not disturbed.
    world.post("still listening").await;
    assert_eq!(
        recv(&mut subscription, "the operator's message").await.text,
        "still listening"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_the_bot_is_not_in_is_reported_by_health_and_refused_by_send() {
    let world = World::start().await;
    let elsewhere = world.homeserver.create_room(&world.operator, &[]).await;
    let state = tempfile::tempdir().unwrap();
    let config = roster(
        &world.homeserver.base_url(),
        &world.bot.user_id,
        &elsewhere,
        &world.operator.user_id,
        state.path(),
    );
    let connector = MatrixConnector::open(&config, &world.env()).await.unwrap();
    let health = connector.health().await;
    assert!(health.reachable && !health.authenticated, "{health:?}");
    let detail = health.detail.unwrap_or_default();
    assert!(
        detail.contains("not joined") && detail.contains(&elsewhere),
        "{detail}"
    );
    let send = connector.send(OutboundMessage::new("hello?")).await;
    assert!(matches!(send, Err(Error::Rejected { .. })), "{send:?}");
    connector.close().await.unwrap();
}
