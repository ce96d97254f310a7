//! The shortest honest backend, built from core's shared pieces only: the example
//! `docs/architecture.md` points to under "How to add a backend", kept compiling and correct by
//! running it.
//!
//! Its "platform" is a spool directory: the operator drops numbered files into `in/`
//! (`1.txt`, `2.txt`, …) and the connector writes what it sends into `out/`, one file per part,
//! named by the part's idempotency key (so a retried send never writes a second file). What it
//! does not write itself: the allow-list, dedupe and fan-out (`Inbox`), waiting for a subscriber
//! without losing a message (`Inbox::deliver_when_subscribed`), the saved position
//! (`StateFile`), the open/closed state and a bounded close (`Lifecycle`), splitting
//! (`Chunker`, `send_in_parts`) and retries (`RetryPolicy`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::chunking::{Chunker, LengthUnit};
use connector_core::lifecycle::DEFAULT_CLOSE_TIMEOUT;
use connector_core::retry::RetryPolicy;
use connector_core::sending::send_in_parts;
use connector_core::state_file::Durability;
use connector_core::{
    Capabilities, ConnectorHealth, Error, InboundMessage, Inbox, Lifecycle, MessageId,
    OrchestratorConnector, OutboundMessage, Result, SendReceipt, SenderPolicy, StateFile,
    Subscription, Timestamp, check_outbound,
};

const KIND: &str = "spool";

/// A connector whose operator writes files into `in/` and reads files from `out/`.
struct SpoolConnector {
    dir: PathBuf,
    chunker: Chunker,
    lifecycle: Lifecycle,
}

impl SpoolConnector {
    /// Opens the spool at `dir`, admitting `policy`'s senders, and starts reading `in/` after
    /// the position saved by an earlier run.
    fn open(dir: &Path, policy: SenderPolicy) -> Result<Self> {
        for sub in ["in", "out"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| Error::backend(KIND, format!("cannot create {sub}/"), e))?;
        }
        let inbox = Arc::new(Inbox::new(policy));
        let lifecycle = Lifecycle::new(KIND, Arc::clone(&inbox));
        let position = StateFile::new(dir.join("position"))
            .holding("the number of the last file delivered")
            .without_it("the first start delivers nothing older than it");
        let mut next = match position.read()? {
            Some(bytes) => parse_position(&position, &bytes)? + 1,
            // The first start delivers only what arrives after it.
            None => newest_file(dir)? + 1,
        };
        let reader_dir = dir.to_owned();
        let mut shutdown = lifecycle.shutdown_signal();
        lifecycle.spawn("spool reader", async move {
            while !*shutdown.borrow() {
                let path = reader_dir.join("in").join(format!("{next}.txt"));
                let Ok(text) = std::fs::read_to_string(&path) else {
                    // Not there yet: look again soon, or stop when asked to.
                    let _ =
                        tokio::time::timeout(Duration::from_millis(20), shutdown.changed()).await;
                    continue;
                };
                let message = InboundMessage::new(
                    next.to_string(),
                    "operator",
                    text.trim_end(),
                    Timestamp::now(),
                );
                // Waits for a subscriber; `Err` means the connector closed before anyone took
                // the message, so the position must not move past it.
                if inbox.deliver_when_subscribed(message).await.is_err() {
                    return;
                }
                let saved = next.to_string();
                let write =
                    move |file: &StateFile| file.write(saved.as_bytes(), Durability::Synced);
                if let Err(e) = position
                    .on_blocking_pool(tokio::task::spawn_blocking, write)
                    .await
                {
                    tracing::error!("{e}");
                    return;
                }
                next += 1;
            }
        });
        Ok(Self {
            dir: dir.to_owned(),
            chunker: Chunker::new(64, LengthUnit::Chars)?,
            lifecycle,
        })
    }

    async fn close(&self) {
        self.lifecycle
            .close(
                DEFAULT_CLOSE_TIMEOUT,
                async { /* nothing of its own to stop */ },
            )
            .await;
    }
}

fn parse_position(file: &StateFile, bytes: &[u8]) -> Result<u64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| file.corrupt("it does not hold a file number"))
}

