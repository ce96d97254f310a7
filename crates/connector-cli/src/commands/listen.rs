//! `connector listen`: print the operator's messages as they arrive.

use std::time::Duration;

use connector_core::InboundMessage;

use crate::cli::Common;
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

pub(crate) async fn run(
    common: &Common,
    count: Option<u64>,
    timeout: Option<f64>,
) -> Result<Exit, Error> {
    let connector = super::connect(common).await?;
    let mut subscription = connector.subscribe().await?;
    // On stderr, so that stdout stays one message a line; scripts may wait for it.
    eprintln!("listening on {} (Ctrl-C to stop)", connector.kind());
    let deadline =
        timeout.map(|secs| tokio::time::Instant::now() + Duration::from_secs_f64(secs.max(0.0)));
    let mut received = 0;
    // One listener for the whole run: a fresh `ctrl_c()` per message would leave moments with
    // nobody listening, and a Ctrl-C landing in one (easy while messages stream in) was lost.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let exit = loop {
        if count.is_some_and(|n| received >= n) {
            break Exit::Ok;
        }
        let next = async {
            match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, subscription.recv())
                    .await
                    .ok(),
                None => Some(subscription.recv().await),
            }
        };
        tokio::select! {
            message = next => match message {
                None => break Exit::Timeout,
                Some(None) => break Exit::Ok,
                Some(Some(message)) => {
                    print(common.json, &message)?;
                    received += 1;
                }
            },
            _ = &mut interrupted => break Exit::Ok,
        }
    };
    drop(subscription);
    let _ = connector.close().await;
    Ok(exit)
}

fn print(json: bool, message: &InboundMessage) -> Result<(), Error> {
    if json {
        return json_line(message);
    }
    let thread = message
        .thread_id
        .as_ref()
        .map(|t| format!(" [thread {t}]"))
        .unwrap_or_default();
    line_out(&format!(
        "{} {}{}: {}",
        message.ts, message.sender, thread, message.text
    ))
}
