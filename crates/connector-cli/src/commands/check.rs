//! `connector check`: validate the roster's `connector` block and the environment, offline.
//!
//! Every problem is collected before anything is printed: the block's shape and rules (as the
//! project's config loader reports them), each secret the kind needs (set, readable, not empty;
//! its value is read to check it and never printed), the backend being compiled into this
//! build, and for tmux the `tmux` executable. Nothing touches the network.

use std::path::{Path, PathBuf};

use connector_core::config::ConnectorKind;
use connector_core::config::secrets::{self, Environment, ProcessEnv};
use connector_core::{ConfigProblem, ConnectorConfig};
use connector_registry::{KNOWN_KINDS, Registry};
use serde::Serialize;
use serde_json::json;
use serde_norway::{Mapping, Value};

use crate::cli::Common;
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

/// Where one secret the kind needs comes from, as `check` reports it (never its value).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SecretReport {
    /// The environment variable the secret is read from.
    pub(crate) variable: &'static str,
    /// `environment`, `file`, `credential` or `missing`.
    pub(crate) source: &'static str,
    /// The file it is read from (for `file` and `credential`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    /// Whether it could be read and is not empty.
    pub(crate) ok: bool,
}

impl SecretReport {
    /// One line for people: where it comes from, never what it is.
    fn describe(&self) -> String {
        let variable = self.variable;
        let path = self.path.as_deref().unwrap_or_default();
        match self.source {
            "environment" => format!("from the environment variable {variable} (value redacted)"),
            "file" => format!("from the file {path} named by {variable}_FILE (value redacted)"),
            "credential" => format!("from the systemd credential {path} (value redacted)"),
            _ => "missing".to_owned(),
        }
    }
}

/// What `check` found: the configuration as resolved, the secrets' sources, every problem.
#[derive(Debug, Serialize)]
pub(crate) struct Inspection {
    /// The roster read (none: the default tmux console).
    pub(crate) roster: Option<PathBuf>,
    /// The connector kind the roster names (tmux without one).
    pub(crate) kind: String,
    /// Whether this build has the kind's backend.
    pub(crate) compiled_in: bool,
    /// The block with the defaults the connector applies filled in; absent when it is invalid.
    pub(crate) config: Option<Value>,
    /// Each secret the kind needs.
    pub(crate) secrets: Vec<SecretReport>,
    /// Every problem, configuration first, then the environment.
    pub(crate) problems: Vec<Problem>,
    /// The parsed block, for `doctor` to build the connector from.
    #[serde(skip)]
    pub(crate) parsed: Option<ConnectorConfig>,
}

/// One problem: where, and what is wrong (with how to fix it where the message can say).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Problem {
    /// The roster path (`connector.matrix.room_id`), the variable, or the tool at fault.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) message: String,
}

impl From<ConfigProblem> for Problem {
    fn from(problem: ConfigProblem) -> Self {
        Self {
            path: problem.path,
            message: problem.message,
        }
    }
}

/// Inspects the roster at `roster` (none: the default) and the environment `env`.
pub(crate) fn inspect(roster: Option<&Path>, env: &dyn Environment) -> Inspection {
    let mut problems: Vec<Problem> = Vec::new();
    let mut raw_kind = None;
    let parsed = match roster {
        None => Ok(ConnectorConfig::default()),
        Some(path) => match std::fs::read_to_string(path) {
            Err(e) => Err(vec![Problem {
                path: "roster".into(),
                message: format!("cannot read {}: {e}", path.display()),
            }]),
            Ok(text) => {
                raw_kind = kind_in(&text);
                ConnectorConfig::from_roster_str(&text).map_err(|e| match e {
                    connector_core::Error::Config { problems } => {
                        problems.into_iter().map(Problem::from).collect()
                    }
                    other => vec![Problem {
                        path: "roster".into(),
                        message: other.to_string(),
                    }],
                })
            }
        },
    };
    let (parsed, kind) = match parsed {
        Ok(config) => {
            let kind = config.kind.as_str().to_owned();
            (Some(config), kind)
        }
        Err(found) => {
            problems.extend(found);
            (None, raw_kind.unwrap_or_else(|| "tmux".to_owned()))
        }
    };

    let registry = Registry::new();
    let compiled_in = registry.has(&kind);
    if !compiled_in {
        problems.push(Problem {
            path: "connector.kind".into(),
            message: missing_backend(&kind),
        });
    }

    let mut secret_reports = Vec::new();
    for variable in registry.secrets_of(&kind) {
        let (report, problem) = secret(env, variable);
        secret_reports.push(report);
        problems.extend(problem);
    }

    if kind == "tmux"
        && let Err(e) = std::process::Command::new("tmux").arg("-V").output()
    {
        problems.push(Problem {
            path: "tmux".into(),
            message: format!(
                "cannot run `tmux -V` ({e}): install tmux (Debian/Ubuntu: apt install tmux)"
            ),
        });
    }

    let config = parsed.as_ref().map(|config| resolved(config, env));
    Inspection {
        roster: roster.map(Path::to_path_buf),
        kind,
        compiled_in,
        config,
        secrets: secret_reports,
        problems,
        parsed,
    }
}

