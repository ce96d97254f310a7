//! `connector systemd`, run as the real binary: the unit's text, and `systemd-analyze --user
//! verify` accepting it without a warning. Under `CI=true` a missing `systemd-analyze` fails
//! the test (`cargo xtask test` installs it); elsewhere it is reported and only the snapshots
//! are checked.

mod common;

use std::path::Path;
use std::process::Command as StdCommand;

use common::{Dir, stdout};

const EXEC: &str = "/usr/local/bin/connector";

fn unit(dir: &Dir, args: &[&str]) -> String {
    let output = dir.connector().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    stdout(&output)
}

/// `systemd-analyze --user verify` on `text`, saved as `name` in `dir`; answers its stderr.
#[allow(clippy::print_stderr)]
fn verify(dir: &Dir, name: &str, text: &str) -> Option<String> {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    let found = analyze.exists()
        || StdCommand::new("systemd-analyze")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "systemd-analyze is missing under CI=true: `cargo xtask test` installs it (apt: systemd)"
        );
        eprintln!("systemd-analyze is not installed: the unit is not verified here");
        return None;
    }
    let unit = dir.file(name, text);
    let runtime = dir.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let output = StdCommand::new("systemd-analyze")
        .args(["--user", "--man=no", "verify"])
        .arg(&unit)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "systemd-analyze verify failed:\n{stderr}\n{text}"
    );
    Some(stderr)
}

#[test]
fn bridge_unit_is_valid_and_stable() {
    let dir = Dir::new();
    let roster = dir.file(
        "roster.yaml",
        "connector:\n  kind: discord\n  allow_any_sender: true\n  discord:\n    channel_id: '123456789012345678'\n",
    );
    let text = unit(
        &dir,
        &[
            "--roster",
            roster.to_str().unwrap(),
            "systemd",
            "--exec",
            EXEC,
            "--credentials",
            "/home/op/.config/connector/credentials",
            "--bridge",
            "--from",
            "discord",
            "--to",
            "tmux",
        ],
    );
    insta::with_settings!({ filters => common::pairs(&[(dir.path().display().to_string(), "[DIR]".to_owned())]) }, {
        insta::assert_snapshot!(text);
    });
    assert!(
        !text.lines().any(|l| l.starts_with("PrivateTmp=")),
        "tmux sockets live in /tmp"
    );
    assert!(text.contains("LoadCredential=DISCORD_BOT_TOKEN:"));
    // Verified with an executable that exists here: verify checks ExecStart's binary.
    let real = assert_cmd::cargo::cargo_bin("connector");
    let verified = unit(
        &dir,
        &[
            "--roster",
            roster.to_str().unwrap(),
            "systemd",
            "--exec",
            real.to_str().unwrap(),
            "--credentials",
            dir.path().join("credentials").to_str().unwrap(),
            "--bridge",
            "--from",
            "discord",
            "--to",
            "tmux",
        ],
    );
    if let Some(warnings) = verify(&dir, "connector.service", &verified) {
        assert!(
            !warnings.contains("connector.service"),
            "systemd-analyze warned about the unit:\n{warnings}"
        );
    }
}

#[test]
fn listen_unit_and_json() {
    let dir = Dir::new();
    let text = unit(
        &dir,
        &[
            "systemd",
            "--listen",
            "--exec",
            EXEC,
            "--name",
            "ops-listen",
        ],
    );
    insta::assert_snapshot!(text);
    let real = assert_cmd::cargo::cargo_bin("connector");
    let verified = unit(
        &dir,
        &[
            "systemd",
            "--listen",
            "--exec",
            real.to_str().unwrap(),
            "--name",
            "ops-listen",
        ],
    );
    if let Some(warnings) = verify(&dir, "ops-listen.service", &verified) {
        assert!(!warnings.contains("ops-listen.service"), "{warnings}");
    }

    let output = dir
        .connector()
        .args(["systemd", "--listen", "--exec", EXEC, "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["path"], "~/.config/systemd/user/connector.service");
    assert!(
        document["unit"]
            .as_str()
            .unwrap()
            .contains("ExecStart=/usr/local/bin/connector listen\n")
    );
    assert!(
        document["install"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("loginctl enable-linger"))
    );
}

#[test]
fn arguments_with_spaces_and_percent_are_escaped() {
    let dir = Dir::new();
    let text = unit(
        &dir,
        &[
            "systemd",
            "--exec",
            EXEC,
            "--bridge",
            "--from",
            "matrix",
            "--to",
            "tmux",
            "--note",
            "100% done",
        ],
    );
    assert!(
        text.contains("ExecStart=/usr/local/bin/connector bridge --from matrix --to tmux --note \"100%% done\"\n"),
        "{text}"
    );
    assert!(text.contains("echo 'MATRIX_ACCESS_TOKEN=…' >> ~/.config/connector/env"));
    let refused = dir
        .connector()
        .args(["systemd", "--exec", EXEC, "--listen", "--credentials", "/x"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
}
