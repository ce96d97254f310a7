//! Questions as the operator sees them in a Matrix client, beyond the conformance checks: the
//! bot offers one keycap per choice and takes them back once the question is settled, a late
//! answer is told in the question's thread who answered first, a stranger's keycap is refused
//! there, and a typed reply in that thread answers.

mod common;

use common::{PATIENCE, World, eventually, recv};
use connector_core::OrchestratorConnector;
use connector_core::question::{Choice, Question};
use connector_core::questions::render::KEYCAPS;

fn question() -> Question {
    Question::new(
        "Deploy v1.2?",
        vec![
            Choice::new("yes", "Deploy"),
            Choice::new("no", "Hold"),
            Choice::new("later", "Tomorrow"),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycaps_are_offered_then_taken_back() {
    keycaps_are_offered_then_taken_back_on(World::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycaps_are_offered_then_taken_back_on_conduit() {
    keycaps_are_offered_then_taken_back_on(World::start_conduit().await).await;
}

async fn keycaps_are_offered_then_taken_back_on(world: World) {
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let receipt = connector.ask(question()).await.unwrap();
    let at = receipt.message_ids[0].as_str();
    assert_eq!(
        world.reactions_by(&world.bot.user_id, at).await,
        KEYCAPS[..3],
        "one keycap a choice, in order"
    );
    world.react(&world.operator, at, KEYCAPS[2]).await;
    let answer = recv(&mut subscription, "the answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("later"));
    eventually(PATIENCE, "the keycaps taken back", || async {
        world
            .reactions_by(&world.bot.user_id, at)
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(
        world
            .shown_text(at)
            .await
            .contains("✅ Tomorrow — operator")
    );

    // A late answer by typing in the question's thread is told who answered first, there.
    let late = world
        .homeserver
        .send_text(&world.operator, &world.room, "2", Some(at))
        .await;
    let told = world
        .notice_after(&late, at, PATIENCE)
        .await
        .expect("the late answer is told");
    assert!(
        // Named by display name (Conduit adds ` ⚡️` to new users' names).
        told.starts_with("operator") && told.contains("already answered by operator"),
        "{told}"
    );
    world.post("sentinel").await;
    assert_eq!(
        recv(&mut subscription, "the sentinel").await.text,
        "sentinel"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_in_the_questions_thread_answers_it() {
    let world = World::start().await;
    let connector = world.open().await;
    let mut subscription = connector.subscribe().await.unwrap();
    let receipt = connector.ask(question()).await.unwrap();
    let at = receipt.message_ids[0].as_str();
    // An ordinary message first: not an answer (names no choice), delivered as usual.
    world
        .homeserver
        .send_text(&world.operator, &world.room, "hold on, checking", Some(at))
        .await;
    assert_eq!(
        recv(&mut subscription, "the ordinary message").await.text,
        "hold on, checking"
    );
    // A stranger's keycap is refused, and told so in the question's thread.
    let tapped = world.react(&world.stranger, at, KEYCAPS[0]).await;
    let told = world.notice_after(&tapped, at, PATIENCE).await;
    assert!(
        told.as_deref().is_some_and(|t| t.contains("allow-list")),
        "{told:?}"
    );
    world
        .homeserver
        .send_text(&world.operator, &world.room, "Tomorrow", Some(at))
        .await;
    let answer = recv(&mut subscription, "the typed answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("later"));
    assert!(connector.health().await.rejected_senders > 0);
    connector.close().await.unwrap();
}