/// The `connector.kind` of a roster that may not parse as a whole.
fn kind_in(text: &str) -> Option<String> {
    let roster: serde_norway::Value = serde_norway::from_str(text).ok()?;
    roster
        .get("connector")?
        .get("kind")?
        .as_str()
        .map(str::to_owned)
}

/// Why `kind` cannot be built here, in the registry's words.
fn missing_backend(kind: &str) -> String {
    match KNOWN_KINDS.iter().find(|k| k.kind == kind) {
        Some(known) => connector_registry::Error::NotCompiledIn {
            kind: kind.to_owned(),
            feature: known.feature,
        }
        .to_string(),
        None => {
            let known: Vec<&str> = KNOWN_KINDS.iter().map(|k| k.kind).collect();
            connector_registry::Error::UnknownKind {
                kind: kind.to_owned(),
                known: known.join(", "),
            }
            .to_string()
        }
    }
}

/// Where `variable` comes from and whether it is usable; the value is dropped at once.
fn secret(env: &dyn Environment, variable: &'static str) -> (SecretReport, Option<Problem>) {
    let file = env.var(&format!("{variable}_FILE"));
    let (source, path) = if env.var(variable).is_some() {
        ("environment", None)
    } else if let Some(file) = file {
        ("file", Some(PathBuf::from(file).display().to_string()))
    } else {
        match env.var("CREDENTIALS_DIRECTORY") {
            Some(dir) if Path::new(&dir).join(variable).exists() => (
                "credential",
                Some(Path::new(&dir).join(variable).display().to_string()),
            ),
            _ => ("missing", None),
        }
    };
    let problem = match secrets::require(env, variable) {
        Ok(_value) => None,
        Err(e) => Some(match e {
            connector_core::Error::Secret { variable, message } => Problem {
                path: variable,
                message,
            },
            other => Problem {
                path: variable.to_owned(),
                message: other.to_string(),
            },
        }),
    };
    let report = SecretReport {
        variable,
        source,
        path,
        ok: problem.is_none(),
    };
    (report, problem)
}

/// The block as the connector will use it: defaults it applies written out (in the block's
/// own key order, the defaults after the keys given). The defaults are the config types' own
/// (`TmuxConfig::with_defaults`, `*Config::state_dir_or_default`), the ones the backends use.
fn resolved(config: &ConnectorConfig, env: &dyn Environment) -> Value {
    let mut value = serde_norway::to_value(config).unwrap_or(Value::Null);
    let Value::Mapping(map) = &mut value else {
        return value;
    };
    let text = |s: &str| Value::String(s.to_owned());
    let state_dir = |dir: connector_core::Result<PathBuf>| {
        let mut defaults = Mapping::new();
        if let Ok(dir) = dir {
            defaults.insert(text("state_dir"), text(&dir.display().to_string()));
        }
        Value::Mapping(defaults)
    };
    match config.kind.as_str() {
        ConnectorKind::TMUX => {
            let tmux = config.tmux.clone().unwrap_or_default().with_defaults();
            fill(
                map,
                "tmux",
                serde_norway::to_value(tmux).unwrap_or(Value::Null),
            );
        }
        ConnectorKind::MATRIX => {
            if let Some(matrix) = &config.matrix {
                fill(map, "matrix", state_dir(matrix.state_dir_or_default(env)));
            }
        }
        ConnectorKind::DISCORD => {
            if let Some(discord) = &config.discord {
                fill(map, "discord", state_dir(discord.state_dir_or_default(env)));
            }
        }
        ConnectorKind::TELEGRAM => {
            if let Some(telegram) = &config.telegram {
                fill(
                    map,
                    "telegram",
                    state_dir(telegram.state_dir_or_default(env)),
                );
            }
        }
        ConnectorKind::SLACK => {
            if let Some(slack) = &config.slack {
                fill(map, "slack", state_dir(slack.state_dir_or_default(env)));
            }
        }
        _ => {}
    }
    if let Some(block) = config.kind_block() {
        // A kind registered at run time: its own block, as its factory will read it.
        map.insert(text(config.kind.as_str()), block.clone());
    }
    if !map.contains_key("queue_capacity") {
        map.insert(
            text("queue_capacity"),
            Value::Number(
                u64::try_from(config.queue_capacity())
                    .unwrap_or(u64::MAX)
                    .into(),
            ),
        );
    }
    value
}

/// Adds to `map[key]` (created if missing) each key of `defaults` it does not have, after the
/// keys it has.
fn fill(map: &mut Mapping, key: &str, defaults: Value) {
    let Value::Mapping(defaults) = defaults else {
        return;
    };
    let key = Value::String(key.to_owned());
    let mut section = match map.get(&key) {
        Some(Value::Mapping(section)) => section.clone(),
        _ => Mapping::new(),
    };
    for (name, default) in defaults {
        if !section.contains_key(&name) {
            section.insert(name, default);
        }
    }
    map.insert(key, Value::Mapping(section));
}

