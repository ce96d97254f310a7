//! Gateway conformance with a raw WebSocket client: Hello, Identify, READY, heartbeats,
//! sequence numbers, Resume with exact replay, Reconnect (op 7), Invalid Session (op 9), close
//! codes, intents filtering and the MESSAGE_CONTENT rule.

mod common;

use std::time::Duration;

use common::{Api, Gateway, Read, eventually, spec};
use discord_emulator::{Config, Emulator, Intents, RateLimits, close_code};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

const GUILDS: u64 = 1;
const GUILD_MESSAGES: u64 = 1 << 9;
const REACTIONS: u64 = 1 << 10;
const TYPING: u64 = 1 << 11;
const MESSAGE_CONTENT: u64 = 1 << 15;
const BOT_INTENTS: u64 = GUILDS | GUILD_MESSAGES | REACTIONS | MESSAGE_CONTENT;

fn start(config: Config) -> Emulator {
    Emulator::start(config.rate_limits(RateLimits::unlimited())).unwrap()
}

/// Opens, identifies and reads READY (and GUILD_CREATE when GUILDS is asked for).
async fn ready(emu: &Emulator, intents: u64) -> (Gateway, Value) {
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.identify(emu.bot_token(), intents).await;
    let ready = gw.next().await;
    assert_eq!(ready["t"], "READY", "{ready}");
    if intents & GUILDS != 0 {
        let guild = gw.next().await;
        assert_eq!(guild["t"], "GUILD_CREATE", "{guild}");
    }
    (gw, ready)
}

fn problems(component: &str, value: &Value) -> Vec<String> {
    spec()
        .check(
            &json!({"$ref": format!("#/components/schemas/{component}")}),
            value,
        )
        .into_iter()
        // Gateway payloads carry documented extras the REST schemas lack.
        .filter(|p| !p.starts_with("undeclared field"))
        .collect()
}

#[tokio::test]
async fn hello_identify_ready_guild_create_and_heartbeats() {
    let emu = start(Config::default());
    let api = Api::bot(&emu.base_url(), emu.bot_token());
    let gateway = api.get("/gateway").await;
    let url = gateway.json()["url"].as_str().unwrap().to_owned();
    assert!(!url.contains('?'), "the URL carries no query string");

    let (mut gw, hello) = Gateway::open(&url).await;
    assert_eq!(
        hello,
        json!({"op": 10, "d": {"heartbeat_interval": 41_250}, "s": null, "t": null})
    );
    gw.send(json!({"op": 1, "d": null})).await;
    assert_eq!(
        gw.next().await,
        json!({"op": 11, "d": null, "s": null, "t": null})
    );

    gw.identify(&format!("Bot {}", emu.bot_token()), BOT_INTENTS)
        .await;
    let ready = gw.next().await;
    assert_eq!(
        (ready["op"].clone(), ready["t"].clone(), ready["s"].clone()),
        (json!(0), json!("READY"), json!(1))
    );
    let d = &ready["d"];
    assert_eq!(d["v"], 10);
    assert_eq!(d["user"]["id"], emu.bot_user_id().to_string());
    assert_eq!(d["user"]["bot"], true);
    assert_eq!(
        d["guilds"],
        json!([{"id": emu.guild_id().to_string(), "unavailable": true}])
    );
    assert_eq!(d["session_id"].as_str().map(str::len), Some(32));
    assert_eq!(d["resume_gateway_url"], url);
    assert_eq!(d["application"]["id"], emu.bot_user_id().to_string());
    assert!(d["application"]["flags"].is_u64());
    assert_eq!(
        problems("UserPIIResponse", &d["user"]),
        Vec::<String>::new()
    );

    let guild = gw.next().await;
    assert_eq!(
        (guild["t"].clone(), guild["s"].clone()),
        (json!("GUILD_CREATE"), json!(2))
    );
    let g = &guild["d"];
    assert_eq!(problems("GuildResponse", g), Vec::<String>::new());
    let channels = g["channels"].as_array().unwrap();
    let ids: Vec<_> = channels
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&emu.channel_id().to_string()));
    assert!(
        ids.contains(&emu.hidden_channel_id().to_string()),
        "GUILD_CREATE lists every channel"
    );
    for channel in channels {
        assert_eq!(
            problems("GuildChannelResponse", channel),
            Vec::<String>::new()
        );
    }
    assert_eq!(g["threads"], json!([]));
    assert_eq!(g["members"][0]["user"]["id"], emu.bot_user_id().to_string());

    // Heartbeats keep being answered after Identify.
    gw.send(json!({"op": 1, "d": 2})).await;
    assert_eq!(gw.next().await["op"], 11);
}

