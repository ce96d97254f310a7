//! Questions on Telegram: how the question looks (text and inline keyboard), a press answered
//! with `answerCallbackQuery`, a second press told who answered first, and a press made while
//! the connector was closed taken once it is back.

mod common;

use common::{ChatShape, World, eventually, next};
use connector_core::question::{Choice, ChoiceStyle, Question, QuestionId};
use connector_core::{OrchestratorConnector, QuestionReceipt};

fn merge_question(id: &str) -> Question {
    Question::new(
        "PR #12 is green. Merge?",
        vec![
            Choice::new("merge", "Merge").styled(ChoiceStyle::Primary),
            Choice::new("close", "Close").styled(ChoiceStyle::Danger),
        ],
    )
    .unwrap()
    .with_id(QuestionId::new(id).unwrap())
}

fn message_id(receipt: &QuestionReceipt) -> i64 {
    receipt.message_ids[0].as_str().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_its_text_and_one_button_per_choice() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let receipt = connector.ask(merge_question("qmerge")).await.unwrap();
    let message = world
        .emulator
        .message(world.chat, message_id(&receipt))
        .unwrap();
    insta::assert_snapshot!(message.content.text.unwrap(), @r"
    PR #12 is green. Merge?

    1. Merge
    2. Close

    Press a button, or type its number (1–2) or its label, or `<choice> qmerge` from anywhere.
    ");
    insta::assert_json_snapshot!(message.content.reply_markup.unwrap(), @r#"
    {
      "inline_keyboard": [
        [
          {
            "callback_data": "q:qmerge:0",
            "text": "Merge"
          },
          {
            "callback_data": "q:qmerge:1",
            "text": "Close"
          }
        ]
      ]
    }
    "#);
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_press_is_told_who_answered_first_and_never_delivered() {
    let world = World::start(ChatShape::Forum);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let receipt = connector.ask(merge_question("qtwice")).await.unwrap();
    let id = message_id(&receipt);
    // Both presses land before the connector handles either: the keyboard is still there.
    let first = world
        .emulator
        .click(&world.operator, world.chat, id, "q:qtwice:0")
        .unwrap();
    let second = world
        .emulator
        .click(&world.operator, world.chat, id, "q:qtwice:1")
        .unwrap();
    let answer = next(&mut inbox, "the answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("merge"));
    let told = eventually("both presses answered", || {
        let first = world.emulator.callback_answer(&first)?;
        let second = world.emulator.callback_answer(&second)?;
        Some((first, second))
    })
    .await;
    assert_eq!(told.0.text, None, "the first press is taken silently");
    let second_text = told.1.text.expect("the second press is told why");
    assert!(second_text.contains("already answered"), "{second_text}");
    let shown = eventually("the outcome shown", || {
        let message = world.emulator.message(world.chat, id)?;
        (message.content.reply_markup.is_none()).then_some(message.content.text?)
    })
    .await;
    assert!(shown.contains("✅ Merge"), "{shown}");
    world.post("sentinel");
    assert_eq!(
        next(&mut inbox, "the sentinel").await.text,
        "sentinel",
        "the second press is not delivered"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_press_made_while_closed_is_taken_once_after_reopening() {
    let world = World::start(ChatShape::Private);
    let connector = world.open().await;
    let receipt = connector.ask(merge_question("qlater")).await.unwrap();
    connector.close().await.unwrap();
    drop(connector);
    world
        .emulator
        .click(
            &world.operator,
            world.chat,
            message_id(&receipt),
            "q:qlater:1",
        )
        .unwrap();
    let connector: std::sync::Arc<dyn OrchestratorConnector> = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    let answer = next(&mut inbox, "the answer given while closed").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("close"));
    connector.close().await.unwrap();
    drop(inbox);
    let connector = world.open().await;
    let mut inbox = connector.subscribe().await.expect("subscribe");
    world.post("sentinel");
    assert_eq!(
        next(&mut inbox, "the sentinel").await.text,
        "sentinel",
        "the answer is delivered once across restarts"
    );
    connector.close().await.unwrap();
}
