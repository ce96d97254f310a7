//! The conformance suite on the Telegram emulator, in both kinds of chat: the operator's
//! private chat with the bot (threads are reply chains; the stranger writes to the bot in
//! their own private chat) and a forum supergroup (threads are forum topics, started for a
//! message of General when the connector replies into it; the stranger is a member).

mod common;

mod private_chat {
    async fn setup() -> connector_conformance::Fixture {
        super::common::peer::fixture(super::common::ChatShape::Private).await
    }

    connector_conformance::suite!(setup);
}

mod forum {
    async fn setup() -> connector_conformance::Fixture {
        super::common::peer::fixture(super::common::ChatShape::Forum).await
    }

    connector_conformance::suite!(setup);
}
