//! `diagnose()` and `MatrixConnector::diagnose_setup` against a real Synapse: every probe
//! passing on a good setup, and the probe that fails (with its fix) for a rejected token,
//! another user's token, a room the bot is not in, a power level too low to post, an
//! encrypted room without (or with) the `e2e-encryption` feature, and a state directory in
//! use.

mod common;

use common::{World, roster, token_env};
use connector_core::{OrchestratorConnector, Probe, ProbeOutcome};
use connector_matrix::MatrixConnector;
use serde_json::json;

/// The probe named `name`.
fn probe<'a>(probes: &'a [Probe], name: &str) -> &'a Probe {
    probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe {name:?} in {probes:#?}"))
}

/// The outcomes in order, as `(name, outcome)`.
fn outcomes(probes: &[Probe]) -> Vec<(&str, ProbeOutcome)> {
    probes
        .iter()
        .map(|p| (p.name.as_str(), p.outcome))
        .collect()
}

const NAMES: [&str; 7] = [
    "homeserver reachable",
    "token accepted",
    "identity matches user_id",
    "room joined",
    "may post messages",
    "encryption supported",
    "state directory usable",
];

/// Probes for the bot's roster with `token` as `MATRIX_ACCESS_TOKEN` and `user_id` as the
/// configured user.
async fn diagnose_setup(world: &World, user_id: &str, token: &str) -> Vec<Probe> {
    let config = roster(
        &world.homeserver.base_url(),
        user_id,
        &world.room,
        &world.operator.user_id,
        world.state.path(),
    );
    MatrixConnector::diagnose_setup(&config, &token_env(token))
        .await
        .expect("the config is usable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_setup_passes_and_a_revoked_token_fails_with_its_fix() {
    let world = World::start().await;
    let connector = world.open().await;
    let probes = connector.diagnose().await;
    assert_eq!(
        outcomes(&probes),
        NAMES.map(|name| (name, ProbeOutcome::Pass)),
        "{probes:#?}"
    );
    assert!(
        probe(&probes, "homeserver reachable")
            .detail
            .as_deref()
            .unwrap()
            .contains(&world.homeserver.base_url())
    );

    // The token is revoked while the connector runs.
    let (status, answer) = world
        .homeserver
        .request(
            Some(&world.bot),
            "POST",
            "/_matrix/client/v3/logout",
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let probes = connector.diagnose().await;
    let token = probe(&probes, "token accepted");
    assert_eq!(token.outcome, ProbeOutcome::Fail, "{probes:#?}");
    let fix = token.fix.as_deref().unwrap();
    assert!(fix.contains("MATRIX_ACCESS_TOKEN"), "{fix}");
    assert!(fix.contains(&world.bot.user_id), "{fix}");
    assert_eq!(
        probe(&probes, "homeserver reachable").outcome,
        ProbeOutcome::Pass
    );
    for later in &NAMES[2..6] {
        assert_eq!(
            probe(&probes, later).outcome,
            ProbeOutcome::Skipped,
            "{later}"
        );
    }
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setups_that_cannot_open_say_why() {
    let world = World::start().await;

    // A token the homeserver never issued.
    let probes = diagnose_setup(&world, &world.bot.user_id, "syt_not_a_real_token").await;
    assert_eq!(probe(&probes, "token accepted").outcome, ProbeOutcome::Fail);
    assert!(
        probe(&probes, "token accepted")
            .detail
            .as_deref()
            .unwrap()
            .contains("token rejected"),
        "{probes:#?}"
    );

    // The operator's token in the bot's roster.
    let probes = diagnose_setup(&world, &world.bot.user_id, &world.operator.access_token).await;
    let identity = probe(&probes, "identity matches user_id");
    assert_eq!(identity.outcome, ProbeOutcome::Fail, "{probes:#?}");
    assert!(
        identity
            .detail
            .as_deref()
            .unwrap()
            .contains(&world.operator.user_id)
    );
    assert!(
        identity
            .fix
            .as_deref()
            .unwrap()
            .contains(&world.bot.user_id)
    );
    assert_eq!(probe(&probes, "room joined").outcome, ProbeOutcome::Skipped);

    // A bot that was never invited.
    let loner = world.homeserver.register("loner").await;
    let probes = diagnose_setup(&world, &loner.user_id, &loner.access_token).await;
    assert_eq!(
        outcomes(&probes)[..4],
        [
            (NAMES[0], ProbeOutcome::Pass),
            (NAMES[1], ProbeOutcome::Pass),
            (NAMES[2], ProbeOutcome::Pass),
            (NAMES[3], ProbeOutcome::Fail),
        ],
        "{probes:#?}"
    );
    let fix = probe(&probes, "room joined").fix.as_deref().unwrap();
    assert!(fix.contains(&format!("invite {}", loner.user_id)), "{fix}");
    assert!(fix.contains(&world.room), "{fix}");

    // Nothing listens on the configured URL.
    let config = roster(
        "http://127.0.0.1:9",
        &world.bot.user_id,
        &world.room,
        &world.operator.user_id,
        world.state.path(),
    );
    let probes = MatrixConnector::diagnose_setup(&config, &token_env(&world.bot.access_token))
        .await
        .unwrap();
    let reachable = probe(&probes, "homeserver reachable");
    assert_eq!(reachable.outcome, ProbeOutcome::Fail, "{probes:#?}");
    assert!(
        reachable
            .fix
            .as_deref()
            .unwrap()
            .contains("http://127.0.0.1:9")
    );
    assert!(
        probes[1..6]
            .iter()
            .all(|p| p.outcome == ProbeOutcome::Skipped)
    );
    assert_eq!(
        probe(&probes, "state directory usable").outcome,
        ProbeOutcome::Pass,
        "nothing holds the state directory"
    );

    // A connector runs on the state directory: a second setup on it is told so.
    let running = world.open().await;
    let probes = diagnose_setup(&world, &world.bot.user_id, &world.bot.access_token).await;
    assert!(probes[..6].iter().all(Probe::passed), "{probes:#?}");
    let state = probe(&probes, "state directory usable");
    assert_eq!(state.outcome, ProbeOutcome::Fail, "{probes:#?}");
    assert!(
        state
            .detail
            .as_deref()
            .unwrap()
            .contains(&format!("pid {}", std::process::id())),
        "{state:?}"
    );
    assert!(state.fix.as_deref().unwrap().contains("stop the connector"));
    running.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_levels_and_encryption_are_checked() {
    let world = World::start().await;
    let connector = world.open().await;

    // The operator (the room's creator) requires power level 50 to post.
    let path = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.power_levels/",
        world.room
    );
    let (status, mut levels) = world
        .homeserver
        .request(Some(&world.operator), "GET", &path, None)
        .await;
    assert_eq!(status, 200, "{levels}");
    levels["events"]["m.room.message"] = json!(50);
    let (status, answer) = world
        .homeserver
        .request(Some(&world.operator), "PUT", &path, Some(&levels))
        .await;
    assert_eq!(status, 200, "{answer}");
    let probes = connector.diagnose().await;
    let post = probe(&probes, "may post messages");
    assert_eq!(post.outcome, ProbeOutcome::Fail, "{probes:#?}");
    assert!(
        post.detail.as_deref().unwrap().contains("needs 50"),
        "{post:?}"
    );
    assert!(
        post.fix.as_deref().unwrap().contains("at least 50"),
        "{post:?}"
    );

    // The operator turns encryption on.
    world.enable_encryption().await;
    let probes = connector.diagnose().await;
    let encryption = probe(&probes, "encryption supported");
    if cfg!(feature = "e2e-encryption") {
        assert_eq!(encryption.outcome, ProbeOutcome::Pass, "{probes:#?}");
    } else {
        assert_eq!(encryption.outcome, ProbeOutcome::Fail, "{probes:#?}");
        assert!(
            encryption
                .fix
                .as_deref()
                .unwrap()
                .contains("build with the e2e-encryption feature")
        );
    }
    connector.close().await.unwrap();
}
