//! Pairing on the Discord emulator: a stranger who writes is sent a code and not delivered;
//! approving the code at the machine (core's store, as `connector pair approve` does) admits
//! them without a restart; wrong, replayed and expired codes are refused; the code is sent
//! again at most every ten minutes; the pairing survives a restart; revoking takes effect at
//! once.

mod common;

use common::{World, eventually, next};
use connector_core::pairing::{Outcome, PairingCode, PairingStore, Refusal};
use connector_core::{ConnectorConfig, Timestamp};
use discord_emulator::{Message, Snowflake};

/// The operator listed, pairing on.
fn config(world: &World) -> ConnectorConfig {
    ConnectorConfig::from_roster_str(&format!(
        "connector:\n  kind: discord\n  allowed_senders: ['{}']\n  pairing: {{enabled: true}}\n  \
         discord:\n    channel_id: '{}'\n    state_dir: '{}'\n",
        world.operator.id,
        world.channel(),
        world.state.path().display()
    ))
    .expect("a valid roster")
}

/// The bot's replies to `message`.
fn replies_to(world: &World, message: &Message) -> Vec<Message> {
    world
        .bot_messages(world.channel())
        .into_iter()
        .filter(|m| m.reference.as_ref().and_then(|r| r.message_id) == Some(message.id))
        .collect()
}

/// The code in a reply's text.
fn code_in(reply: &Message) -> PairingCode {
    let after = reply
        .content
        .split("connector pair approve ")
        .nth(1)
        .expect("the reply names the command");
    PairingCode::parse(&after[..8]).expect("a code")
}

async fn code_for(world: &World, message: &Message) -> (Message, PairingCode) {
    let reply = eventually("the pairing code", || replies_to(world, message).pop()).await;
    let code = code_in(&reply);
    (reply, code)
}

fn post_as(world: &World, user: &discord_emulator::UserHandle, text: &str) -> Message {
    world
        .emulator
        .post_as(user, world.channel(), text)
        .expect("post")
}

fn bot_posts(world: &World, channel: Snowflake) -> usize {
    world.bot_messages(channel).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_is_paired_by_a_code_approved_at_the_machine() {
    let world = World::start();
    let config = config(&world);
    let store = PairingStore::in_dir(world.state.path());
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    // A stranger writes: answered with a code, as a reply, and not delivered.
    let hello = post_as(&world, &world.stranger, "hello, it's me");
    let (reply, code) = code_for(&world, &hello).await;
    insta::assert_snapshot!(reply.content.replace(code.as_str(), "<CODE>"), @r"
    I don't know you yet, so your message was not passed on. If you are the operator, approve yourself on the machine where the connector runs (with the same roster):
    `connector pair approve <CODE>`
    The code expires in 60 minutes. Nobody can approve it from this chat.
    ");
    assert!(reply.mentions.is_empty(), "the reply pings nobody");
    // Writing again within ten minutes: the same code is not sent again.
    let again = post_as(&world, &world.stranger, "hello??");
    world.post(world.channel(), "sentinel 1");
    assert_eq!(
        next(&mut inbox, "the operator's message").await.text,
        "sentinel 1"
    );
    assert!(replies_to(&world, &again).is_empty(), "rate limited");
    assert_eq!(bot_posts(&world, world.channel()), 1);
    let pending = store.read().unwrap().pending;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].sender.as_str(), world.stranger.id.to_string());

    // At the machine: a wrong code is refused, the right one admits, a replay is refused.
    let now = Timestamp::now();
    let wrong = PairingCode::parse("ZZZZZZZZ").unwrap();
    assert_eq!(
        store.update(|s| Ok(s.approve(&wrong, now))).unwrap(),
        Err(Refusal::UnknownCode)
    );
    let approved = store
        .update(|s| Ok(s.approve(&code, now)))
        .unwrap()
        .expect("approved");
    assert_eq!(approved.sender.as_str(), world.stranger.id.to_string());
    assert!(matches!(
        store.update(|s| Ok(s.approve(&code, now))).unwrap(),
        Err(Refusal::Used {
            outcome: Outcome::Approved,
            ..
        })
    ));

    // No restart: the stranger's next message is delivered.
    post_as(&world, &world.stranger, "now I'm in");
    let admitted = next(&mut inbox, "the paired sender's message").await;
    assert_eq!(admitted.text, "now I'm in");
    assert_eq!(admitted.sender.as_str(), world.stranger.id.to_string());
    connector.close().await.unwrap();
    drop(inbox);

    // The pairing survives a restart.
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    post_as(&world, &world.stranger, "still in after a restart");
    assert_eq!(
        next(&mut inbox, "the paired sender after a restart")
            .await
            .text,
        "still in after a restart"
    );

    // Revoked at the machine: out at once, and offered a new code.
    store
        .update(|s| Ok(s.revoke(&approved.sender)))
        .unwrap()
        .expect("revoked");
    let after = post_as(&world, &world.stranger, "after the revoke");
    let (_, new_code) = code_for(&world, &after).await;
    assert_ne!(new_code, code);
    world.post(world.channel(), "sentinel 2");
    assert_eq!(
        next(&mut inbox, "the operator's message").await.text,
        "sentinel 2"
    );
    assert!(
        inbox.try_recv().is_none(),
        "the revoked sender is not delivered"
    );
    assert!(connector.health().await.rejected_senders >= 1);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_codes_are_refused() {
    let world = World::start();
    let config = config(&world);
    let store = PairingStore::in_dir(world.state.path());
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    let hello = post_as(&world, &world.stranger, "hello");
    let (_, code) = code_for(&world, &hello).await;
    let later = Timestamp::now() + std::time::Duration::from_secs(61 * 60);
    assert!(matches!(
        store.update(|s| Ok(s.approve(&code, later))).unwrap(),
        Err(Refusal::Expired { .. })
    ));
    assert!(
        !store
            .read()
            .unwrap()
            .is_approved(&world.stranger.id.to_string().into())
    );

    // Still not delivered, and still one code for the sender.
    post_as(&world, &world.stranger, "hello again");
    world.post(world.channel(), "sentinel");
    assert_eq!(
        next(&mut inbox, "the operator's message").await.text,
        "sentinel"
    );
    assert_eq!(store.read().unwrap().pending.len(), 1);
    connector.close().await.unwrap();
}