/// Runs `connector check`.
pub(crate) fn run(common: &Common) -> Result<Exit, Error> {
    let inspection = inspect(common.roster.as_deref(), &ProcessEnv);
    if common.json {
        json_line(&json!({
            "ok": inspection.problems.is_empty(),
            "roster": inspection.roster,
            "kind": inspection.kind,
            "compiled_in": inspection.compiled_in,
            "config": inspection.config,
            "secrets": inspection.secrets,
            "problems": inspection.problems,
        }))?;
    } else {
        for line in render(&inspection) {
            line_out(&line)?;
        }
    }
    Ok(if inspection.problems.is_empty() {
        Exit::Ok
    } else {
        Exit::Config
    })
}

/// The report as text lines.
fn render(inspection: &Inspection) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(match &inspection.roster {
        Some(path) => format!("roster: {}", path.display()),
        None => "roster: none (the default tmux operator console)".to_owned(),
    });
    lines.push(format!(
        "kind: {} ({})",
        inspection.kind,
        if inspection.compiled_in {
            "compiled in"
        } else {
            "not compiled in"
        }
    ));
    if let Some(config) = &inspection.config {
        lines.push("resolved configuration (defaults filled in):".to_owned());
        let mut block = Mapping::new();
        block.insert(Value::String("connector".into()), config.clone());
        let yaml = serde_norway::to_string(&block).unwrap_or_default();
        lines.extend(yaml.lines().map(|l| format!("  {l}")));
    }
    if !inspection.secrets.is_empty() {
        lines.push("secrets:".to_owned());
        for secret in &inspection.secrets {
            lines.push(format!(
                "  {} {}: {}",
                crate::output::mark(secret.ok),
                secret.variable,
                secret.describe()
            ));
        }
    }
    if inspection.problems.is_empty() {
        lines.push("ok: the configuration and the environment are valid".to_owned());
    } else {
        lines.push(format!("{} problem(s):", inspection.problems.len()));
        for problem in &inspection.problems {
            lines.push(format!("  ✗ {}: {}", problem.path, problem.message));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn roster(name: &str, text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("connector-check-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn every_problem_is_listed_with_the_environment_ones() {
        let path = roster(
            "bad.yaml",
            "connector:\n  kind: matrix\n  matrix:\n    homeserver_url: x\n    user_id: y\n    room_id: z\n",
        );
        let env = HashMap::from([(
            "MATRIX_ACCESS_TOKEN_FILE".to_owned(),
            "/nonexistent/token".to_owned(),
        )]);
        let inspection = inspect(Some(&path), &env);
        std::fs::remove_file(&path).unwrap();
        let paths: Vec<&str> = inspection
            .problems
            .iter()
            .map(|p| p.path.as_str())
            .collect();
        assert!(paths.contains(&"connector.matrix.room_id"), "{paths:?}");
        assert!(paths.contains(&"MATRIX_ACCESS_TOKEN"), "{paths:?}");
        assert_eq!(inspection.secrets[0].source, "file");
        assert!(!inspection.secrets[0].ok);
    }

    #[test]
    fn a_kind_without_a_backend_is_a_problem_naming_the_known_kinds() {
        let path = roster("irc.yaml", "connector:\n  kind: irc\n");
        let inspection = inspect(Some(&path), &HashMap::new());
        std::fs::remove_file(&path).unwrap();
        assert!(!inspection.compiled_in);
        let problem = inspection
            .problems
            .iter()
            .find(|p| p.path == "connector.kind")
            .expect("a connector.kind problem");
        insta::assert_snapshot!(problem.message, @"unknown connector kind `irc`: known kinds are tmux, matrix, discord, telegram, slack");
        let known = missing_backend("discord");
        assert!(known.contains("enable the `discord` feature"), "{known}");
    }

    #[test]
    fn a_run_time_kind_shows_its_own_block_and_is_not_compiled_in() {
        let path = roster(
            "custom.yaml",
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/rosters/valid/custom-kind.yaml"
            ))
            .unwrap(),
        );
        let inspection = inspect(Some(&path), &HashMap::new());
        std::fs::remove_file(&path).unwrap();
        assert!(!inspection.compiled_in && inspection.secrets.is_empty());
        let lines = render(&inspection);
        insta::assert_snapshot!(lines[2..lines.len() - 2].join("\n"), @r"
        resolved configuration (defaults filled in):
          connector:
            kind: my-echo
            allow_any_sender: true
            queue_capacity: 64
            my-echo:
              greeting: hello
        ");
    }

    #[test]
    fn secret_value_never_appears() {
        let path = roster(
            "ok.yaml",
            "connector:\n  kind: discord\n  allow_any_sender: true\n  discord:\n    channel_id: '123456789012345678'\n",
        );
        let env = HashMap::from([
            ("DISCORD_BOT_TOKEN".to_owned(), "sekrit.value".to_owned()),
            ("HOME".to_owned(), "/home/op".to_owned()),
        ]);
        let inspection = inspect(Some(&path), &env);
        std::fs::remove_file(&path).unwrap();
        let text = render(&inspection).join("\n");
        let json = serde_json::to_string(&inspection).unwrap();
        assert!(!text.contains("sekrit") && !json.contains("sekrit"));
        assert_eq!(inspection.secrets[0].source, "environment");
    }
}
