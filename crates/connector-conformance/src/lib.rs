//! The conformance suite every connector backend runs against its real peer.
//!
//! A backend's test crate implements [`Peer`] — the operator's side of the real platform (a
//! second Matrix client, the Discord emulator, a tmux pane) — and a setup function returning a
//! [`Fixture`], then expands [`suite!`] to get one `#[tokio::test]` per check:
//!
//! ```ignore
//! async fn setup() -> connector_conformance::Fixture { /* start the peer, build the connector */ }
//! connector_conformance::suite!(setup);
//! ```
//!
//! The checks never sleep to prove a negative: to show that something was *not* delivered,
//! the operator posts a sentinel afterwards and the check asserts that the sentinel is the next
//! message to arrive.

mod checks;
mod peer;
mod question_checks;

pub use checks::*;
pub use peer::{Fixture, Peer, Posted};
pub use question_checks::*;

/// Expands to a module `conformance` with one test per check, each calling `$setup().await`
/// for a fresh fixture.
#[macro_export]
macro_rules! suite {
    ($setup:ident) => {
        $crate::suite!($setup; send_then_observe_at_peer, operator_post_reaches_each_subscriber_once,
            thread_round_trip, own_messages_are_filtered, allow_list_is_enforced,
            long_text_arrives_chunked_in_order, unsubscribe_stops_delivery, health_tracks_the_peer,
            question_answered_once, question_refuses_strangers, question_expires,
            question_answered_by_typing, invalid_questions_are_refused);
    };
    ($setup:ident; $($check:ident),+ $(,)?) => {
        mod conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let fixture = super::$setup().await;
                    $crate::$check(&fixture).await;
                    fixture.teardown().await;
                }
            )+
        }
    };
}
