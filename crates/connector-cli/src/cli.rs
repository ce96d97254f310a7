//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Talk to an orchestrator's human operator over tmux, Matrix or Discord.
///
/// The connector is the one the roster's `connector` block names; without a roster (or without
/// a block in it) it is the tmux operator console. Secrets come from the environment
/// (MATRIX_ACCESS_TOKEN, DISCORD_BOT_TOKEN, or their _FILE variants), never from the roster.
#[derive(Debug, Parser)]
#[command(
    name = "connector",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// More logs on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(flatten)]
    pub(crate) common: Common,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command that talks to a connector takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The roster whose `connector` block to use (default: none, i.e. the tmux console).
    #[arg(
        long,
        short = 'r',
        global = true,
        env = "CONNECTOR_ROSTER",
        value_name = "PATH"
    )]
    pub(crate) roster: Option<PathBuf>,

    /// Print JSON instead of text (one object a line for `listen`).
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Probe the connector: reachable, authenticated, with a reason when not.
    ///
    /// Exit status: 0 healthy, 4 unreachable, 5 not authenticated, 3 bad configuration.
    Health,

    /// Send a message to the operator and print the receipt.
    ///
    /// Exit status: 0 sent, 6 refused or only partly sent, 4 unreachable, 3 bad configuration.
    Send {
        /// Post into this thread (started from that message on platforms that need it).
        #[arg(long, short = 't', value_name = "ID")]
        thread: Option<String>,

        /// An idempotency key: sending again with the same key never posts twice.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,

        /// The text (Markdown where the platform renders it); `-` reads it from stdin.
        #[arg(value_name = "TEXT")]
        text: String,
    },

    /// Show a real round trip on the default tmux connector: a message out, a reply in, health.
    ///
    /// Runs the operator console on a private tmux server (no config, no account). Attach with
    /// the printed command to reply yourself; otherwise, after --wait seconds, the demo types a
    /// reply into the console as an operator would. Exit status: 0 when the round trip completed.
    #[cfg(feature = "tmux")]
    Demo {
        /// The private tmux server's socket name (`tmux -L NAME`).
        #[arg(long, value_name = "NAME")]
        socket: Option<String>,

        /// Seconds to wait for your reply before typing one.
        #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
        wait: f64,

        /// Leave the demo's tmux server running afterwards.
        #[arg(long)]
        keep: bool,
    },

    /// Print the operator's messages as they arrive.
    ///
    /// Exit status: 0 after --count messages (or on Ctrl-C), 7 when --timeout passes first.
    Listen {
        /// Exit after this many messages.
        #[arg(long, short = 'n', value_name = "N")]
        count: Option<u64>,

        /// Give up after this many seconds without reaching --count.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
    },

    /// Relay both ways between the operator's connector and the agent's (e.g. Discord <-> a
    /// tmux pane where Claude Code runs).
    ///
    /// Operator messages are pasted into the agent's side; the agent's output lines are
    /// coalesced and sent back into the thread the most recent operator message came from.
    /// Runs until SIGTERM or Ctrl-C. Exit status: 0 stopped by a signal, 3 bad configuration,
    /// 4 a side unreachable or its stream ended, 5 a side refused our credentials or target.
    Bridge(crate::commands::bridge::BridgeArgs),

    /// Serve the connector to an agent runtime as an MCP server on stdio.
    ///
    /// Tools: send, reply, react, edit, history, wait_for_message, health. Operator messages
    /// are also pushed as notifications (`notifications/message` and Claude Code's
    /// `notifications/claude/channel`). Exit status: 0 when the client disconnects.
    Mcp,
}
