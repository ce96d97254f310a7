//! `connector doctor` against real tmux servers of the test's own: passing on a good setup,
//! failing with the right fix on a missing server or target, configuration problems as failed
//! probes, the exit status counting the failures, and `--json`.

mod common;

use std::path::PathBuf;

use common::{Dir, Tmux, stderr, stdout};

fn roster(dir: &Dir, tmux: &Tmux, block: &str) -> PathBuf {
    dir.file(
        "roster.yaml",
        &format!(
            "agents: [builder]\nconnector:\n  kind: tmux\n  tmux:\n    socket_name: {}\n{block}",
            tmux.socket
        ),
    )
}

fn doctor(dir: &Dir, roster: &std::path::Path, json: bool) -> std::process::Output {
    let mut command = dir.connector();
    command.arg("--roster").arg(roster).arg("doctor");
    if json {
        command.arg("--json");
    }
    command.output().unwrap()
}

fn filters(dir: &Dir, tmux: &Tmux) -> Vec<(String, String)> {
    vec![
        (r"in \d+ ms".to_owned(), "in [MS] ms".to_owned()),
        (dir.path().display().to_string(), "[DIR]".to_owned()),
        (tmux.socket.clone(), "[SOCKET]".to_owned()),
        (r"/tmp/tmux-\d+/".to_owned(), "/tmp/tmux-[UID]/".to_owned()),
        (r"uid \d+".to_owned(), "uid [UID]".to_owned()),
        (r"pid \d+".to_owned(), "pid [PID]".to_owned()),
        (
            r"tmux \d+\.\d+[a-z]?,".to_owned(),
            "tmux [VERSION],".to_owned(),
        ),
        (r"%\d+".to_owned(), "%[PANE]".to_owned()),
    ]
}

#[test]
fn console_on_a_private_server_passes() {
    let dir = Dir::new();
    let tmux = Tmux::named();
    let roster = roster(&dir, &tmux, "");
    let output = doctor(&dir, &roster, false);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    // Not a terminal: plain progress lines, no spinner.
    assert!(!stderr(&output).contains('\r'), "{}", stderr(&output));
    assert!(stderr(&output).contains("connecting to tmux…"));
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &tmux)) }, {
        insta::assert_snapshot!(stdout(&output));
    });
}

#[test]
fn pane_endpoint_passes_and_json_has_probes_and_summary() {
    let dir = Dir::new();
    let tmux = Tmux::with_pane();
    let roster = roster(&dir, &tmux, "    mode: pane\n    target: 'work:0.0'\n");
    let output = doctor(&dir, &roster, true);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["kind"], "tmux");
    assert_eq!(document["summary"]["failed"], 0);
    let names: Vec<&str> = document["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "configuration",
            "tmux server",
            "socket owner",
            "target present",
            "mode",
            "round trip"
        ]
    );
    let round_trip = &document["probes"][5];
    assert_eq!(
        round_trip["outcome"], "skipped",
        "pane mode has no operator to probe"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &tmux)) }, {
        insta::assert_json_snapshot!(document);
    });
}

#[test]
fn missing_target_fails_with_the_fix() {
    let dir = Dir::new();
    let tmux = Tmux::with_pane();
    let roster = roster(&dir, &tmux, "    mode: pane\n    target: '%99'\n");
    let output = doctor(&dir, &roster, false);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.contains("✗ target present:")
            && text.contains(&format!(
                "fix: check connector.tmux.target: no pane %99 on this server; list the panes with `tmux -L {} list-panes -a",
                tmux.socket
            )),
        "{text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &tmux)) }, {
        insta::assert_snapshot!(text);
    });
}

#[test]
fn missing_server_fails_with_the_command_to_start_it() {
    let dir = Dir::new();
    let tmux = Tmux::named();
    let roster = roster(&dir, &tmux, "    mode: pane\n    target: 'work:0.0'\n");
    let output = doctor(&dir, &roster, false);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.contains(&format!("tmux -L {} new-session -d", tmux.socket)),
        "{text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &tmux)) }, {
        insta::assert_snapshot!(text);
    });
}

#[cfg(feature = "matrix")] // otherwise "not compiled in" is one more failure
#[test]
fn configuration_problems_are_failed_probes_and_counted() {
    let dir = Dir::new();
    let roster = dir.file(
        "roster.yaml",
        "connector:\n  kind: matrix\n  matrix:\n    homeserver_url: x\n    user_id: y\n    room_id: z\n",
    );
    let output = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let failed = document["summary"]["failed"].as_u64().unwrap();
    assert_eq!(failed, 5, "{document}");
    assert_eq!(output.status.code(), Some(5));
    let text = doctor(&dir, &roster, false);
    insta::with_settings!({ filters => common::pairs(&[(dir.path().display().to_string(), "[DIR]".to_owned())]) }, {
        insta::assert_snapshot!(stdout(&text));
    });
}

#[test]
fn a_killed_pane_is_reported_missing() {
    let dir = Dir::new();
    let tmux = Tmux::with_pane();
    let second = tmux.run(&["new-window", "-d", "-t", "work:1", "cat"]);
    assert!(second.status.success(), "{second:?}");
    let pane = String::from_utf8(
        tmux.run(&["display-message", "-p", "-t", "work:1.0", "#{pane_id}"])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let roster = roster(
        &dir,
        &tmux,
        &format!("    mode: pane\n    target: '{pane}'\n"),
    );
    let output = doctor(&dir, &roster, false);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let killed = tmux.run(&["kill-pane", "-t", &pane]);
    assert!(killed.status.success());
    let output = doctor(&dir, &roster, false);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stdout(&output).contains(&format!("no pane {pane}")),
        "{}",
        stdout(&output)
    );
}
