//! `connector ask`: ask the operator a question with choices and print the answer.

use std::time::Duration;

use connector_core::question::{Choice, Outcome, Question, QuestionId};
use connector_core::questions::{Waited, ask_and_wait};
use connector_core::{ThreadId, Timestamp};

use crate::cli::{AskArgs, Common};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

/// How long after the deadline `ask` still waits for the connector to report the expiry.
const EXPIRY_GRACE: Duration = Duration::from_secs(15);

/// The question `args` describe, checked before any connector is opened: a bad question is a
/// usage error (exit status 2) naming what is wrong.
pub(crate) fn question(args: &AskArgs) -> Result<Question, Error> {
    let choices = Choice::from_labels(&args.choices);
    let mut question = Question::new(args.text.clone(), choices).map_err(usage)?;
    if let Some(id) = &args.id {
        question = question.with_id(QuestionId::new(id.clone()).map_err(usage)?);
    }
    if let Some(thread) = &args.thread {
        question = question.in_thread(ThreadId::new(thread.clone()));
    }
    if let Some(seconds) = args.timeout {
        if !seconds.is_finite() || seconds <= 0.0 {
            return Err(Error::Usage(format!(
                "--timeout {seconds}: give a number of seconds above 0"
            )));
        }
        let deadline = Timestamp::now()
            .checked_add(Duration::from_secs_f64(seconds))
            .map_err(|e| Error::Usage(format!("--timeout {seconds}: {e}")))?;
        question = question.expiring_at(deadline);
    }
    if args.free_text {
        question = question.accepting_free_text();
    }
    question.check().map_err(usage)?;
    Ok(question)
}

fn usage(error: connector_core::Error) -> Error {
    Error::Usage(error.to_string())
}

pub(crate) async fn run(common: &Common, args: &AskArgs) -> Result<Exit, Error> {
    let question = question(args)?;
    let connector = super::connect(common).await?;
    let wait = args
        .timeout
        .map(|seconds| Duration::from_secs_f64(seconds) + EXPIRY_GRACE);
    let asked = ask_and_wait(connector.as_ref(), question, wait).await;
    let _ = connector.close().await;
    let (receipt, waited) = asked?;
    match waited {
        Waited::Settled(message) => {
            let expired = message
                .answer
                .as_ref()
                .is_some_and(|a| a.outcome == Outcome::Expired);
            if common.json {
                json_line(&message)?;
            } else if expired {
                eprintln!("question {} expired without an answer", receipt.question_id);
            } else {
                line_out(&message.text)?;
            }
            Ok(if expired { Exit::Timeout } else { Exit::Ok })
        }
        Waited::TimedOut => {
            eprintln!(
                "question {}: no answer and no expiry reported in time",
                receipt.question_id
            );
            Ok(Exit::Timeout)
        }
        Waited::Closed => {
            eprintln!(
                "question {}: the connector closed before an answer came",
                receipt.question_id
            );
            Ok(Exit::Unreachable)
        }
    }
}
