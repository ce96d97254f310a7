//! Who may reach the orchestrator: user ids or allowed roles (roles from `member.roles` on the
//! gateway, looked up over REST for backfilled messages), and `require_mention`.

mod common;

use common::{World, next};
use connector_core::OutboundMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_an_allowed_role_pass_others_do_not() {
    let world = World::start();
    let operators = world.emulator.add_role("operators", 0);
    let other_role = world.emulator.add_role("visitors", 0);
    let teammate = world.emulator.add_user("teammate");
    world.emulator.assign_role(teammate.id, operators).unwrap();
    world
        .emulator
        .assign_role(world.stranger.id, other_role)
        .unwrap();
    let config = world.config_with(
        world.channel(),
        &format!("    allowed_roles: ['{operators}']\n"),
    );
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    world
        .emulator
        .post_as(&world.stranger, world.channel(), "not an operator")
        .unwrap();
    world
        .emulator
        .post_as(&teammate, world.channel(), "I have the role")
        .unwrap();
    let by_role = next(&mut inbox, "the role member's message").await;
    assert_eq!(by_role.text, "I have the role");
    assert_eq!(by_role.sender.as_str(), teammate.id.to_string());
    world.post(world.channel(), "listed by id");
    assert_eq!(
        next(&mut inbox, "the listed operator").await.text,
        "listed by id"
    );
    assert!(inbox.try_recv().is_none());
    assert_eq!(connector.health().await.rejected_senders, 1);
    connector.close().await.unwrap();
    drop(inbox);

    // Backfilled messages carry no member: the connector looks the roles up.
    world
        .emulator
        .post_as(&teammate, world.channel(), "posted while down")
        .unwrap();
    world
        .emulator
        .post_as(&world.stranger, world.channel(), "stranger while down")
        .unwrap();
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    assert_eq!(
        next(&mut inbox, "the role member's backfilled message")
            .await
            .text,
        "posted while down"
    );
    world.post(world.channel(), "sentinel");
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    assert!(
        world
            .emulator
            .requests()
            .iter()
            .any(|r| r.path.contains("/members/") && r.by_bot)
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_mention_delivers_only_what_mentions_the_bot_without_the_mention() {
    let world = World::start();
    let bot = world.emulator.bot_user_id();
    let config = world.config_with(world.channel(), "    require_mention: true\n");
    let connector = world.open_with(&config).await;
    let mut inbox = connector.subscribe().await.expect("subscribe");

    world.post(world.channel(), "chatting with a colleague");
    world.post(world.channel(), &format!("<@{bot}> deploy to staging?"));
    let asked = next(&mut inbox, "the message mentioning the bot").await;
    assert_eq!(asked.text, "deploy to staging?");

    // In a thread the mention is required as well.
    let receipt = connector
        .send(OutboundMessage::new("Deploying").in_thread(asked.message_id.as_str()))
        .await
        .expect("reply in a thread");
    let thread: discord_emulator::Snowflake = receipt
        .thread_id
        .expect("a thread")
        .as_str()
        .parse()
        .unwrap();
    world.post(thread, "thanks (no mention)");
    world.post(thread, &format!("and prod too <@!{bot}>"));
    let in_thread = next(&mut inbox, "the mention in the thread").await;
    assert_eq!(in_thread.text, "and prod too");
    assert_eq!(in_thread.thread_id.unwrap().as_str(), thread.to_string());

    // Reactions on the bot's messages need no mention.
    world
        .emulator
        .react_as(
            &world.operator,
            thread,
            receipt.message_ids[0].as_str().parse().unwrap(),
            "👍",
        )
        .unwrap();
    assert!(next(&mut inbox, "the reaction").await.is_reaction());
    world.post(world.channel(), &format!("<@{bot}> sentinel"));
    assert_eq!(next(&mut inbox, "the sentinel").await.text, "sentinel");
    assert!(inbox.try_recv().is_none());
    assert_eq!(
        connector.health().await.rejected_senders,
        0,
        "unmentioned messages are not strangers"
    );
    connector.close().await.unwrap();
}