#[tokio::test]
async fn dispatches_carry_increasing_sequence_numbers() {
    let emu = start(Config::default());
    let (mut gw, _) = ready(&emu, BOT_INTENTS).await;
    let operator = emu.add_user("operator");
    let api = Api::bot(&emu.base_url(), emu.bot_token());

    emu.post_as(&operator, emu.channel_id(), "from the operator")
        .unwrap();
    let first = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(first["s"], 3);
    let m = &first["d"];
    assert_eq!(m["content"], "from the operator");
    assert_eq!(m["author"]["id"], operator.id.to_string());
    assert_eq!(m["guild_id"], emu.guild_id().to_string());
    assert!(m["member"]["joined_at"].is_string());
    assert_eq!(problems("MessageResponse", m), Vec::<String>::new());

    // Something in the hidden channel is not dispatched to the bot.
    emu.post_as(&operator, emu.hidden_channel_id(), "secret")
        .unwrap();
    let own = api
        .post(
            &format!("/channels/{}/messages", emu.channel_id()),
            &json!({"content": "from the bot"}),
        )
        .await;
    assert_eq!(own.status, 200);
    let second = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(second["s"], 4, "the hidden message took no sequence number");
    assert_eq!(second["d"]["author"]["id"], emu.bot_user_id().to_string());
    assert_eq!(second["d"]["id"], own.json()["id"]);

    // Reactions, edits and typing.
    let id = second["d"]["id"].as_str().unwrap().to_owned();
    let path = format!("/channels/{}/messages/{id}", emu.channel_id());
    let user_api = Api::user(&emu.base_url(), &operator.token);
    assert_eq!(
        user_api
            .send(user_api.request(
                reqwest::Method::PUT,
                &format!("{path}/reactions/%E2%9C%85/@me")
            ))
            .await
            .status,
        204
    );
    let reaction = gw.next().await;
    assert_eq!(
        (reaction["t"].clone(), reaction["s"].clone()),
        (json!("MESSAGE_REACTION_ADD"), json!(5))
    );
    assert_eq!(reaction["d"]["emoji"], json!({"id": null, "name": "✅"}));
    assert_eq!(reaction["d"]["user_id"], operator.id.to_string());
    assert_eq!(
        reaction["d"]["message_author_id"],
        emu.bot_user_id().to_string()
    );
    let edit = api
        .json(reqwest::Method::PATCH, &path, &json!({"content": "edited"}))
        .await;
    assert_eq!(edit.status, 200);
    let update = gw.next().await;
    assert_eq!(
        (update["t"].clone(), update["s"].clone()),
        (json!("MESSAGE_UPDATE"), json!(6))
    );
    assert_eq!(update["d"]["content"], "edited");
    assert!(update["d"]["edited_timestamp"].is_string());
    // TYPING_START needs GUILD_MESSAGE_TYPING, which this session did not ask for.
    assert_eq!(
        api.send(api.request(
            reqwest::Method::POST,
            &format!("/channels/{}/typing", emu.channel_id())
        ))
        .await
        .status,
        204
    );
    gw.quiet(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn resume_after_a_dropped_socket_replays_exactly_the_missed_dispatches() {
    let emu = start(Config::default());
    let operator = emu.add_user("operator");
    let (mut gw, ready) = ready(&emu, BOT_INTENTS).await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();
    let resume_url = ready["d"]["resume_gateway_url"]
        .as_str()
        .unwrap()
        .to_owned();

    emu.post_as(&operator, emu.channel_id(), "seen").unwrap();
    let seen = gw.dispatch("MESSAGE_CREATE").await;
    let last_seq = seen["s"].as_u64().unwrap();

    emu.faults().drop_gateway_connections();
    assert!(
        matches!(
            gw.read(Duration::from_secs(5)).await,
            Some(Read::Closed(None))
        ),
        "dropped without a close frame"
    );
    eventually("the session to be disconnected", || {
        emu.connected_sessions() == 0
    })
    .await;
    let missed: Vec<String> = ["missed one", "missed two"]
        .into_iter()
        .map(|text| {
            emu.post_as(&operator, emu.channel_id(), text)
                .unwrap()
                .id
                .to_string()
        })
        .collect();

    let (mut gw, _) = Gateway::open(&resume_url).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": last_seq}})).await;
    for (i, id) in missed.iter().enumerate() {
        let replayed = gw.next().await;
        assert_eq!(replayed["t"], "MESSAGE_CREATE");
        assert_eq!(replayed["s"], last_seq + 1 + i as u64);
        assert_eq!(&replayed["d"]["id"], id);
    }
    let resumed = gw.next().await;
    assert_eq!(
        (resumed["t"].clone(), resumed["s"].clone()),
        (json!("RESUMED"), json!(last_seq + 3))
    );
    emu.post_as(&operator, emu.channel_id(), "after").unwrap();
    assert_eq!(gw.dispatch("MESSAGE_CREATE").await["s"], last_seq + 4);
    assert_eq!(emu.identify_count(), 1, "Resume is no Identify");

    // Resuming from an earlier sequence number replays from there; the connection that held
    // the session is dropped.
    let (mut again, _) = Gateway::open(&resume_url).await;
    again.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": last_seq + 1}})).await;
    assert_eq!(again.next().await["s"], last_seq + 2);
    assert!(matches!(
        gw.read(Duration::from_secs(5)).await,
        Some(Read::Closed(_))
    ));
}

#[tokio::test]
async fn resume_refusals() {
    let emu = start(Config::default());
    let (mut gw, ready) = ready(&emu, BOT_INTENTS).await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();
    gw.send(json!({"op": 2, "d": {"token": emu.bot_token(), "intents": 1, "properties": {}}}))
        .await;
    assert_eq!(
        gw.close_code().await,
        Some(close_code::ALREADY_AUTHENTICATED)
    );

    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": 99}}))
        .await;
    assert_eq!(gw.close_code().await, Some(close_code::INVALID_SEQ));

    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": "nope", "seq": 1}}))
        .await;
    assert_eq!(
        gw.next().await,
        json!({"op": 9, "d": false, "s": null, "t": null})
    );

    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": "wrong", "session_id": session_id, "seq": 1}}))
        .await;
    assert_eq!(
        gw.close_code().await,
        Some(close_code::AUTHENTICATION_FAILED)
    );
}

#[tokio::test]
async fn a_clean_close_invalidates_the_session() {
    let emu = start(Config::default());
    let (mut gw, ready) = ready(&emu, BOT_INTENTS).await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();
    let normal = CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    };
    gw.ws.close(Some(normal)).await.unwrap();
    eventually("the close to be seen", || emu.connected_sessions() == 0).await;
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": 2}}))
        .await;
    assert_eq!(gw.next().await["op"], 9);
}

/// The closing handshake completes: the client's close frame is answered with one (RFC 6455,
/// 5.5.1), not with a dropped socket, which clients report as an error.
#[tokio::test]
async fn a_client_close_frame_is_answered() {
    let emu = start(Config::default());
    let (mut gw, _) = ready(&emu, BOT_INTENTS).await;
    let normal = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    gw.ws.close(Some(normal)).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match gw.ws.next().await {
                // Dispatches sent before the emulator read the close frame.
                Some(Ok(Frame::Text(_))) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("an answer within 5 s");
    match answer {
        Some(Ok(Frame::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected the close frame echoed, got {other:?}"),
    }
}

#[tokio::test]
async fn reconnect_asks_the_client_to_resume_and_closes_if_it_does_not() {
    let emu = start(Config::default().reconnect_grace(Duration::from_millis(300)));
    let operator = emu.add_user("operator");
    let (mut gw, ready) = ready(&emu, BOT_INTENTS).await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();

    emu.faults().send_reconnect();
    assert_eq!(
        gw.next().await,
        json!({"op": 7, "d": null, "s": null, "t": null})
    );
    // This client keeps the connection open: the server closes it, resumably.
    assert_eq!(gw.close_code().await, Some(close_code::UNKNOWN_ERROR));
    emu.post_as(&operator, emu.channel_id(), "while away")
        .unwrap();

    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": 2}}))
        .await;
    assert_eq!(gw.next().await["d"]["content"], "while away");
    assert_eq!(gw.next().await["t"], "RESUMED");
}

#[tokio::test]
async fn invalid_session_resumable_or_not() {
    let emu = start(Config::default());
    let operator = emu.add_user("operator");
    let (mut gw, ready) = ready(&emu, BOT_INTENTS).await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();

    emu.faults().send_invalid_session(true);
    assert_eq!(
        gw.next().await,
        json!({"op": 9, "d": true, "s": null, "t": null})
    );
    emu.post_as(&operator, emu.channel_id(), "kept").unwrap();
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": 2}}))
        .await;
    assert_eq!(gw.next().await["d"]["content"], "kept");
    assert_eq!(gw.next().await["t"], "RESUMED");

    emu.faults().send_invalid_session(false);
    assert_eq!(
        gw.next().await,
        json!({"op": 9, "d": false, "s": null, "t": null})
    );
    let (mut retry, _) = Gateway::open(&emu.gateway_url()).await;
    retry
        .send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": 3}}))
        .await;
    assert_eq!(retry.next().await["d"], false, "the session is gone");
    // A fresh Identify works, on the same connection too.
    retry.identify(emu.bot_token(), BOT_INTENTS).await;
    let fresh = retry.next().await;
    assert_eq!(fresh["t"], "READY");
    assert_ne!(fresh["d"]["session_id"], session_id);
    assert_eq!(fresh["s"], 1);
}

#[tokio::test]
async fn close_codes_follow_the_docs() {
    let emu = start(Config::default());
    let token = emu.bot_token().to_owned();
    let cases: Vec<(&str, Value, u16)> = vec![
        (
            "bad token",
            json!({"op": 2, "d": {"token": "nope", "intents": 513, "properties": {}}}),
            close_code::AUTHENTICATION_FAILED,
        ),
        (
            "invalid intents",
            json!({"op": 2, "d": {"token": token, "intents": 1u64 << 30, "properties": {}}}),
            close_code::INVALID_INTENTS,
        ),
        (
            "presences not granted",
            json!({"op": 2, "d": {"token": token, "intents": 1 << 8, "properties": {}}}),
            close_code::DISALLOWED_INTENTS,
        ),
        (
            "presence update before identify",
            json!({"op": 3, "d": {}}),
            close_code::NOT_AUTHENTICATED,
        ),
        (
            "unknown opcode",
            json!({"op": 5, "d": {}}),
            close_code::UNKNOWN_OPCODE,
        ),
        (
            "identify without intents",
            json!({"op": 2, "d": {"token": token, "properties": {}}}),
            close_code::UNKNOWN_OPCODE,
        ),
        (
            "bad shard",
            json!({"op": 2, "d": {"token": token, "intents": 1, "properties": {}, "shard": [1, 1]}}),
            close_code::INVALID_SHARD,
        ),
    ];
    for (what, payload, code) in cases {
        let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
        gw.send(payload).await;
        assert_eq!(gw.close_code().await, Some(code), "{what}");
    }
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.ws
        .send(tokio_tungstenite::tungstenite::Message::text("{not json"))
        .await
        .unwrap();
    assert_eq!(gw.close_code().await, Some(close_code::DECODE_ERROR));
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 1, "d": "x".repeat(5000)})).await;
    assert_eq!(
        gw.close_code().await,
        Some(close_code::DECODE_ERROR),
        "payloads over 4096 bytes"
    );
    let mut gw = Gateway::connect(&format!("{}?v=9", emu.gateway_url())).await;
    assert_eq!(gw.close_code().await, Some(close_code::INVALID_API_VERSION));
    assert_eq!(emu.identify_count(), 0);
}

#[tokio::test]
async fn a_client_that_misses_heartbeats_is_disconnected() {
    let emu = start(Config::default().heartbeat_interval(Duration::from_millis(400)));
    let (mut gw, hello) = Gateway::open(&emu.gateway_url()).await;
    assert_eq!(hello["d"]["heartbeat_interval"], 400);
    gw.identify(emu.bot_token(), GUILDS).await;
    // Heartbeating keeps it open past the timeout (1.5 intervals)...
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        gw.send(json!({"op": 1, "d": null})).await;
    }
    // ...and silence closes it.
    assert_eq!(gw.close_code().await, Some(close_code::SESSION_TIMED_OUT));
}

