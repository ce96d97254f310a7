//! Core traits, types and shared behaviour for connectors between an AI orchestrator and its
//! human operator.
//!
//! This crate is deliberately thin and names no chat platform. Backends (`connector-tmux`,
//! `connector-matrix`, `connector-discord`) implement [`OrchestratorConnector`] and use the shared
//! behaviour here — [`chunking`], the sender [`allowlist`], [`retry`], [`dedupe`], outbound
//! [`attachments`] and the [`Inbox`] that ties them together — so every backend behaves the same. Applications pick a
//! backend at run time through `connector-registry`.
//!
//! ```
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_core::{LoopbackConnector, OrchestratorConnector, OutboundMessage};
//!
//! let (connector, operator) = LoopbackConnector::pair();
//! let mut replies = connector.subscribe().await?;
//! let receipt = connector.send(OutboundMessage::new("PR #12 is green. Merge it?")).await?;
//! operator.post("yes").await;
//! let reply = replies.recv().await.expect("connector open");
//! assert_eq!(reply.text, "yes");
//! assert!(receipt.confirmed);
//! # Ok(()) }
//! ```

pub mod allowlist;
pub mod attachments;
pub mod capability;
pub mod chunking;
pub mod config;
mod connector;
pub mod dedupe;
pub mod descriptor;
pub mod diagnosis;
pub mod error;
pub mod fanout;
mod health;
mod ids;
pub mod inbox;
pub mod lifecycle;
pub mod live;
pub mod loopback;
mod message;
pub mod pairing;
pub mod question;
pub mod questions;
pub mod retry;
pub mod round_trip;
pub mod sending;
pub mod state_file;
mod subscription;

pub use allowlist::{SenderPolicy, SenderRule};
pub use capability::{Capabilities, Capability};
pub use config::ConnectorConfig;
pub use connector::{OrchestratorConnector, check_outbound};
pub use descriptor::{
    ConnectorDescriptor, ConnectorFactory, ConnectorFuture, DiagnosisFuture, SetupDiagnosis,
};
pub use diagnosis::{Probe, ProbeOutcome};
pub use error::{BoxError, ConfigProblem, Error, Result};
pub use health::ConnectorHealth;
pub use ids::{IdempotencyKey, MessageId, SenderId, ThreadId};
pub use inbox::Inbox;
pub use jiff::Timestamp;
pub use lifecycle::Lifecycle;
pub use loopback::{LoopbackConnector, LoopbackOperator};
pub use message::{
    Attachment, HistoryQuery, InboundAttachment, InboundMessage, InboundReaction, OutboundMessage,
    SendReceipt,
};
pub use question::{Answer, Choice, Question, QuestionId, QuestionReceipt};
pub use round_trip::RoundTrip;
pub use state_file::StateFile;
pub use subscription::Subscription;
