//! The loopback connector passes the conformance suite.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::loopback::LOOPBACK_OPERATOR;
use connector_core::{
    LoopbackConnector, LoopbackOperator, MessageId, QuestionReceipt, Result, ThreadId,
};

struct LoopbackPeer(LoopbackOperator);

#[async_trait]
impl Peer for LoopbackPeer {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        self.0.post_as(LOOPBACK_OPERATOR, text, thread).await;
        Ok(())
    }

    async fn post_as_stranger(&self, text: &str) -> Result<()> {
        self.0.post_as("stranger", text, None).await;
        Ok(())
    }

    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>> {
        Ok(tokio::time::timeout(timeout, self.0.next_outbound())
            .await
            .ok()
            .flatten()
            .map(|p| Posted {
                text: p.text,
                thread_id: p.thread_id,
            }))
    }

    async fn take_down(&self) -> Result<()> {
        self.0.set_reachable(false);
        Ok(())
    }

    async fn bring_up(&self) -> Result<()> {
        self.0.set_reachable(true);
        Ok(())
    }

    async fn answer_as_operator(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        self.answer_as(LOOPBACK_OPERATOR, receipt, choice).await
    }

    async fn answer_as_stranger(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        self.answer_as("stranger", receipt, choice).await
    }

    async fn shown_text(&self, message: &MessageId) -> Result<String> {
        Ok(self.0.text_of(message).unwrap_or_default())
    }
}

impl LoopbackPeer {
    /// Clicks choice `choice` of the question, as the loopback's buttons would.
    async fn answer_as(
        &self,
        sender: &str,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let id = ["merge", "close"][choice];
        self.0.answer_as(sender, &receipt.question_id, id).await
    }
}

async fn setup() -> Fixture {
    let (connector, operator) = LoopbackConnector::pair();
    Fixture::new(Arc::new(connector), LoopbackPeer(operator))
}

connector_conformance::suite!(setup);
