//! `connector doctor`: probe the connector for real, one line per check with a fix for failures.
//!
//! The configuration is inspected first, as `connector check` does; its problems are failed
//! probes too, and the connector is not opened while any remain. Then the connector is built
//! (a failure there is one failed probe, with a fix chosen from the error and the kind) and its
//! [`diagnose`](connector_core::OrchestratorConnector::diagnose) probes are printed. While a
//! step waits, a spinner turns on stderr when it is a terminal; otherwise one plain line says
//! what is being waited for.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use connector_core::config::secrets::ProcessEnv;
use connector_core::{ConnectorConfig, Probe, ProbeOutcome};
use connector_registry::Registry;
use serde::Serialize;

use super::check::{Inspection, Problem, inspect};
use crate::cli::{Common, DoctorArgs};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

/// How long the round-trip probe waits for its message at most.
pub(crate) const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(20);

/// The highest exit status `doctor` uses: the number of failed probes, capped below the
/// statuses shells reserve (126 and up).
pub(crate) const MAX_EXIT: usize = 125;

/// The counts printed after the probes (and in `--json`).
#[derive(Debug, Serialize)]
struct Summary {
    passed: usize,
    failed: usize,
    skipped: usize,
    exit_code: u8,
}

#[derive(Serialize)]
struct Document<'a> {
    kind: &'a str,
    roster: Option<&'a std::path::Path>,
    probes: &'a [Probe],
    summary: Summary,
}

/// Runs `connector doctor`.
pub(crate) async fn run(common: &Common, args: &DoctorArgs) -> Result<Exit, Error> {
    let inspection = inspect(common.roster.as_deref(), &ProcessEnv);
    let limit = Duration::from_secs_f64(args.timeout.max(0.1));
    let probes = probe(&inspection, limit).await;
    let summary = summarize(&probes);
    let exit = Exit::Probes(summary.exit_code);
    if common.json {
        json_line(&Document {
            kind: &inspection.kind,
            roster: inspection.roster.as_deref(),
            probes: &probes,
            summary,
        })?;
    } else {
        for line in render(&inspection.kind, &probes, &summary) {
            line_out(&line)?;
        }
    }
    Ok(exit)
}

/// Every probe: configuration first, then the connector's own.
async fn probe(inspection: &Inspection, limit: Duration) -> Vec<Probe> {
    let mut probes = config_probes(inspection);
    let Some(config) = inspection
        .parsed
        .as_ref()
        .filter(|_| inspection.problems.is_empty())
    else {
        probes.push(Probe::skipped(
            "connector probes",
            "not run: fix the configuration problems above first",
        ));
        return probes;
    };
    let kind = inspection.kind.as_str();
    let created = waiting(
        &format!("connecting to {kind}"),
        limit,
        Registry::new().create(config),
    )
    .await;
    let connector = match created {
        None => {
            probes.push(
                Probe::fail(
                    "connect",
                    format!("no answer within {} s", limit.as_secs_f64()),
                )
                .with_fix(unreachable_fix(config)),
            );
            return probes;
        }
        Some(Err(e)) => {
            // The backend may still be able to say which of its checks fail, and how to fix
            // each, from the configuration alone.
            let setup = waiting(
                &format!("probing {kind}"),
                limit,
                Registry::new().diagnose_setup_with_env(config, &ProcessEnv),
            )
            .await
            .flatten();
            match setup {
                Some(found) if found.iter().any(Probe::failed) => {
                    probes.extend(found.into_iter().map(|probe| with_fix(probe, config)));
                }
                _ => probes.push(open_failure(config, &e)),
            }
            return probes;
        }
        Some(Ok(connector)) => connector,
    };
    match waiting(&format!("probing {kind}"), limit, connector.diagnose()).await {
        Some(found) => {
            probes.extend(found.into_iter().map(|probe| with_fix(probe, config)));
            probes.push(round_trip(connector.as_ref(), &probes, limit).await);
        }
        None => probes.push(
            Probe::fail(
                "diagnosis",
                format!("the probes did not finish within {} s", limit.as_secs_f64()),
            )
            .with_fix(unreachable_fix(config)),
        ),
    }
    let _ = connector.close().await;
    probes
}

