//! `connector init`: write or update the roster's `connector` block, touching nothing else.
//!
//! The rest of the file is kept byte for byte: the top-level `connector:` block is found by its
//! lines (the key at column 0 and every indented or blank line after it, up to the next line
//! that starts at column 0 with something other than a comment) and replaced by the new block,
//! or the block is appended when there is none. The result is checked before it is written:
//! the project's config loader must accept it, and every other top-level key must parse to the
//! same value as before. It is then written atomically (a `StateFile`: a file beside it,
//! renamed over it, keeping the roster's mode).
//! Secrets never go in: token-like flags and values are refused, and the variables to set
//! are printed instead.

use std::io::{BufRead, IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use connector_core::config::{PairingConfig, TmuxMode, kinds};
use connector_core::state_file::Durability;
use connector_core::{ConnectorConfig, StateFile};
use serde::Serialize;

use crate::cli::{Common, InitArgs};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

/// The block `init` writes, in the order its keys are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Block {
    kind: String,
    allowed_senders: Vec<String>,
    allow_any_sender: bool,
    pairing: Option<PairingConfig>,
    queue_capacity: Option<u32>,
    // tmux
    socket_name: Option<String>,
    socket_path: Option<PathBuf>,
    pane_mode: bool,
    session: Option<String>,
    target: Option<String>,
    submit_delay_ms: Option<u32>,
    // matrix
    homeserver_url: Option<String>,
    user_id: Option<String>,
    room_id: Option<String>,
    // matrix, discord, telegram and slack
    state_dir: Option<PathBuf>,
    // discord and slack
    channel_id: Option<String>,
    // telegram
    chat_id: Option<String>,
}

/// Asks for a value the flags did not give; `None` when no one can be asked.
trait Ask {
    /// Asks `question`, offering `default`; answers the reply (the default on an empty one).
    fn ask(&mut self, question: &str, default: Option<&str>) -> Option<String>;
}

/// Plain prompts on the terminal: the question on stderr, the answer from stdin.
struct Terminal;

impl Ask for Terminal {
    fn ask(&mut self, question: &str, default: Option<&str>) -> Option<String> {
        let mut stderr = std::io::stderr().lock();
        let shown = default.map(|d| format!(" [{d}]")).unwrap_or_default();
        let _ = write!(stderr, "{question}{shown}: ");
        let _ = stderr.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let line = line.trim();
        if line.is_empty() {
            default.map(str::to_owned)
        } else {
            Some(line.to_owned())
        }
    }
}

/// No terminal: nobody to ask.
struct Nobody;

impl Ask for Nobody {
    fn ask(&mut self, _: &str, _: Option<&str>) -> Option<String> {
        None
    }
}

#[derive(Serialize)]
struct Written<'a> {
    roster: &'a Path,
    kind: &'a str,
    action: &'a str,
    written: bool,
    block: &'a str,
    environment: &'a [&'a str],
}

/// Runs `connector init`.
pub(crate) fn run(common: &Common, args: InitArgs) -> Result<Exit, Error> {
    let roster = common.roster.clone().ok_or_else(|| {
        Error::Usage(
            "name the roster to write: connector init --roster PATH (or set CONNECTOR_ROSTER)"
                .into(),
        )
    })?;
    refuse_secrets(&args)?;
    // Write through a symlink to the file it names.
    let roster = std::fs::canonicalize(&roster).unwrap_or(roster);
    let old = match std::fs::read_to_string(&roster) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::Io {
                what: "reading the roster",
                source,
            });
        }
    };
    let existing = ConnectorConfig::from_roster_str(&old).ok();
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let block = if interactive {
        gather(&args, existing.as_ref(), &mut Terminal)?
    } else {
        gather(&args, existing.as_ref(), &mut Nobody)?
    };
    let (new, action) = updated(&old, &render(&block))?;
    let environment = variables(&block.kind);
    if !args.dry_run {
        write_atomically(&roster, &new)?;
    }
    let block_text = render(&block);
    if common.json {
        json_line(&Written {
            roster: &roster,
            kind: &block.kind,
            action,
            written: !args.dry_run,
            block: &block_text,
            environment: &environment,
        })?;
        return Ok(Exit::Ok);
    }
    if args.dry_run {
        line_out(&format!("# {} (not written: --dry-run)", roster.display()))?;
        for line in new.lines() {
            line_out(line)?;
        }
    } else {
        line_out(&format!(
            "{action} the connector block (kind {}) in {}",
            block.kind,
            roster.display()
        ))?;
    }
    for line in next_steps(&roster, &environment, block.pairing.is_some()) {
        line_out(&line)?;
    }
    Ok(Exit::Ok)
}

