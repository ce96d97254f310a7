//! The loopback connector passes the conformance suite.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{LoopbackConnector, LoopbackOperator, Result, ThreadId};

struct LoopbackPeer(LoopbackOperator);

#[async_trait]
impl Peer for LoopbackPeer {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        self.0
            .post_as(connector_core::loopback::LOOPBACK_OPERATOR, text, thread)
            .await;
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
}

async fn setup() -> Fixture {
    let (connector, operator) = LoopbackConnector::pair();
    Fixture::new(Arc::new(connector), LoopbackPeer(operator))
}

connector_conformance::suite!(setup);