/// Alive is not listening: a probe message must come back through the inbound path (see
/// `connector_core::round_trip`), once every other probe passed.
async fn round_trip(
    connector: &dyn connector_core::OrchestratorConnector,
    probes: &[Probe],
    limit: Duration,
) -> Probe {
    if probes.iter().any(Probe::failed) {
        return Probe::skipped(
            connector_core::round_trip::PROBE_NAME,
            "not run: fix the failures above first",
        );
    }
    let wait = limit.min(ROUND_TRIP_TIMEOUT);
    waiting(
        "waiting for a probe message to come back",
        wait + Duration::from_secs(5),
        connector.round_trip(wait),
    )
    .await
    .map_or_else(
        || {
            Probe::fail(
                connector_core::round_trip::PROBE_NAME,
                format!("no answer within {} s", wait.as_secs_f64()),
            )
        },
        connector_core::RoundTrip::into_probe,
    )
}

/// The configuration as probes: one passed probe, or one failed probe per problem.
fn config_probes(inspection: &Inspection) -> Vec<Probe> {
    let roster = inspection
        .roster
        .as_ref()
        .map_or_else(|| "no roster".to_owned(), |p| p.display().to_string());
    if inspection.problems.is_empty() {
        let secrets: Vec<String> = inspection
            .secrets
            .iter()
            .map(|s| format!("{} {}", s.variable, s.source))
            .collect();
        let secrets = if secrets.is_empty() {
            String::new()
        } else {
            format!("; secrets: {}", secrets.join(", "))
        };
        return vec![Probe::pass(
            "configuration",
            format!("{roster}: kind {}, compiled in{secrets}", inspection.kind),
        )];
    }
    inspection
        .problems
        .iter()
        .map(|problem| {
            Probe::fail(
                format!("configuration: {}", problem.path),
                problem.message.clone(),
            )
            .with_fix(config_fix(problem, &roster))
        })
        .collect()
}

/// What to do about one configuration problem.
fn config_fix(problem: &Problem, roster: &str) -> String {
    let path = problem.path.as_str();
    if path == "MATRIX_ACCESS_TOKEN" || path == "DISCORD_BOT_TOKEN" {
        format!(
            "export {path}=… (or {path}_FILE=/path/to/file, or a systemd credential named {path}); \
             never in the roster"
        )
    } else if path == "tmux" {
        "install tmux (Debian/Ubuntu: sudo apt install tmux)".to_owned()
    } else if path == "connector.kind" && problem.message.contains("not compiled in") {
        "rebuild the connector with that feature, e.g. cargo install orchestrator-connector-cli --features all"
            .to_owned()
    } else {
        format!("edit {path} in {roster} (connector check lists every problem)")
    }
}

/// A connector that could not be built, as one failed probe with a fix for its kind.
fn open_failure(config: &ConnectorConfig, error: &connector_registry::Error) -> Probe {
    use connector_core::Error as E;
    let core = match error {
        connector_registry::Error::Connector(e) => Some(e),
        _ => None,
    };
    let detail = error.to_string();
    let kind = config.kind.as_str();
    let fix = match core {
        Some(E::Config { problems }) => match problems.first().map(|p| p.path.as_str()) {
            Some("connector.discord.channel_id") => {
                let channel = config
                    .discord
                    .as_ref()
                    .map_or_else(String::new, |d| d.channel_id.to_string());
                format!(
                    "invite the bot to the channel's server (docs/deploy-discord.md, step 3) and allow View Channel for its role on channel {channel}; or correct connector.discord.channel_id"
                )
            }
            Some("connector.matrix.room_id") => {
                let (user, room) = config
                    .matrix
                    .as_ref()
                    .map_or(("the bot", ""), |m| (m.user_id.as_str(), m.room_id.as_str()));
                format!(
                    "invite {user} to {room} and let it join (docs/deploy-matrix.md, step 4); or correct connector.matrix.room_id"
                )
            }
            Some("connector.matrix.user_id") => {
                "use the access token of connector.matrix.user_id, or set user_id to the token's user"
                    .to_owned()
            }
            _ => {
                let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
                format!("correct {} in the roster as the detail says", paths.join(", "))
            }
        },
        Some(E::Secret { variable, .. }) => format!("set {variable} (or {variable}_FILE)"),
        Some(E::Unauthorized { .. }) => unauthorized_fix(config),
        Some(E::Unreachable { .. } | E::Timeout { .. } | E::Transient { .. }) => {
            unreachable_fix(config)
        }
        Some(E::Rejected { reason, .. })
            if kind == "discord" && reason.to_ascii_lowercase().contains("message content") =>
        {
            "enable Message Content Intent in the Developer Portal → your application → Bot → \
             Privileged Gateway Intents"
                .to_owned()
        }
        _ => format!("see the detail; `connector -v doctor` logs more ({kind})"),
    };
    let name = match core {
        Some(E::Unauthorized { .. }) if kind == "tmux" => "target present",
        Some(E::Unauthorized { .. }) => "token accepted",
        Some(E::Unreachable { .. } | E::Timeout { .. } | E::Transient { .. }) => "reachable",
        Some(E::Rejected { reason, .. }) if reason.contains("Message Content") => {
            "message content intent"
        }
        Some(E::Config { problems }) => match problems.first().map(|p| p.path.as_str()) {
            Some(path) if path.ends_with("channel_id") => "channel visible",
            Some(path) if path.ends_with("room_id") => "room joined",
            Some(path) if path.ends_with("user_id") => "token owner",
            _ => "connect",
        },
        _ => "connect",
    };
    Probe::fail(name, detail).with_fix(fix)
}