/// The secrets `kind` reads from the environment.
fn variables(kind: &str) -> Vec<&'static str> {
    kinds::built_in(kind).map_or_else(Vec::new, |k| k.secrets.to_vec())
}

/// What to do after `init`: the variables to set, then `check` and `doctor` (and, with
/// pairing, how the operator is admitted).
fn next_steps(roster: &Path, environment: &[&str], pairing: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if environment.is_empty() {
        lines.push("no secret is needed for this kind".to_owned());
    } else {
        lines.push("set in the environment (never in the roster):".to_owned());
        for variable in environment {
            lines.push(format!(
                "  export {variable}=…   # or {variable}_FILE=/path/to/file, or a systemd credential {variable}"
            ));
        }
    }
    lines.push("then:".to_owned());
    lines.push(format!("  connector --roster {} check", roster.display()));
    lines.push(format!("  connector --roster {} doctor", roster.display()));
    if pairing {
        lines.push(
            "pairing is on: start the connector and write to the bot from your account; it \
             answers with a code, which you approve here:"
                .to_owned(),
        );
        lines.push(format!(
            "  connector --roster {} pair approve CODE",
            roster.display()
        ));
    }
    lines
}

/// Refuses token-like flags and values that look like tokens, naming the variable to use.
fn refuse_secrets(args: &InitArgs) -> Result<(), Error> {
    let flags = [
        ("--token", args.token.is_some()),
        ("--access-token", args.access_token.is_some()),
        ("--bot-token", args.bot_token.is_some()),
        ("--app-token", args.app_token.is_some()),
        ("--password", args.password.is_some()),
    ];
    let secrets = match args.kind.as_deref().and_then(kinds::built_in) {
        Some(kind) if !kind.secrets.is_empty() => kind.secrets.to_vec(),
        _ => kinds::all_secrets().collect(),
    };
    let (last, rest) = secrets.split_last().expect("the kind table names secrets");
    let advice = if rest.is_empty() {
        format!(
            "secrets never go into the roster: set {last} (or {last}_FILE) in the environment \
             instead"
        )
    } else {
        format!(
            "secrets never go into the roster: set {} or {last} (or their _FILE variants) in the \
             environment instead",
            rest.join(", ")
        )
    };
    if let Some((flag, _)) = flags.iter().find(|(_, given)| *given) {
        return Err(Error::Refused(format!("{flag} refused: {advice}")));
    }
    let values = [
        ("--homeserver-url", &args.homeserver_url),
        ("--user-id", &args.user_id),
        ("--room-id", &args.room_id),
        ("--channel-id", &args.channel_id),
        ("--chat-id", &args.chat_id),
        ("--socket-name", &args.socket_name),
        ("--target", &args.target),
    ];
    for (flag, value) in values {
        if value.as_deref().is_some_and(looks_like_token) {
            return Err(Error::Refused(format!(
                "{flag} refused: its value looks like an access token; {advice}"
            )));
        }
    }
    if args.allowed_senders.iter().any(|s| looks_like_token(s)) {
        return Err(Error::Refused(format!(
            "--allow refused: a value looks like an access token; {advice}"
        )));
    }
    Ok(())
}

