//! `connector systemd`: print a systemd user unit that keeps `connector bridge` (or `listen`)
//! running, with the commands to install it as comments at its top.
//!
//! Tokens reach the service through `EnvironmentFile=%h/.config/connector/env` (optional, `-`)
//! and, with `--credentials DIR`, `LoadCredential=VAR:DIR/VAR` (connector-core reads
//! `$CREDENTIALS_DIRECTORY/VAR`). The hardening is what a user unit can have without mount
//! namespaces, and never `PrivateTmp=`: tmux keeps its sockets in `/tmp/tmux-UID/`, which a
//! private `/tmp` would hide, cutting the service off from the operator's tmux server.

use std::path::{Path, PathBuf};

use connector_core::ConnectorConfig;
use connector_core::config::kinds::BUILT_IN_KINDS;
use serde::Serialize;

use crate::cli::{Common, SystemdArgs};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

/// Where the unit's environment file lives (`%h` is the user's home).
pub(crate) const ENV_FILE: &str = "%h/.config/connector/env";

#[derive(Serialize)]
struct Document<'a> {
    name: &'a str,
    path: String,
    unit: &'a str,
    install: &'a [String],
}

/// Runs `connector systemd`.
pub(crate) fn run(common: &Common, args: &SystemdArgs) -> Result<Exit, Error> {
    let exec = match &args.exec {
        Some(path) => absolute(path)?,
        None => std::env::current_exe().map_err(|source| Error::Io {
            what: "finding the connector executable",
            source,
        })?,
    };
    let roster = common.roster.as_deref().map(absolute).transpose()?;
    let credentials = args.credentials.as_deref().map(absolute).transpose()?;
    if !valid_name(&args.name) {
        return Err(Error::Refused(format!(
            "--name {:?}: use letters, digits, '-', '_' and '.' only",
            args.name
        )));
    }
    let mut command = vec![exec.display().to_string()];
    if let Some(roster) = &roster {
        command.push("--roster".into());
        command.push(roster.display().to_string());
    }
    let passed: &[String] = args.bridge.as_deref().unwrap_or_default();
    if args.listen {
        command.push("listen".into());
    } else {
        command.push("bridge".into());
        command.extend(passed.iter().cloned());
    }
    let secrets = needed_secrets(roster.as_deref(), passed);
    if credentials.is_some() && secrets.is_empty() {
        return Err(Error::Refused(
            "--credentials: this unit needs no token (no connector that reads a token in the roster \
             or the bridge arguments)"
                .into(),
        ));
    }
    let install = install_commands(&args.name, &secrets, credentials.as_deref());
    let unit = unit_text(
        &args.name,
        &command,
        &secrets,
        credentials.as_deref(),
        &install,
    );
    if common.json {
        json_line(&Document {
            name: &args.name,
            path: format!("~/.config/systemd/user/{}.service", args.name),
            unit: &unit,
            install: &install,
        })?;
    } else {
        for line in unit.lines() {
            line_out(line)?;
        }
    }
    Ok(Exit::Ok)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `path` made absolute against the current directory (a unit runs from elsewhere).
fn absolute(path: &Path) -> Result<PathBuf, Error> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    std::env::current_dir()
        .map(|dir| dir.join(path))
        .map_err(|source| Error::Io {
            what: "finding the current directory",
            source,
        })
}

/// The tokens the connectors of this unit read: the roster's kind and any kind the bridge
/// arguments name.
fn needed_secrets(roster: Option<&Path>, passed: &[String]) -> Vec<&'static str> {
    let mut kinds: Vec<String> = passed
        .iter()
        .flat_map(|a| a.split('='))
        .map(str::to_owned)
        .collect();
    if let Some(config) = roster.and_then(|r| ConnectorConfig::from_roster_file(r).ok()) {
        kinds.push(config.kind.as_str().to_owned());
    }
    BUILT_IN_KINDS
        .iter()
        .filter(|k| kinds.iter().any(|named| named == k.name))
        .flat_map(|k| k.secrets.iter().copied())
        .collect()
}