/// A failed probe that came without a fix (the default diagnosis reports health as two
/// probes) gets one for its kind.
fn with_fix(probe: Probe, config: &ConnectorConfig) -> Probe {
    if !probe.failed() || probe.fix.is_some() {
        return probe;
    }
    let fix = match (probe.name.as_str(), config.kind.as_str()) {
        ("reachable", _) => unreachable_fix(config),
        ("authenticated", "matrix") => {
            let (user, room) = config.matrix.as_ref().map_or(("the bot", ""), |m| {
                (m.user_id.as_str(), m.room_id.as_str())
            });
            format!(
                "check that MATRIX_ACCESS_TOKEN is {user}'s and that {user} has joined {room}: \
                 invite it from your client and join (docs/deploy-matrix.md, steps 3 and 4)"
            )
        }
        ("authenticated", "discord") => {
            let channel = config
                .discord
                .as_ref()
                .map_or_else(String::new, |d| d.channel_id.to_string());
            format!(
                "check DISCORD_BOT_TOKEN and that the bot can view and post in channel \
                 {channel} (docs/deploy-discord.md, step 3)"
            )
        }
        ("authenticated", "telegram") => {
            let chat = config
                .telegram
                .as_ref()
                .map_or_else(String::new, |t| t.chat_id.to_string());
            format!(
                "check TELEGRAM_BOT_TOKEN and that the bot is a member of chat {chat} and may \
                 post there (docs/deploy-telegram.md)"
            )
        }
        ("authenticated", "slack") => {
            let channel = config
                .slack
                .as_ref()
                .map_or_else(String::new, |s| s.channel_id.to_string());
            format!(
                "check SLACK_BOT_TOKEN and SLACK_APP_TOKEN and that the bot is a member of \
                 {channel}: /invite @your-app in the channel (docs/deploy-slack.md)"
            )
        }
        ("authenticated", _) => unauthorized_fix(config),
        _ => format!(
            "see the detail; `connector -v doctor` logs more ({})",
            config.kind
        ),
    };
    probe.with_fix(fix)
}

/// The `tmux` command line that reaches the configured server.
fn tmux_command(config: &ConnectorConfig) -> String {
    match config.tmux.as_ref() {
        Some(t) if t.socket_name.is_some() => {
            format!("tmux -L {}", t.socket_name.as_deref().unwrap_or_default())
        }
        Some(t) if t.socket_path.is_some() => format!(
            "tmux -S {}",
            t.socket_path
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
        ),
        _ => "tmux".to_owned(),
    }
}

fn unauthorized_fix(config: &ConnectorConfig) -> String {
    match config.kind.as_str() {
        "tmux" => {
            let tmux = tmux_command(config);
            let target = config
                .tmux
                .as_ref()
                .and_then(|t| t.target.as_deref())
                .unwrap_or("?");
            format!(
                "check connector.tmux.target: no pane {target} on this server; list the panes with \
                 `{tmux} list-panes -a -F '#{{pane_id}} #{{session_name}}:#{{window_index}}.#{{pane_index}} #{{pane_current_command}}'`"
            )
        }
        "matrix" => {
            let user = config
                .matrix
                .as_ref()
                .map_or("the bot", |m| m.user_id.as_str());
            format!(
                "the homeserver refused MATRIX_ACCESS_TOKEN: log in as {user} again for a fresh \
                 token (docs/deploy-matrix.md) and export it"
            )
        }
        "discord" => "Discord refused DISCORD_BOT_TOKEN: Developer Portal → your application → \
                      Bot → Reset Token, then export the new token"
            .to_owned(),
        "telegram" => "Telegram refused TELEGRAM_BOT_TOKEN: ask @BotFather for the token \
                       (/mybots → your bot → API Token), then export it"
            .to_owned(),
        "slack" => "Slack refused a token: api.slack.com/apps → your app → OAuth & \
                    Permissions for SLACK_BOT_TOKEN (xoxb-…), Basic Information → App-Level \
                    Tokens for SLACK_APP_TOKEN (xapp-…, scope connections:write); export both"
            .to_owned(),
        kind => format!("check the {kind} credentials"),
    }
}