#[tokio::test]
async fn without_message_content_messages_arrive_empty() {
    let emu = start(Config::default());
    let operator = emu.add_user("operator");
    let (mut gw, _) = ready(&emu, GUILDS | GUILD_MESSAGES).await;
    let api = Api::user(&emu.base_url(), &operator.token);
    let sent = api
        .send(
            api.request(
                reqwest::Method::POST,
                &format!("/channels/{}/messages", emu.channel_id()),
            )
            .multipart(
                reqwest::multipart::Form::new()
                    .text(
                        "payload_json",
                        json!({"content": "secret words", "embeds": [{"title": "t"}]}).to_string(),
                    )
                    .part(
                        "files[0]",
                        reqwest::multipart::Part::bytes(b"data".to_vec()).file_name("a.txt"),
                    ),
            ),
        )
        .await;
    assert_eq!(sent.status, 200);
    let blank = gw.dispatch("MESSAGE_CREATE").await["d"].clone();
    assert_eq!(
        (
            blank["content"].clone(),
            blank["embeds"].clone(),
            blank["attachments"].clone()
        ),
        (json!(""), json!([]), json!([]))
    );
    emu.post_as(
        &operator,
        emu.channel_id(),
        &format!("hey <@{}>", emu.bot_user_id()),
    )
    .unwrap();
    assert_eq!(
        gw.dispatch("MESSAGE_CREATE").await["d"]["content"],
        format!("hey <@{}>", emu.bot_user_id()),
        "mentions are exempt"
    );
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    bot.post(
        &format!("/channels/{}/messages", emu.channel_id()),
        &json!({"content": "mine"}),
    )
    .await;
    assert_eq!(
        gw.dispatch("MESSAGE_CREATE").await["d"]["content"],
        "mine",
        "own messages are exempt"
    );

    // Not granted at all: asking for it is 4014, and REST answers empty content too.
    emu.revoke_privileged_intents(Intents::MESSAGE_CONTENT);
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.identify(emu.bot_token(), BOT_INTENTS).await;
    assert_eq!(gw.close_code().await, Some(close_code::DISALLOWED_INTENTS));
    let listed = bot
        .get(&format!("/channels/{}/messages", emu.channel_id()))
        .await;
    let contents: Vec<_> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        contents,
        vec![
            "mine".to_owned(),
            format!("hey <@{}>", emu.bot_user_id()),
            String::new()
        ]
    );
    emu.grant_privileged_intents(Intents::MESSAGE_CONTENT);
    let listed = bot
        .get(&format!("/channels/{}/messages", emu.channel_id()))
        .await;
    assert_eq!(listed.json()[2]["content"], "secret words");
}