/// A Matrix access token (`syt_…`, `mct_…`, a macaroon), a Slack token (`xoxb-…`,
/// `xapp-…`, …), a Telegram bot token (`123456:` and 30 or more base64url characters) or a
/// Discord bot token (three dot-separated base64url parts).
fn looks_like_token(value: &str) -> bool {
    let value = value.trim();
    if [
        "syt_", "mct_", "MDAx", "xoxb-", "xoxp-", "xapp-", "xoxa-", "xoxe",
    ]
    .iter()
    .any(|p| value.starts_with(p))
    {
        return true;
    }
    if let Some((bot, secret)) = value.split_once(':')
        && !bot.is_empty()
        && bot.bytes().all(|b| b.is_ascii_digit())
        && secret.len() >= 30
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return true;
    }
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 3
        && parts[0].len() >= 20
        && parts[2].len() >= 20
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// The block to write: flags first, then the existing block of the same kind, then prompts.
fn gather(
    args: &InitArgs,
    existing: Option<&ConnectorConfig>,
    ask: &mut dyn Ask,
) -> Result<Block, Error> {
    let mut missing: Vec<&str> = Vec::new();
    let kind = match args.kind.clone().or_else(|| {
        ask.ask(
            "connector kind (tmux, matrix, discord, telegram, slack)",
            Some(existing.map_or("tmux", |c| c.kind.as_str())),
        )
    }) {
        Some(kind) => kind.trim().to_ascii_lowercase(),
        None => return Err(missing_flags(&["--kind"])),
    };
    if !matches!(
        kind.as_str(),
        "tmux" | "matrix" | "discord" | "telegram" | "slack"
    ) {
        return Err(Error::Refused(format!(
            "--kind {kind:?}: init writes tmux, matrix, discord, telegram or slack blocks"
        )));
    }
    let remote = kind != "tmux";
    let same = existing.filter(|c| c.kind.as_str() == kind);
    let mut block = Block {
        kind: kind.clone(),
        allowed_senders: args.allowed_senders.clone(),
        allow_any_sender: args.allow_any_sender,
        pairing: args.pairing.then(PairingConfig::enabled),
        queue_capacity: same.and_then(|c| c.queue_capacity),
        ..Block::default()
    };
    if block.allowed_senders.is_empty()
        && !block.allow_any_sender
        && let Some(c) = same
    {
        block.allowed_senders = c.allowed_senders.clone();
        block.allow_any_sender = c.allow_any_sender;
    }
    if !block.allow_any_sender
        && let Some(kept) = same.and_then(ConnectorConfig::pairing_enabled)
    {
        // Keep the limits the roster gave.
        block.pairing = Some(*kept);
    }
    if block.pairing.is_some() && !remote {
        return Err(Error::Refused(
            "--pairing is for matrix, discord, telegram and slack: on tmux whoever reaches the \
             tmux server is the operator"
                .into(),
        ));
    }
    let mut value = |flag: &'static str,
                     given: &Option<String>,
                     kept: Option<String>,
                     question: &str,
                     missing: &mut Vec<&'static str>|
     -> Option<String> {
        if let Some(v) = given {
            return Some(v.clone());
        }
        if kept.is_some() {
            return kept;
        }
        let answer = ask.ask(question, None).filter(|a| !a.is_empty());
        if answer.is_none() {
            missing.push(flag);
        }
        answer
    };
    match kind.as_str() {
        "matrix" => {
            let kept = same.and_then(|c| c.matrix.as_ref());
            block.homeserver_url = value(
                "--homeserver-url",
                &args.homeserver_url,
                kept.map(|m| m.homeserver_url.clone()),
                "homeserver URL (e.g. https://matrix.example.org)",
                &mut missing,
            );
            block.user_id = value(
                "--user-id",
                &args.user_id,
                kept.map(|m| m.user_id.clone()),
                "the bot's user id (e.g. @orchestrator:example.org)",
                &mut missing,
            );
            block.room_id = value(
                "--room-id",
                &args.room_id,
                kept.map(|m| m.room_id.clone()),
                "the room's id (e.g. !abcdef:example.org)",
                &mut missing,
            );
            block.state_dir = kept.and_then(|m| m.state_dir.clone());
        }
        "discord" => {
            let kept = same.and_then(|c| c.discord.as_ref());
            block.channel_id = value(
                "--channel-id",
                &args.channel_id,
                kept.map(|d| d.channel_id.to_string()),
                "the channel's id (Developer Mode → right-click the channel → Copy Channel ID)",
                &mut missing,
            );
            block.state_dir = kept.and_then(|d| d.state_dir.clone());
        }
        "telegram" => {
            let kept = same.and_then(|c| c.telegram.as_ref());
            block.chat_id = value(
                "--chat-id",
                &args.chat_id,
                kept.map(|t| t.chat_id.to_string()),
                "the chat's id (a private chat: your user id; a group: -100…; see \
                 docs/deploy-telegram.md)",
                &mut missing,
            );
            block.state_dir = kept.and_then(|t| t.state_dir.clone());
        }
        "slack" => {
            let kept = same.and_then(|c| c.slack.as_ref());
            block.channel_id = value(
                "--channel-id",
                &args.channel_id,
                kept.map(|s| s.channel_id.to_string()),
                "the channel's id (channel details → About, at the bottom; e.g. C0123456789)",
                &mut missing,
            );
            block.state_dir = kept.and_then(|s| s.state_dir.clone());
        }
        _ => {
            let kept = same.and_then(|c| c.tmux.as_ref());
            block.socket_name = args
                .socket_name
                .clone()
                .or_else(|| kept.and_then(|t| t.socket_name.clone()));
            block.socket_path = if args.socket_name.is_some() {
                None
            } else {
                kept.and_then(|t| t.socket_path.clone())
            };
            block.session = kept.and_then(|t| t.session.clone());
            block.submit_delay_ms = kept.and_then(|t| t.submit_delay_ms);
            let mode = match args.mode.as_deref() {
                Some("pane") => true,
                Some("console") => false,
                Some(other) => {
                    return Err(Error::Refused(format!(
                        "--mode {other:?}: use console or pane"
                    )));
                }
                None => args.target.is_some() || kept.is_some_and(|t| t.mode == TmuxMode::Pane),
            };
            block.pane_mode = mode;
            if mode {
                block.target = value(
                    "--target",
                    &args.target,
                    kept.and_then(|t| t.target.clone()),
                    "the agent's pane (session:window.pane or %N)",
                    &mut missing,
                );
            } else if args.target.is_some() {
                return Err(Error::Refused(
                    "--target is for --mode pane; the console mode has its own session".into(),
                ));
            }
        }
    }
    if remote
        && block.allowed_senders.is_empty()
        && !block.allow_any_sender
        && block.pairing.is_none()
    {
        let example = match kind.as_str() {
            "matrix" => "@alice:example.org",
            "telegram" => "123456789",
            "slack" => "U024BE7LH",
            _ => "80351110224678912",
        };
        match ask
            .ask(
                &format!(
                    "who may talk to the orchestrator: comma-separated ids (e.g. {example}), or \
                     `pair` to send whoever writes to the bot a code you approve here"
                ),
                Some("pair"),
            )
            .filter(|a| !a.trim().is_empty())
        {
            Some(answer) if answer.trim().eq_ignore_ascii_case("pair") => {
                block.pairing = Some(PairingConfig::enabled());
            }
            Some(answer) => {
                block.allowed_senders = answer
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            None => missing.push("--allow (or --pairing, or --allow-any-sender)"),
        }
    }
    if !missing.is_empty() {
        return Err(missing_flags(&missing));
    }
    Ok(block)
}

fn missing_flags(flags: &[&str]) -> Error {
    Error::Usage(format!(
        "missing {} (no terminal to ask on; pass the flag{})",
        flags.join(", "),
        if flags.len() == 1 { "" } else { "s" }
    ))
}

/// A YAML scalar for `value`: plain when it is a safe word, otherwise double-quoted (JSON's
/// string syntax is YAML's double-quoted style).
fn scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b':'))
        && value.as_bytes()[0].is_ascii_alphabetic()
        && !value.ends_with(':')
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        value.to_owned()
    } else {
        serde_json::to_string(value).unwrap_or_default()
    }
}

