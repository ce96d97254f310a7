//! Questions on Slack beyond the conformance suite: the click acked within Slack's deadline,
//! a redelivered click answered once, the outcome shown by `chat.update` without buttons, and
//! questions asked in a thread.

mod common;

use common::{World, next};
use connector_core::question::{Choice, Outcome, Question};
use slack_emulator::ACK_DEADLINE;

fn question(text: &str) -> Question {
    Question::new(
        text,
        vec![Choice::new("merge", "Merge"), Choice::new("close", "Close")],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_click_is_answered_once_and_the_buttons_go() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let receipt = connector.ask(question("Merge PR #7?")).await.unwrap();
    let ts = receipt.message_ids[0].as_str().to_owned();
    let asked = world
        .bot_messages()
        .into_iter()
        .find(|m| m.ts == ts)
        .unwrap();
    let action = asked.blocks.as_ref().unwrap()[1]["elements"][0]["action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The question's own echo acked first, so the armed fault takes the click's ack.
    common::eventually("nothing pending", || {
        (world.emulator.unacked() == 0).then_some(())
    })
    .await;
    world.emulator.faults().ignore_acks(1);
    let clicked = std::time::Instant::now();
    let envelope = world
        .emulator
        .click(&world.operator, &world.channel(), &ts, &action, None)
        .unwrap();
    let answer = next(&mut subscription, "the answer").await;
    assert_eq!(
        answer.answer.unwrap().outcome,
        Outcome::Chosen {
            choice_id: "merge".into(),
            label: "Merge".into()
        }
    );
    // The first ack came in time (and was ignored by the fault); the redelivery is acked too.
    let first_ack = common::eventually("the ack", || {
        world
            .emulator
            .acks()
            .iter()
            .any(|a| a["envelope_id"] == envelope.as_str())
            .then(|| clicked.elapsed())
    })
    .await;
    assert!(first_ack < ACK_DEADLINE, "acked after {first_ack:?}");
    common::eventually("the redelivery acked", || {
        let redelivered = world
            .emulator
            .socket_frames()
            .iter()
            .any(|f| f["envelope_id"] == envelope.as_str() && f["retry_attempt"] == 1);
        (redelivered && world.emulator.unacked() == 0).then_some(())
    })
    .await;
    let settled = world
        .bot_messages()
        .into_iter()
        .find(|m| m.ts == ts)
        .unwrap();
    assert!(settled.text.contains("✅ Merge"), "{}", settled.text);
    let blocks = settled.blocks.unwrap();
    assert!(
        blocks
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] != "actions"),
        "no buttons left: {blocks}"
    );
    assert!(world.emulator.ephemeral_seen_by(&world.operator).is_empty());
    world.post("sentinel", None);
    assert_eq!(
        next(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_in_a_thread_is_answered_there_by_typing() {
    let world = World::start();
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let root = world.post("about PR #8", None);
    assert_eq!(
        next(&mut subscription, "the root").await.text,
        "about PR #8"
    );
    let receipt = connector
        .ask(question("Merge PR #8?").in_thread(root.as_str()))
        .await
        .unwrap();
    assert_eq!(receipt.thread_id.as_ref().unwrap().as_str(), root);
    let in_thread = world.emulator.replies(&world.channel(), &root);
    assert!(in_thread.iter().any(|m| m.text.contains("Merge PR #8?")));
    world.post("close", Some(&root));
    let answer = next(&mut subscription, "the typed answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("close"));
    // The question shows the outcome in its thread.
    let ts = receipt.message_ids[0].as_str();
    common::eventually("the outcome", || {
        world
            .emulator
            .replies(&world.channel(), &root)
            .into_iter()
            .find(|m| m.ts == ts && m.text.contains("✅ Close"))
    })
    .await;
    connector.close().await.unwrap();
}
