//! `connector mcp`: the connector as an MCP server on stdio, for any MCP-capable agent runtime.
//!
//! stdout carries the protocol alone; logs go to stderr. The server runs until the client
//! closes stdin (or SIGTERM/Ctrl-C), then closes the connector so that it persists its position.

mod arguments;
mod inbound;
mod permission;
mod server;

use std::sync::Arc;

use rmcp::ServiceExt;

use self::inbound::Inbound;
use self::server::ConnectorServer;
use crate::cli::Common;
use crate::error::{Error, Exit};

pub(crate) async fn run(common: &Common) -> Result<Exit, Error> {
    let config = super::config(common)?;
    let connector = connector_registry::Registry::new().create(&config).await?;
    let live = Arc::new(super::live::open(&config, Arc::clone(&connector))?);
    let subscription = connector.subscribe().await?;
    let inbound = Arc::new(Inbound::new());
    let pump = {
        let inbound = Arc::clone(&inbound);
        tokio::spawn(async move { inbound.pump(subscription).await })
    };
    let server = ConnectorServer::new(Arc::clone(&connector), inbound, live);
    let result = serve(server).await;
    pump.abort();
    if let Err(e) = connector.close().await {
        tracing::warn!(error = %e, "closing the connector");
    }
    result.map(|()| Exit::Ok)
}

async fn serve(server: ConnectorServer) -> Result<(), Error> {
    let mcp_error = |e: String| Error::Io {
        what: "serving MCP on stdio",
        source: std::io::Error::other(e),
    };
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| mcp_error(e.to_string()))?;
    tracing::info!("MCP server ready on stdio");
    tokio::select! {
        ended = running.waiting() => {
            ended.map_err(|e| mcp_error(e.to_string()))?;
        }
        _ = tokio::signal::ctrl_c() => {}
        () = terminated() => {}
    }
    Ok(())
}

/// SIGTERM (never, where there are no Unix signals).
async fn terminated() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        term.recv().await;
        return;
    }
    std::future::pending::<()>().await;
}
