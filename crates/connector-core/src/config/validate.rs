//! Checks of the `connector` block beyond its shape, every problem named by its path.
//!
//! Each rule here has its twin in the JSON schema (`schemas/connector.schema.json`); the
//! example-roster table test keeps the two in agreement.

use super::{ConnectorConfig, ConnectorKind, TmuxMode};
use crate::error::ConfigProblem;

/// Every problem in `config`, in document order; empty if it is valid.
pub(super) fn problems(config: &ConnectorConfig) -> Vec<ConfigProblem> {
    let mut out = Problems::default();
    let kind = config.kind.as_str();
    if !is_kind_name(kind) {
        out.push(
            "connector.kind",
            format!(
                "{kind:?} is not a connector kind: use tmux, matrix, discord, telegram or slack (or a registered kind: \
                 lower-case letters, digits, '-' and '_')"
            ),
        );
    }
    if config.allow_any_sender && !config.allowed_senders.is_empty() {
        out.push(
            "connector.allow_any_sender",
            "cannot be combined with allowed_senders: remove one",
        );
    }
    let remote = matches!(
        kind,
        ConnectorKind::MATRIX
            | ConnectorKind::DISCORD
            | ConnectorKind::TELEGRAM
            | ConnectorKind::SLACK
    );
    let allowed_roles = config
        .discord
        .as_ref()
        .map_or(0, |discord| discord.allowed_roles.len());
    let admits_by_role = kind == ConnectorKind::DISCORD && allowed_roles > 0;
    let pairs = config.pairing_enabled().is_some();
    if remote
        && !config.allow_any_sender
        && config.allowed_senders.is_empty()
        && !admits_by_role
        && !pairs
    {
        let (example, roles) = match kind {
            ConnectorKind::MATRIX => ("[\"@alice:example.org\"]", ""),
            ConnectorKind::TELEGRAM => ("[\"123456789\"]", ""),
            ConnectorKind::SLACK => ("[\"U024BE7LH\"]", ""),
            _ => ("[\"80351110224678912\"]", ", list discord.allowed_roles"),
        };
        out.push(
            "connector.allowed_senders",
            format!(
                "required for kind {kind}: list the operators who may talk to the orchestrator \
                 (e.g. {example}){roles}, turn on pairing (pairing: {{enabled: true}}) or set \
                 allow_any_sender: true"
            ),
        );
    }
    pairing(config, &mut out);
    for (i, sender) in config.allowed_senders.iter().enumerate() {
        let path = format!("connector.allowed_senders[{i}]");
        match kind {
            ConnectorKind::MATRIX if !is_matrix_user_id(sender) => {
                out.push(
                    path,
                    format!("{sender:?} is not a Matrix user id like @alice:example.org"),
                );
            }
            ConnectorKind::DISCORD if !is_snowflake(sender) => {
                out.push(
                    path,
                    format!("{sender:?} is not a Discord user id (17 to 20 digits)"),
                );
            }
            ConnectorKind::TELEGRAM if !super::telegram::is_user_id(sender) => {
                out.push(
                    path,
                    format!(
                        "{sender:?} is not a Telegram user id (digits, like 123456789; \
                         not the @username)"
                    ),
                );
            }
            ConnectorKind::SLACK if !super::slack::is_user_id(sender) => {
                out.push(
                    path,
                    format!(
                        "{sender:?} is not a Slack user id like U024BE7LH (profile → ⋮ → \
                         Copy member ID; not the display name)"
                    ),
                );
            }
            _ if sender.trim().is_empty() => out.push(path, "must not be empty"),
            _ => {}
        }
    }
    if let Some(capacity) = config.queue_capacity
        && !(1..=1_000_000).contains(&capacity)
    {
        out.push(
            "connector.queue_capacity",
            format!("{capacity} is out of range 1..=1000000"),
        );
    }
    tmux(config, &mut out);
    matrix(config, &mut out);
    if kind == ConnectorKind::DISCORD && config.discord.is_none() {
        out.push(
            "connector.discord",
            "required when kind is discord (give at least channel_id)",
        );
    }
    if let Some(discord) = &config.discord
        && let Some(dir) = &discord.state_dir
        && dir.as_os_str().is_empty()
    {
        out.push("connector.discord.state_dir", "must not be empty");
    }
    block_rules(
        kind,
        ConnectorKind::TELEGRAM,
        config.telegram.as_ref().map(|t| t.state_dir.as_ref()),
        "chat_id",
        &mut out,
    );
    block_rules(
        kind,
        ConnectorKind::SLACK,
        config.slack.as_ref().map(|s| s.state_dir.as_ref()),
        "channel_id",
        &mut out,
    );
    if config.allow_any_sender && allowed_roles > 0 {
        out.push(
            "connector.discord.allowed_roles",
            "cannot be combined with allow_any_sender: remove one",
        );
    }
    out.0
}

