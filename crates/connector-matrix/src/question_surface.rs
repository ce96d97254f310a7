//! How a question looks on Matrix: a message listing the choices with keycaps (1️⃣ 2️⃣ …), which
//! the bot pre-reacts with so the operator taps one; once settled, the message is edited
//! (`m.replace`) to the outcome and the bot takes its keycaps back.

use async_trait::async_trait;
use connector_core::question::Question;
use connector_core::questions::{Asked, QuestionSurface, render};
use connector_core::{Result, ThreadId};
use matrix_sdk::ruma::api::client::relations::get_relating_events_with_rel_type;
use matrix_sdk::ruma::events::relation::RelationType;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedEventId, OwnedTransactionId, OwnedUserId, UInt};

use crate::error;
use crate::outbound::{self, ThreadTarget, event_id};
use crate::room_sender::RoomSender;

/// How to answer on Matrix, first in the line under the choices.
pub(crate) const HOW: &str = "React with its keycap";

/// Why the bot's keycaps are taken back once a question is settled.
const TAKE_BACK: &str = "the question is settled";

/// The question's message as posted: its text, the choices with keycaps and how to answer
/// (Markdown: `formatted_body` holds the HTML), in `thread` if given.
pub(crate) fn content(
    question: &Question,
    thread: Option<&ThreadTarget>,
) -> RoomMessageEventContent {
    outbound::message(&render::question_text(question, Some(HOW), true), thread)
}

/// The edit showing a settled question's outcome instead of its choices.
pub(crate) fn settled_content(original: OwnedEventId, asked: &Asked) -> RoomMessageEventContent {
    outbound::edit(original, &render::settled_text(asked))
}

/// The choice a keycap reaction picks (0-based), also when a client leaves out the emoji
/// presentation selector (`1⃣` for `1️⃣`).
pub(crate) fn keycap_index(emoji: &str) -> Option<usize> {
    let bare = |keycap: &str| keycap.replace('\u{fe0f}', "");
    render::KEYCAPS
        .iter()
        .position(|keycap| *keycap == emoji || bare(keycap) == bare(emoji))
}

/// The root of the thread notices about `asked` go to: the thread it was asked in, else the
/// thread its own message starts.
pub(crate) fn thread_of(asked: &Asked) -> Option<ThreadId> {
    asked.thread_id.clone().or_else(|| {
        asked
            .message_ids
            .first()
            .map(|id| ThreadId::new(id.as_str()))
    })
}

/// Shows a settled question by editing its message.
#[derive(Debug)]
pub(crate) struct EditedQuestion {
    pub(crate) sender: RoomSender,
    pub(crate) own_user: OwnedUserId,
}

#[async_trait]
impl QuestionSurface for EditedQuestion {
    /// Edits the question to its outcome (the same edit again after a restart: harmless), then
    /// takes back the bot's keycap reactions; a failure there is only logged, the outcome is
    /// shown either way.
    async fn show_outcome(&self, asked: &Asked) -> Result<()> {
        let Some(message) = asked.message_ids.first() else {
            return Ok(());
        };
        let original = event_id("message", message.as_str())?;
        let content = settled_content(original.clone(), asked);
        // Stable, so a retry (or a second call for the same outcome) posts one edit.
        let txn = OwnedTransactionId::from(format!("settled-{}", asked.question.id));
        self.sender.send_event(&content, &txn).await?;
        if let Err(e) = self.take_back_keycaps(original).await {
            tracing::warn!(question = %asked.question.id, error = %e,
                "could not take back the keycaps offered on a settled question");
        }
        Ok(())
    }
}

