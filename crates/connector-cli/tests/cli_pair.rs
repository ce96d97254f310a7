//! `connector pair` with the real binary: the listing, approve / deny / revoke, and the
//! refusals of wrong, expired and replayed codes with their exit statuses; with the Discord
//! backend, a stranger paired through the binary while `connector listen` runs is delivered
//! without a restart.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Dir, stderr, stdout};
use connector_core::Timestamp;

const OPERATOR: &str = "80351110224678912";
const STRANGER: &str = "90351110224678913";
const VISITOR: &str = "70351110224678914";

fn roster(dir: &Dir, pairing: bool) -> std::path::PathBuf {
    dir.file(
        "roster.yaml",
        &format!(
            "connector:\n  kind: discord\n  allowed_senders: ['{OPERATOR}']\n{}  discord:\n    \
             channel_id: '223456789012345678'\n    state_dir: '{}'\n",
            if pairing {
                "  pairing: {enabled: true}\n"
            } else {
                ""
            },
            dir.path().join("state").display()
        ),
    )
}

fn at(offset_minutes: i64) -> String {
    let now = Timestamp::now();
    let shift = Duration::from_secs(offset_minutes.unsigned_abs() * 60);
    let at = if offset_minutes < 0 {
        now - shift
    } else {
        now + shift
    };
    at.to_string()
}

/// A store with a fresh code (STRANGER's), an expired one (VISITOR's), and a paired operator
/// of old.
fn seed(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("pairing.yaml"),
        format!(
            "approved:\n- sender: '60351110224678915'\n  approved_at: 2025-06-01T12:00:00Z\n  code: \
             HJKMNPQR\npending:\n- code: K7M3QX9P\n  sender: '{STRANGER}'\n  issued_at: {}\n  \
             expires_at: {}\n  sent_at: {}\n- code: ABCDEFGH\n  sender: '{VISITOR}'\n  issued_at: \
             {}\n  expires_at: {}\n  sent_at: {}\n",
            at(-5),
            at(55),
            at(-5),
            at(-120),
            at(-60),
            at(-120),
        ),
    )
    .unwrap();
}

fn pair(dir: &Dir, roster: &Path, args: &[&str]) -> std::process::Output {
    dir.connector()
        .arg("--roster")
        .arg(roster)
        .arg("pair")
        .args(args)
        .output()
        .expect("run connector pair")
}

