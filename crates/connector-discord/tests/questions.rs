//! Questions on Discord (the emulator): how a question looks (text and buttons), a click that
//! arrives too late for Discord's 3 s still settles the question once, a question pending over
//! a restart is still answered by a click, and its answer given while the connector was away
//! by typing arrives once after the restart.

mod common;

use std::time::Duration;

use common::{World, eventually, next};
use connector_core::question::{Choice, ChoiceStyle, Question, QuestionId};
use connector_core::questions::{Waited, ask_and_wait};
use discord_emulator::{Message, Seen, Snowflake};

fn deploy(id: &str) -> Question {
    Question::new(
        "Deploy **v2** to prod? `<@everyone>`",
        vec![
            Choice::new("deploy", "Deploy").styled(ChoiceStyle::Danger),
            Choice::new("wait", "Wait").styled(ChoiceStyle::Primary),
            Choice::new("ask-later", "Ask me later"),
        ],
    )
    .unwrap()
    .with_id(QuestionId::new(id).unwrap())
}

fn question_message(world: &World) -> Message {
    let messages = world.bot_messages(world.channel());
    assert_eq!(messages.len(), 1, "{messages:#?}");
    messages.into_iter().next().unwrap()
}

fn custom_ids(message: &Message) -> Vec<String> {
    message
        .components
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_text_and_buttons_and_a_click_settles_it() {
    let world = World::start();
    let connector = world.open().await;
    let asking = tokio::spawn({
        let connector = connector.clone();
        async move { ask_and_wait(connector.as_ref(), deploy("qdeploy"), None).await }
    });
    let message = eventually("the question", || world.bot_messages(world.channel()).pop()).await;
    insta::assert_json_snapshot!(
        "question_message",
        serde_json::json!({
            "content": message.content,
            "components": message.components,
        })
    );
    let click = world
        .emulator
        .click_as(
            &world.operator,
            world.channel(),
            message.id,
            &custom_ids(&message)[1],
        )
        .unwrap();
    let (_, waited) = asking.await.unwrap().unwrap();
    let Waited::Settled(answer) = waited else {
        panic!("{waited:?}")
    };
    assert_eq!(answer.answer.as_ref().unwrap().choice_id(), Some("wait"));
    assert_eq!(answer.sender.as_str(), world.operator.id.to_string());
    let seen = world.emulator.seen_by(&world.operator, click.id);
    assert!(matches!(seen.as_slice(), [Seen::Edited(_)]), "{seen:?}");
    let settled = question_message(&world);
    assert!(settled.components.is_empty(), "no buttons once settled");
    insta::assert_snapshot!(
        "settled_question",
        settled.content.split(" — ").next().unwrap().to_owned()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_too_late_for_the_response_still_settles_the_question_once() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    connector.ask(deploy("qlate")).await.unwrap();
    let message = question_message(&world);
    // The gateway hands the click over after Discord's 3 s: the response comes too late.
    world
        .emulator
        .faults()
        .delay_interactions(Duration::from_millis(3500));
    let click = world
        .emulator
        .click_as(
            &world.operator,
            world.channel(),
            message.id,
            &custom_ids(&message)[0],
        )
        .unwrap();
    let answer = next(&mut subscription, "the answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("deploy"));
    let seen = world.emulator.seen_by(&world.operator, click.id);
    assert!(
        seen.contains(&Seen::Failed),
        "the user saw the failure: {seen:?}"
    );
    // The outcome is shown all the same, by editing the message.
    eventually("the outcome on the question", || {
        let m = question_message(&world);
        (m.components.is_empty() && m.content.contains("✅ Deploy")).then_some(())
    })
    .await;
    world.emulator.faults().delay_interactions(Duration::ZERO);
    world.post(world.channel(), "sentinel");
    let after = next(&mut subscription, "the sentinel").await;
    assert_eq!(after.text, "sentinel", "the answer is delivered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_survives_a_restart_and_a_typed_answer_given_while_away_arrives_once() {
    let world = World::start();
    let connector = world.open().await;
    connector.ask(deploy("qclick")).await.unwrap();
    connector.ask(deploy("qtyped")).await.unwrap();
    connector.close().await.unwrap();
    drop(connector);

    // While the connector is away the operator types the answer to one question.
    world.post(world.channel(), "ask me later qtyped");

    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let typed = next(&mut subscription, "the answer typed while away").await;
    let carried = typed.answer.unwrap();
    assert_eq!(carried.question_id.as_str(), "qtyped");
    assert_eq!(carried.choice_id(), Some("ask-later"));

    // The other question's buttons still work after the restart.
    let clickable: Vec<(Snowflake, String)> = world
        .bot_messages(world.channel())
        .iter()
        .filter(|m| !m.components.is_empty())
        .map(|m| (m.id, custom_ids(m)[0].clone()))
        .collect();
    assert_eq!(
        clickable.len(),
        1,
        "only the open question keeps its buttons"
    );
    let (message, custom_id) = &clickable[0];
    world
        .emulator
        .click_as(&world.operator, world.channel(), *message, custom_id)
        .unwrap();
    let clicked = next(&mut subscription, "the click after the restart").await;
    assert_eq!(clicked.answer.unwrap().question_id.as_str(), "qclick");

    // Another restart delivers neither answer again.
    connector.close().await.unwrap();
    drop(connector);
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    world.post(world.channel(), "sentinel");
    let after = next(&mut subscription, "the sentinel").await;
    assert_eq!(after.text, "sentinel", "nothing delivered twice");
}
