//! The conformance suite in a forum supergroup: threads are forum topics, started for a
//! message of General when the connector replies into it; the stranger is a member.

mod common;

use common::ChatShape;

async fn setup() -> connector_conformance::Fixture {
    common::peer::fixture(ChatShape::Forum).await
}

connector_conformance::suite!(setup);