#[tokio::test]
async fn intents_filter_dispatches() {
    let emu = start(Config::default());
    let operator = emu.add_user("operator");
    let user = Api::user(&emu.base_url(), &operator.token);
    // GUILDS only: threads, but no messages, reactions or typing.
    let (mut gw, _) = ready(&emu, GUILDS).await;
    let m = emu
        .post_as(&operator, emu.channel_id(), "no MESSAGE_CREATE for this")
        .unwrap();
    let path = format!("/channels/{}/messages/{}", emu.channel_id(), m.id);
    user.send(user.request(
        reqwest::Method::PUT,
        &format!("{path}/reactions/%F0%9F%91%8D/@me"),
    ))
    .await;
    user.send(user.request(
        reqwest::Method::POST,
        &format!("/channels/{}/typing", emu.channel_id()),
    ))
    .await;
    let thread = user
        .post(
            &format!("/channels/{}/threads", emu.channel_id()),
            &json!({"name": "t", "type": 11}),
        )
        .await;
    assert_eq!(thread.status, 201);
    let created = gw.next().await;
    assert_eq!(created["t"], "THREAD_CREATE", "{created}");
    assert_eq!(created["s"], 3, "nothing before it was dispatched");
    assert_eq!(created["d"]["newly_created"], true);
    // The THREAD_CREATED system message is a MESSAGE_CREATE: filtered too.
    gw.quiet(Duration::from_millis(200)).await;

    // Typing with its intent.
    let (mut typing, _) = ready(&emu, GUILDS | TYPING).await;
    user.send(user.request(
        reqwest::Method::POST,
        &format!("/channels/{}/typing", emu.channel_id()),
    ))
    .await;
    let start = typing.dispatch("TYPING_START").await;
    assert_eq!(start["d"]["user_id"], operator.id.to_string());
    assert!(start["d"]["timestamp"].is_u64());
}

