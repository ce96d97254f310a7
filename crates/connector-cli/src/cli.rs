//! The command line, as clap parses it.

use std::ffi::OsString;
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

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Probe the connector: reachable, authenticated, with a reason when not; with
    /// `--round-trip`, also that a probe message comes back through the inbound path.
    ///
    /// Exit status: 0 healthy, 4 unreachable, 5 not authenticated, 8 connected but a
    /// round-trip probe did not come back, 3 bad configuration.
    Health(HealthArgs),

    /// Send a message to the operator and print the receipt.
    ///
    /// Exit status: 0 sent, 2 no text (empty or only whitespace, with nothing attached) or text
    /// that is not UTF-8, 6 refused or only partly sent, 4 unreachable, 3 bad configuration.
    Send {
        /// Post into this thread (started from that message on platforms that need it).
        #[arg(long, short = 't', value_name = "ID")]
        thread: Option<String>,

        /// An idempotency key: sending again with the same key never posts twice.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,

        /// Attach a file (uploaded with the message) or an http(s) URL (passed on as a link);
        /// repeat for several. Where the platform takes no files (tmux), the send is refused.
        #[arg(
            long = "attach",
            short = 'a',
            value_name = "PATH|URL",
            conflicts_with = "live"
        )]
        attach: Vec<String>,

        /// Keep one message up to date under this key: the first send posts it, later sends
        /// with the same key replace its text (edits, coalesced). With `-`, every line read
        /// from stdin replaces the text as it arrives.
        #[arg(long, value_name = "KEY", conflicts_with = "key")]
        live: Option<String>,

        /// With --live: mark the live message final (the next send with the key starts anew).
        #[arg(long, requires = "live")]
        finish: bool,

        #[command(flatten)]
        text: MessageText,
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

    /// Ask the operator a question with choices and print the answer.
    ///
    /// Prints the chosen label (or the typed text where --free-text allows it; with --json the
    /// whole answer). The operator answers the platform's way (a button on Discord, a reaction on Matrix) or
    /// by typing a choice's number or label. Exit status: 0 answered, 7 expired (--timeout
    /// passed without an answer), 2 a bad question, 4 unreachable or the connector closed,
    /// 6 the connector asks no questions (tmux pane mode), 3 bad configuration.
    Ask(AskArgs),

    /// Validate the roster's `connector` block and the environment, without any network.
    ///
    /// Prints the resolved configuration with secrets redacted (naming where each came from)
    /// and every problem found. Exit status: 0 valid, 3 with the list of problems.
    Check,

    /// Probe the connector for real and print each check with a fix for every failure.
    ///
    /// Configuration problems are reported as failed probes too. Exit status: the number of
    /// failed probes, capped at 125 (0 when everything passed).
    Doctor(DoctorArgs),

    /// Write or update the `connector` block of a roster, leaving the rest of the file as it is.
    ///
    /// Flags for scripts, prompts on a terminal. Never writes a secret: prints the environment
    /// variables to set instead. Exit status: 0 written, 2 a flag is missing, 3 refused.
    Init(InitArgs),

    /// Admit operators by a code instead of a user id: list the codes strangers were sent and
    /// the senders paired, approve or deny a code, revoke a paired sender.
    ///
    /// Works on the state directory of the roster's connector, so only someone at the machine
    /// can pair; the running connector sees the change without a restart. Needs
    /// `pairing: {enabled: true}` in the roster's connector block to approve. Exit status:
    /// 0 done, 9 no such code (wrong, or never sent) or no such paired sender, 10 the code
    /// expired, 11 the code was used already (approved or denied), 3 bad configuration or
    /// pairing off.
    Pair(PairArgs),

    /// Print a systemd user unit for `connector bridge` (or `listen`) and how to enable it.
    Systemd(SystemdArgs),

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
    /// Tools: send, reply, react, edit, live, ask, history, wait_for_message, health. Operator messages
    /// are also pushed as notifications (`notifications/message` and Claude Code's
    /// `notifications/claude/channel`), and Claude Code's permission prompts are relayed to the
    /// operator as Allow / Deny questions. Exit status: 0 when the client disconnects.
    Mcp,
}