/// The block as YAML, ending with a newline.
fn render(block: &Block) -> String {
    let mut out = String::from("connector:\n");
    out.push_str(&format!("  kind: {}\n", block.kind));
    if block.allow_any_sender {
        out.push_str("  allow_any_sender: true\n");
    }
    if !block.allowed_senders.is_empty() {
        let list: Vec<String> = block
            .allowed_senders
            .iter()
            .map(|s| serde_json::to_string(s).unwrap_or_default())
            .collect();
        out.push_str(&format!("  allowed_senders: [{}]\n", list.join(", ")));
    }
    if let Some(pairing) = &block.pairing {
        out.push_str("  pairing:\n    enabled: true\n");
        if let Some(minutes) = pairing.code_minutes {
            out.push_str(&format!("    code_minutes: {minutes}\n"));
        }
        if let Some(pending) = pairing.max_pending {
            out.push_str(&format!("    max_pending: {pending}\n"));
        }
    }
    if let Some(capacity) = block.queue_capacity {
        out.push_str(&format!("  queue_capacity: {capacity}\n"));
    }
    let path = |p: &Path| scalar(&p.display().to_string());
    match block.kind.as_str() {
        "matrix" => {
            out.push_str("  matrix:\n");
            for (key, value) in [
                ("homeserver_url", &block.homeserver_url),
                ("user_id", &block.user_id),
                ("room_id", &block.room_id),
            ] {
                if let Some(value) = value {
                    out.push_str(&format!("    {key}: {}\n", scalar(value)));
                }
            }
            if let Some(dir) = &block.state_dir {
                out.push_str(&format!("    state_dir: {}\n", path(dir)));
            }
        }
        "discord" => {
            out.push_str("  discord:\n");
            if let Some(channel) = &block.channel_id {
                // Quoted: a number this long loses digits in some YAML readers.
                out.push_str(&format!(
                    "    channel_id: {}\n",
                    serde_json::to_string(channel).unwrap_or_default()
                ));
            }
            if let Some(dir) = &block.state_dir {
                out.push_str(&format!("    state_dir: {}\n", path(dir)));
            }
        }
        "telegram" | "slack" => {
            out.push_str(&format!("  {}:\n", block.kind));
            if let Some(chat) = &block.chat_id {
                // Written as a number: the loader reads both, and a number is how Telegram
                // writes it.
                out.push_str(&format!("    chat_id: {}\n", chat.trim()));
            }
            if let Some(channel) = &block.channel_id {
                out.push_str(&format!("    channel_id: {}\n", scalar(channel)));
            }
            if let Some(dir) = &block.state_dir {
                out.push_str(&format!("    state_dir: {}\n", path(dir)));
            }
        }
        _ => {
            let mut lines = Vec::new();
            if let Some(name) = &block.socket_name {
                lines.push(format!("socket_name: {}", scalar(name)));
            }
            if let Some(socket) = &block.socket_path {
                lines.push(format!("socket_path: {}", path(socket)));
            }
            lines.push(format!(
                "mode: {}",
                if block.pane_mode { "pane" } else { "console" }
            ));
            if let Some(session) = &block.session {
                lines.push(format!("session: {}", scalar(session)));
            }
            if let Some(target) = &block.target {
                lines.push(format!("target: {}", scalar(target)));
            }
            if let Some(delay) = block.submit_delay_ms {
                lines.push(format!("submit_delay_ms: {delay}"));
            }
            out.push_str("  tmux:\n");
            for line in lines {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

/// Whether `line` opens the top-level `connector` key.
fn is_connector_key(line: &str) -> bool {
    let rest = ["connector", "\"connector\"", "'connector'"]
        .iter()
        .find_map(|key| line.strip_prefix(key));
    let Some(rest) = rest else { return false };
    let rest = rest.trim_start_matches(' ');
    rest.strip_prefix(':')
        .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t', '\r', '#']))
}

/// The byte range of the top-level `connector` block: its key line and every line after it
/// up to the last indented one before the next column-0 key (trailing blank lines and column-0
/// comments stay outside).
fn find_block(text: &str) -> Option<Range<usize>> {
    let mut offset = 0;
    let mut range: Option<Range<usize>> = None;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        match &mut range {
            None => {
                if is_connector_key(content) {
                    range = Some(at..offset);
                }
            }
            Some(range) => {
                if content.trim().is_empty() || content.starts_with('#') {
                    continue;
                }
                if content.starts_with([' ', '\t']) {
                    range.end = offset;
                    continue;
                }
                break;
            }
        }
    }
    range
}

/// The roster with `block` in place of its `connector` block (or appended), checked: the
/// config loader accepts it and every other top-level key is unchanged.
fn updated(old: &str, block: &str) -> Result<(String, &'static str), Error> {
    let first = old
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if first.is_some_and(|l| l.starts_with('{') || l.starts_with('[')) {
        return Err(Error::Refused(
            "the roster is a flow-style (JSON) document: add the connector block by hand".into(),
        ));
    }
    let crlf = old.contains("\r\n");
    let block = if crlf {
        block.replace('\n', "\r\n")
    } else {
        block.to_owned()
    };
    let (new, action) = match find_block(old) {
        Some(range) => {
            let mut new = String::with_capacity(old.len() + block.len());
            new.push_str(&old[..range.start]);
            new.push_str(&block);
            new.push_str(&old[range.end..]);
            (new, "replaced")
        }
        None if old.trim().is_empty() && !old.contains('#') => (block, "wrote"),
        None => {
            let mut new = old.to_owned();
            if !new.ends_with('\n') {
                new.push_str(if crlf { "\r\n" } else { "\n" });
            }
            new.push_str(&block);
            (new, "appended")
        }
    };
    let others = |text: &str| -> Result<serde_norway::Value, Error> {
        let mut value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
            Error::Refused(format!(
                "the roster is not valid YAML, nothing written: {e}"
            ))
        })?;
        if let serde_norway::Value::Mapping(map) = &mut value {
            map.remove("connector");
            if map.is_empty() {
                return Ok(serde_norway::Value::Null);
            }
        }
        Ok(value)
    };
    let before = others(old)?;
    ConnectorConfig::from_roster_str(&new).map_err(|e| {
        Error::Refused(format!("the new block is not valid, nothing written:\n{e}"))
    })?;
    if before != others(&new)? {
        return Err(Error::Refused(
            "replacing the connector block would change other keys of the roster (an unusual \
             layout?): nothing written; edit the block by hand"
                .into(),
        ));
    }
    Ok((new, action))
}

/// Replaces the roster at `path` with `text`: a [`StateFile`] written beside it and renamed over
/// it, durably, keeping the roster's mode.
fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    Ok(StateFile::new(path).write(text.as_bytes(), Durability::Synced)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Script(Vec<&'static str>);

    impl Ask for Script {
        fn ask(&mut self, _: &str, default: Option<&str>) -> Option<String> {
            if self.0.is_empty() {
                return None;
            }
            let answer = self.0.remove(0);
            Some(if answer.is_empty() {
                default.unwrap_or_default().to_owned()
            } else {
                answer.to_owned()
            })
        }
    }

    fn args() -> InitArgs {
        InitArgs {
            kind: None,
            homeserver_url: None,
            user_id: None,
            room_id: None,
            channel_id: None,
            chat_id: None,
            socket_name: None,
            target: None,
            mode: None,
            allowed_senders: Vec::new(),
            allow_any_sender: false,
            pairing: false,
            token: None,
            access_token: None,
            bot_token: None,
            app_token: None,
            password: None,
            dry_run: false,
        }
    }

    #[test]
    fn prompts_fill_what_the_flags_leave_out() {
        let mut script = Script(vec![
            "matrix",
            "https://matrix.example.org",
            "@bot:example.org",
            "!room:example.org",
            "@alice:example.org, @bob:example.org",
        ]);
        let block = gather(&args(), None, &mut script).unwrap();
        insta::assert_snapshot!(render(&block), @r#"
        connector:
          kind: matrix
          allowed_senders: ["@alice:example.org", "@bob:example.org"]
          matrix:
            homeserver_url: https://matrix.example.org
            user_id: "@bot:example.org"
            room_id: "!room:example.org"
        "#);
    }

    #[test]
    fn pairing_is_offered_when_no_ids_are_given() {
        let mut script = Script(vec!["discord", "223456789012345678", ""]);
        let block = gather(&args(), None, &mut script).unwrap();
        insta::assert_snapshot!(render(&block), @r#"
        connector:
          kind: discord
          pairing:
            enabled: true
          discord:
            channel_id: "223456789012345678"
        "#);
        let mut flags = args();
        flags.kind = Some("tmux".into());
        flags.pairing = true;
        let refused = gather(&flags, None, &mut Nobody).unwrap_err();
        insta::assert_snapshot!(refused.to_string(), @"--pairing is for matrix, discord, telegram and slack: on tmux whoever reaches the tmux server is the operator");
    }

    #[test]
    fn missing_flags_are_all_named() {
        let mut a = args();
        a.kind = Some("matrix".into());
        a.user_id = Some("@bot:example.org".into());
        let error = gather(&a, None, &mut Nobody).unwrap_err();
        insta::assert_snapshot!(error.to_string(), @"missing --homeserver-url, --room-id, --allow (or --pairing, or --allow-any-sender) (no terminal to ask on; pass the flags)");
    }

    #[test]
    fn tokens_are_recognised() {
        assert!(looks_like_token(concat!(
            "syt_",
            "Ym90_abcdefghijklmnop_123456"
        )));
        assert!(looks_like_token(concat!(
            "MTIzNDU2Nzg5MDEyMzQ1Njc4",
            ".GaBcDe.",
            "abcdefghijklmnopqrstuvwxyz0123456789AB"
        )));
        assert!(!looks_like_token("@bot:example.org"));
        assert!(!looks_like_token("https://matrix.example.org"));
        assert!(!looks_like_token("123456789012345678"));
    }

    #[test]
    fn block_with_comment_inside_is_found_whole() {
        let text = "a: 1\nconnector:\n  kind: tmux\n# note\n  tmux:\n    mode: console\n\n# about b\nb: 2\n";
        let range = find_block(text).unwrap();
        assert_eq!(
            &text[range],
            "connector:\n  kind: tmux\n# note\n  tmux:\n    mode: console\n"
        );
        assert!(find_block("connectors: 1\n").is_none());
        assert!(find_block("  connector: 1\n").is_none());
        assert!(find_block("\"connector\": {kind: tmux}\n").is_some());
    }
}
