//! The `discord-emulator` binary as a user outside Rust runs it: its startup line, tokens shaped
//! like Discord's that survive what client libraries do to tokens, the `--rate-limits` choice,
//! and the control API (`/_emulator`) doing what the library's handle does.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{Api, Gateway};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_REACTIONS | MESSAGE_CONTENT.
const INTENTS: u64 = 1 | (1 << 9) | (1 << 10) | (1 << 15);

/// A running binary, killed when dropped, with the JSON line it printed.
struct Binary {
    child: Child,
    info: Value,
}

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_discord-emulator"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the binary prints its startup line");
        let info = serde_json::from_str(&line).expect("the startup line is JSON");
        Binary { child, info }
    }

    fn text(&self, key: &str) -> &str {
        self.info[key]
            .as_str()
            .unwrap_or_else(|| panic!("`{key}` in {}", self.info))
    }

    fn bot(&self) -> Api {
        Api::bot(self.text("base_url"), self.text("bot_token"))
    }

    /// A client of the control API (no authorization: it is a local test tool).
    fn control(&self) -> Control {
        Control {
            client: reqwest::Client::new(),
            base: self.text("control_url").to_owned(),
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Control {
    client: reqwest::Client,
    base: String,
}

impl Control {
    async fn call(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("the control API answers");
        let status = response.status();
        let raw = response.bytes().await.expect("a body");
        (status, serde_json::from_slice(&raw).unwrap_or(Value::Null))
    }
}

/// What client libraries do to a token before they send it.
fn normalisations(token: &str) -> Vec<(&'static str, String)> {
    let discord_js = {
        // discord.js (`Client#login`, `REST#setToken`): token.replace(/^(Bot|Bearer)\s*/i, '').
        let lower = token.to_ascii_lowercase();
        let stripped = ["bot", "bearer"]
            .iter()
            .find(|prefix| lower.starts_with(*prefix))
            .map_or(token, |prefix| token[prefix.len()..].trim_start());
        stripped.to_owned()
    };
    vec![
        ("discord.js strips a leading Bot/Bearer", discord_js),
        (
            "discord.py and serenity trim whitespace",
            token.trim().to_owned(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bot_token_has_discords_shape_and_survives_client_normalisations() {
    let binary = Binary::start(&["--user", "operator"]);
    let token = binary.text("bot_token");
    let bot_id = binary.text("bot_user_id");
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "three segments: {token}");
    assert_eq!(
        segments[0],
        URL_SAFE_NO_PAD.encode(bot_id),
        "the first names the bot"
    );
    for (what, normalised) in normalisations(token) {
        assert_eq!(normalised, token, "{what}");
    }
    // serenity and discord.py send `Bot <token>`; the emulator takes it as Discord does.
    let me = binary.bot().get("/users/@me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], bot_id);
    let (mut gateway, _) = Gateway::open(binary.text("gateway_url")).await;
    gateway.identify(token, INTENTS).await;
    assert_eq!(gateway.dispatch("READY").await["d"]["user"]["id"], bot_id);

    // Users' tokens have the same shape, and are sent bare.
    let operator = &binary.info["users"][0];
    let user_token = operator["token"].as_str().expect("a user token");
    let user_id = operator["id"].as_str().expect("a user id");
    assert_eq!(
        user_token.split('.').next(),
        Some(URL_SAFE_NO_PAD.encode(user_id).as_str())
    );
    let as_user = Api::user(binary.text("base_url"), user_token)
        .get("/users/@me")
        .await;
    assert_eq!(as_user.json()["id"], user_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_control_api_does_what_the_library_handle_does() {
    let binary = Binary::start(&["--rate-limits", "unlimited"]);
    let control = binary.control();
    let bot = binary.bot();
    let channel = binary.text("channel_id").to_owned();
    let (mut gateway, _) = Gateway::open(binary.text("gateway_url")).await;
    gateway.identify(binary.text("bot_token"), INTENTS).await;
    gateway.dispatch("READY").await;

    let (status, info) = control.call(Method::GET, "", json!(null)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["bot_token"], binary.info["bot_token"]);

    // A user added over the control API posts; the bot sees it on the gateway and over REST.
    let (status, alice) = control
        .call(Method::POST, "/users", json!({"name": "alice"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{alice}");
    let alice_id = alice["id"].as_str().expect("an id").to_owned();
    let (status, posted) = control
        .call(
            Method::POST,
            &format!("/channels/{channel}/messages"),
            json!({"user_id": alice_id, "content": "deploy?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    let created = gateway.dispatch("MESSAGE_CREATE").await;
    assert_eq!(created["d"]["content"], "deploy?");
    assert_eq!(created["d"]["author"]["id"], alice_id.as_str());
    let history = bot.get(&format!("/channels/{channel}/messages")).await;
    assert_eq!(history.json()[0]["id"], posted["id"]);

    // Reactions as the user, given and taken back.
    let reaction = format!(
        "/channels/{channel}/messages/{}/reactions/%E2%9C%85",
        posted["id"].as_str().expect("an id")
    );
    let who = json!({"user_id": alice_id});
    assert_eq!(
        control.call(Method::PUT, &reaction, who.clone()).await.0,
        StatusCode::NO_CONTENT
    );
    let added = gateway.dispatch("MESSAGE_REACTION_ADD").await;
    assert_eq!(added["d"]["emoji"]["name"], "✅");
    assert_eq!(
        control.call(Method::DELETE, &reaction, who).await.0,
        StatusCode::NO_CONTENT
    );
    gateway.dispatch("MESSAGE_REACTION_REMOVE").await;

    // A fault injected over the control API meets the bot's next call, and only that one.
    let (status, _) = control
        .call(
            Method::POST,
            "/faults/fail_next",
            json!({"route": "POST /channels/{channel_id}/messages", "status": 503}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let path = format!("/channels/{channel}/messages");
    assert_eq!(
        bot.post(&path, &json!({"content": "a"}))
            .await
            .status
            .as_u16(),
        503
    );
    assert_eq!(
        bot.post(&path, &json!({"content": "b"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        control
            .call(
                Method::POST,
                "/faults/drop_gateway_connections",
                json!(null)
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        gateway.close_code().await,
        None,
        "dropped without a close frame"
    );

    // `--rate-limits unlimited`: a burst Discord would limit is served in full ...
    for n in 0..20 {
        let answer = bot
            .post(&path, &json!({"content": format!("burst {n}")}))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "burst {n}: {:?}",
            answer.body
        );
    }
    let (_, stats) = control.call(Method::GET, "/stats", json!(null)).await;
    assert_eq!(stats["rate_limited_count"], 0);
    // ... and Discord's limits, switched on over the control API, bite: 5 per 5 s per channel.
    let (status, _) = control
        .call(Method::PUT, "/rate_limits", json!({"preset": "discord"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut statuses = Vec::new();
    for n in 0..6 {
        statuses.push(
            bot.post(&path, &json!({"content": format!("limited {n}")}))
                .await
                .status,
        );
    }
    assert_eq!(statuses[..5], [StatusCode::OK; 5]);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_control_calls_and_arguments_say_what_is_wrong() {
    let binary = Binary::start(&[]);
    let control = binary.control();
    let cases = [
        (Method::POST, "/users", json!({}), "missing field `name`"),
        (
            Method::POST,
            "/users",
            json!({"name": "x", "nmae": 1}),
            "unknown field `nmae`",
        ),
        (
            Method::PUT,
            "/rate_limits",
            json!({"preset": "fast"}),
            "preset: unknown preset `fast`",
        ),
        (
            Method::POST,
            "/channels/general/messages",
            json!({"user_id": "1", "content": "x"}),
            "channel: `general` is not a snowflake",
        ),
        (
            Method::POST,
            "/faults/fail_next",
            json!({"route": "POST /nowhere"}),
            "route pattern `POST /nowhere`",
        ),
    ];
    for (method, path, body, expected) in cases {
        let (status, answer) = control.call(method.clone(), path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{method} {path}: {message}");
    }
    let (status, _) = control.call(Method::GET, "/nothing", json!(null)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let refused = Command::new(env!("CARGO_BIN_EXE_discord-emulator"))
        .args(["--rate-limits", "fast"])
        .output()
        .expect("the binary runs");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--rate-limits: `fast` is not a preset"),
        "{stderr}"
    );
}