/// `connector send`'s text: the TEXT argument, where `-` reads stdin, or `--text`, taken as it
/// is. Kept as the bytes given: `send` checks them for UTF-8 itself, the same way as stdin.
#[derive(Debug, Args)]
pub(crate) struct MessageText {
    /// The text (Markdown where the platform renders it); `-` reads it from stdin. May be
    /// left out when something is attached.
    #[arg(value_name = "TEXT", required_unless_present_any = ["attach", "literal"])]
    pub(crate) text: Option<OsString>,

    /// The text, taken as it is, instead of TEXT: `--text -` sends a lone `-`, and a value
    /// starting with `-` is text too.
    #[arg(
        long = "text",
        value_name = "TEXT",
        conflicts_with = "text",
        allow_hyphen_values = true
    )]
    pub(crate) literal: Option<OsString>,
}

/// `connector ask`'s options.
#[derive(Debug, Args)]
pub(crate) struct AskArgs {
    /// The question (Markdown where the platform renders it).
    #[arg(value_name = "TEXT")]
    pub(crate) text: String,

    /// A choice's label; give 2 to 10, in the order to show them. Its id (in --json output)
    /// is the label in lowercase words joined by `-`.
    #[arg(long = "choice", short = 'c', value_name = "LABEL", required = true)]
    pub(crate) choices: Vec<String>,

    /// Ask in this thread.
    #[arg(long, short = 't', value_name = "ID")]
    pub(crate) thread: Option<String>,

    /// Expire the question after this many seconds without an answer (shown as expired to
    /// the operator; exit status 7). Without it, wait for ever.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<f64>,

    /// The question's id (1 to 32 lowercase letters, digits, `-`, `_`); random by default.
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Also take a typed reply that names no choice as the answer.
    #[arg(long)]
    pub(crate) free_text: bool,
}

/// `connector health`'s options.
#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// Also post a probe message and wait for it to come back through the path the operator's
    /// messages take (removed afterwards where the platform allows; never delivered).
    #[arg(long)]
    pub(crate) round_trip: bool,

    /// How long `--round-trip` waits for the probe.
    #[arg(
        long,
        default_value_t = 20.0,
        value_name = "SECONDS",
        requires = "round_trip"
    )]
    pub(crate) timeout: f64,
}

/// `connector doctor`'s options.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Give up on a probe that has not answered after this many seconds.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub(crate) timeout: f64,
}