/// stdout, stderr and the exit status, the test directory named `<dir>`.
fn shown(dir: &Dir, output: &std::process::Output) -> String {
    format!(
        "status: {:?}\n{}{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
    .replace(&dir.path().display().to_string(), "<dir>")
}

#[test]
fn pair_lists_approves_denies_and_revokes_with_distinct_refusals() {
    let dir = Dir::new();
    let roster = roster(&dir, true);
    seed(&dir.path().join("state"));

    let listing = pair(&dir, &roster, &["list"]);
    insta::assert_snapshot!("list_before", shown(&dir, &listing));

    // Wrong (and malformed), expired, right, replayed.
    let wrong = pair(&dir, &roster, &["approve", "ZZZZZZZZ"]);
    assert_eq!(wrong.status.code(), Some(9));
    let malformed = pair(&dir, &roster, &["approve", "K7M3-QX9"]);
    assert_eq!(malformed.status.code(), Some(9));
    let expired = pair(&dir, &roster, &["approve", "ABCDEFGH"]);
    assert_eq!(expired.status.code(), Some(10));
    let approved = pair(&dir, &roster, &["approve", "k7m3-qx9p"]);
    assert_eq!(approved.status.code(), Some(0), "{approved:?}");
    let replayed = pair(&dir, &roster, &["approve", "K7M3QX9P"]);
    assert_eq!(replayed.status.code(), Some(11));
    let denied_after = pair(&dir, &roster, &["deny", "K7M3QX9P"]);
    assert_eq!(denied_after.status.code(), Some(11));
    insta::with_settings!({ filters => vec![(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>")] }, {
        insta::assert_snapshot!(
            "refusals_and_approval",
            [&wrong, &malformed, &expired, &approved, &replayed]
                .iter()
                .map(|o| shown(&dir, o))
                .collect::<Vec<_>>()
                .join("---\n")
        );
    });
    let state = std::fs::read_to_string(dir.path().join("state/pairing.yaml")).unwrap();
    assert!(state.contains(&format!("sender: '{STRANGER}'")), "{state}");

    let json = dir
        .connector()
        .arg("--roster")
        .arg(&roster)
        .args(["--json", "pair", "list"])
        .output()
        .unwrap();
    let listing: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(listing["enabled"], true);
    assert_eq!(listing["pending"].as_array().unwrap().len(), 0);
    assert_eq!(listing["approved"][1]["sender"], STRANGER);

    let revoked = pair(&dir, &roster, &["revoke", STRANGER]);
    let again = pair(&dir, &roster, &["revoke", STRANGER]);
    assert_eq!(again.status.code(), Some(9));
    insta::assert_snapshot!(
        "revoke",
        format!("{}---\n{}", shown(&dir, &revoked), shown(&dir, &again))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("state/pairing.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn approving_needs_pairing_on_and_help_lists_the_exit_statuses() {
    let dir = Dir::new();
    let roster = roster(&dir, false);
    seed(&dir.path().join("state"));
    let off = pair(&dir, &roster, &["approve", "K7M3QX9P"]);
    assert_eq!(off.status.code(), Some(3));
    insta::assert_snapshot!("pairing_off", shown(&dir, &off));
    let help = dir.connector().args(["pair", "--help"]).output().unwrap();
    insta::assert_snapshot!("pair_help", stdout(&help));
}

/// The whole story on the Discord emulator: `connector listen` runs, a stranger writes and is
/// sent a code, `connector pair approve` (another process) admits them, and their next
/// message is what `listen` prints.
#[cfg(feature = "discord")]
#[test]
fn a_stranger_approved_with_the_binary_is_delivered_without_a_restart() {
    use std::time::Instant;

    use discord_emulator::{Config, Emulator};

    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let operator = emulator.add_user("operator");
    let stranger = emulator.add_user("stranger");
    let dir = Dir::new();
    let roster = dir.file(
        "roster.yaml",
        &format!(
            "connector:\n  kind: discord\n  allowed_senders: ['{}']\n  pairing: {{enabled: true}}\n  \
             discord:\n    channel_id: '{}'\n    state_dir: '{}'\n",
            operator.id,
            emulator.channel_id(),
            dir.path().join("state").display()
        ),
    );
    let listen = std::thread::spawn({
        let mut command = dir.connector();
        command
            .arg("--roster")
            .arg(&roster)
            .args(["listen", "--count", "1", "--timeout", "90"])
            .env("DISCORD_BOT_TOKEN", emulator.bot_token())
            .env("DISCORD_API_BASE_URL", emulator.base_url());
        move || command.output().expect("run connector listen")
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while emulator.connected_sessions() == 0 {
        assert!(Instant::now() < deadline, "the connector never connected");
        assert!(!listen.is_finished(), "connector listen ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let hello = emulator
        .post_as(&stranger, emulator.channel_id(), "hello, let me in")
        .unwrap();
    let bot = emulator.bot_user_id();
    let reply = loop {
        let reply = emulator
            .messages(emulator.channel_id())
            .into_iter()
            .find(|m| {
                m.author_id == bot
                    && m.reference.as_ref().and_then(|r| r.message_id) == Some(hello.id)
            });
        if let Some(reply) = reply {
            break reply;
        }
        assert!(Instant::now() < deadline, "no pairing code was sent");
        std::thread::sleep(Duration::from_millis(50));
    };
    let code = reply
        .content
        .split("connector pair approve ")
        .nth(1)
        .unwrap()[..8]
        .to_owned();
    let approve = pair(&dir, &roster, &["approve", &code]);
    assert_eq!(approve.status.code(), Some(0), "{approve:?}");
    emulator
        .post_as(&stranger, emulator.channel_id(), "paired now")
        .unwrap();
    let output = listen.join().expect("the listen thread");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let printed = stdout(&output);
    assert!(printed.contains("paired now"), "{printed}");
    assert!(
        !printed.contains("let me in"),
        "the first message is never delivered"
    );
}
