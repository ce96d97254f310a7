//! The conformance suite in the operator's private chat with the bot: threads are reply
//! chains; the stranger writes to the bot in their own private chat.

mod common;

use common::ChatShape;

async fn setup() -> connector_conformance::Fixture {
    common::peer::fixture(ChatShape::Private).await
}

connector_conformance::suite!(setup);