/// `connector init`'s options: the block to write.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The connector kind: tmux, matrix, discord, telegram or slack (asked on a terminal when
    /// missing).
    #[arg(long, value_name = "KIND")]
    pub(crate) kind: Option<String>,

    /// Matrix: the homeserver's URL, e.g. `https://matrix.example.org`.
    #[arg(long, value_name = "URL")]
    pub(crate) homeserver_url: Option<String>,

    /// Matrix: the bot's user id, e.g. @orchestrator:example.org.
    #[arg(long, value_name = "ID")]
    pub(crate) user_id: Option<String>,

    /// Matrix: the room's id, e.g. !abcdef:example.org.
    #[arg(long, value_name = "ID")]
    pub(crate) room_id: Option<String>,

    /// Discord: the channel's id (Developer Mode → right-click the channel → Copy Channel ID).
    /// Slack: the channel's id (channel details → About, e.g. C0123456789).
    #[arg(long, value_name = "ID")]
    pub(crate) channel_id: Option<String>,

    /// Telegram: the chat's id (a private chat: the operator's user id; a group: -100…).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub(crate) chat_id: Option<String>,

    /// tmux: the server's socket name (`tmux -L NAME`); default: tmux's default server.
    #[arg(long, value_name = "NAME")]
    pub(crate) socket_name: Option<String>,

    /// tmux: the pane to talk to (`session:window.pane` or `%N`); implies --mode pane.
    #[arg(long, value_name = "TARGET")]
    pub(crate) target: Option<String>,

    /// tmux: console (the default) or pane.
    #[arg(long, value_name = "MODE")]
    pub(crate) mode: Option<String>,

    /// Who may talk to the orchestrator (repeat or comma-separate): Matrix, Discord, Telegram
    /// or Slack user ids. Required for every kind but tmux unless --allow-any-sender or
    /// --pairing.
    #[arg(long = "allow", value_name = "SENDER", value_delimiter = ',')]
    pub(crate) allowed_senders: Vec<String>,

    /// Admit messages from anyone who can post in the room or channel.
    #[arg(long)]
    pub(crate) allow_any_sender: bool,

    /// Matrix, Discord, Telegram and Slack: find the operator by pairing instead of ids: whoever writes to the
    /// bot is sent a code to approve on this machine (`connector pair approve CODE`).
    #[arg(long, conflicts_with = "allow_any_sender")]
    pub(crate) pairing: bool,

    /// Refused: secrets never go into the roster (set the kind's token variable instead).
    #[arg(long, value_name = "SECRET", hide = true)]
    pub(crate) token: Option<String>,

    /// Refused: secrets never go into the roster.
    #[arg(long, value_name = "SECRET", hide = true)]
    pub(crate) access_token: Option<String>,

    /// Refused: secrets never go into the roster.
    #[arg(long, value_name = "SECRET", hide = true)]
    pub(crate) bot_token: Option<String>,

    /// Refused: secrets never go into the roster.
    #[arg(long, value_name = "SECRET", hide = true)]
    pub(crate) app_token: Option<String>,

    /// Refused: secrets never go into the roster.
    #[arg(long, value_name = "SECRET", hide = true)]
    pub(crate) password: Option<String>,

    /// Print the new roster instead of writing it.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `connector pair`'s subcommands.
#[derive(Debug, Args)]
pub(crate) struct PairArgs {
    #[command(subcommand)]
    pub(crate) action: PairAction,
}

/// What `connector pair` does.
#[derive(Debug, Subcommand)]
pub(crate) enum PairAction {
    /// The codes waiting for approval (sender, code, age, expiry) and the paired senders.
    List,
    /// Admit the sender a code was sent to (case, blanks and dashes do not matter).
    Approve {
        /// The code from the connector's reply, e.g. K7M3QX9P.
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// Refuse a code: its sender stays out (writing again gets them a new one).
    Deny {
        /// The code from the connector's reply.
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// Take a paired sender's admission back (senders listed in the roster stay).
    Revoke {
        /// The sender's platform id, as `connector pair list` shows it.
        #[arg(value_name = "SENDER")]
        sender: String,
    },
}

/// `connector systemd`'s options: what the unit runs.
#[derive(Debug, Args)]
pub(crate) struct SystemdArgs {
    /// Run `connector listen` instead of `connector bridge`.
    #[arg(long, conflicts_with = "bridge")]
    pub(crate) listen: bool,

    /// The unit's name, without `.service`.
    #[arg(long, default_value = "connector", value_name = "NAME")]
    pub(crate) name: String,

    /// The `connector` executable the unit starts (default: this one).
    #[arg(long, value_name = "PATH")]
    pub(crate) exec: Option<std::path::PathBuf>,

    /// Hand the tokens over with `LoadCredential=` from this directory (files named
    /// MATRIX_ACCESS_TOKEN, DISCORD_BOT_TOKEN) instead of the environment file alone.
    #[arg(long, value_name = "DIR")]
    pub(crate) credentials: Option<std::path::PathBuf>,

    /// Arguments for `connector bridge`, after `--bridge` (e.g. `--bridge --from discord --to tmux`).
    #[arg(long, num_args = 0.., allow_hyphen_values = true, value_name = "ARGS")]
    pub(crate) bridge: Option<Vec<String>>,
}
