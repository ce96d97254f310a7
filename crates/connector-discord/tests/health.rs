//! Health and open-time checks: token, channel visibility, the Message Content intent.

mod common;

use std::collections::HashMap;

use common::{World, next};
use connector_core::Error;
use discord_emulator::{Config, Intents};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused_at_open() {
    let world = World::start();
    let mut env: HashMap<String, String> = world.env();
    env.insert("DISCORD_BOT_TOKEN".into(), "not-the-token".into());
    let error = connector_discord::DiscordConnector::open(&world.config(), &env)
        .await
        .expect_err("a bad token");
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(error.to_string().contains("token rejected"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invisible_channel_is_named_at_open() {
    let world = World::start();
    let config = world.config_for(world.emulator.hidden_channel_id());
    let error = connector_discord::DiscordConnector::open(&config, &world.env())
        .await
        .expect_err("a hidden channel");
    let problems = error.config_problems();
    assert_eq!(problems[0].path, "connector.discord.channel_id", "{error}");
    assert!(error.to_string().contains("50001"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_content_intent_not_granted_is_explained_at_open() {
    let world =
        World::with_config(Config::default().granted_privileged_intents(Intents::GUILD_MEMBERS));
    let error = connector_discord::DiscordConnector::open(&world.config(), &world.env())
        .await
        .expect_err("the intent is not granted");
    assert!(
        error.to_string().contains("enable Message Content Intent"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withheld_message_content_turns_health_false() {
    let world = World::start();
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    assert!(connector.health().await.is_healthy());
    world
        .emulator
        .revoke_privileged_intents(Intents::MESSAGE_CONTENT);
    world.post(world.channel(), "can you read this?");
    next(&mut inbox, "the message without its content").await;
    let health = connector.health().await;
    assert!(!health.is_healthy(), "{health:?}");
    assert!(
        health
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("enable Message Content Intent")),
        "{health:?}"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_the_server() {
    let world = World::start();
    let connector = world.open().await;
    world.stop().await;
    let down = connector.health().await;
    assert!(!down.reachable, "{down:?}");
    world.restart().await;
    let mut recovered = None;
    for _ in 0..300 {
        let health = connector.health().await;
        if health.is_healthy() {
            recovered = Some(health);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered.is_some(), "health recovers");
    connector.close().await.unwrap();
}
