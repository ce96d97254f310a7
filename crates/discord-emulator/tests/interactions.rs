//! Buttons and interactions over real HTTP and a real gateway socket: components on Create and
//! Edit Message (and their Invalid Form Body errors), a click as INTERACTION_CREATE, the
//! callback (types 4–7, once only, within the deadline), ephemeral replies, the follow-up
//! webhook, the control API's click, and serenity reading what the emulator sends.

mod common;

use std::time::Duration;

use common::{Api, Gateway, spec};
use discord_emulator::{
    Config, Emulator, Error, InteractionHandle, RateLimits, Seen, Snowflake, UserHandle,
    message_flag,
};
use reqwest::Method;
use serde_json::{Value, json};

const GUILDS: u64 = 1;
const GUILD_MESSAGES: u64 = 1 << 9;
const MESSAGE_CONTENT: u64 = 1 << 15;

fn start(config: Config) -> Emulator {
    Emulator::start(config.rate_limits(RateLimits::unlimited())).unwrap()
}

/// Identifies with `intents` and reads READY (and GUILD_CREATE with GUILDS).
async fn ready(emu: &Emulator, intents: u64) -> Gateway {
    let (mut gw, _) = Gateway::open(&emu.gateway_url()).await;
    gw.identify(emu.bot_token(), intents).await;
    assert_eq!(gw.next().await["t"], "READY");
    if intents & GUILDS != 0 {
        assert_eq!(gw.next().await["t"], "GUILD_CREATE");
    }
    gw
}

