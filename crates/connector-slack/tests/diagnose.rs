//! `diagnose()` and `DESCRIPTOR.diagnose_setup`: every probe passes on a good setup, and each
//! fails with its fix when its cause is produced in the emulator (fix texts as snapshots).

mod common;

use common::World;
use connector_core::{ConnectorConfig, Probe, ProbeOutcome};
use slack_emulator::Config;

const NAMES: [&str; 4] = ["bot token", "scopes", "socket mode", "channel"];

fn probe<'a>(probes: &'a [Probe], name: &str) -> &'a Probe {
    probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe {name:?} in {probes:#?}"))
}

/// A failed probe as the operator reads it.
fn failure(probes: &[Probe], name: &str) -> String {
    let p = probe(probes, name);
    assert_eq!(p.outcome, ProbeOutcome::Fail, "{p:#?}");
    format!(
        "{}: {}\nfix: {}",
        p.name,
        p.detail.as_deref().unwrap_or_default(),
        p.fix.as_deref().expect("a failure comes with its fix")
    )
}

async fn setup_probes(
    world: &World,
    config: &ConnectorConfig,
    env: &[(&str, Option<&str>)],
) -> Vec<Probe> {
    let mut vars = world.env();
    for (name, value) in env {
        match value {
            Some(value) => vars.insert((*name).to_owned(), (*value).to_owned()),
            None => vars.remove(*name),
        };
    }
    let diagnose = connector_slack::DESCRIPTOR
        .diagnose_setup
        .expect("the descriptor diagnoses setups");
    diagnose(config, &vars).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_setup_passes_every_probe_with_a_round_trip() {
    let world = World::start();
    let connector = world.open().await;
    let probes = connector.diagnose().await;
    let names: Vec<&str> = probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, NAMES);
    assert!(probes.iter().all(Probe::passed), "{probes:#?}");
    let round_trip = connector
        .round_trip(std::time::Duration::from_secs(10))
        .await
        .into_probe();
    assert!(round_trip.passed(), "{round_trip:?}");
    // The probe message was removed again.
    assert!(world.bot_messages().is_empty());
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_bot_token_is_named_with_its_fix() {
    let world = World::start();
    let probes = setup_probes(
        &world,
        &world.config(),
        &[("SLACK_BOT_TOKEN", Some("xoxb-wrong"))],
    )
    .await;
    insta::assert_snapshot!(failure(&probes, "bot token"), @r#"
    bot token: slack rejected the credentials: auth.test: invalid_auth
    fix: set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, api.slack.com/apps → your app → OAuth & Permissions), and install the app to the workspace
    "#);
    assert_eq!(probe(&probes, "scopes").outcome, ProbeOutcome::Skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_token_in_place_of_the_app_token_is_named_with_its_fix() {
    let world = World::start();
    let bot = world.emulator.bot_token().to_owned();
    let probes = setup_probes(
        &world,
        &world.config(),
        &[("SLACK_APP_TOKEN", Some(bot.as_str()))],
    )
    .await;
    insta::assert_snapshot!(failure(&probes, "socket mode"), @r#"
    socket mode: slack rejected the credentials: apps.connections.open: not_allowed_token_type
    fix: SLACK_APP_TOKEN holds a bot or user token: use the app-level token (xapp-…) with the connections:write scope
    "#);
    assert!(probe(&probes, "bot token").passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_app_token_is_named_with_its_fix() {
    let world = World::start();
    let probes = setup_probes(&world, &world.config(), &[("SLACK_APP_TOKEN", None)]).await;
    insta::assert_snapshot!(failure(&probes, "socket mode"), @r#"
    socket mode: SLACK_APP_TOKEN is not set
    fix: create an app-level token with the connections:write scope (api.slack.com/apps → your app → Basic Information → App-Level Tokens) and set SLACK_APP_TOKEN to it (xapp-…)
    "#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_scopes_are_listed_with_their_fix() {
    let world = World::start();
    world
        .emulator
        .set_scopes(&["chat:write", "channels:read", "connections:write"]);
    let probes = setup_probes(&world, &world.config(), &[]).await;
    insta::assert_snapshot!(failure(&probes, "scopes"), @r#"
    scopes: missing: channels:history (read the channel back (backfill, no doubles)), reactions:write (react), reactions:read (receive the operator's reactions), files:write (upload files), files:read (fetch the operator's files)
    fix: add the missing scopes under Bot Token Scopes (api.slack.com/apps → your app → OAuth & Permissions), then reinstall the app to the workspace
    "#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_without_the_bot_is_named_with_its_fix() {
    let world = World::start();
    let elsewhere = world.emulator.add_channel("elsewhere", false);
    let config = ConnectorConfig::from_roster_str(&format!(
        "connector:\n  kind: slack\n  allowed_senders: ['{}']\n  slack:\n    channel_id: '{}'\n    \
         state_dir: '{}'\n",
        world.operator.id,
        elsewhere,
        world.state.path().display()
    ))
    .unwrap();
    let probes = setup_probes(&world, &config, &[]).await;
    let text = failure(&probes, "channel").replace(&elsewhere, "[CHANNEL]");
    insta::assert_snapshot!(text, @r#"
    channel: the bot is not a member of #elsewhere ([CHANNEL])
    fix: invite the bot: type /invite @<bot name> in #elsewhere, or add the app under the channel's Integrations
    "#);
    // Opening refuses the same way.
    let refused = (connector_slack::DESCRIPTOR.create)(&config, &world.env()).await;
    assert!(
        refused
            .as_ref()
            .err()
            .is_some_and(|e| e.to_string().contains("not a member")),
        "{:?}",
        refused.err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_channel_is_named_with_its_fix() {
    let world = World::start();
    let config = ConnectorConfig::from_roster_str(&format!(
        "connector:\n  kind: slack\n  allowed_senders: ['{}']\n  slack:\n    channel_id: \
         C0NOSUCH99\n    state_dir: '{}'\n",
        world.operator.id,
        world.state.path().display()
    ))
    .unwrap();
    let probes = setup_probes(&world, &config, &[]).await;
    insta::assert_snapshot!(failure(&probes, "channel"), @r#"
    channel: slack refused the request: conversations.info: channel_not_found
    fix: check connector.slack.channel_id (C0NOSUCH99: the id at the bottom of the channel's details); for a private channel invite the bot first
    "#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deaf_app_fails_the_round_trip_with_the_subscription_fix() {
    // Slack sends the app none of the channel's messages: no `message.channels` subscription.
    let world = World::with_config(Config::default().echo_own_messages(false));
    let connector = world.open().await;
    let round_trip = connector
        .round_trip(std::time::Duration::from_millis(1500))
        .await
        .into_probe();
    let text = failure(std::slice::from_ref(&round_trip), "round trip");
    insta::assert_snapshot!(text, @r#"
    round trip: the probe was posted but did not come back through Socket Mode within 1.5 s: the connector is connected but does not receive messages
    fix: no message events arrive: subscribe the app to `message.channels` (and `message.groups` / `message.im` for private channels and direct messages) under Event Subscriptions → Subscribe to bot events, with Socket Mode on, then reinstall the app
    "#);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_a_stopped_slack_and_recovers() {
    let world = World::start();
    let connector = world.open().await;
    assert!(connector.health().await.is_healthy());
    world.stop().await;
    let down = connector.health().await;
    assert!(!down.is_healthy());
    assert!(down.detail.unwrap().contains("auth.test"));
    world.restart().await;
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while !connector.health().await.is_healthy() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never recovered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    connector.close().await.unwrap();
}
