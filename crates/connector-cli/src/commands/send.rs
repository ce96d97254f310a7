//! `connector send`: send one message and print the receipt.

use std::fmt;

use connector_core::{IdempotencyKey, OutboundMessage};
use serde::Serialize;
use tokio::io::AsyncReadExt;

use crate::cli::{Common, MessageText};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

#[derive(Serialize)]
struct Receipt<'a> {
    kind: &'a str,
    #[serde(flatten)]
    receipt: &'a connector_core::SendReceipt,
}

/// Where the message's text came from, as the usage errors name it.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The TEXT argument.
    Argument,
    /// `--text`.
    Option,
    /// stdin, for `-`.
    Stdin,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Argument => "the TEXT argument",
            Self::Option => "--text",
            Self::Stdin => "stdin",
        })
    }
}

/// The message's text: `--text` as it is, TEXT (stdin for `-`), or nothing (only with
/// `--attach`, which clap ensures). Text that is not UTF-8, or no text (empty or only
/// whitespace) with nothing `attached`, is a usage error (exit status 2) — checked here, before
/// any connector is opened.
pub(super) async fn read_text(text: MessageText, attached: bool) -> Result<String, Error> {
    let (source, bytes) = match (text.literal, text.text) {
        (Some(literal), _) => (Source::Option, literal.into_encoded_bytes()),
        (None, Some(text)) if text == "-" => (Source::Stdin, read_stdin().await?),
        (None, Some(text)) => (Source::Argument, text.into_encoded_bytes()),
        (None, None) => (Source::Argument, Vec::new()),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Usage(format!(
            "the message from {source} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    if text.trim().is_empty() && !attached {
        return Err(Error::Usage(format!(
            "the message from {source} is empty (or only whitespace): give TEXT, --text TEXT, \
             `-` with the text on stdin, or --attach PATH|URL"
        )));
    }
    Ok(text)
}

/// All of stdin, as bytes.
async fn read_stdin() -> Result<Vec<u8>, Error> {
    let mut buffer = Vec::new();
    tokio::io::stdin()
        .read_to_end(&mut buffer)
        .await
        .map_err(|source| Error::Io {
            what: "reading the message from stdin",
            source,
        })?;
    Ok(buffer)
}

pub(crate) async fn run(
    common: &Common,
    thread: Option<String>,
    key: Option<String>,
    text: MessageText,
    attach: &[String],
) -> Result<Exit, Error> {
    let text = read_text(text, !attach.is_empty()).await?;
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