/// The rules a backend block with a required id and an optional `state_dir` shares: required
/// when the kind is `block`'s, and its `state_dir` (`Some(state_dir)` when the block is
/// given) not empty.
fn block_rules(
    kind: &str,
    block: &str,
    given: Option<Option<&std::path::PathBuf>>,
    id_key: &str,
    out: &mut Problems,
) {
    match given {
        None if kind == block => out.push(
            format!("connector.{block}"),
            format!("required when kind is {block} (give at least {id_key})"),
        ),
        Some(Some(dir)) if dir.as_os_str().is_empty() => {
            out.push(format!("connector.{block}.state_dir"), "must not be empty");
        }
        _ => {}
    }
}

fn pairing(config: &ConnectorConfig, out: &mut Problems) {
    let Some(pairing) = &config.pairing else {
        return;
    };
    if pairing.enabled && config.allow_any_sender {
        out.push(
            "connector.pairing",
            "cannot be combined with allow_any_sender (everyone is admitted already): remove one",
        );
    }
    if pairing.enabled && config.kind.as_str() == ConnectorKind::TMUX {
        out.push(
            "connector.pairing",
            "tmux needs no pairing: whoever reaches the tmux server is the operator; remove it",
        );
    }
    if let Some(minutes) = pairing.code_minutes
        && !(1..=1440).contains(&minutes)
    {
        out.push(
            "connector.pairing.code_minutes",
            format!("{minutes} is out of range 1..=1440"),
        );
    }
    if let Some(pending) = pairing.max_pending
        && !(1..=20).contains(&pending)
    {
        out.push(
            "connector.pairing.max_pending",
            format!("{pending} is out of range 1..=20"),
        );
    }
}

fn tmux(config: &ConnectorConfig, out: &mut Problems) {
    let Some(tmux) = &config.tmux else { return };
    if let Some(name) = &tmux.socket_name
        && (!(1..=64).contains(&name.len())
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
    {
        out.push(
            "connector.tmux.socket_name",
            format!("{name:?} must be 1 to 64 letters, digits, '_', '.' or '-'"),
        );
    }
    if let Some(path) = &tmux.socket_path {
        if !path.is_absolute() {
            out.push(
                "connector.tmux.socket_path",
                format!("{} must be an absolute path", path.display()),
            );
        }
        if tmux.socket_name.is_some() {
            out.push(
                "connector.tmux.socket_path",
                "cannot be combined with socket_name: remove one",
            );
        }
    }
    if let Some(session) = &tmux.session
        && !is_tmux_name(session)
    {
        out.push(
            "connector.tmux.session",
            format!("{session:?} must be 1 to 64 letters, digits, '_' or '-'"),
        );
    }
    if let Some(delay) = tmux.submit_delay_ms
        && delay > 10_000
    {
        out.push(
            "connector.tmux.submit_delay_ms",
            format!("{delay} is out of range 0..=10000"),
        );
    }
    match &tmux.target {
        Some(target) if !is_tmux_target(target) => out.push(
            "connector.tmux.target",
            format!("{target:?} is not a pane: use session:window.pane (e.g. agents:0.1) or a pane id like %3"),
        ),
        None if tmux.mode == TmuxMode::Pane => {
            out.push("connector.tmux.target", "required when mode is pane: name the pane, e.g. agents:0.1");
        }
        _ => {}
    }
}

fn matrix(config: &ConnectorConfig, out: &mut Problems) {
    if config.kind.as_str() == ConnectorKind::MATRIX && config.matrix.is_none() {
        out.push(
            "connector.matrix",
            "required when kind is matrix (give homeserver_url, user_id and room_id)",
        );
    }
    let Some(matrix) = &config.matrix else { return };
    if !is_http_url(&matrix.homeserver_url) {
        out.push(
            "connector.matrix.homeserver_url",
            format!(
                "{:?} is not a homeserver URL: use http(s)://host[:port][/path], no query or fragment",
                matrix.homeserver_url
            ),
        );
    }
    if !is_matrix_user_id(&matrix.user_id) {
        out.push(
            "connector.matrix.user_id",
            format!(
                "{:?} is not a Matrix user id like @orchestrator:example.org",
                matrix.user_id
            ),
        );
    }
    if !is_room_id(&matrix.room_id) {
        let hint = if matrix.room_id.starts_with('#') {
            "that is a room alias: use the room id (starts with '!', shown in the room's settings)"
        } else {
            "a room id starts with '!' (e.g. !abcdef:example.org)"
        };
        out.push(
            "connector.matrix.room_id",
            format!("{:?}: {hint}", matrix.room_id),
        );
    }
    if let Some(dir) = &matrix.state_dir
        && dir.as_os_str().is_empty()
    {
        out.push("connector.matrix.state_dir", "must not be empty");
    }
}

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }
}

