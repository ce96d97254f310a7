//! `connector send`: send one message and print the receipt.

use connector_core::{IdempotencyKey, OutboundMessage};
use serde::Serialize;
use tokio::io::AsyncReadExt;

use crate::cli::Common;
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

#[derive(Serialize)]
struct Receipt<'a> {
    kind: &'a str,
    #[serde(flatten)]
    receipt: &'a connector_core::SendReceipt,
}

pub(crate) async fn run(
    common: &Common,
    thread: Option<String>,
    key: Option<String>,
    text: Option<String>,
    attach: &[String],
) -> Result<Exit, Error> {
    let text = text.unwrap_or_default();
    let text = if text == "-" {
        let mut buffer = String::new();
        tokio::io::stdin()
            .read_to_string(&mut buffer)
            .await
            .map_err(|source| Error::Io {
                what: "reading the message from stdin",
                source,
            })?;
        buffer
    } else {
        text
    };
    let mut message = OutboundMessage::new(text);
    for spec in attach {
        message = message.attach(super::attachment(spec));
    }
    if let Some(thread) = thread {
        message = message.in_thread(thread);
    }
    if let Some(key) = key {
        message = message.with_idempotency_key(IdempotencyKey::parse(&key)?);
    }
    let connector = super::connect(common).await?;
    let result = connector.send(message).await;
    let _ = connector.close().await;
    let receipt = result?;
    if common.json {
        json_line(&Receipt {
            kind: connector.kind(),
            receipt: &receipt,
        })?;
    } else {
        let ids: Vec<&str> = receipt.message_ids.iter().map(|id| id.as_str()).collect();
        let parts = if ids.is_empty() {
            "1 message".to_owned()
        } else {
            format!("{} part(s): {}", ids.len(), ids.join(", "))
        };
        let thread = receipt
            .thread_id
            .as_ref()
            .map(|t| format!(" in thread {t}"))
            .unwrap_or_default();
        let confirmed = if receipt.confirmed {
            "confirmed"
        } else {
            "handed over, not confirmed"
        };
        line_out(&format!(
            "sent {parts}{thread} over {} ({confirmed})",
            connector.kind()
        ))?;
    }
    Ok(Exit::Ok)
}
