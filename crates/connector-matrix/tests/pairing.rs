//! Pairing on Synapse: a stranger in the room who writes is answered with a code (a notice
//! naming them, pinging nobody) and not delivered; approving the code at the machine (core's
//! store, as `connector pair approve` does) admits them without a restart; revoking takes
//! effect at once.

mod common;

use common::{PATIENCE, World, eventually, recv};
use connector_core::pairing::{PairingCode, PairingStore};
use connector_core::{ConnectorConfig, OrchestratorConnector, SenderId, Timestamp};
use connector_matrix::MatrixConnector;

/// The world's roster with pairing on.
fn config(world: &World) -> ConnectorConfig {
    let mut yaml = roster_yaml(world);
    yaml.push_str("  pairing: {enabled: true}\n");
    ConnectorConfig::from_roster_str(&yaml).expect("a valid roster")
}

fn roster_yaml(world: &World) -> String {
    format!(
        "connector:\n  kind: matrix\n  allowed_senders: ['{}']\n  matrix:\n    homeserver_url: {}\n    \
         user_id: '{}'\n    room_id: '{}'\n    state_dir: '{}'\n",
        world.operator.user_id,
        world.homeserver.base_url(),
        world.bot.user_id,
        world.room,
        world.state.path().display()
    )
}

/// The code in the bot's newest notice that names `user`.
async fn code_for(world: &World, user: &str) -> (String, PairingCode) {
    eventually(PATIENCE, "the pairing code", || async {
        let events = world
            .homeserver
            .events(&world.operator, &world.room, 50)
            .await;
        let notice = events.iter().rev().find(|e| {
            e["sender"] == world.bot.user_id.as_str()
                && e["content"]["msgtype"] == "m.notice"
                && e["content"]["body"]
                    .as_str()
                    .is_some_and(|b| b.starts_with(&format!("{user}: ")))
        })?;
        let body = notice["content"]["body"].as_str()?.to_owned();
        let after = body.split("connector pair approve ").nth(1)?;
        let code = PairingCode::parse(&after[..8])?;
        assert_eq!(
            notice["content"]["m.mentions"],
            serde_json::json!({}),
            "the notice pings nobody"
        );
        Some((body, code))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_is_paired_by_a_code_approved_at_the_machine() {
    let world = World::start().await;
    let config = config(&world);
    let connector = MatrixConnector::open(&config, &world.env())
        .await
        .expect("open the Matrix connector");
    let mut inbox = connector.subscribe().await.unwrap();

    let stranger = world.stranger.user_id.as_str();
    world
        .homeserver
        .send_text(&world.stranger, &world.room, "hello, it's me", None)
        .await;
    let (body, code) = code_for(&world, stranger).await;
    assert!(body.contains("was not passed on"), "{body}");
    world.post("sentinel 1").await;
    assert_eq!(
        recv(&mut inbox, "the sentinel").await.text,
        "sentinel 1",
        "the stranger is not delivered"
    );

    // At the machine: approve the code (as `connector pair approve` does).
    let store = PairingStore::in_dir(world.state.path());
    let approved = store
        .update(|s| Ok(s.approve(&code, Timestamp::now())))
        .unwrap()
        .expect("approved");
    assert_eq!(approved.sender, SenderId::new(stranger));

    // No restart: the stranger's next message is delivered.
    world
        .homeserver
        .send_text(&world.stranger, &world.room, "now I'm in", None)
        .await;
    let admitted = recv(&mut inbox, "the paired sender's message").await;
    assert_eq!(admitted.text, "now I'm in");
    assert_eq!(admitted.sender.as_str(), stranger);

    // Revoked at the machine: out at once.
    store
        .update(|s| Ok(s.revoke(&approved.sender)))
        .unwrap()
        .expect("revoked");
    world
        .homeserver
        .send_text(&world.stranger, &world.room, "after the revoke", None)
        .await;
    world.post("sentinel 2").await;
    assert_eq!(
        recv(&mut inbox, "the sentinel").await.text,
        "sentinel 2",
        "revoked at once"
    );
    connector.close().await.unwrap();
}
