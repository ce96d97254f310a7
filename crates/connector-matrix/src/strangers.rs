//! Pairing on Matrix: a sender the allow-list refuses is answered, with a notice in the room
//! (in their thread, if they wrote in one), with what core's
//! [`Pairing`](connector_core::pairing::Pairing) hands out — their code and the command to run
//! at the machine — or nothing (rate-limited, too many pending, pairing off).
//!
//! The notice names them as plain text (the connector's messages carry an empty `m.mentions`,
//! so nobody is pinged), and its transaction id comes from their event, so the same event seen
//! again (a sync replayed after a crash) posts it once.

use connector_core::pairing::answer_for_stranger;
use connector_core::{InboundMessage, Inbox};
use matrix_sdk::ruma::OwnedTransactionId;

use crate::outbound;
use crate::room_sender::RoomSender;

/// Answers `message`, which the inbox refused, with a pairing code if one is due.
pub(crate) async fn answer_stranger(sender: &RoomSender, inbox: &Inbox, message: &InboundMessage) {
    let Some(text) = answer_for_stranger(inbox, &message.sender).await else {
        return;
    };
    let posted = async {
        let root = message
            .thread_id
            .as_ref()
            .map(|thread| sender.thread_root(thread))
            .transpose()?;
        let content = outbound::notice(
            &format!("{}: {text}", message.sender),
            sender.target(root.as_ref())?.as_ref(),
        );
        let txn = OwnedTransactionId::from(format!("paired-{}", message.message_id));
        sender.post(content, &txn, root.as_ref()).await
    };
    if let Err(error) = posted.await {
        tracing::warn!(%error, "pairing: cannot send the code to the sender");
    }
}
