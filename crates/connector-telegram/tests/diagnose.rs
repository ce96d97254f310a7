//! `diagnose()` and `DESCRIPTOR.diagnose_setup`: each reason the bot is deaf or muzzled is a
//! failing probe naming it, with its fix.

mod common;

use std::collections::HashMap;

use common::{ChatShape, World};
use connector_core::{Probe, ProbeOutcome};
use serde_json::json;

/// Every probe, one a line: `✓ name: detail`, `✗ name: detail` + `fix: …`, `- name: reason`.
fn render(probes: &[Probe]) -> String {
    let mut out = String::new();
    for probe in probes {
        let mark = match probe.outcome {
            ProbeOutcome::Pass => "✓",
            ProbeOutcome::Fail => "✗",
            _ => "-",
        };
        out.push_str(&format!(
            "{mark} {}: {}\n",
            probe.name,
            probe.detail.as_deref().unwrap_or("")
        ));
        if let Some(fix) = &probe.fix {
            out.push_str(&format!("  fix: {fix}\n"));
        }
    }
    out
}

/// The probes with ids and ports replaced, so snapshots are stable.
fn stable(world: &World, probes: &[Probe]) -> String {
    render(probes)
        .replace(&world.emulator.port().to_string(), "<port>")
        .replace(&world.emulator.bot_id().to_string(), "<bot>")
        .replace(&world.chat.to_string(), "<chat>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_forum_passes_every_probe() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let _subscription = connector
        .subscribe()
        .await
        .expect("subscribe: the poller starts");
    let probes = connector.diagnose().await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✓ token: the token belongs to @emulator_bot (id <bot>)
    ✓ chat: chat <chat> is a supergroup (ops)
    ✓ threads: a forum: threads are forum topics
    ✓ privacy mode: the bot is an administrator: it reads every message
    ✓ bot rights: the bot is administrator and may post and start topics
    ✓ webhook: no webhook is set
    ✓ update polling: getUpdates answers; no other poller
    ");
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_named_with_its_fix() {
    let world = World::start(ChatShape::Private);
    let mut env = world.env();
    env.insert("TELEGRAM_BOT_TOKEN".into(), "123:wrong".into());
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&world.config(), &env).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✗ token: telegram rejected the credentials: check the token: getMe: Telegram answered 401 Unauthorized (the bot token is wrong or was revoked: ask @BotFather)
      fix: set TELEGRAM_BOT_TOKEN to the token @BotFather gave the bot (/mybots → API Token); a revoked token must be replaced
    - chat: the token is not accepted
    - threads: the token is not accepted
    - privacy mode: the token is not accepted
    - bot rights: the token is not accepted
    - webhook: the token is not accepted
    - update polling: the token is not accepted
    ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_the_bot_cannot_see_is_named_with_its_fix() {
    let world = World::start(ChatShape::Private);
    let config = connector_core::ConnectorConfig::from_roster_str(&format!(
        "connector:\n  kind: telegram\n  allowed_senders: ['{}']\n  telegram:\n    chat_id: \
         -1009999999999\n    state_dir: '{}'\n",
        world.operator.id,
        world.state.path().display()
    ))
    .unwrap();
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&config, &world.env()).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✓ token: the token belongs to @emulator_bot (id <bot>)
    ✗ chat: the bot cannot see chat -1009999999999: Bad Request: chat not found
      fix: add the bot to the group, and check connector.telegram.chat_id (a supergroup's id starts with -100)
    - threads: the chat is not visible
    - privacy mode: the chat is not visible
    - bot rights: the chat is not visible
    ✓ webhook: no webhook is set
    - update polling: the connector is not running
    ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_mode_in_a_group_is_named_with_its_fix() {
    let mut world = World::start(ChatShape::Private);
    world.chat = world.emulator.add_group("ops group", &[&world.operator]);
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&world.config(), &world.env()).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✓ token: the token belongs to @emulator_bot (id <bot>)
    ✓ chat: chat <chat> is a group (ops group)
    ✓ threads: not a forum: threads are reply chains
    ✗ privacy mode: privacy mode is on and the bot is not an administrator: it only sees commands, replies to its own messages and mentions
      fix: in @BotFather: /mybots → the bot → Bot Settings → Group Privacy → Turn off, then remove the bot from the group and add it again; or make the bot an administrator
    ✓ bot rights: the bot is member and may post
    ✓ webhook: no webhook is set
    - update polling: the connector is not running
    ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forum_bot_without_admin_rights_is_named_with_its_fix() {
    let world = World::start(ChatShape::Forum);
    world.emulator.set_bot_admin(world.chat, false).unwrap();
    world.emulator.set_privacy_mode(false);
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&world.config(), &world.env()).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✓ token: the token belongs to @emulator_bot (id <bot>)
    ✓ chat: chat <chat> is a supergroup (ops)
    ✓ threads: a forum: threads are forum topics
    ✓ privacy mode: privacy mode is off: the bot reads every message
    ✗ bot rights: the bot may post but cannot start forum topics: sending into a new thread fails
      fix: make the bot an administrator of the forum with the Manage Topics right
    ✓ webhook: no webhook is set
    - update polling: the connector is not running
    ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_still_set_is_named_with_its_fix() {
    let world = World::start(ChatShape::Private);
    reqwest::Client::new()
        .post(format!("{}/setWebhook", world.emulator.bot_url()))
        .json(&json!({ "url": "https://example.org/hook" }))
        .send()
        .await
        .unwrap();
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&world.config(), &world.env()).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✓ token: the token belongs to @emulator_bot (id <bot>)
    ✓ chat: chat <chat> is a private (operator)
    ✓ threads: not a forum: threads are reply chains
    - privacy mode: a private chat: the bot reads every message
    - bot rights: a private chat: the bot may post
    ✗ webhook: a webhook is set (https://example.org/hook): Telegram refuses getUpdates while it is
      fix: delete it (the deleteWebhook method, e.g. curl https://api.telegram.org/bot<token>/deleteWebhook) if nothing else uses it; one bot token cannot serve both
    - update polling: the connector is not running
    ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_named_with_its_fix() {
    let world = World::start(ChatShape::Private);
    world.stop().await;
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&world.config(), &world.env()).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✗ token: telegram unreachable: check the token: getMe: Telegram could not be reached (Connection refused (os error 111))
      fix: Telegram (or TELEGRAM_API_BASE_URL) does not answer: check the network and the proxy settings
    - chat: Telegram does not answer
    - threads: Telegram does not answer
    - privacy mode: Telegram does not answer
    - bot rights: Telegram does not answer
    - webhook: Telegram does not answer
    - update polling: Telegram does not answer
    ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_is_a_configuration_probe() {
    let world = World::start(ChatShape::Private);
    let env: HashMap<String, String> = HashMap::new();
    let diagnose = connector_telegram::DESCRIPTOR.diagnose_setup.unwrap();
    let probes = diagnose(&world.config(), &env).await;
    insta::assert_snapshot!(stable(&world, &probes), @r"
    ✗ configuration: TELEGRAM_BOT_TOKEN: not set: export TELEGRAM_BOT_TOKEN=… or point TELEGRAM_BOT_TOKEN_FILE at a file holding it (never put it in the roster)
    ");
}