fn unreachable_fix(config: &ConnectorConfig) -> String {
    match config.kind.as_str() {
        "tmux" => {
            let tmux = tmux_command(config);
            format!("start the tmux server and the agent's pane: `{tmux} new-session -d`")
        }
        "matrix" => {
            let url = config
                .matrix
                .as_ref()
                .map_or("the homeserver", |m| m.homeserver_url.as_str());
            format!(
                "check that connector.matrix.homeserver_url answers: curl {url}/_matrix/client/versions"
            )
        }
        "discord" => "check the network path to discord.com (a proxy or firewall?)".to_owned(),
        "telegram" => {
            "check the network path to api.telegram.org (a proxy or firewall?)".to_owned()
        }
        "slack" => "check the network path to slack.com and wss-primary.slack.com (a proxy or \
                    firewall?)"
            .to_owned(),
        kind => format!("check that the {kind} platform can be reached"),
    }
}

/// Passed, failed and skipped counts, and the exit status.
fn summarize(probes: &[Probe]) -> Summary {
    let count = |outcome: ProbeOutcome| probes.iter().filter(|p| p.outcome == outcome).count();
    let failed = count(ProbeOutcome::Fail);
    Summary {
        passed: count(ProbeOutcome::Pass),
        failed,
        skipped: count(ProbeOutcome::Skipped),
        exit_code: u8::try_from(failed.min(MAX_EXIT)).unwrap_or(u8::MAX),
    }
}

/// The probes as text: `✓ name: detail`, with the fix on an indented line.
fn render(kind: &str, probes: &[Probe], summary: &Summary) -> Vec<String> {
    let mut lines = vec![format!("connector doctor: {kind}")];
    for probe in probes {
        let mark = match probe.outcome {
            ProbeOutcome::Pass => "✓",
            ProbeOutcome::Fail => "✗",
            _ => "–",
        };
        let detail = probe
            .detail
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        lines.push(format!("{mark} {}{detail}", probe.name));
        if probe.failed()
            && let Some(fix) = &probe.fix
        {
            lines.push(format!("    fix: {fix}"));
        }
    }
    lines.push(format!(
        "{} passed, {} failed, {} skipped",
        summary.passed, summary.failed, summary.skipped
    ));
    lines
}

/// Awaits `future` for at most `limit`, showing what it waits for on stderr meanwhile.
async fn waiting<T>(what: &str, limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    let terminal = std::io::stderr().is_terminal();
    if !terminal {
        eprintln!("{what}…");
        return tokio::time::timeout(limit, future).await.ok();
    }
    let spin = async {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        let started = tokio::time::Instant::now();
        for frame in FRAMES.iter().cycle() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(
                stderr,
                "\r\x1b[2K{frame} {what}… {:.0} s",
                started.elapsed().as_secs_f64()
            );
            let _ = stderr.flush();
            drop(stderr);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let result = tokio::select! {
        result = tokio::time::timeout(limit, future) => result.ok(),
        () = spin => None,
    };
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K");
    let _ = stderr.flush();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_counts_failures_and_is_capped() {
        let many: Vec<Probe> = (0..200)
            .map(|i| Probe::fail(format!("p{i}"), "x"))
            .collect();
        assert_eq!(summarize(&many).exit_code, 125);
        let some = vec![
            Probe::pass("a", "ok"),
            Probe::fail("b", "no"),
            Probe::skipped("c", "b failed"),
        ];
        let summary = summarize(&some);
        assert_eq!((summary.passed, summary.failed, summary.skipped), (1, 1, 1));
        assert_eq!(summary.exit_code, 1);
    }

    #[test]
    fn renders_marks_and_fixes() {
        let probes = vec![
            Probe::pass("reachable", "the platform answers"),
            Probe::fail("token accepted", "401").with_fix("export a fresh token"),
            Probe::skipped("room joined", "no token"),
        ];
        let summary = summarize(&probes);
        insta::assert_snapshot!(render("matrix", &probes, &summary).join("\n"), @r"
        connector doctor: matrix
        ✓ reachable: the platform answers
        ✗ token accepted: 401
            fix: export a fresh token
        – room joined: no token
        1 passed, 1 failed, 1 skipped
        ");
    }
}