fn buttons() -> Value {
    json!([{"type": 1, "components": [
        {"type": 2, "style": 3, "label": "Yes", "custom_id": "answer:yes"},
        {"type": 2, "style": 4, "label": "No", "custom_id": "answer:no"},
        {"type": 2, "style": 2, "label": "Later", "custom_id": "answer:later", "disabled": true},
        {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com/docs"},
    ]}])
}

/// The bot asks a question with buttons in `channel`; answers the message's id.
async fn ask(bot: &Api, channel: Snowflake) -> Snowflake {
    let answer = bot
        .post(
            &format!("/channels/{channel}/messages"),
            &json!({"content": "Deploy?", "components": buttons()}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.json()["id"].as_str().unwrap().parse().unwrap()
}

/// An emulator whose bot asked a question with [`buttons`] in the visible channel, the user
/// "operator" who will answer it, and the question's id.
async fn question(config: Config) -> (Emulator, Api, UserHandle, Snowflake) {
    let emu = start(config);
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let operator = emu.add_user("operator");
    let message = ask(&bot, emu.channel_id()).await;
    (emu, bot, operator, message)
}

fn callback_path(click: &InteractionHandle) -> String {
    format!("/interactions/{}/{}/callback", click.id, click.token)
}

/// Replaces what changes from run to run: snowflakes, timestamps, tokens.
fn redact(value: &mut Value, token: &str) {
    match value {
        Value::String(s) if s == token => *s = "[token]".to_owned(),
        Value::String(s) if s.len() >= 15 && s.bytes().all(|b| b.is_ascii_digit()) => {
            *s = "[snowflake]".to_owned();
        }
        Value::String(s) if s.ends_with("+00:00") => *s = "[timestamp]".to_owned(),
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let mut inner = map.remove(&key).unwrap_or(Value::Null);
                redact(&mut inner, token);
                let key = if key.len() >= 15 && key.bytes().all(|b| b.is_ascii_digit()) {
                    "[snowflake]".to_owned()
                } else {
                    key
                };
                map.insert(key, inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, token)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_are_checked_stored_and_dispatched() {
    let emu = start(Config::default());
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let mut gw = ready(&emu, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT).await;
    let msgs = format!("/channels/{}/messages", emu.channel_id());
    let bad = [
        (
            "too_many_rows",
            json!((0..6).map(|i| json!({"type": 1, "components": [{"type": 2, "style": 1, "custom_id": format!("r{i}")}]})).collect::<Vec<_>>()),
        ),
        (
            "row_of_six_buttons",
            json!([{"type": 1, "components": (0..6).map(|i| json!({"type": 2, "style": 1, "custom_id": format!("b{i}")})).collect::<Vec<_>>()}]),
        ),
        (
            "long_label_and_custom_id",
            json!([{"type": 1, "components": [
                {"type": 2, "style": 1, "label": "l".repeat(81), "custom_id": "c".repeat(101)},
            ]}]),
        ),
        (
            "duplicate_custom_id",
            json!([
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "same"}]},
                {"type": 1, "components": [{"type": 2, "style": 2, "custom_id": "same"}]},
            ]),
        ),
        (
            "styles_and_their_fields",
            json!([{"type": 1, "components": [
                {"type": 2, "style": 1, "label": "no custom_id"},
                {"type": 2, "style": 5, "label": "link with custom_id", "custom_id": "l"},
                {"type": 2, "style": 9, "custom_id": "s"},
            ]}]),
        ),
        (
            "not_a_row",
            json!([{"type": 2, "style": 1, "custom_id": "loose"}]),
        ),
    ];
    for (name, components) in bad {
        let answer = bot
            .post(&msgs, &json!({"content": "x", "components": components}))
            .await;
        assert_eq!(answer.status, 400, "{name}");
        assert_eq!(
            spec().check_component("ErrorResponse", answer.json()),
            Vec::<String>::new()
        );
        insta::assert_json_snapshot!(format!("components_error_{name}"), answer.json());
    }
    // A question with buttons: stored with ids, answered and dispatched with them.
    let created = bot
        .post(
            &msgs,
            &json!({"content": "Deploy?", "components": buttons()}),
        )
        .await;
    assert_eq!(created.status, 200);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let components = &created.json()["components"];
    assert_eq!(components[0]["id"], 1);
    assert_eq!(components[0]["components"][0]["id"], 2);
    assert_eq!(components[0]["components"][0]["custom_id"], "answer:yes");
    assert_eq!(components[0]["components"][2]["disabled"], true);
    let event = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(&event["d"]["components"], components);
    let fetched = bot.get(&format!("{msgs}/{id}")).await;
    assert_eq!(&fetched.json()["components"], components);
    // Components alone make a message.
    let only = bot.post(&msgs, &json!({"components": buttons()})).await;
    assert_eq!(only.status, 200, "{:?}", only.body);
    // `components: []` removes them.
    let edited = bot
        .json(
            Method::PATCH,
            &format!("{msgs}/{id}"),
            &json!({"components": []}),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["components"], json!([]));
    let update = gw.dispatch("MESSAGE_UPDATE").await;
    assert_eq!(update["d"]["components"], json!([]));
    assert!(
        emu.message(emu.channel_id(), id.parse().unwrap())
            .unwrap()
            .components
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_dispatches_interaction_create_whatever_the_intents() {
    let (emu, _, operator, message) = question(Config::default()).await;
    // No GUILD_MESSAGES: interactions are not gated by intents.
    let mut gw = ready(&emu, GUILDS).await;
    let click = emu
        .click_as(&operator, emu.channel_id(), message, "answer:yes")
        .unwrap();
    let event = gw.dispatch("INTERACTION_CREATE").await;
    let d = &event["d"];
    assert_eq!(d["id"], click.id.to_string());
    assert_eq!(d["token"], click.token);
    assert_eq!(d["application_id"], emu.bot_user_id().to_string());
    assert_eq!(d["member"]["user"]["id"], operator.id.to_string());
    assert_eq!(d["message"]["id"], message.to_string());
    let mut shape = d.clone();
    redact(&mut shape, &click.token);
    insta::assert_json_snapshot!("interaction_create_button", shape);
    // The embedded message is a message as the spec describes it.
    assert_eq!(
        spec().check_component("MessageResponse", &d["message"]),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_clicks() {
    let (emu, _, operator, message) = question(Config::default()).await;
    let ch = emu.channel_id();
    for (custom_id, reason) in [("answer:maybe", "no button"), ("answer:later", "disabled")] {
        let refused = emu.click_as(&operator, ch, message, custom_id).unwrap_err();
        assert!(
            matches!(refused, Error::Click { .. }),
            "{reason}: {refused}"
        );
    }
    let missing = emu
        .click_as(&operator, ch, Snowflake(1), "answer:yes")
        .unwrap_err();
    assert!(
        matches!(missing, Error::Api { code: 10008, .. }),
        "{missing}"
    );
    let hidden = emu
        .click_as(&operator, emu.hidden_channel_id(), message, "answer:yes")
        .unwrap_err();
    assert!(matches!(hidden, Error::Api { code: 10008, .. }), "{hidden}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_message_edits_the_question_once_only() {
    let (emu, _, operator, message) = question(Config::default()).await;
    let nobody = Api::with_auth(&emu.base_url(), None);
    let mut gw = ready(&emu, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT).await;
    let click = emu
        .click_as(&operator, emu.channel_id(), message, "answer:yes")
        .unwrap();
    gw.dispatch("INTERACTION_CREATE").await;
    let body =
        json!({"type": 7, "data": {"content": "Deploy? — yes, by operator", "components": []}});
    // No Authorization: the token in the path is the credential.
    let answer = nobody
        .post(
            &format!("{}?with_response=true", callback_path(&click)),
            &body,
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.json()["interaction"]["id"], click.id.to_string());
    assert_eq!(answer.json()["resource"]["type"], 7);
    assert_eq!(
        answer.json()["resource"]["message"]["content"],
        "Deploy? — yes, by operator"
    );
    let update = gw.dispatch("MESSAGE_UPDATE").await;
    assert_eq!(update["d"]["id"], message.to_string());
    assert_eq!(update["d"]["components"], json!([]));
    let stored = emu.message(emu.channel_id(), message).unwrap();
    assert!(stored.components.is_empty());
    let seen = emu.seen_by(&operator, click.id);
    assert!(
        matches!(&seen[..], [Seen::Edited(m)] if m.id == message),
        "{seen:?}"
    );
    // Respond once only.
    let again = nobody.post(&callback_path(&click), &body).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["code"], 40060);
    insta::assert_json_snapshot!("callback_twice", again.json());
    // A wrong token or an unknown id.
    let wrong = nobody
        .post(
            &format!("/interactions/{}/not-the-token/callback", click.id),
            &body,
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.json()["code"].clone()),
        (404, json!(10062))
    );
    let unknown = nobody
        .post(&format!("/interactions/1/{}/callback", click.token), &body)
        .await;
    assert_eq!(unknown.json()["code"], 10062);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_reply_reaches_only_the_clicker() {
    let (emu, bot, operator, message) = question(Config::default()).await;
    let bystander = emu.add_user("bystander");
    let click = emu
        .click_as(&operator, emu.channel_id(), message, "answer:no")
        .unwrap();
    let answer = bot
        .post(
            &format!("{}?with_response=true", callback_path(&click)),
            &json!({"type": 4, "data": {"content": "Only you can see this", "flags": 64}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.json()["interaction"]["response_message_ephemeral"],
        true
    );
    let reply = &answer.json()["resource"]["message"];
    assert_eq!(reply["flags"], 64);
    assert_eq!(reply["type"], 19);
    assert_eq!(
        reply["message_reference"]["message_id"],
        message.to_string()
    );
    assert_eq!(
        reply["interaction_metadata"]["interacted_message_id"],
        message.to_string()
    );
    let seen = emu.seen_by(&operator, click.id);
    assert!(
        matches!(&seen[..], [Seen::Message(m)] if m.content == "Only you can see this"
            && m.flags & message_flag::EPHEMERAL != 0),
        "{seen:?}"
    );
    assert_eq!(emu.seen_by(&bystander, click.id), Vec::new());
    // In no channel's history.
    assert!(
        emu.messages(emu.channel_id())
            .iter()
            .all(|m| m.content != "Only you can see this")
    );
    let history = Api::user(&emu.base_url(), &bystander.token)
        .get(&format!("/channels/{}/messages", emu.channel_id()))
        .await;
    assert!(
        history
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["flags"] != 64),
        "{:?}",
        history.json()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_or_missing_answer_fails_the_interaction() {
    let (emu, bot, operator, message) =
        question(Config::default().interaction_deadline(Duration::from_millis(200))).await;
    let late = emu
        .click_as(&operator, emu.channel_id(), message, "answer:yes")
        .unwrap();
    let unanswered = emu
        .click_as(&operator, emu.channel_id(), message, "answer:no")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = bot.post(&callback_path(&late), &json!({"type": 6})).await;
    assert_eq!(answer.status, 404);
    insta::assert_json_snapshot!("callback_late", answer.json());
    assert_eq!(emu.seen_by(&operator, late.id), vec![Seen::Failed]);
    assert_eq!(emu.seen_by(&operator, unanswered.id), vec![Seen::Failed]);
    // The token died with it.
    let followup = bot
        .post(
            &format!("/webhooks/{}/{}", emu.bot_user_id(), late.token),
            &json!({"content": "too late"}),
        )
        .await;
    assert_eq!(
        (followup.status.as_u16(), followup.json()["code"].clone()),
        (401, json!(50027))
    );
    // A delayed INTERACTION_CREATE eats the deadline too.
    emu.faults().delay_interactions(Duration::from_millis(300));
    let mut gw = ready(&emu, GUILDS).await;
    let delayed = emu
        .click_as(&operator, emu.channel_id(), message, "answer:yes")
        .unwrap();
    let event = gw.dispatch("INTERACTION_CREATE").await;
    assert_eq!(event["d"]["id"], delayed.id.to_string());
    let answer = bot
        .post(&callback_path(&delayed), &json!({"type": 6}))
        .await;
    assert_eq!(answer.json()["code"], 10062);
    assert_eq!(emu.seen_by(&operator, delayed.id), vec![Seen::Failed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_responses_and_followups() {
    let (emu, bot, operator, message) = question(Config::default()).await;
    let bystander = emu.add_user("bystander");
    let mut gw = ready(&emu, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT).await;
    let click = emu
        .click_as(&operator, emu.channel_id(), message, "answer:yes")
        .unwrap();
    let hook = format!("/webhooks/{}/{}", emu.bot_user_id(), click.token);
    // A follow-up before any response: no webhook yet.
    let early = bot.post(&hook, &json!({"content": "early"})).await;
    assert_eq!(early.json()["code"], 10015);
    let deferred = bot.post(&callback_path(&click), &json!({"type": 5})).await;
    assert_eq!(deferred.status, 204);
    let loading = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(loading["d"]["flags"], message_flag::LOADING);
    let original = bot
        .json(
            Method::PATCH,
            &format!("{hook}/messages/@original"),
            &json!({"content": "Deploying…"}),
        )
        .await;
    assert_eq!(original.status, 200, "{:?}", original.body);
    assert_eq!(original.json()["flags"], 0);
    assert_eq!(
        gw.dispatch("MESSAGE_UPDATE").await["d"]["content"],
        "Deploying…"
    );
    let got = bot.get(&format!("{hook}/messages/@original")).await;
    assert_eq!(got.json()["content"], "Deploying…");
    let followup = bot
        .post(
            &hook,
            &json!({"content": "Only for you: done", "flags": 64}),
        )
        .await;
    assert_eq!(followup.status, 200, "{:?}", followup.body);
    let followup_id = followup.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        followup.json()["interaction_metadata"]["original_response_message_id"],
        original.json()["id"]
    );
    let edited = bot
        .json(
            Method::PATCH,
            &format!("{hook}/messages/{followup_id}"),
            &json!({"content": "Only for you: done (edited)"}),
        )
        .await;
    assert_eq!(edited.json()["content"], "Only for you: done (edited)");
    let deleted = bot.delete(&format!("{hook}/messages/{followup_id}")).await;
    assert_eq!(deleted.status, 204);
    let gone = bot.get(&format!("{hook}/messages/{followup_id}")).await;
    assert_eq!(gone.json()["code"], 10008);
    let wrong_app = bot
        .get(&format!("/webhooks/1/{}/messages/@original", click.token))
        .await;
    assert_eq!(wrong_app.json()["code"], 10015);
    let seen = emu.seen_by(&operator, click.id);
    assert!(
        matches!(
            &seen[..],
            [
                Seen::Thinking { ephemeral: false },
                Seen::Edited(_),
                Seen::Message(_),
                Seen::Edited(_),
                Seen::Deleted(_),
            ]
        ),
        "{seen:?}"
    );
    // The bystander saw the public part: the thinking message, its edit, the deletion.
    assert_eq!(emu.seen_by(&bystander, click.id).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire() {
    let (emu, bot, operator, message) =
        question(Config::default().interaction_token_lifetime(Duration::from_millis(300))).await;
    let click = emu
        .click_as(&operator, emu.channel_id(), message, "answer:yes")
        .unwrap();
    let answer = bot.post(&callback_path(&click), &json!({"type": 6})).await;
    assert_eq!(answer.status, 204);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let hook = format!("/webhooks/{}/{}", emu.bot_user_id(), click.token);
    let expired = bot.post(&hook, &json!({"content": "later"})).await;
    assert_eq!(expired.json()["code"], 50027);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_in_a_thread() {
    let emu = start(Config::default());
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let operator = emu.add_user("operator");
    let thread = bot
        .post(
            &format!("/channels/{}/threads", emu.channel_id()),
            &json!({"name": "questions", "type": 11}),
        )
        .await;
    let thread: Snowflake = thread.json()["id"].as_str().unwrap().parse().unwrap();
    let message = ask(&bot, thread).await;
    let mut gw = ready(&emu, GUILDS).await;
    let click = emu
        .click_as(&operator, thread, message, "answer:yes")
        .unwrap();
    let d = gw.dispatch("INTERACTION_CREATE").await["d"].clone();
    assert_eq!(d["channel_id"], thread.to_string());
    assert_eq!(d["channel"]["type"], 11);
    assert_eq!(d["channel"]["parent_id"], emu.channel_id().to_string());
    let answer = bot
        .post(
            &callback_path(&click),
            &json!({"type": 4, "data": {"content": "Noted."}}),
        )
        .await;
    assert_eq!(answer.status, 204);
    assert!(emu.messages(thread).iter().any(|m| m.content == "Noted."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_clicks_too() {
    let (emu, bot, operator, message) = question(Config::default()).await;
    let control = reqwest::Client::new();
    let base = format!("{}/_emulator", emu.base_url());
    let click: Value = control
        .post(format!(
            "{base}/channels/{}/messages/{message}/click",
            emu.channel_id()
        ))
        .json(&json!({"user_id": operator.id.to_string(), "custom_id": "answer:yes"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (
        click["id"].as_str().unwrap(),
        click["token"].as_str().unwrap(),
    );
    let answer = bot
        .post(
            &format!("/interactions/{id}/{token}/callback"),
            &json!({"type": 4, "data": {"content": "ok", "flags": 64}}),
        )
        .await;
    assert_eq!(answer.status, 204);
    let seen: Value = control
        .get(format!("{base}/interactions/{id}/seen_by/{}", operator.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen[0]["kind"], "message");
    assert_eq!(seen[0]["message"]["content"], "ok");
    let refused = control
        .post(format!(
            "{base}/channels/{}/messages/{message}/click",
            emu.channel_id()
        ))
        .json(&json!({"user_id": operator.id.to_string(), "custom_id": "answer:later"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_reads_the_interaction_and_the_question() {
    use serenity::model::{application::Interaction, channel::Message};
    let emu = start(Config::default());
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let operator = emu.add_user("operator");
    let mut gw = ready(&emu, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT).await;
    let message = ask(&bot, emu.channel_id()).await;
    let created = gw.dispatch("MESSAGE_CREATE").await;
    let question: Message = serde_json::from_value(created["d"].clone()).unwrap();
    assert_eq!(question.components.len(), 1);
    assert_eq!(question.components[0].components.len(), 4);
    emu.click_as(&operator, emu.channel_id(), message, "answer:no")
        .unwrap();
    let event = gw.dispatch("INTERACTION_CREATE").await;
    let interaction: Interaction = serde_json::from_value(event["d"].clone()).unwrap();
    let Interaction::Component(click) = interaction else {
        panic!("a component interaction: {event}");
    };
    assert_eq!(click.data.custom_id, "answer:no");
    assert_eq!(click.user.id.get(), operator.id.get());
    assert_eq!(click.message.id.get(), message.get());
    assert_eq!(click.channel_id.get(), emu.channel_id().get());
    assert_eq!(click.application_id.get(), emu.bot_user_id().get());
    assert!(click.member.is_some() && click.guild_id.is_some());
    // serenity's own request bodies for the callback are Discord's: type 7 with data.
    let response = json!({"type": 7, "data": {"content": "No, then.", "components": []}});
    let answer = bot
        .post(
            &format!("/interactions/{}/{}/callback", click.id, click.token),
            &response,
        )
        .await;
    assert_eq!(answer.status, 204);
}
