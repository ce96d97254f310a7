//! `connector doctor` for tmux: the server, the socket's owner, the target pane and the mode,
//! each as a [`Probe`] with the command that fixes a failure.

use std::path::Path;

use connector_core::Probe;
use tmux_interface::DisplayMessage;

use crate::session::{TmuxSession, pane_fields};
use crate::settings::{LineBreaks, Mode};
use crate::socket::{self, Socket, SocketState};

/// The probes' names, in the order they are reported.
pub(crate) const SERVER: &str = "tmux server";
pub(crate) const OWNER: &str = "socket owner";
pub(crate) const TARGET: &str = "target present";
pub(crate) const MODE: &str = "mode";

/// The `tmux` command line that reaches `socket` (`tmux -L NAME`, `tmux -S PATH`, `tmux`).
pub(crate) fn tmux_command(socket: &Socket) -> String {
    match socket {
        Socket::Name(name) => format!("tmux -L {name}"),
        Socket::Path(path) => format!("tmux -S {}", path.display()),
        Socket::Default => "tmux".to_owned(),
    }
}

/// Every probe of `session`; never fails, a probe that cannot run is skipped.
pub(crate) async fn diagnose(session: &TmuxSession) -> Vec<Probe> {
    let settings = session.settings();
    let tmux = tmux_command(&settings.socket);
    let what = match &settings.mode {
        Mode::Console { session } => format!("console session `{session}`"),
        Mode::Pane { target } => format!("pane `{target}`"),
    };
    // Without a control client (a one-shot check) commands go through plain clients; whether a
    // server is there at all is then the socket's to say.
    let server_gone = session.is_plain()
        && session
            .socket_file()
            .is_some_and(|path| !matches!(socket::probe(&path), SocketState::Listening));
    let Some(link) = session.live_link().filter(|_| !server_gone) else {
        let reason = session.down_reason();
        let server = match session.socket_file() {
            Some(path) => match socket::probe(&path) {
                SocketState::Listening => Probe::fail(
                    SERVER,
                    format!(
                        "a server listens on {} but the control client is down ({reason})",
                        path.display()
                    ),
                )
                .with_fix(
                    "the connector re-attaches within a second; if this persists, restart it",
                ),
                SocketState::Missing => Probe::fail(
                    SERVER,
                    format!("no tmux server: {} does not exist", path.display()),
                )
                .with_fix(start_fix(&tmux, &settings.mode)),
                SocketState::Unreachable(e) => Probe::fail(
                    SERVER,
                    format!("no tmux server answers on {}: {e}", path.display()),
                )
                .with_fix(start_fix(&tmux, &settings.mode)),
            },
            None => Probe::fail(SERVER, format!("control client down ({reason})"))
                .with_fix(start_fix(&tmux, &settings.mode)),
        };
        return vec![
            server,
            Probe::skipped(OWNER, "no server to check"),
            Probe::skipped(TARGET, "no server to check"),
            Probe::skipped(MODE, "no server to check"),
        ];
    };

    let mut probes = Vec::new();
    let format = "#{pid}\t#{uid}\t#{socket_path}\t#{version}";
    let mut ask = DisplayMessage::new().print().message(format);
    let main_pane = session.main_pane();
    if let Some(pane) = &main_pane {
        ask = ask.target_pane(pane.as_str());
    }
    let answer = match link.run(ask.build()).await {
        Ok(lines) => lines.into_iter().next().unwrap_or_default(),
        Err(e) => {
            return vec![
                Probe::fail(SERVER, format!("the server does not answer: {e}")).with_fix(format!(
                    "check it with `{tmux} info`; restart it if it hangs"
                )),
                Probe::skipped(OWNER, "the server does not answer"),
                Probe::skipped(TARGET, "the server does not answer"),
                Probe::skipped(MODE, "the server does not answer"),
            ];
        }
    };
    let mut fields = answer.split('\t');
    let pid = fields.next().unwrap_or_default().to_owned();
    let uid = fields.next().and_then(|u| u.parse::<u32>().ok());
    let socket_path = fields.next().unwrap_or_default().to_owned();
    let version = fields.next().filter(|v| !v.is_empty()).unwrap_or("?");
    probes.push(Probe::pass(
        SERVER,
        format!("tmux {version}, server pid {pid} on {socket_path}"),
    ));

    let me = socket::current_uid();
    let socket_owner = socket::owner_uid(Path::new(&socket_path));
    probes.push(if uid.is_some() && uid == me && socket_owner == me {
        Probe::pass(
            OWNER,
            format!(
                "server and socket belong to uid {}",
                uid.unwrap_or_default()
            ),
        )
    } else {
        Probe::fail(
            OWNER,
            format!(
                "the server runs as uid {uid:?} and its socket belongs to uid {socket_owner:?}, \
                 this process runs as uid {me:?}"
            ),
        )
        .with_fix(
            "run the connector as the user who owns the tmux server, or point \
             connector.tmux.socket_name (or socket_path) at a server of your own",
        )
    });

    let Some(pane) = session.main_pane() else {
        probes.push(
            Probe::fail(TARGET, format!("{what} is not set up"))
                .with_fix("restart the connector: it sets the target up when it attaches"),
        );
        probes.push(Probe::skipped(MODE, "no target"));
        return probes;
    };
    let row = pane_fields(
        &link,
        &pane,
        "#{pane_dead}\t#{pane_current_command}\t#{session_name}:#{window_index}.#{pane_index}",
    )
    .await;
    let (command, location) = match row {
        Ok(Some(row)) => {
            let mut fields = row.split('\t');
            let dead = fields.next() == Some("1");
            let command = fields.next().unwrap_or_default().to_owned();
            let location = fields.next().unwrap_or_default().to_owned();
            if dead {
                probes.push(
                    Probe::fail(
                        TARGET,
                        format!("{what} ({pane}, {location}) exists but its program has exited"),
                    )
                    .with_fix(format!(
                        "restart its program: `{tmux} respawn-pane -t {pane}` (or start the agent \
                         there again)"
                    )),
                );
                probes.push(Probe::skipped(MODE, "the target's program has exited"));
                return probes;
            }
            probes.push(Probe::pass(
                TARGET,
                format!("{what} is {pane} ({location}), running `{command}`"),
            ));
            (command, location)
        }
        Ok(None) => {
            let fix = match &settings.mode {
                Mode::Pane { target } => format!(
                    "check connector.tmux.target: no pane {pane} (`{target}`) any more; list the \
                     panes with `{tmux} list-panes -a`, start the agent in one, and restart the \
                     connector"
                ),
                Mode::Console { session } => {
                    format!("restart the connector: it recreates the console session `{session}`")
                }
            };
            probes.push(
                Probe::fail(TARGET, format!("{what} ({pane}) no longer exists")).with_fix(fix),
            );
            probes.push(Probe::skipped(MODE, "no target"));
            return probes;
        }
        Err(e) => {
            probes.push(
                Probe::fail(TARGET, format!("checking {what} failed: {e}"))
                    .with_fix(format!("check the server with `{tmux} list-panes -a`")),
            );
            probes.push(Probe::skipped(MODE, "the target could not be checked"));
            return probes;
        }
    };

    probes.push(Probe::pass(
        MODE,
        match &settings.mode {
            Mode::Console { session } => format!(
                "console: messages are shown in {location} and never executed; the operator \
                 replies there (`{tmux} attach -t {session}`)"
            ),
            Mode::Pane { .. } => {
                let rule = match settings.line_breaks {
                    LineBreaks::Paste => {
                        "line breaks are pasted as they are (`line_breaks: paste`): a shell runs \
                         every line"
                    }
                    _ => "line breaks are folded into ` ⏎ `, one line a message (`line_breaks: fold`)",
                };
                let asked = match session.bracketed_paste(&pane) {
                    Some(true) => "the program has turned bracketed paste on",
                    Some(false) => "the program has turned bracketed paste off",
                    None if session.is_plain() => {
                        "whether the program uses bracketed paste is not seen by a one-shot check"
                    }
                    None => "the program has not said whether it uses bracketed paste",
                };
                format!(
                    "pane: messages are pasted into `{command}` followed by Enter after {} ms; \
                     {rule}; {asked}; its output lines come back",
                    settings.submit_delay.as_millis()
                )
            }
        },
    ));
    probes
}

/// How to get a server up on this socket, for the mode in use.
fn start_fix(tmux: &str, mode: &Mode) -> String {
    match mode {
        Mode::Console { session } => format!(
            "start the connector again (it starts the server in console mode), or start one \
             yourself: `{tmux} new-session -d -s {session}`"
        ),
        Mode::Pane { target } => format!(
            "start tmux and the agent in it: `{tmux} new-session -d`, then run the agent in \
             the pane connector.tmux.target names (`{target}`)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_the_socket() {
        assert_eq!(tmux_command(&Socket::Name("ops".into())), "tmux -L ops");
        assert_eq!(
            tmux_command(&Socket::Path("/run/t".into())),
            "tmux -S /run/t"
        );
        assert_eq!(tmux_command(&Socket::Default), "tmux");
        assert!(
            start_fix(
                "tmux -L ops",
                &Mode::Pane {
                    target: "%3".into()
                }
            )
            .contains("tmux -L ops new-session -d")
        );
    }
}
