//! The conformance checks of questions with choices (see `connector_core::questions` for the
//! rules they hold every backend to).

use std::time::Duration;

use connector_core::question::{Choice, ChoiceStyle, Outcome, Question};
use connector_core::questions::EXPIRY_SENDER;
use connector_core::{
    Capability, InboundMessage, OrchestratorConnector, QuestionReceipt, Subscription,
};

use crate::checks::{eventually, post, posted, recv, unique};
use crate::peer::Fixture;

fn merge_question(label: &str) -> Question {
    Question::new(
        unique(label),
        vec![
            Choice::new("merge", "Merge").styled(ChoiceStyle::Primary),
            Choice::new("close", "Close").styled(ChoiceStyle::Danger),
        ],
    )
    .expect("a valid question")
}

/// Asks `question` through `connector` and checks how it looks at the peer: its text and every
/// choice's label, readable without buttons.
async fn ask(
    fixture: &Fixture,
    connector: &dyn OrchestratorConnector,
    question: Question,
) -> QuestionReceipt {
    let receipt = connector.ask(question.clone()).await.expect("ask");
    assert_eq!(receipt.question_id, question.id);
    assert!(
        !receipt.message_ids.is_empty(),
        "the receipt names the question's message"
    );
    // Peers that read a screen see the question a line at a time: gather it.
    let mut seen = posted(fixture, "the question").await.text;
    let complete = |seen: &str| {
        seen.contains(question.text.as_str())
            && question.choices.iter().all(|c| seen.contains(&c.label))
            && seen.contains(question.id.as_str())
    };
    while !complete(&seen) {
        let more = posted(fixture, "the rest of the question").await;
        seen.push('\n');
        seen.push_str(&more.text);
    }
    assert!(
        seen.contains(question.text.as_str()),
        "question text at the peer: {seen:?}"
    );
    receipt
}

/// Waits until the question's message shows `expected` (its outcome).
async fn shows(fixture: &Fixture, receipt: &QuestionReceipt, expected: &str) -> String {
    let message = &receipt.message_ids[0];
    let last = std::sync::Mutex::new(String::new());
    let shown = eventually(fixture.patience, || async {
        let text = fixture.peer.shown_text(message).await.ok()?;
        *last.lock().unwrap() = text.clone();
        text.contains(expected).then_some(text)
    })
    .await;
    shown.unwrap_or_else(|| {
        panic!(
            "the question never showed {expected:?}; last seen: {:?}",
            last.lock().unwrap()
        )
    })
}

async fn answer_of(
    fixture: &Fixture,
    subscription: &mut Subscription,
    what: &str,
) -> InboundMessage {
    let message = recv(fixture, subscription, what).await;
    assert!(
        message.answer.is_some(),
        "expected {what}, got the message {message:?}"
    );
    message
}

/// Whether the connector asks questions; a connector that does not answers `Unsupported`.
async fn asks_questions(fixture: &Fixture) -> bool {
    if fixture
        .connector
        .capabilities()
        .supports(Capability::Questions)
    {
        return true;
    }
    let refused = fixture.connector.ask(merge_question("unsupported")).await;
    assert!(
        matches!(refused, Err(connector_core::Error::Unsupported { .. })),
        "a connector without the capability refuses questions: {refused:?}"
    );
    false
}

/// The operator's answer arrives once, naming the question, the choice and the operator; the
/// question then shows the outcome; a second answer is refused, told who answered first, and
/// never delivered.
pub async fn question_answered_once(fixture: &Fixture) {
    if !asks_questions(fixture).await {
        return;
    }
    let mut subscription = fixture.connector.subscribe().await.expect("subscribe");
    let question = merge_question("conformance: merge PR?");
    let receipt = ask(fixture, fixture.connector.as_ref(), question.clone()).await;
    let told = fixture
        .peer
        .answer_as_operator(&receipt, 0)
        .await
        .expect("answer");
    assert_eq!(told, None, "the first answer is taken without a complaint");
    let answer = answer_of(fixture, &mut subscription, "the answer").await;
    let carried = answer.answer.as_ref().unwrap();
    assert_eq!(carried.question_id, question.id);
    assert_eq!(
        carried.outcome,
        Outcome::Chosen {
            choice_id: "merge".into(),
            label: "Merge".into()
        }
    );
    assert_eq!(answer.text, "Merge");
    assert_ne!(answer.sender.as_str(), EXPIRY_SENDER);
    shows(fixture, &receipt, "✅ Merge").await;

    let told = fixture
        .peer
        .answer_as_operator(&receipt, 1)
        .await
        .expect("second answer");
    if let Some(told) = told {
        assert!(
            told.contains("already answered"),
            "the second answer is told why: {told:?}"
        );
    }
    let sentinel = unique("after the second answer");
    post(fixture, &sentinel, None).await;
    let next = recv(fixture, &mut subscription, "the sentinel").await;
    assert_eq!(
        next.text.trim(),
        sentinel,
        "a second answer is never delivered: {next:?}"
    );
}

