//! Live messages on the tmux console: the message is shown once in the scrollback and its
//! newest text is redrawn in place in a status line of the console's session — never
//! appended, never expanded as a tmux format, even while a real client draws the status line.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{LONG, Scratch, TestServer, wait_until};
use connector_core::live::{LiveKey, LiveMessages};
use connector_core::{OrchestratorConnector, SenderPolicy};
use connector_tmux::TmuxConnector;

const SESSION: &str = "orchestrator";

async fn console(server: &TestServer) -> Arc<dyn OrchestratorConnector> {
    Arc::new(
        TmuxConnector::with_settings(
            server.console_settings(SESSION),
            SenderPolicy::allow_any(),
            64,
        )
        .await
        .expect("open the console"),
    )
}

fn option(server: &TestServer, name: &str) -> String {
    server
        .tmux(&["show-options", "-v", "-t", &format!("={SESSION}:"), name])
        .trim_end_matches('\n')
        .to_owned()
}

fn scrollback(server: &TestServer) -> String {
    server.tmux(&[
        "capture-pane",
        "-p",
        "-J",
        "-S",
        "-",
        "-t",
        &format!("={SESSION}:"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_shown_once_and_redrawn_in_a_status_line() {
    let server = TestServer::new();
    let connector = console(&server).await;
    let live = Arc::new(LiveMessages::new(connector.clone(), None).unwrap());
    let key = LiveKey::new("fleet").unwrap();
    let burst: Vec<_> = (1..=100)
        .map(|n| tokio::spawn(live.update(&key, &format!("fleet: {n}/100 merged"), None, false)))
        .collect();
    for update in burst {
        update.await.unwrap().expect("every update answers");
    }
    let done = live
        .update(&key, "fleet: all merged", None, true)
        .await
        .unwrap();
    assert!(done.finished);
    assert_eq!(done.message_ids.len(), 1, "one message");

    assert_eq!(
        option(&server, "status"),
        "2",
        "one status line beside tmux's own"
    );
    assert_eq!(
        option(&server, "status-format[1]"),
        "#[align=left]#{@connector_status_1}"
    );
    assert_eq!(
        option(&server, "@connector_status_1"),
        "▸ fleet: all merged"
    );
    let screen = scrollback(&server);
    assert_eq!(
        screen.matches("merged").count(),
        1,
        "the message is printed once; its updates are not appended: {screen}"
    );

    // After `finish`, the key starts a new message with a line of its own.
    let next = live
        .update(&key, "fleet: round two", None, false)
        .await
        .unwrap();
    assert_ne!(next.message_ids, done.message_ids);
    live.update(&key, "fleet: round two, 1/3", None, false)
        .await
        .unwrap();
    assert_eq!(option(&server, "status"), "3");
    assert_eq!(
        option(&server, "@connector_status_1"),
        "▸ fleet: all merged"
    );
    assert_eq!(
        option(&server, "@connector_status_2"),
        "▸ fleet: round two, 1/3"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_text_is_never_a_format_or_markup_even_when_drawn() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let witness = scratch.path_str("executed");
    let connector = console(&server).await;
    let sent = connector
        .send(connector_core::OutboundMessage::new("status"))
        .await
        .unwrap();
    let hostile = format!("#(touch {witness}) #[fg=red] #{{pane_id}} \x1b]2;title\x07 ##");
    connector
        .edit(sent.message_id().unwrap(), None, &hostile)
        .await
        .unwrap();
    assert_eq!(
        option(&server, "@connector_status_1"),
        format!("▸ ##(touch {witness}) ##[fg=red] ##{{pane_id}} ^[]2;title^G ####")
    );

    // A real client attached in a terminal draws the status line (and would run `#(…)`).
    let mut client = Command::new("script")
        .args([
            "-qfc",
            &format!("tmux -L {} attach -t ={SESSION}", server.name),
            "/dev/null",
        ])
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs an attached client");
    assert!(
        wait_until(LONG, || server
            .try_tmux(&["list-clients", "-F", "#{client_control_mode}"])
            .is_ok_and(|clients| clients.lines().any(|l| l == "0")))
        .await,
        "the client attached"
    );
    // Redrawn while attached, so the client expands the status format with the text in it.
    connector
        .edit(
            sent.message_id().unwrap(),
            None,
            &format!("{hostile} again"),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = client.kill();
    let _ = client.wait();
    assert!(
        !std::path::Path::new(&witness).exists(),
        "text in a status line ran a command"
    );
    assert!(
        !server.tmux(&["list-sessions"]).is_empty(),
        "the server is fine"
    );
    connector.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_messages_the_console_showed_can_be_edited() {
    let server = TestServer::new();
    let connector = console(&server).await;
    let refused = connector
        .edit(&connector_core::MessageId::new("tmux-out:nope"), None, "x")
        .await;
    insta::assert_snapshot!(refused.unwrap_err().to_string(), @"invalid message: tmux-out:nope is not a message this connector showed");
    connector.close().await.unwrap();
}