/// One argument in systemd's `ExecStart=` syntax: `%` and `$` escaped, quoted when needed.
fn exec_quote(arg: &str) -> String {
    let escaped = arg.replace('%', "%%").replace('$', "$$");
    let plain = !escaped.is_empty()
        && escaped
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@=,+-%$".contains(&b));
    if plain {
        escaped
    } else {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The commands that install, enable and keep the unit running without a login session.
fn install_commands(name: &str, secrets: &[&str], credentials: Option<&Path>) -> Vec<String> {
    let mut lines = vec![
        "mkdir -p ~/.config/systemd/user ~/.config/connector".to_owned(),
        format!("connector systemd … > ~/.config/systemd/user/{name}.service   # this text"),
    ];
    if !secrets.is_empty() {
        lines.push(
            "install -m 600 /dev/null ~/.config/connector/env   # then add the token lines to it"
                .to_owned(),
        );
        for variable in secrets {
            lines.push(format!("echo '{variable}=…' >> ~/.config/connector/env"));
        }
        if let Some(dir) = credentials {
            lines.push(format!(
                "# or, with LoadCredential=: one file per token in {} (mode 600)",
                dir.display()
            ));
        }
    }
    lines.push("systemctl --user daemon-reload".to_owned());
    lines.push(format!("systemctl --user enable --now {name}.service"));
    lines.push("sudo loginctl enable-linger \"$USER\"   # run at boot and after logout".to_owned());
    lines.push(format!("journalctl --user -u {name} -f   # its logs"));
    lines
}

/// The unit file.
fn unit_text(
    name: &str,
    command: &[String],
    secrets: &[&str],
    credentials: Option<&Path>,
    install: &[String],
) -> String {
    let exec: Vec<String> = command.iter().map(|a| exec_quote(a)).collect();
    let shown: Vec<&str> = command.iter().skip(1).map(String::as_str).collect();
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line(&format!(
        "# {name}.service: a systemd user unit generated by `connector systemd`."
    ));
    line("# Install and enable it:");
    for command in install {
        line(&format!("#   {command}"));
    }
    line("");
    line("[Unit]");
    line(&format!(
        "Description=orchestrator connector: connector {}",
        shown
            .iter()
            .skip_while(|a| **a != "bridge" && **a != "listen")
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('%', "%%")
    ));
    line(
        "Documentation=https://github.com/orchestrator-connectors/connectors/blob/main/docs/cli.md",
    );
    line("# A user manager has no network-online.target: the connector retries until the");
    line("# platform answers, and Restart= covers the rest.");
    line("StartLimitIntervalSec=300");
    line("StartLimitBurst=10");
    line("");
    line("[Service]");
    line("Type=simple");
    line(&format!("ExecStart={}", exec.join(" ")));
    line("WorkingDirectory=%h");
    line("# Tokens: VAR=value lines in this file (mode 600); never in the roster.");
    line(&format!("EnvironmentFile=-{ENV_FILE}"));
    if let Some(dir) = credentials {
        line("# Tokens as systemd credentials: connector reads $CREDENTIALS_DIRECTORY/VAR.");
        for variable in secrets {
            line(&format!(
                "LoadCredential={variable}:{}",
                exec_quote(&dir.join(variable).display().to_string())
            ));
        }
    }
    line("Environment=RUST_LOG=info");
    line("Restart=on-failure");
    line("RestartSec=5s");
    line("# Hardening a user unit can have. No PrivateTmp=: tmux keeps its sockets in");
    line("# /tmp/tmux-UID/, and a private /tmp would cut the service off from the operator's");
    line("# tmux server. Start that server outside this unit (a server the connector starts");
    line("# lives in the unit's cgroup and stops with it).");
    line("NoNewPrivileges=yes");
    line("UMask=0077");
    line("LockPersonality=yes");
    line("RestrictRealtime=yes");
    line("RestrictSUIDSGID=yes");
    line("MemoryDenyWriteExecute=yes");
    line("SystemCallArchitectures=native");
    line("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK");
    line("");
    line("[Install]");
    line("WantedBy=default.target");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_arguments_are_escaped() {
        assert_eq!(exec_quote("--from"), "--from");
        assert_eq!(
            exec_quote("/home/op/my roster.yaml"),
            "\"/home/op/my roster.yaml\""
        );
        assert_eq!(exec_quote("100%"), "100%%");
        assert_eq!(exec_quote("$HOME"), "$$HOME");
        assert_eq!(exec_quote("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn secrets_follow_the_kinds_named() {
        let passed = vec![
            "--from".to_owned(),
            "discord".to_owned(),
            "--to=tmux".to_owned(),
        ];
        assert_eq!(needed_secrets(None, &passed), ["DISCORD_BOT_TOKEN"]);
        let slack = ["--to".to_owned(), "slack".to_owned()];
        assert_eq!(
            needed_secrets(None, &slack),
            ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]
        );
        assert!(needed_secrets(None, &[]).is_empty());
    }
}