/// An answer from someone off the allow-list is refused and counted; the question stays open
/// and the operator's answer is then taken.
pub async fn question_refuses_strangers(fixture: &Fixture) {
    if !asks_questions(fixture).await {
        return;
    }
    let question = merge_question("conformance: a stranger answers");
    // Single-sender platforms ask through the strict connector, which refuses the operator.
    let (connector, receipt, told) = {
        let receipt = ask(fixture, fixture.connector.as_ref(), question.clone()).await;
        match fixture.peer.answer_as_stranger(&receipt, 1).await {
            Ok(told) => (fixture.connector.clone(), receipt, told),
            Err(connector_core::Error::Unsupported { .. }) => {
                let strict = fixture
                    .strict
                    .clone()
                    .expect("a peer without strangers needs a fixture with a strict connector");
                let receipt = ask(
                    fixture,
                    strict.as_ref(),
                    merge_question("conformance: strict"),
                )
                .await;
                let told = fixture
                    .peer
                    .answer_as_operator(&receipt, 1)
                    .await
                    .expect("answer");
                (strict, receipt, told)
            }
            Err(e) => panic!("stranger's answer: {e}"),
        }
    };
    let mut subscription = connector.subscribe().await.expect("subscribe");
    if let Some(told) = &told {
        assert!(
            told.contains("allow-list"),
            "the stranger is told why: {told:?}"
        );
    }
    let counted = eventually(fixture.patience, || async {
        let rejected = connector.health().await.rejected_senders;
        (rejected > 0).then_some(rejected)
    })
    .await;
    assert!(counted.is_some(), "the refused answer is counted in health");
    let shown = fixture
        .peer
        .shown_text(&receipt.message_ids[0])
        .await
        .expect("shown text");
    assert!(!shown.contains('✅'), "the question stays open: {shown:?}");
    if std::sync::Arc::ptr_eq(&connector, &fixture.connector) {
        fixture
            .peer
            .answer_as_operator(&receipt, 0)
            .await
            .expect("operator's answer");
        let answer = answer_of(fixture, &mut subscription, "the operator's answer").await;
        assert_eq!(answer.answer.unwrap().choice_id(), Some("merge"));
    } else {
        let sentinel = unique("after the refused answer");
        // The strict connector refuses the operator's sentinel too: nothing arrives on it, so
        // wait for the sentinel on the main connector to know the refusal was processed.
        let mut main = fixture.connector.subscribe().await.expect("subscribe");
        post(fixture, &sentinel, None).await;
        while recv(fixture, &mut main, "the sentinel").await.text.trim() != sentinel {}
        assert!(
            subscription.try_recv().is_none(),
            "the refused answer is not delivered"
        );
    }
}

/// A question nobody answers expires at its deadline: the subscriptions get `expired`, the
/// question shows it, and a late answer is refused.
pub async fn question_expires(fixture: &Fixture) {
    if !asks_questions(fixture).await {
        return;
    }
    let mut subscription = fixture.connector.subscribe().await.expect("subscribe");
    let deadline = connector_core::Timestamp::now()
        .checked_add(Duration::from_secs(2))
        .expect("a deadline in range");
    let question = merge_question("conformance: expiring").expiring_at(deadline);
    let receipt = ask(fixture, fixture.connector.as_ref(), question.clone()).await;
    let expired = answer_of(fixture, &mut subscription, "the expiry").await;
    assert_eq!(expired.answer.as_ref().unwrap().outcome, Outcome::Expired);
    assert_eq!(expired.sender.as_str(), EXPIRY_SENDER);
    assert!(expired.ts >= deadline, "not before the deadline");
    shows(fixture, &receipt, "Expired").await;
    let told = fixture
        .peer
        .answer_as_operator(&receipt, 0)
        .await
        .expect("late answer");
    if let Some(told) = told {
        assert!(
            told.contains("expired"),
            "the late answer is told why: {told:?}"
        );
    }
    let sentinel = unique("after the late answer");
    post(fixture, &sentinel, None).await;
    let next = recv(fixture, &mut subscription, "the sentinel").await;
    assert_eq!(
        next.text.trim(),
        sentinel,
        "a late answer is never delivered: {next:?}"
    );
}

/// Typing a choice's number answers the newest open question: the fallback that works on a
/// client without buttons. The typed line is not delivered as a message as well.
pub async fn question_answered_by_typing(fixture: &Fixture) {
    if !asks_questions(fixture).await {
        return;
    }
    let mut subscription = fixture.connector.subscribe().await.expect("subscribe");
    let question = merge_question("conformance: typed");
    let receipt = ask(fixture, fixture.connector.as_ref(), question.clone()).await;
    post(fixture, "2", receipt.thread_id.as_ref()).await;
    let answer = answer_of(fixture, &mut subscription, "the typed answer").await;
    assert_eq!(answer.answer.unwrap().choice_id(), Some("close"));
    shows(fixture, &receipt, "✅ Close").await;
    let sentinel = unique("after the typed answer");
    post(fixture, &sentinel, None).await;
    let next = recv(fixture, &mut subscription, "the sentinel").await;
    assert_eq!(
        next.text.trim(),
        sentinel,
        "the typed answer is not also a message: {next:?}"
    );
}

/// Checks that need no peer: an invalid question is refused naming the field, before anything
/// is posted.
pub async fn invalid_questions_are_refused(fixture: &Fixture) {
    if !asks_questions(fixture).await {
        return;
    }
    let mut question = merge_question("conformance: invalid");
    question.choices.truncate(1);
    let refused = fixture.connector.ask(question).await;
    assert!(
        matches!(
            refused,
            Err(connector_core::Error::InvalidInput {
                field: "choices",
                ..
            })
        ),
        "{refused:?}"
    );
    let asked = merge_question("conformance: twice");
    ask(fixture, fixture.connector.as_ref(), asked.clone()).await;
    let again = fixture.connector.ask(asked).await;
    assert!(
        matches!(
            again,
            Err(connector_core::Error::InvalidInput {
                field: "question_id",
                ..
            })
        ),
        "a question id is used once: {again:?}"
    );
}