#[tokio::test]
async fn threads_fire_their_events() {
    let emu = start(Config::default());
    let operator = emu.add_user("operator");
    let (mut gw, _) = ready(&emu, BOT_INTENTS).await;
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let question = emu
        .post_as(&operator, emu.channel_id(), "question")
        .unwrap();
    gw.dispatch("MESSAGE_CREATE").await;

    let thread = bot
        .post(
            &format!(
                "/channels/{}/messages/{}/threads",
                emu.channel_id(),
                question.id
            ),
            &json!({"name": "answers"}),
        )
        .await;
    assert_eq!(thread.status, 201);
    let created = gw.next().await;
    assert_eq!(created["t"], "THREAD_CREATE");
    assert_eq!(
        created["d"]["id"],
        question.id.to_string(),
        "the thread takes the message's id"
    );
    assert_eq!(created["d"]["type"], 11);
    assert_eq!(created["d"]["parent_id"], emu.channel_id().to_string());
    assert_eq!(created["d"]["newly_created"], true);
    assert_eq!(
        problems("ThreadResponse", &created["d"]),
        Vec::<String>::new()
    );
    let members = gw.next().await;
    assert_eq!(members["t"], "THREAD_MEMBERS_UPDATE");
    assert_eq!(
        members["d"]["added_members"][0]["user_id"],
        emu.bot_user_id().to_string()
    );
    let update = gw.next().await;
    assert_eq!(update["t"], "MESSAGE_UPDATE");
    assert_eq!(update["d"]["thread"]["id"], question.id.to_string());
    let system = gw.next().await;
    assert_eq!(system["t"], "MESSAGE_CREATE");
    assert_eq!(
        system["d"]["type"], 18,
        "THREAD_CREATED in the parent channel"
    );
    assert_eq!(system["d"]["channel_id"], emu.channel_id().to_string());
    assert_eq!(system["d"]["content"], "answers");
    assert_eq!(
        system["d"]["message_reference"]["channel_id"],
        question.id.to_string()
    );

    emu.post_as(&operator, question.id, "in the thread")
        .unwrap();
    let in_thread = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(in_thread["d"]["channel_id"], question.id.to_string());
    assert_eq!(in_thread["d"]["channel_type"], 11);

    // GUILD_CREATE of a new session lists the active thread, with the bot's membership.
    let (mut other, _) = Gateway::open(&emu.gateway_url()).await;
    other.identify(emu.bot_token(), BOT_INTENTS).await;
    let guild = other.dispatch("GUILD_CREATE").await;
    assert_eq!(guild["d"]["threads"][0]["id"], question.id.to_string());
    assert!(guild["d"]["threads"][0]["member"]["join_timestamp"].is_string());
    assert!(guild["d"]["threads"][0]["member"].get("user_id").is_none());

    // Joining a thread someone else started: THREAD_MEMBERS_UPDATE then THREAD_CREATE.
    let user = Api::user(&emu.base_url(), &operator.token);
    let theirs = user
        .post(
            &format!("/channels/{}/threads", emu.channel_id()),
            &json!({"name": "theirs", "type": 11}),
        )
        .await;
    let theirs_id = theirs.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(gw.dispatch("THREAD_CREATE").await["d"]["id"], theirs_id);
    let join = bot
        .send(bot.request(
            reqwest::Method::PUT,
            &format!("/channels/{theirs_id}/thread-members/@me"),
        ))
        .await;
    assert_eq!(join.status, 204);
    let joined = gw.dispatch("THREAD_MEMBERS_UPDATE").await;
    assert_eq!(
        joined["d"]["added_members"][0]["user_id"],
        emu.bot_user_id().to_string()
    );
    let create = gw.next().await;
    assert_eq!(create["t"], "THREAD_CREATE");
    assert_eq!(
        create["d"]["member"]["user_id"],
        emu.bot_user_id().to_string()
    );
}

#[tokio::test]
async fn restart_keeps_state_and_sessions_resume() {
    let emu = start(Config::default());
    let operator = emu.add_user("operator");
    let (mut gw, ready) = ready(&emu, BOT_INTENTS).await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();
    let port = emu.port();
    emu.stop();
    assert!(!emu.is_running());
    assert!(matches!(
        gw.read(Duration::from_secs(5)).await,
        Some(Read::Closed(None))
    ));
    emu.post_as(&operator, emu.channel_id(), "during the outage")
        .unwrap();
    emu.restart().unwrap();
    assert_eq!(emu.port(), port);
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.send(json!({"op": 6, "d": {"token": emu.bot_token(), "session_id": session_id, "seq": 2}}))
        .await;
    assert_eq!(gw.next().await["d"]["content"], "during the outage");
    assert_eq!(gw.next().await["t"], "RESUMED");
    assert_eq!(emu.messages(emu.channel_id()).len(), 1);
}
