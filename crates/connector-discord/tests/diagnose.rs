//! `diagnose()` and health for a deaf or muzzled bot: every probe passes on a good setup, and
//! each fails (with its fix) when its cause is produced in the emulator.

mod common;

use common::{World, eventually};
use connector_core::{Error, OrchestratorConnector, OutboundMessage, Probe, ProbeOutcome};
use discord_emulator::Intents;
use discord_emulator::permission::{
    CREATE_PUBLIC_THREADS, EVERYONE, READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL,
};

const NAMES: [&str; 9] = [
    "REST reachable",
    "token accepted",
    "bot identity",
    "channel visible",
    "permission: send messages",
    "permission: threads",
    "permission: read history",
    "message content intent",
    "gateway connected",
];

fn probe<'a>(probes: &'a [Probe], name: &str) -> &'a Probe {
    probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe {name:?} in {probes:#?}"))
}

fn assert_fails(probes: &[Probe], name: &str, detail: &str, fix: &str) {
    let p = probe(probes, name);
    assert_eq!(p.outcome, ProbeOutcome::Fail, "{p:#?}");
    assert!(
        p.detail.as_deref().is_some_and(|d| d.contains(detail)),
        "{name}: detail {:?} lacks {detail:?}",
        p.detail
    );
    assert!(
        p.fix.as_deref().is_some_and(|f| f.contains(fix)),
        "{name}: fix {:?} lacks {fix:?}",
        p.fix
    );
}

