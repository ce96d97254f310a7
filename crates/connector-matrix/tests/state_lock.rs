//! One connector per state directory, against a real Synapse: a second connector on the same
//! directory is refused with the directory and the holder named, and may start once the first
//! has closed (or been dropped).

mod common;

use common::World;
use connector_core::{Error, OrchestratorConnector};
use connector_matrix::MatrixConnector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connector_on_the_same_state_directory_is_refused() {
    let world = World::start().await;
    let first = world.open().await;

    let error = MatrixConnector::open(&world.config(), &world.env())
        .await
        .expect_err("two connectors on one state directory");
    let text = error.to_string();
    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    assert!(
        text.contains(&world.state.path().display().to_string()),
        "names the directory: {text}"
    );
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "names the holder: {text}"
    );

    // The first still works, and once it is closed the directory is free.
    let mut subscription = first.subscribe().await.unwrap();
    world.post("still here?").await;
    assert_eq!(
        common::recv(&mut subscription, "a message to the first connector")
            .await
            .text,
        "still here?"
    );
    first.close().await.unwrap();
    let second = world.open().await;

    // Dropped without `close`: its sync loop is aborted and lets go a moment later; the next
    // connector waits for that rather than failing.
    drop(second);
    let third = world.open().await;
    third.close().await.unwrap();
}

/// Another process holding the lock (`flock(1)`, which takes the same `flock(2)` lock the
/// connector takes) keeps the connector out until it lets go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_holding_the_lock_keeps_the_connector_out() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};

    let world = World::start().await;
    let lock = world.state.path().join("lock");
    // `-o`: only flock itself holds the lock; the shell prints once it is held and ends
    // when its stdin closes.
    let mut holder = Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .args(["-c", "echo locked; cat >/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock(1) from util-linux");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let error = MatrixConnector::open(&world.config(), &world.env())
        .await
        .expect_err("the directory is locked by another process");
    assert!(
        error
            .to_string()
            .contains(&world.state.path().display().to_string()),
        "{error}"
    );

    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let connector = world.open().await;
    connector.close().await.unwrap();
}
