//! `connector send --live KEY [--finish]`: keep one message up to date in place (see
//! `connector_core::live`). With `-`, each line read from stdin replaces the text as it
//! arrives (`long-job | connector send --live build -`); lines that arrive while an edit is on
//! its way are coalesced, and the last one always lands.

use std::sync::Arc;

use connector_core::config::secrets::ProcessEnv;
use connector_core::live::{LiveKey, LiveMessages, LiveReceipt};
use connector_core::{ConnectorConfig, OrchestratorConnector, ThreadId};
use connector_registry::Registry;
use serde::Serialize;
use tokio::io::AsyncBufReadExt;

use crate::cli::{Common, MessageText};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

#[derive(Serialize)]
struct Report<'a> {
    kind: &'a str,
    live: &'a str,
    #[serde(flatten)]
    receipt: &'a LiveReceipt,
}

pub(crate) async fn run(
    common: &Common,
    thread: Option<String>,
    key: &str,
    finish: bool,
    text: MessageText,
) -> Result<Exit, Error> {
    let key = LiveKey::new(key).map_err(|e| Error::Usage(format!("--live: {e}")))?;
    let from_stdin = text.literal.is_none() && text.text.as_deref() == Some("-".as_ref());
    let single = match from_stdin {
        true => None,
        false => Some(super::send::read_text(text, false).await?),
    };
    let config = super::config(common)?;
    let connector = Registry::new().create(&config).await?;
    let live = Arc::new(open(&config, connector.clone())?);
    let thread = thread.map(ThreadId::new);
    let result = match single {
        Some(text) => live
            .update(&key, &text, thread, finish)
            .await
            .map_err(Error::from),
        None => from_lines(&live, &key, thread, finish).await,
    };
    let _ = connector.close().await;
    let receipt = result?;
    if common.json {
        json_line(&Report {
            kind: connector.kind(),
            live: key.as_str(),
            receipt: &receipt,
        })?;
    } else {
        let ids: Vec<&str> = receipt.message_ids.iter().map(|id| id.as_str()).collect();
        let state = if receipt.finished { ", finished" } else { "" };
        line_out(&format!(
            "{}: live `{}` shown in {}{state}",
            connector.kind(),
            key.as_str(),
            ids.join(", ")
        ))?;
    }
    Ok(Exit::Ok)
}

/// Live messages over `connector`, their ledger in the connector's state directory (so a
/// later `connector send --live`, or a restarted `connector mcp`, edits the same message).
pub(super) fn open(
    config: &ConnectorConfig,
    connector: Arc<dyn OrchestratorConnector>,
) -> Result<LiveMessages, Error> {
    let ledger = match config.state_dir(&ProcessEnv)? {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
                what: "creating the state directory for live messages",
                source,
            })?;
            Some(LiveMessages::ledger_in(&dir))
        }
        None => None,
    };
    Ok(LiveMessages::new(connector, ledger)?)
}

/// Every line of stdin replaces the text; updates run concurrently so that they coalesce.
async fn from_lines(
    live: &Arc<LiveMessages>,
    key: &LiveKey,
    thread: Option<ThreadId>,
    finish: bool,
) -> Result<LiveReceipt, Error> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut pending = Vec::new();
    let mut last = None;
    while let Some(line) = lines.next_line().await.map_err(|source| Error::Io {
        what: "reading live text from stdin",
        source,
    })? {
        if line.trim().is_empty() {
            continue;
        }
        // Registered now, in the order the lines came; sent concurrently, so they coalesce.
        pending.push(tokio::spawn(live.update(key, &line, thread.clone(), false)));
        last = Some(line);
    }
    let Some(last) = last else {
        return Err(Error::Usage(
            "--live with `-`: stdin held no text (every line was empty)".to_owned(),
        ));
    };
    let mut receipt = None;
    for update in pending {
        let outcome = update.await.map_err(|e| Error::Io {
            what: "updating the live message",
            source: std::io::Error::other(e),
        })?;
        receipt = Some(outcome?);
    }
    match (finish, receipt) {
        (false, Some(receipt)) => Ok(receipt),
        _ => Ok(live.update(key, &last, thread, finish).await?),
    }
}
