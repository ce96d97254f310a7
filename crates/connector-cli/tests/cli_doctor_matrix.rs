//! `connector doctor` against a real Synapse (synapse-harness) and a real Conduit
//! (conduit-harness): passing on a good setup, failing with the right fix on a wrong token and
//! on a room the bot is not in.
#![cfg(feature = "matrix")]

mod common;

use common::{Dir, stdout};
use conduit_harness::Conduit;
use synapse_harness::Synapse;

fn roster(dir: &Dir, homeserver: &str, user: &str, room: &str) -> std::path::PathBuf {
    dir.file(
        "roster.yaml",
        &format!(
            "connector:\n  kind: matrix\n  allow_any_sender: true\n  matrix:\n    homeserver_url: {homeserver}\n    user_id: '{user}'\n    room_id: '{room}'\n",
        ),
    )
}

fn doctor(dir: &Dir, roster: &std::path::Path, token: &str) -> std::process::Output {
    dir.connector()
        .arg("--roster")
        .arg(roster)
        .arg("doctor")
        .env("MATRIX_ACCESS_TOKEN", token)
        .output()
        .unwrap()
}

fn filters(dir: &Dir, homeserver: &str) -> Vec<(String, String)> {
    vec![
        (r"in \d+ ms".to_owned(), "in [MS] ms".to_owned()),
        (dir.path().display().to_string(), "[DIR]".to_owned()),
        (homeserver.to_owned(), "[HOMESERVER_URL]".to_owned()),
        (
            r"![A-Za-z0-9._~+/=-]+(:localhost)?".to_owned(),
            "[ROOM]".to_owned(),
        ),
        (r"\b[A-Z]{10}\b".to_owned(), "[DEVICE]".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn good_wrong_token_and_missing_room() {
    let synapse = Synapse::start().await;
    let bot = synapse.register("bot").await;
    let alice = synapse.register("alice").await;
    let room = synapse.create_room(&alice, &[&bot]).await;
    let elsewhere = synapse.create_room(&alice, &[]).await;

    let dir = Dir::new();
    let good = roster(&dir, &synapse.base_url(), &bot.user_id, &room);
    let output = doctor(&dir, &good, &bot.access_token);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &synapse.base_url())) }, {
        insta::assert_snapshot!("good", stdout(&output));
    });

    let output = doctor(&dir, &good, concat!("syt_", "Ym90_wrongwrongwrong_000000"));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("✗ token accepted"), "{text}");
    assert!(
        text.contains("set MATRIX_ACCESS_TOKEN to a token of @bot:localhost"),
        "{text}"
    );
    assert!(
        !text.contains("wrongwrongwrong"),
        "the token must not be echoed: {text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &synapse.base_url())) }, {
        insta::assert_snapshot!("wrong_token", text);
    });

    let dir = Dir::new();
    let missing = roster(&dir, &synapse.base_url(), &bot.user_id, &elsewhere);
    let output = doctor(&dir, &missing, &bot.access_token);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    // Whichever probe catches it (the default "authenticated" or a finer room probe), its fix
    // names the room.
    assert!(
        text.lines()
            .any(|l| l.starts_with("    fix: ") && l.contains(&elsewhere)),
        "{text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &synapse.base_url())) }, {
        insta::assert_snapshot!("missing_room", text);
    });
}

/// The same three cases on Conduit, the homeserver docs/deploy-matrix.md names as the default:
/// accounts come from its registration token, the room from the operator (registered first, so
/// Conduit's admin, as in the docs).
#[tokio::test(flavor = "multi_thread")]
async fn good_wrong_token_and_missing_room_on_conduit() {
    let conduit = Conduit::start().await;
    let alice = conduit.register("alice").await;
    let bot = conduit.register("bot").await;
    let room = conduit.create_room(&alice, &[&bot]).await;
    let elsewhere = conduit.create_room(&alice, &[]).await;
    let url = conduit.base_url();

    let dir = Dir::new();
    let good = roster(&dir, &url, &bot.user_id, &room);
    let output = doctor(&dir, &good, &bot.access_token);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &url)) }, {
        insta::assert_snapshot!("conduit_good", stdout(&output));
    });

    let output = doctor(&dir, &good, concat!("syt_", "Ym90_wrongwrongwrong_000000"));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("✗ token accepted"), "{text}");
    assert!(
        text.contains("set MATRIX_ACCESS_TOKEN to a token of @bot:localhost"),
        "{text}"
    );
    assert!(
        !text.contains("wrongwrongwrong"),
        "the token must not be echoed: {text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &url)) }, {
        insta::assert_snapshot!("conduit_wrong_token", text);
    });

    let dir = Dir::new();
    let missing = roster(&dir, &url, &bot.user_id, &elsewhere);
    let output = doctor(&dir, &missing, &bot.access_token);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("    fix: ") && l.contains(&elsewhere)),
        "{text}"
    );
    insta::with_settings!({ filters => common::pairs(&filters(&dir, &url)) }, {
        insta::assert_snapshot!("conduit_missing_room", text);
    });
}
