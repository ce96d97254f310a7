//! The conformance suite on a real Synapse and on a real Conduit: the operator is a second
//! Matrix user in the room, the stranger a third one who is not on the allow-list. Questions
//! are answered the way Element does it: a keycap reaction on the question.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::World;
use connector_conformance::{Fixture, Peer, Posted};
use connector_core::questions::render::KEYCAPS;
use connector_core::{MessageId, OrchestratorConnector, QuestionReceipt, Result, ThreadId};
use synapse_harness::User;

/// How long an answer waits for the notice that tells why it was not taken.
const TOLD_WITHIN: Duration = Duration::from_secs(5);

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
                // An edit (of a settled question) is not a new message.
                let next = messages.iter().find(|m| {
                    m["sender"] == world.bot.user_id.as_str()
                        && m["content"]["m.relates_to"]["rel_type"] != "m.replace"
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

    async fn answer_as_operator(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let world = self.world.lock().await;
        Ok(answer_as(&world, &world.operator, receipt, choice).await)
    }

    async fn answer_as_stranger(
        &self,
        receipt: &QuestionReceipt,
        choice: usize,
    ) -> Result<Option<String>> {
        let world = self.world.lock().await;
        Ok(answer_as(&world, &world.stranger, receipt, choice).await)
    }

    async fn shown_text(&self, message: &MessageId) -> Result<String> {
        Ok(self.world.lock().await.shown_text(message.as_str()).await)
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

/// `user` taps the keycap of `choice` on the question of `receipt`; answers the notice the
/// bot then posts in the question's thread, if one comes within [`TOLD_WITHIN`].
async fn answer_as(
    world: &World,
    user: &User,
    receipt: &QuestionReceipt,
    choice: usize,
) -> Option<String> {
    let question = receipt.message_ids[0].as_str();
    let reaction = world.react(user, question, KEYCAPS[choice]).await;
    let root = receipt
        .thread_id
        .as_ref()
        .map_or(question, ThreadId::as_str);
    world.notice_after(&reaction, root, TOLD_WITHIN).await
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