/// `^[a-z][a-z0-9_-]{0,31}$`
pub(crate) fn is_kind_name(kind: &str) -> bool {
    let mut bytes = kind.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && kind.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `^[0-9]{17,20}$`
pub(crate) fn is_snowflake(id: &str) -> bool {
    (17..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// `^[A-Za-z0-9_-]{1,64}$`
fn is_tmux_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `^([A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_-]{1,64}(\.[0-9]{1,4})?)?|%[0-9]{1,9})$`
fn is_tmux_target(target: &str) -> bool {
    if let Some(id) = target.strip_prefix('%') {
        return (1..=9).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
    }
    let (session, rest) = target
        .split_once(':')
        .map_or((target, None), |(s, r)| (s, Some(r)));
    let Some(rest) = rest else {
        return is_tmux_name(session);
    };
    let (window, pane) = rest
        .split_once('.')
        .map_or((rest, None), |(w, p)| (w, Some(p)));
    is_tmux_name(session)
        && is_tmux_name(window)
        && pane.is_none_or(|p| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `^https?://[^\s/?#]+(/[^\s?#]*)?$`
fn is_http_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let (host, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    !host.is_empty()
        && !host
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
        && !path
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
}

/// `^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:[0-9]{1,5})?$`
pub(crate) fn is_matrix_user_id(id: &str) -> bool {
    let Some((local, server)) = id.strip_prefix('@').and_then(|rest| rest.split_once(':')) else {
        return false;
    };
    !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._=/+-".contains(&b))
        && is_server_name(server)
}

/// `^![A-Za-z0-9._~+/=-]+(:[A-Za-z0-9.-]+(:[0-9]{1,5})?)?$`
fn is_room_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('!') else {
        return false;
    };
    let (opaque, server) = rest
        .split_once(':')
        .map_or((rest, None), |(o, s)| (o, Some(s)));
    !opaque.is_empty()
        && opaque
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~+/=-".contains(&b))
        && server.is_none_or(is_server_name)
}

/// `[A-Za-z0-9.-]+(:[0-9]{1,5})?`
fn is_server_name(server: &str) -> bool {
    let (host, port) = server
        .split_once(':')
        .map_or((server, None), |(h, p)| (h, Some(p)));
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_checks() {
        assert!(is_tmux_target("agents:0.1") && is_tmux_target("agents") && is_tmux_target("%12"));
        assert!(!is_tmux_target("a:b:c") && !is_tmux_target("a b") && !is_tmux_target("%"));
        assert!(is_http_url("http://127.0.0.1:8008") && is_http_url("https://m.example.org/base"));
        assert!(!is_http_url("ftp://x") && !is_http_url("https://") && !is_http_url("https://x?y"));
        assert!(is_matrix_user_id("@bot:localhost:8008") && !is_matrix_user_id("@Bot:x"));
        assert!(is_room_id("!abc:example.org") && is_room_id("!Zm9vYmFy-_") && !is_room_id("#a:b"));
        assert!(is_kind_name("my-kind") && !is_kind_name("Tmux") && !is_kind_name("9x"));
    }
}
