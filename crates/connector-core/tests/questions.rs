//! The question book across restarts, and which typed lines answer which question.

use std::sync::Arc;

use connector_core::question::{Choice, Outcome, Question, QuestionId};
use connector_core::questions::{Answerer, Decision, Pick, QuestionBook};
use connector_core::{Inbox, MessageId, QuestionReceipt, SenderPolicy, ThreadId};

fn question(id: &str) -> Question {
    Question::new(
        "Merge?",
        vec![Choice::new("merge", "Merge"), Choice::new("close", "Close")],
    )
    .unwrap()
    .with_id(QuestionId::new(id).unwrap())
}

fn receipt(q: &Question, message: &str, thread: Option<&str>) -> QuestionReceipt {
    QuestionReceipt::new(
        q.id.clone(),
        vec![MessageId::new(message)],
        thread.map(ThreadId::new),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("questions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn an_answer_taken_before_a_restart_is_delivered_once_after_it() {
    let dir = scratch("restart");
    let inbox = Inbox::new(SenderPolicy::allow_list(["alice"]));
    let book = QuestionBook::load(Some(QuestionBook::file_in(&dir))).unwrap();
    let q = question("q1");
    book.open(&q, &receipt(&q, "m1", None)).await.unwrap();
    let operator = Answerer::new("alice", Some("Alice".into()));
    let stranger = Answerer::new("mallory", None);
    assert_eq!(
        book.answer(&inbox, &q.id, stranger, Pick::Choice("close".into()))
            .await
            .unwrap(),
        Decision::NotAllowed
    );
    assert_eq!(
        inbox.stats().rejected_senders,
        1,
        "a stranger's answer is counted"
    );
    let Decision::Accepted(settled) = book
        .answer(
            &inbox,
            &q.id,
            operator.clone(),
            Pick::Choice("merge".into()),
        )
        .await
        .unwrap()
    else {
        panic!("the operator's answer is taken")
    };
    // The process dies before anyone took the answer.
    inbox.close();
    assert!(book.deliver(&inbox, &settled).await.is_err());
    drop(book);

    let book = Arc::new(QuestionBook::load(Some(QuestionBook::file_in(&dir))).unwrap());
    let inbox = Inbox::new(SenderPolicy::allow_list(["alice"]));
    let undelivered = book.undelivered().await;
    assert_eq!(undelivered.len(), 1);
    let mut subscription = inbox.subscribe();
    book.deliver(&inbox, &undelivered[0]).await.unwrap();
    let answer = subscription.recv().await.unwrap();
    assert_eq!(answer.message_id.as_str(), "answer:q1");
    assert_eq!(answer.sender.as_str(), "alice");
    assert_eq!(
        answer.answer.unwrap().outcome,
        Outcome::Chosen {
            choice_id: "merge".into(),
            label: "Merge".into()
        }
    );
    drop(book);

    // Another restart: nothing left to deliver, and a late click is told who answered.
    let book = QuestionBook::load(Some(QuestionBook::file_in(&dir))).unwrap();
    assert!(book.undelivered().await.is_empty());
    let late = book
        .answer(&inbox, &q.id, operator, Pick::Choice("close".into()))
        .await
        .unwrap();
    let Decision::AlreadySettled(asked) = late else {
        panic!("{late:?}")
    };
    let told = connector_core::questions::render::already_settled(&asked);
    assert!(
        told.starts_with("This question was already answered by Alice at "),
        "{told}"
    );
    assert!(
        told.ends_with(": Merge. Your answer was not taken."),
        "{told}"
    );
    assert!(subscription.try_recv().is_none(), "nothing delivered twice");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn typed_lines_answer_the_question_they_name_or_reply_to() {
    let book = QuestionBook::load(None).unwrap();
    let main = question("qmain").accepting_free_text();
    let threaded = question("qthread").accepting_free_text();
    book.open(&main, &receipt(&main, "m-main", None))
        .await
        .unwrap();
    book.open(&threaded, &receipt(&threaded, "m-thread", Some("t1")))
        .await
        .unwrap();
    let t1 = ThreadId::new("t1");
    let choice = |id: &str, c: &str| Some((QuestionId::new(id).unwrap(), Pick::Choice(c.into())));
    let text = |id: &str, t: &str| Some((QuestionId::new(id).unwrap(), Pick::Text(t.into())));

    // A choice by number, label or id, in the question's own thread or conversation.
    assert_eq!(book.typed(None, None, "2").await, choice("qmain", "close"));
    assert_eq!(
        book.typed(Some(&t1), None, " merge ").await,
        choice("qthread", "merge")
    );
    // `<choice> <question id>` from anywhere.
    assert_eq!(
        book.typed(None, None, "close qthread").await,
        choice("qthread", "close")
    );
    assert_eq!(
        book.typed(Some(&t1), None, "1 QMAIN").await,
        choice("qmain", "merge")
    );
    // Free text: in the question's thread, or as a reply to it; never in the main conversation.
    assert_eq!(
        book.typed(Some(&t1), None, "ship it").await,
        text("qthread", "ship it")
    );
    assert_eq!(
        book.typed(None, Some(&MessageId::new("m-main")), "ship it")
            .await,
        text("qmain", "ship it")
    );
    assert_eq!(book.typed(None, None, "ship it").await, None);
    // Another thread has no open question: an ordinary message.
    assert_eq!(
        book.typed(Some(&ThreadId::new("t2")), None, "1").await,
        None
    );
}

#[tokio::test]
async fn questions_expire_at_their_deadline_and_not_before() {
    let book = QuestionBook::load(None).unwrap();
    let now = connector_core::Timestamp::now();
    let later = now.checked_add(std::time::Duration::from_secs(60)).unwrap();
    let q = question("qexp").expiring_at(later);
    book.open(&q, &receipt(&q, "m", None)).await.unwrap();
    assert_eq!(book.next_deadline().await, Some(later));
    assert!(book.expire_due(now).await.unwrap().is_empty());
    let expired = book.expire_due(later).await.unwrap();
    assert_eq!(expired.len(), 1);
    let message = expired[0].answer_message().unwrap();
    assert_eq!(message.text, "expired");
    assert_eq!(message.answer.unwrap().outcome, Outcome::Expired);
    assert_eq!(book.next_deadline().await, None);
    let inbox = Inbox::new(SenderPolicy::allow_any());
    let late = book
        .answer(
            &inbox,
            &q.id,
            Answerer::new("op", None),
            Pick::Choice("merge".into()),
        )
        .await
        .unwrap();
    assert!(matches!(late, Decision::AlreadySettled(_)), "{late:?}");
}