/// The number of the newest file in `in/`, 0 when there is none.
fn newest_file(dir: &Path) -> Result<u64> {
    let entries = std::fs::read_dir(dir.join("in"))
        .map_err(|e| Error::backend(KIND, "cannot read in/", e))?;
    Ok(entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".txt")?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0))
}

#[async_trait]
impl OrchestratorConnector for SpoolConnector {
    fn kind(&self) -> &str {
        KIND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.with_max_message_len(self.chunker.limit())
    }

    async fn send(&self, message: OutboundMessage) -> Result<SendReceipt> {
        self.lifecycle.ensure_open()?;
        check_outbound(KIND, self.capabilities(), &message)?;
        let out = self.dir.join("out");
        let ids = send_in_parts(
            &self.chunker,
            &message.text,
            &message.idempotency_key,
            |_, text, key| {
                let path = out.join(format!("{key}.txt"));
                async move {
                    RetryPolicy::default()
                        .run(|_| async {
                            // The key names the file: a retry rewrites the same part, never a second.
                            std::fs::write(&path, &text)
                                .map_err(|e| Error::backend(KIND, "cannot write to out/", e))?;
                            Ok(MessageId::from(key.to_string()))
                        })
                        .await
                }
            },
        )
        .await?;
        Ok(SendReceipt::new(ids, None, true))
    }

    async fn subscribe(&self) -> Result<Subscription> {
        self.lifecycle.subscribe()
    }

    async fn health(&self) -> ConnectorHealth {
        if let Some(closed) = self.lifecycle.closed_health() {
            return closed;
        }
        match std::fs::metadata(self.dir.join("in")) {
            Ok(_) => ConnectorHealth::healthy(),
            Err(e) => ConnectorHealth::unreachable(format!("cannot see in/: {e}")),
        }
    }
}

/// A fresh spool directory for one test.
fn spool(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn operator_writes(dir: &Path, number: u64, text: &str) {
    std::fs::write(dir.join("in").join(format!("{number}.txt")), text).unwrap();
}

async fn next_text(subscription: &mut Subscription) -> String {
    tokio::time::timeout(Duration::from_secs(10), subscription.recv())
        .await
        .expect("a message within 10 s")
        .expect("the subscription is open")
        .text
}

#[tokio::test]
async fn a_backend_built_from_the_shared_pieces_loses_nothing_and_repeats_nothing() {
    let dir = spool("restart");
    std::fs::create_dir_all(dir.join("in")).unwrap();
    operator_writes(&dir, 1, "written before the first start: never delivered");

    let connector = SpoolConnector::open(&dir, SenderPolicy::allow_any()).unwrap();
    // Posted while nobody listens: held until somebody does.
    operator_writes(&dir, 2, "merge #12?");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut subscription = connector.subscribe().await.unwrap();
    assert_eq!(next_text(&mut subscription).await, "merge #12?");

    let sent = connector
        .send(OutboundMessage::new("x".repeat(100)))
        .await
        .unwrap();
    assert_eq!(
        sent.message_ids.len(),
        2,
        "100 characters at a 64 limit: two parts"
    );
    connector.close().await;
    assert!(
        subscription.recv().await.is_none(),
        "close ends the subscriptions"
    );
    assert!(matches!(
        connector.send(OutboundMessage::new("late")).await,
        Err(Error::Closed { .. })
    ));

    // Posted while the connector is down: delivered once after the restart, and only that.
    operator_writes(&dir, 3, "yes, deploy");
    let restarted = SpoolConnector::open(&dir, SenderPolicy::allow_any()).unwrap();
    let mut subscription = restarted.subscribe().await.unwrap();
    assert_eq!(next_text(&mut subscription).await, "yes, deploy");
    operator_writes(&dir, 4, "thanks");
    assert_eq!(next_text(&mut subscription).await, "thanks");
    restarted.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_corrupt_position_is_an_error_naming_the_file_not_a_replay() {
    let dir = spool("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("position"), "not a number").unwrap();
    let error = SpoolConnector::open(&dir, SenderPolicy::allow_any())
        .err()
        .expect("a corrupt position is refused");
    let text = error.to_string();
    assert!(text.contains("position"), "{text}");
    assert!(text.contains("does not hold a file number"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
