//! `connector demo`: a real round trip on the default tmux connector, with no configuration.

use std::process::Command;
use std::time::Duration;

use connector_core::OutboundMessage;
use connector_core::config::{ConnectorConfig, TmuxConfig};
use connector_registry::Registry;

use crate::error::{Error, Exit};
use crate::output::{line_out, mark};

const SESSION: &str = "orchestrator";

pub(crate) async fn run(socket: Option<String>, wait: f64, keep: bool) -> Result<Exit, Error> {
    let socket = socket.unwrap_or_else(|| format!("connector-demo-{}", std::process::id()));
    let mut tmux = TmuxConfig::default();
    tmux.socket_name = Some(socket.clone());
    tmux.session = Some(SESSION.to_owned());
    let mut config = ConnectorConfig::default();
    config.tmux = Some(tmux);

    line_out(&format!(
        "1. opening the operator console on a private tmux server (tmux -L {socket})"
    ))?;
    let connector = Registry::new().create(&config).await?;
    let mut replies = connector.subscribe().await?;
    let health = connector.health().await;
    line_out(&format!(
        "   health: reachable {} authenticated {}{}",
        mark(health.reachable),
        mark(health.authenticated),
        health
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    ))?;

    let text = "Hello from the orchestrator. The build is green: shall I merge? (type a reply and press Enter)";
    let receipt = connector.send(OutboundMessage::new(text)).await?;
    line_out(&format!(
        "2. sent a message to the operator: {}",
        if receipt.confirmed {
            "seen in the console pane"
        } else {
            "handed to tmux (not seen yet)"
        }
    ))?;
    line_out(&format!(
        "   to answer yourself, attach in another terminal:  tmux -L {socket} attach -t {SESSION}"
    ))?;

    let reply =
        match tokio::time::timeout(Duration::from_secs_f64(wait.max(0.0)), replies.recv()).await {
            Ok(reply) => reply,
            Err(_) => {
                line_out(&format!(
                    "   no reply within {wait} s: typing one into the console, as an operator would"
                ))?;
                type_reply(&socket, "yes, merge it")?;
                tokio::time::timeout(Duration::from_secs(10), replies.recv())
                    .await
                    .ok()
                    .flatten()
            }
        };
    let exit = match reply {
        Some(reply) => {
            line_out(&format!("3. reply from {}: {:?}", reply.sender, reply.text))?;
            Exit::Ok
        }
        None => {
            line_out("3. no reply arrived")?;
            Exit::Timeout
        }
    };
    let health = connector.health().await;
    line_out(&format!(
        "4. health: reachable {} authenticated {}",
        mark(health.reachable),
        mark(health.authenticated)
    ))?;
    let _ = connector.close().await;
    drop(connector);
    if keep {
        line_out(&format!(
            "   the console stays up: tmux -L {socket} attach -t {SESSION}"
        ))?;
    } else {
        let _ = Command::new("tmux")
            .args(["-L", &socket, "kill-server"])
            .output();
    }
    Ok(exit)
}

/// Types `text` and Enter into the console pane with `tmux send-keys`, as a person would.
fn type_reply(socket: &str, text: &str) -> Result<(), Error> {
    let target = format!("={SESSION}:");
    for keys in [vec!["-l", "--", text], vec!["Enter"]] {
        let status = Command::new("tmux")
            .args(["-L", socket, "send-keys", "-t", &target])
            .args(&keys)
            .status()
            .map_err(|source| Error::Io {
                what: "running tmux send-keys",
                source,
            })?;
        if !status.success() {
            return Err(Error::Io {
                what: "typing the reply",
                source: std::io::Error::other(format!("tmux send-keys exited with {status}")),
            });
        }
    }
    Ok(())
}
