//! The operator's tmux server survives whatever the connector does and however it ends.
//!
//! tmux 3.3a has two control-mode crashes that the connector used to trigger: a control client
//! told to exit while pane output was queued for it (`fatal: not enough data`, after a one-shot
//! `connector send`), and a control client that is half set up when another client's detach is
//! announced (a segfault, with several connectors starting and stopping at once). This soak
//! drives an ordinary daemonised server the way a fleet does: 1000 one-shot sends of
//! control-laden text, several at a time, into a shell pane whose program prints bursts of
//! output and into a busy full-screen program, while long-running `connector listen`s on the
//! same pane are killed with SIGKILL, SIGINT and SIGTERM mid-output or end at `--count`. The
//! server, its pid and every session on it must be alive afterwards, and no control client may
//! be left behind. Before the fix this run killed the server within seconds.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use common::{Dir, Tmux};

/// Sends in all; a tenth go to the full-screen program.
const SENDS: usize = 1000;
/// One-shot sends running at once.
const PARALLEL: usize = 4;

/// Text of the kinds operators paste and agents print: escape sequences, C0 and C1 controls,
/// line breaks of every kind, a bracketed-paste end, tmux and shell syntax.
fn hostile(i: usize) -> String {
    let samples = [
        "\x1b[31mred\x1b[0m \x07 bell",
        "\x1b]0;title\x07 osc \x1b]52;c;aGk=\x07",
        "a\rb\nc\r\nd",
        "\x1b[201~ paste end \u{9b}201~",
        "\x03\x04\x1a\x7f\t tab",
        "#{pane_id} $(true) `true` ; display -p x",
        "\x1bP+q544e\x1b\\ dcs \x1b[c \x1b[6n",
        "\u{85}\u{90}\u{9d} c1",
    ];
    format!("echo soak {i} {}", samples[i % samples.len()])
}

fn roster(dir: &Dir, name: &str, socket: &str, target: &str) -> std::path::PathBuf {
    dir.file(
        name,
        &format!(
            "connector:\n  kind: tmux\n  tmux:\n    socket_name: {socket}\n    mode: pane\n    \
             target: \"{target}\"\n    submit_delay_ms: 0\n"
        ),
    )
}

fn connector(roster: &Path) -> Command {
    let mut command = Command::new(cargo_bin("connector"));
    command
        .env_remove("RUST_LOG")
        .env_remove("CONNECTOR_ROSTER")
        .arg("--roster")
        .arg(roster)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn server_pid(tmux: &Tmux) -> String {
    let output = tmux.run(&["display-message", "-p", "-t", "bystander:", "#{pid}"]);
    assert!(
        output.status.success(),
        "the tmux server is gone: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn signal(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
}

#[test]
fn the_server_survives_one_shot_sends_and_killed_connectors() {
    let dir = Dir::new();
    let tmux = Tmux::named();
    // An ordinary daemonised server: a bystander session, a shell printing bursts in the
    // background, and a busy full-screen program.
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "bystander",
        "-x",
        "120",
        "-y",
        "40",
    ]);
    assert!(started.status.success(), "{started:?}");
    let shell = "(while :; do seq 1 40; sleep 0.05; done) & \
                 exec env PS1='$ ' INPUTRC=/dev/null bash --norc --noprofile -i";
    let work = tmux.run(&["new-session", "-d", "-s", "work", "sh", "-c", shell]);
    assert!(work.status.success(), "{work:?}");
    let screen = "printf '\\033[?1049h'; while :; do printf '\\033[H\\033[2J'; \
                  date; seq 1 30; sleep 0.02; done";
    let full = tmux.run(&["new-session", "-d", "-s", "full", "sh", "-c", screen]);
    assert!(full.status.success(), "{full:?}");
    let pid = server_pid(&tmux);

    let shell_roster = roster(&dir, "shell.yaml", &tmux.socket, "work:0.0");
    let full_roster = roster(&dir, "full.yaml", &tmux.socket, "full:0.0");

    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let next = Arc::clone(&next);
            let failures = Arc::clone(&failures);
            let (shell_roster, full_roster) = (shell_roster.clone(), full_roster.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= SENDS {
                        break;
                    }
                    let roster = if i % 10 == 9 {
                        &full_roster
                    } else {
                        &shell_roster
                    };
                    let output = connector(roster)
                        .args(["send", "--", &hostile(i)])
                        .output()
                        .expect("run connector send");
                    if !output.status.success() {
                        failures.lock().unwrap().push(format!(
                            "send {i}: {}: {}",
                            output.status,
                            String::from_utf8_lossy(&output.stderr).trim()
                        ));
                    }
                }
            })
        })
        .collect();

    // Long-running connectors on the same pane, ended every way a process can end.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut ended = 0;
    while next.load(Ordering::SeqCst) < SENDS && Instant::now() < deadline {
        let mut listen = connector(&shell_roster);
        if ended % 5 == 4 {
            listen.args(["listen", "--count", "3"]);
        } else {
            listen.arg("listen");
        }
        let mut child = listen.spawn().expect("start connector listen");
        std::thread::sleep(Duration::from_millis(40 + (ended as u64 * 37) % 260));
        match ended % 5 {
            0 | 1 => signal(&child, "-KILL"),
            2 => signal(&child, "-INT"),
            3 => signal(&child, "-TERM"),
            // `--count 3`: the bursts end it; kill it if they have not yet.
            _ => {
                let until = Instant::now() + Duration::from_secs(5);
                while child.try_wait().expect("wait").is_none() && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                signal(&child, "-KILL");
            }
        }
        // Every way of ending must end it: a connector that ignores Ctrl-C is a failure here.
        let until = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if Instant::now() >= until {
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("connector listen #{ended} did not end within 20 s of its signal");
        }
        ended += 1;
        // The next one starts once tmux has dropped this one's client, as a supervisor's
        // restart delay does (`connector systemd` writes RestartSec=5s): tmux 3.3a announces a
        // leaving client to every control client and crashes if one is still being set up at
        // that moment, whoever's it is — a race between two processes that no connector can
        // close from inside.
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until
            && String::from_utf8_lossy(&tmux.run(&["list-clients"]).stdout).contains("control")
        {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    for sender in senders {
        sender.join().expect("sender thread");
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "sends failed:\n{}",
        failures.join("\n")
    );
    assert!(
        ended >= 10,
        "only {ended} long-running connectors were ended"
    );

    // The same server, with every session, and no client left behind.
    assert_eq!(server_pid(&tmux), pid, "the tmux server was restarted");
    for session in ["bystander", "work", "full"] {
        let alive = tmux.run(&["has-session", "-t", session]);
        assert!(alive.status.success(), "session {session} is gone");
    }
    let mut clients = String::new();
    for _ in 0..50 {
        clients = String::from_utf8_lossy(&tmux.run(&["list-clients"]).stdout).into_owned();
        if clients.trim().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(clients.trim().is_empty(), "clients left behind:\n{clients}");
}
