//! docs/deploy-matrix.md, followed step by step on a real Conduit: its `conduit.toml` (only the
//! database path and the port changed), the registration and login `curl`s, the env file, the
//! join `curl`, the `connector init` that writes the roster block (compared with the block the
//! docs show), then `check` and `doctor`. Every command is read out of the docs and run as
//! written, with the docs' placeholders (`https://matrix.example.org`, `!abcdef:example.org`,
//! `syt_…`) replaced by the real values.
#![cfg(feature = "matrix")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Dir, stdout};
use conduit_harness::Conduit;
use serde_json::Value;

/// The docs' placeholder for the homeserver's public URL.
const DOCS_URL: &str = "https://matrix.example.org";
/// The docs' placeholder room id.
const DOCS_ROOM: &str = "!abcdef:example.org";

fn deploy_matrix_md() -> String {
    let path = format!("{}/../../docs/deploy-matrix.md", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The body of the fenced block that follows the first line containing `marker` (blank lines
/// and the opening fence skipped), up to its closing fence — or, for a here-document, up to
/// its `EOF`.
fn block_after(doc: &str, marker: &str) -> String {
    let start = doc
        .find(marker)
        .unwrap_or_else(|| panic!("docs/deploy-matrix.md has no `{marker}`"));
    let mut lines = doc[start..]
        .lines()
        .skip(1)
        .skip_while(|line| line.is_empty())
        .peekable();
    if lines.peek().is_some_and(|line| line.starts_with("```")) {
        lines.next();
    }
    let body: Vec<&str> = lines
        .take_while(|line| *line != "EOF" && !line.starts_with("```"))
        .collect();
    assert!(!body.is_empty(), "no block after `{marker}`");
    body.join("\n") + "\n"
}

/// Every shell command of the docs' `sh` blocks, continuation lines joined.
fn sh_commands(doc: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in doc.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    commands
}

/// The one command of the docs that starts with `start` and contains `needle`.
fn command(commands: &[String], start: &str, needle: &str) -> String {
    let found: Vec<&String> = commands
        .iter()
        .filter(|c| c.trim_start().starts_with(start) && c.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one `{start}…{needle}…` command in the docs: {found:#?}"
    );
    found[0].clone()
}

/// Runs `script` with `sh -c` in `dir`, `HOME` there, `connector` on the `PATH`.
fn sh(dir: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let binary = Path::new(env!("CARGO_BIN_EXE_connector"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = Command::new("sh");
    sh.args(["-c", script])
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("MATRIX_ACCESS_TOKEN")
        .env_remove("MATRIX_ACCESS_TOKEN_FILE")
        .env_remove("CONNECTOR_ROSTER")
        .env_remove("RUST_LOG");
    for (name, value) in env {
        sh.env(name, value);
    }
    sh.output()
        .unwrap_or_else(|e| panic!("could not run sh -c {script}: {e}"))
}

/// Runs a `curl` of the docs and parses its JSON answer.
fn curl(dir: &Path, script: &str, env: &[(&str, &str)]) -> Value {
    let output = sh(dir, script, env);
    assert!(output.status.success(), "{script}: {output:?}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{script} answered no JSON ({e}): {output:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_conduit_steps_of_deploy_matrix_md_work_as_written() {
    let doc = deploy_matrix_md();
    let commands = sh_commands(&doc);

    // 1. conduit.toml as the docs write it; only where the database lives and the port change.
    let documented = block_after(&doc, "sudo tee /etc/matrix-conduit/conduit.toml <<'EOF'");
    let token = documented
        .lines()
        .find_map(|l| l.strip_prefix("registration_token = "))
        .and_then(|v| v.split('"').nth(1))
        .expect("the docs set registration_token")
        .to_owned();
    let config_for = |documented: &str, database: &Path, port: u16| -> String {
        documented
            .lines()
            .map(|line| {
                if line.starts_with("database_path = ") {
                    format!("database_path = \"{}\"", database.display())
                } else if line.starts_with("port = ") {
                    format!("port = {port}")
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    let mut conduit = {
        let documented = documented.clone();
        Conduit::start_with_config(move |database, port| config_for(&documented, database, port))
            .await
    };
    let url = conduit.base_url();
    let local = |text: &str| text.replace(DOCS_URL, &url);
    let dir = Dir::new();
    let home = dir.path();

    // 2. The operator first (the docs say "from a Matrix client"; the same request by curl),
    //    then the bot, with the docs' curl as written.
    let register = local(&command(&commands, "curl", "/_matrix/client/v3/register"));
    assert!(
        register.contains(&token),
        "the docs' registration uses the config's token"
    );
    let operator = curl(
        home,
        &register
            .replace("\"orchestrator\"", "\"alice\"")
            .replace("a-long-password", "alices-password"),
        &[],
    );
    assert_eq!(operator["user_id"], "@alice:example.org", "{operator}");
    let bot = curl(home, &register, &[]);
    assert_eq!(bot["user_id"], "@orchestrator:example.org", "{bot}");

    //    "Then set allow_registration = false on Conduit and restart it."
    let closed = documented.replace("allow_registration = true", "allow_registration = false");
    assert_ne!(
        closed, documented,
        "the docs' config has `allow_registration = true`"
    );
    std::fs::write(
        conduit.config_path(),
        config_for(&closed, &conduit.dir().join("db"), conduit.port()),
    )
    .unwrap();
    conduit.restart().await;
    let refused = sh(
        home,
        &register.replace("\"orchestrator\"", "\"mallory\""),
        &[],
    );
    let refused: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(
        refused["errcode"], "M_FORBIDDEN",
        "registration is closed: {refused}"
    );

    // 3. The bot's access token, from the docs' login.
    let login = curl(
        home,
        &local(&command(&commands, "curl", "/_matrix/client/v3/login")),
        &[],
    );
    let access_token = login["access_token"].as_str().expect("a token").to_owned();
    assert_eq!(login["user_id"], "@orchestrator:example.org", "{login}");
    assert!(login["device_id"].is_string(), "{login}");
    let install = command(&commands, "install -m 600 /dev/null", "connector/env");
    let echo = command(&commands, "echo 'MATRIX_ACCESS_TOKEN=", "connector/env");
    let written = sh(
        home,
        &format!(
            // One command a line: the docs' lines end in comments.
            "set -e\nmkdir -p ~/.config/connector\n{install}\n{}\n",
            echo.replace("syt_…", &access_token)
        ),
        &[],
    );
    assert!(written.status.success(), "{written:?}");

    // 4. The operator creates the room and invites the bot (in a client, by the API here); the
    //    bot joins with the docs' curl and the token from its env file.
    let operator_token = operator["access_token"].as_str().unwrap();
    let created = curl(
        home,
        &format!(
            "curl -s -X POST -H 'Authorization: Bearer {operator_token}' \
             -d '{{\"preset\":\"private_chat\",\"invite\":[\"@orchestrator:example.org\"]}}' \
             {url}/_matrix/client/v3/createRoom"
        ),
        &[],
    );
    let room = created["room_id"].as_str().expect("a room id").to_owned();
    let encoded_room = room.replace('!', "%21").replace(':', "%3A");
    let join = local(&command(&commands, "curl", "/_matrix/client/v3/join/"))
        .replace("%21abcdef%3Aexample.org", &encoded_room);
    let joined = curl(
        home,
        &format!("set -a\n. ~/.config/connector/env\nset +a\n{join}\n"),
        &[],
    );
    assert_eq!(joined["room_id"], room.as_str(), "{joined}");

    // 5. The roster block, written by the docs' `connector init`, is the one the docs show.
    let init = local(&command(
        &commands,
        "connector --roster roster.yaml init",
        "--kind matrix",
    ))
    .replace(DOCS_ROOM, &room);
    let output = sh(home, &init, &[]);
    assert!(output.status.success(), "{init}: {output:?}");
    let roster = std::fs::read_to_string(home.join("roster.yaml")).unwrap();
    let shown = local(&block_after(
        &doc,
        "writes, leaving the rest of `roster.yaml` untouched:",
    ))
    .replace(DOCS_ROOM, &room);
    assert_eq!(
        roster, shown,
        "the roster `connector init` wrote differs from the docs'"
    );

    // 6. check and doctor, with the token from the env file as systemd would pass it.
    let run = |probe: String| {
        let output = sh(
            home,
            &format!("set -a\n. ~/.config/connector/env\nset +a\n{probe}\n"),
            &[],
        );
        assert!(output.status.success(), "{probe}: {output:?}");
        stdout(&output)
    };
    let checked = run(command(
        &commands,
        "connector --roster roster.yaml check",
        "",
    ));
    assert!(
        checked.contains("kind: matrix (compiled in)"),
        "check: {checked}"
    );
    let doctor = run(command(
        &commands,
        "connector --roster roster.yaml doctor",
        "",
    ));
    assert!(
        doctor.contains("✓ room joined: @orchestrator:example.org is in"),
        "doctor: {doctor}"
    );
    assert!(doctor.contains(" passed, 0 failed"), "doctor: {doctor}");
}
