//! Alive is not listening: the round-trip probe posts a marked message that must come back on
//! the gateway. It passes on a working connection without reaching a subscriber or staying in
//! the channel, and it names the stage that did not answer on a connection that is open but
//! deaf (the emulator withholding every dispatch) or that cannot post.

mod common;

use std::time::Duration;

use common::{World, next};
use connector_core::RoundTrip;
use connector_core::round_trip::Stage;
use discord_emulator::permission;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_comes_back_on_the_gateway_and_leaves_nothing_behind() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    let outcome = connector.round_trip(Duration::from_secs(10)).await;
    let RoundTrip::Returned {
        path,
        cleanup_problem,
        ..
    } = &outcome
    else {
        panic!("the probe should come back: {outcome:?}");
    };
    assert_eq!(path, "the gateway");
    assert_eq!(cleanup_problem, &None);
    assert!(
        world.bot_messages(world.channel()).is_empty(),
        "the probe is deleted"
    );
    // The subscriber got nothing from the probe: the operator's next message is the next one.
    world.post(world.channel(), "after the probe");
    assert_eq!(
        next(&mut inbox, "the operator").await.text,
        "after the probe"
    );

    // A probe that cannot be deleted still passes, says so, and stays silent in the channel.
    world
        .emulator
        .faults()
        .fail_next(
            "DELETE /channels/{channel_id}/messages/{message_id}",
            1,
            403,
        )
        .unwrap();
    let probe = connector
        .round_trip(Duration::from_secs(10))
        .await
        .into_probe();
    assert!(probe.passed(), "{probe:?}");
    let detail = probe.detail.unwrap_or_default();
    assert!(
        detail.contains("came back through the gateway in"),
        "{detail}"
    );
    assert!(detail.contains("could not be removed"), "{detail}");
    let left = world.bot_messages(world.channel());
    assert_eq!(left.len(), 1, "the undeletable probe");
    assert_eq!(left[0].flags & (1 << 12), 1 << 12, "SUPPRESS_NOTIFICATIONS");
    assert!(
        left[0].content.contains("round-trip probe "),
        "{}",
        left[0].content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deaf_connection_fails_the_return_stage_and_still_cleans_up() {
    let world = World::start();
    let connector = world.open().await;
    assert!(connector.health().await.is_healthy(), "it looks healthy");
    world.emulator.faults().withhold_dispatches(true);

    let outcome = connector.round_trip(Duration::from_secs(2)).await;
    assert!(
        matches!(
            outcome,
            RoundTrip::Failed {
                stage: Stage::Return,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(
        world.bot_messages(world.channel()).is_empty(),
        "the probe is deleted"
    );
    let probe = outcome.into_probe();
    assert!(probe.failed());
    let detail = probe.detail.unwrap_or_default();
    assert!(
        detail.contains("did not come back through the gateway"),
        "{detail}"
    );
    assert!(
        probe
            .fix
            .unwrap_or_default()
            .contains("only one using this token")
    );

    // Listening again: the probe passes again.
    world.emulator.faults().withhold_dispatches(false);
    assert!(
        connector
            .round_trip(Duration::from_secs(10))
            .await
            .returned()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_that_cannot_be_posted_fails_the_post_stage() {
    let world = World::start();
    let connector = world.open().await;
    world
        .emulator
        .set_everyone_permissions(permission::VIEW_CHANNEL | permission::READ_MESSAGE_HISTORY);
    let outcome = connector.round_trip(Duration::from_secs(5)).await;
    let RoundTrip::Failed { stage, detail, .. } = &outcome else {
        panic!("posting should fail: {outcome:?}");
    };
    assert_eq!(*stage, Stage::Post);
    assert!(
        detail.contains("SEND_MESSAGES") || detail.contains("50013"),
        "{detail}"
    );
}
