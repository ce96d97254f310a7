//! Answers to questions as they come through `/sync`: a keycap reaction on a question's
//! message, or a typed line (in the question's thread, as a reply to it, or `<choice> <id>`
//! anywhere). The book decides ([`connector_core::questions`]); whoever is refused is told in
//! a notice in the question's thread.

use connector_core::questions::{Answerer, Asked, Pick, Questions, told};
use connector_core::{InboundMessage, MessageId, SenderId, ThreadId};
use matrix_sdk::ruma::OwnedTransactionId;
use matrix_sdk::ruma::api::client::state::get_state_event_for_key;
use matrix_sdk::ruma::events::StateEventType;

use crate::outbound;
use crate::question_surface::{keycap_index, thread_of};
use crate::room_sender::RoomSender;

/// Takes the answers among the room's events.
#[derive(Debug, Clone)]
pub(crate) struct Answers {
    pub(crate) questions: Questions,
    pub(crate) sender: RoomSender,
}

impl Answers {
    /// Takes `reaction` (someone else's, on `target`) if it is a keycap on a question's
    /// message; answers whether it did (then it is not delivered as a reaction).
    pub(crate) async fn reaction(&self, reaction: &InboundMessage, target: &str) -> bool {
        let Some(index) = keycap_index(&reaction.text) else {
            return false;
        };
        let Some(asked) = self
            .questions
            .book()
            .by_message(&MessageId::new(target))
            .await
        else {
            return false;
        };
        let choice = asked.question.choices.get(index).map_or_else(
            // No choice has this id (`#` is not allowed in one): the book says so.
            || format!("#{}", index + 1),
            |choice| choice.id.clone(),
        );
        self.take(
            &reaction.message_id,
            &reaction.sender,
            &asked,
            Pick::Choice(choice),
        )
        .await;
        true
    }

    /// Takes `message` if it answers a question by typing ([`typed`](connector_core::questions::typed));
    /// answers whether it did (then it is not delivered as a message). `replied_to` is the
    /// event it replies to, or the root of its thread.
    pub(crate) async fn typed(
        &self,
        message: &InboundMessage,
        replied_to: Option<&MessageId>,
    ) -> bool {
        let book = self.questions.book();
        let Some((id, pick)) = book
            .typed(message.thread_id.as_ref(), replied_to, &message.text)
            .await
        else {
            return false;
        };
        let Some(asked) = book.get(&id).await else {
            return false;
        };
        self.take(&message.message_id, &message.sender, &asked, pick)
            .await;
        true
    }

    /// Hands `pick` by `sender` (in event `event`) to the book, and tells them when it is
    /// refused.
    async fn take(&self, event: &MessageId, sender: &SenderId, asked: &Asked, pick: Pick) {
        let by = Answerer::new(sender.clone(), self.display_name(sender).await);
        let answered = self
            .questions
            .answer(&asked.question.id, by.clone(), pick.clone())
            .await;
        if let Some(reply) = told(&answered) {
            self.tell(event, asked, &format!("{}: {reply}", by.shown()))
                .await;
        }
    }

    /// Posts `text` as a notice in the question's thread. Its transaction id comes from the
    /// answering event, so the same event seen again (a sync replayed after a crash) posts it
    /// once.
    async fn tell(&self, event: &MessageId, asked: &Asked, text: &str) {
        let posted = async {
            let root = thread_of(asked)
                .map(|thread| self.sender.thread_root(&thread))
                .transpose()?;
            let content = outbound::notice(text, self.sender.target(root.as_ref())?.as_ref());
            let txn = OwnedTransactionId::from(format!("told-{event}"));
            self.sender.post(content, &txn, root.as_ref()).await
        };
        if let Err(e) = posted.await {
            tracing::warn!(question = %asked.question.id, error = %e,
                "could not tell the one who answered why the answer was not taken");
        }
    }

    /// `user`'s display name in the room, when the homeserver gives it at once (one request;
    /// any failure leaves the user id to show).
    async fn display_name(&self, user: &SenderId) -> Option<String> {
        let request = get_state_event_for_key::v3::Request::new(
            self.sender.room_id.clone(),
            StateEventType::RoomMember,
            user.as_str().to_owned(),
        );
        let answer = self.sender.client.send(request).await.ok()?;
        let content: serde_json::Value =
            serde_json::from_str(answer.event_or_content.get()).ok()?;
        content["displayname"]
            .as_str()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
    }
}

/// The event a typed line answers in: the one it replies to, else its thread's root (a line
/// in the thread a question starts answers it).
pub(crate) fn replied_to(explicit: Option<String>, thread: Option<&ThreadId>) -> Option<MessageId> {
    explicit
        .map(MessageId::new)
        .or_else(|| thread.map(|root| MessageId::new(root.as_str())))
}