async fn passes_all(connector: &dyn OrchestratorConnector) -> Vec<Probe> {
    let probes = connector.diagnose().await;
    let names: Vec<&str> = probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, NAMES);
    probes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_setup_passes_every_probe() {
    let world = World::start();
    let connector = world.open().await;
    let probes = passes_all(connector.as_ref()).await;
    assert!(probes.iter().all(Probe::passed), "{probes:#?}");
    assert!(
        probe(&probes, "bot identity")
            .detail
            .as_deref()
            .unwrap()
            .ends_with(&format!("#{}", world.emulator.bot_user_id()))
    );
    assert_eq!(
        probe(&probes, "message content intent").detail.as_deref(),
        Some("application flag GATEWAY_MESSAGE_CONTENT_LIMITED")
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_token_fails_the_token_probe_and_skips_what_needs_it() {
    let world = World::start();
    let connector = world.open().await;
    world.emulator.reset_bot_token();
    let probes = passes_all(connector.as_ref()).await;
    assert!(probe(&probes, "REST reachable").passed());
    assert_fails(
        &probes,
        "token accepted",
        "token rejected",
        "set DISCORD_BOT_TOKEN to the bot token from Developer Portal → Bot → Reset Token",
    );
    for skipped in [
        "bot identity",
        "channel visible",
        "permission: send messages",
        "message content intent",
    ] {
        assert_eq!(probe(&probes, skipped).outcome, ProbeOutcome::Skipped);
    }
    let health = connector.health().await;
    assert!(!health.authenticated, "{health:?}");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_the_bot_cannot_see_is_named_with_its_fix() {
    let world = World::start();
    let connector = world.open().await;
    let channel = world.channel();
    world
        .emulator
        .set_channel_overwrite(channel, world.emulator.bot_user_id(), 0, VIEW_CHANNEL)
        .unwrap();
    let probes = passes_all(connector.as_ref()).await;
    assert_fails(
        &probes,
        "channel visible",
        "50001 Missing Access",
        &format!("View Channel in channel {channel}"),
    );
    assert_eq!(
        probe(&probes, "permission: send messages").outcome,
        ProbeOutcome::Skipped
    );
    let health = connector.health().await;
    assert!(
        !health.is_healthy() && health.detail.as_deref().unwrap().contains("50001"),
        "{health:?}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muzzled_bot_is_named_in_diagnose_health_and_the_send_error() {
    let world = World::start();
    let connector = world.open().await;
    let channel = world.channel();
    // A member overwrite takes SEND_MESSAGES from the bot in its channel.
    world
        .emulator
        .set_channel_overwrite(channel, world.emulator.bot_user_id(), 0, SEND_MESSAGES)
        .unwrap();
    let probes = passes_all(connector.as_ref()).await;
    assert_fails(
        &probes,
        "permission: send messages",
        &format!("missing permission SEND_MESSAGES in channel {channel}"),
        "allow Send Messages for the bot's role",
    );
    assert!(probe(&probes, "permission: threads").passed());
    let health = connector.health().await;
    assert!(!health.is_healthy(), "{health:?}");
    assert_eq!(
        health.detail.as_deref(),
        Some(format!("missing permission SEND_MESSAGES in channel {channel}").as_str())
    );
    let error = connector
        .send(OutboundMessage::new("can anyone hear me?"))
        .await
        .expect_err("a muzzled send");
    assert!(matches!(error, Error::Rejected { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&format!(
            "missing permission SEND_MESSAGES in channel {channel}"
        )),
        "{error}"
    );
    assert!(world.bot_messages(channel).is_empty());

    // A role that grants it back (a role overwrite beats the @everyone one, not the member's):
    // remove the member overwrite, deny @everyone, allow the bot's role.
    let role = world.emulator.add_role("bots", 0);
    world
        .emulator
        .assign_role(world.emulator.bot_user_id(), role)
        .unwrap();
    world
        .emulator
        .remove_channel_overwrite(channel, world.emulator.bot_user_id())
        .unwrap();
    world
        .emulator
        .set_channel_overwrite(channel, world.emulator.guild_id(), 0, SEND_MESSAGES)
        .unwrap();
    world
        .emulator
        .set_channel_overwrite(channel, role, SEND_MESSAGES, 0)
        .unwrap();
    let probes = connector.diagnose().await;
    assert!(
        probe(&probes, "permission: send messages").passed(),
        "{probes:#?}"
    );
    assert!(connector.health().await.is_healthy());
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_thread_and_history_permissions_are_named() {
    let world = World::start();
    let connector = world.open().await;
    let channel = world.channel();
    world
        .emulator
        .set_everyone_permissions(EVERYONE & !CREATE_PUBLIC_THREADS & !READ_MESSAGE_HISTORY);
    let probes = passes_all(connector.as_ref()).await;
    assert_fails(
        &probes,
        "permission: threads",
        "missing permission CREATE_PUBLIC_THREADS",
        "Create Public Threads",
    );
    assert_fails(
        &probes,
        "permission: read history",
        "READ_MESSAGE_HISTORY",
        "Read Message History",
    );
    assert!(probe(&probes, "permission: send messages").passed());
    // Healthy (it can still talk in the channel), the missing thread permission in the detail.
    let health = connector.health().await;
    assert!(health.is_healthy(), "{health:?}");
    assert_eq!(
        health.detail.as_deref(),
        Some(format!("missing permission CREATE_PUBLIC_THREADS in channel {channel}").as_str())
    );
    let sent = connector
        .send(OutboundMessage::new("a question"))
        .await
        .unwrap();
    let error = connector
        .send(OutboundMessage::new("a reply").in_thread(sent.message_ids[0].as_str()))
        .await
        .expect_err("no thread without CREATE_PUBLIC_THREADS");
    assert!(
        error
            .to_string()
            .contains("missing permission CREATE_PUBLIC_THREADS"),
        "{error}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_content_intent_switched_off_is_named_with_its_fix() {
    let world = World::start();
    let connector = world.open().await;
    world
        .emulator
        .revoke_privileged_intents(Intents::MESSAGE_CONTENT);
    let probes = passes_all(connector.as_ref()).await;
    assert_fails(
        &probes,
        "message content intent",
        "no GATEWAY_MESSAGE_CONTENT",
        "enable Message Content Intent in the Developer Portal → Bot → Privileged Gateway Intents",
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_discord_fails_rest_and_gateway_then_recovers() {
    let world = World::start();
    let connector = world.open().await;
    world.stop().await;
    let probes = eventually("the gateway probe to fail", || {
        let probes = futures_lite_block(connector.as_ref());
        probe(&probes, "gateway connected")
            .failed()
            .then_some(probes)
    })
    .await;
    assert_fails(&probes, "REST reachable", "", "check the network route");
    assert_eq!(
        probe(&probes, "token accepted").outcome,
        ProbeOutcome::Skipped
    );
    assert_fails(&probes, "gateway connected", "disconnected", "gateway");
    world.restart().await;
    eventually("every probe to pass again", || {
        futures_lite_block(connector.as_ref())
            .iter()
            .all(Probe::passed)
            .then_some(())
    })
    .await;
    connector.close().await.unwrap();
}

/// Runs `diagnose` from the synchronous probe closure of `eventually`.
fn futures_lite_block(connector: &dyn OrchestratorConnector) -> Vec<Probe> {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(connector.diagnose()))
}