impl EditedQuestion {
    /// Redacts the bot's keycap reactions on `question` (found through `/relations`, so also
    /// those of a run before a restart).
    async fn take_back_keycaps(&self, question: OwnedEventId) -> Result<()> {
        let mut request = get_relating_events_with_rel_type::v1::Request::new(
            self.sender.room_id.clone(),
            question,
            RelationType::Annotation,
        );
        request.limit = Some(UInt::from(100u32));
        let answer = self
            .sender
            .client
            .send(request)
            .await
            .map_err(|e| error::from_http("list the question's reactions", e))?;
        for event in answer.chunk {
            let sender = event.get_field::<String>("sender").ok().flatten();
            if sender.as_deref() != Some(self.own_user.as_str()) {
                continue;
            }
            let key = event
                .get_field::<serde_json::Value>("content")
                .ok()
                .flatten()
                .and_then(|c| c["m.relates_to"]["key"].as_str().map(str::to_owned));
            // In an encrypted room the key may be inside the ciphertext: the bot only ever
            // offers keycaps on a question, so one it cannot read is one of them.
            if key.as_deref().is_some_and(|k| keycap_index(k).is_none()) {
                continue;
            }
            let Some(id) = event.get_field::<OwnedEventId>("event_id").ok().flatten() else {
                continue;
            };
            self.sender.redact(id, TAKE_BACK).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use connector_core::question::Choice;
    use connector_core::questions::QuestionBook;
    use connector_core::{Inbox, QuestionReceipt, SenderPolicy};
    use matrix_sdk::ruma::serde::Raw;

    use super::*;
    use connector_core::questions::{Answerer, Pick};

    fn json(content: &RoomMessageEventContent) -> serde_json::Value {
        serde_json::from_str(Raw::new(content).unwrap().json().get()).unwrap()
    }

    fn question() -> Question {
        Question::new(
            "PR #12 is **green**. Merge it?",
            vec![Choice::new("merge", "Merge"), Choice::new("close", "Close")],
        )
        .unwrap()
    }

    /// The content as posted, the random question id and the clock of the answer replaced.
    fn shown(content: &RoomMessageEventContent, id: &str) -> serde_json::Value {
        fn redact(value: &mut serde_json::Value, id: &str) {
            let Some(text) = value.as_str() else { return };
            let mut text = text.replace(id, "<id>");
            while let Some(at) = text.find(" UTC").filter(|at| {
                *at >= 5
                    && text.as_bytes()[at - 5..*at]
                        .iter()
                        .enumerate()
                        .all(|(i, b)| {
                            if i == 2 {
                                *b == b':'
                            } else {
                                b.is_ascii_digit()
                            }
                        })
            }) {
                text.replace_range(at - 5..at, "<hh:mm>");
            }
            *value = text.into();
        }
        let mut rendered = json(content);
        for field in ["body", "formatted_body"] {
            redact(&mut rendered[field], id);
            redact(&mut rendered["m.new_content"][field], id);
        }
        if rendered["m.new_content"].is_null() {
            rendered.as_object_mut().unwrap().remove("m.new_content");
        }
        rendered
    }

    #[test]
    fn a_question_lists_its_choices_with_keycaps() {
        let question = question();
        let content = content(&question, None);
        insta::assert_json_snapshot!(shown(&content, question.id.as_str()));
    }

    #[tokio::test]
    async fn a_settled_question_shows_its_outcome_instead() {
        let question = question();
        let book = QuestionBook::load(None).unwrap();
        let receipt = QuestionReceipt::new(
            question.id.clone(),
            vec![connector_core::MessageId::new("$question")],
            None,
        );
        book.open(&question, &receipt).await.unwrap();
        let inbox = Inbox::new(SenderPolicy::allow_list(["@alice:x"]));
        let decision = book
            .answer(
                &inbox,
                &question.id,
                Answerer::new("@alice:x", Some("alice".into())),
                Pick::Choice("merge".into()),
            )
            .await
            .unwrap();
        let connector_core::questions::Decision::Accepted(asked) = decision else {
            panic!("accepted: {decision:?}")
        };
        let content = settled_content(event_id("message", "$question").unwrap(), &asked);
        let rendered = shown(&content, question.id.as_str());
        insta::assert_json_snapshot!(rendered);
    }

    #[test]
    fn keycaps_pick_choices_with_or_without_the_presentation_selector() {
        assert_eq!(keycap_index("1\u{fe0f}\u{20e3}"), Some(0));
        assert_eq!(keycap_index("2\u{20e3}"), Some(1));
        assert_eq!(keycap_index("\u{1f51f}"), Some(9));
        assert_eq!(keycap_index("👍"), None);
    }
}
