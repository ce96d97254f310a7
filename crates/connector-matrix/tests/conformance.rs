//! The conformance suite on a real Synapse and on a real Conduit: the operator is a second
//! Matrix user in the room, the stranger a third one who is not on the allow-list.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::World;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::{OrchestratorConnector, Result, ThreadId};

/// The operator's side: posts through the harness, reads the bot's messages from `/messages`.
struct MatrixPeer {
    world: tokio::sync::Mutex<World>,
    /// Bot messages already handed out by `next_posted`.
    seen: Mutex<HashSet<String>>,
}

#[async_trait]
impl Peer for MatrixPeer {
    async fn post_as_operator(&self, text: &str, thread: Option<&ThreadId>) -> Result<()> {
        let world = self.world.lock().await;
        world
            .homeserver
            .send_text(
                &world.operator,
                &world.room,
                text,
                thread.map(ThreadId::as_str),
            )
            .await;
        Ok(())
    }

    async fn post_as_stranger(&self, text: &str) -> Result<()> {
        let world = self.world.lock().await;
        world
            .homeserver
            .send_text(&world.stranger, &world.room, text, None)
            .await;
        Ok(())
    }

    async fn next_posted(&self, timeout: Duration) -> Result<Option<Posted>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let world = self.world.lock().await;
                let messages = world.messages(100).await;
                let mut seen = self.seen.lock().unwrap();
                let next = messages.iter().find(|m| {
                    m["sender"] == world.bot.user_id.as_str()
                        && !seen.contains(m["event_id"].as_str().unwrap_or_default())
                });
                if let Some(message) = next {
                    seen.insert(message["event_id"].as_str().unwrap_or_default().to_owned());
                    let content = &message["content"];
                    let relation = &content["m.relates_to"];
                    let thread_id = (relation["rel_type"] == "m.thread")
                        .then(|| relation["event_id"].as_str().map(ThreadId::new))
                        .flatten();
                    return Ok(Some(Posted {
                        text: content["body"].as_str().unwrap_or_default().to_owned(),
                        thread_id,
                    }));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn take_down(&self) -> Result<()> {
        self.world.lock().await.homeserver.stop().await;
        Ok(())
    }

    async fn bring_up(&self) -> Result<()> {
        self.world.lock().await.homeserver.restart().await;
        Ok(())
    }
}

/// The connector and its peer on `world`.
async fn fixture(world: World) -> Fixture {
    // Built the way connector-registry builds it.
    let connector: Arc<dyn OrchestratorConnector> =
        (connector_matrix::DESCRIPTOR.create)(&world.config(), &world.env())
            .await
            .expect("open the Matrix connector through its descriptor");
    let peer = MatrixPeer {
        world: tokio::sync::Mutex::new(world),
        seen: Mutex::new(HashSet::new()),
    };
    Fixture::new(connector, peer)
}

/// On Synapse.
async fn setup() -> Fixture {
    fixture(World::start().await).await
}

connector_conformance::suite!(setup);

/// The same checks on Conduit, the homeserver docs/deploy-matrix.md names as the default.
mod on_conduit {
    use super::{Fixture, World, fixture};

    /// On Conduit.
    async fn setup() -> Fixture {
        fixture(World::start_conduit().await).await
    }

    connector_conformance::suite!(setup);
}
