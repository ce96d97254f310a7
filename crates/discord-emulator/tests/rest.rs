//! REST behaviour beyond shapes: nonce dedupe, attachments, ordering and paging, threads and
//! their THREAD_CREATED message, permissions, the control API, and injected faults.

mod common;

use common::Api;
use discord_emulator::{Config, Emulator, RateLimits, message_type};
use reqwest::{Method, multipart};
use serde_json::json;

fn start() -> Emulator {
    Emulator::start(Config::default().rate_limits(RateLimits::unlimited())).unwrap()
}

#[tokio::test]
async fn enforce_nonce_returns_the_first_message_instead_of_a_duplicate() {
    let emu = start();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    let body = json!({"content": "exactly once", "nonce": "retry-1", "enforce_nonce": true});
    let first = bot.post(&path, &body).await;
    let second = bot.post(&path, &body).await;
    assert_eq!((first.status.as_u16(), second.status.as_u16()), (200, 200));
    assert_eq!(first.json()["id"], second.json()["id"]);
    assert_eq!(first.json()["nonce"], "retry-1");
    assert_eq!(emu.messages(emu.channel_id()).len(), 1);

    // Without enforce_nonce, the same nonce makes a new message.
    bot.post(&path, &json!({"content": "again", "nonce": "retry-1"}))
        .await;
    assert_eq!(emu.messages(emu.channel_id()).len(), 2);
    // Another author's nonce is theirs.
    let operator = emu.add_user("operator");
    let user = Api::user(&emu.base_url(), &operator.token);
    let theirs = user.post(&path, &body).await;
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    // Nonces over 25 characters are refused.
    let long = bot
        .post(&path, &json!({"content": "x", "nonce": "n".repeat(26)}))
        .await;
    assert_eq!(long.status, 400);
    assert_eq!(
        long.json()["errors"]["nonce"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
}

#[tokio::test]
async fn nonces_are_forgotten_after_the_window() {
    let emu = Emulator::start(
        Config::default()
            .rate_limits(RateLimits::unlimited())
            .nonce_window(std::time::Duration::from_millis(100)),
    )
    .unwrap();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    let body = json!({"content": "x", "nonce": 7, "enforce_nonce": true});
    let first = bot.post(&path, &body).await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let later = bot.post(&path, &body).await;
    assert_ne!(first.json()["id"], later.json()["id"]);
}

#[tokio::test]
async fn too_long_content_is_an_invalid_form_body() {
    let emu = start();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    let answer = bot.post(&path, &json!({"content": "é".repeat(2001)})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        &json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
        ]}}})
    );
    assert_eq!(
        bot.post(&path, &json!({"content": "é".repeat(2000)}))
            .await
            .status,
        200,
        "characters, not bytes"
    );
    assert_eq!(
        bot.post(&path, &json!({"content": "   "})).await.json()["code"],
        50006
    );
}

#[tokio::test]
async fn multipart_uploads_become_downloadable_attachments() {
    let emu = start();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let form = multipart::Form::new()
        .text(
            "payload_json",
            json!({"content": "two files", "attachments": [
                {"id": 0, "description": "first"}, {"id": 1, "filename": "renamed.md"}
            ]})
            .to_string(),
        )
        .part(
            "files[0]",
            multipart::Part::bytes(b"alpha".to_vec())
                .file_name("a.txt")
                .mime_str("text/plain")
                .unwrap(),
        )
        .part(
            "files[1]",
            multipart::Part::bytes(vec![0u8, 159, 146, 150]).file_name("b.bin"),
        );
    let answer = bot
        .send(
            bot.request(
                Method::POST,
                &format!("/channels/{}/messages", emu.channel_id()),
            )
            .multipart(form),
        )
        .await;
    assert_eq!(answer.status, 200);
    let attachments = answer.json()["attachments"].as_array().unwrap().clone();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["filename"], "a.txt");
    assert_eq!(attachments[0]["description"], "first");
    assert_eq!(attachments[0]["content_type"], "text/plain");
    assert_eq!(attachments[0]["size"], 5);
    assert_eq!(attachments[1]["filename"], "renamed.md");
    let url = attachments[1]["url"].as_str().unwrap();
    assert!(url.starts_with(&emu.base_url()));
    let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), &[0u8, 159, 146, 150]);
    // A file alone is a message.
    let form = multipart::Form::new().part(
        "files[0]",
        multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
    );
    let only_file = bot
        .send(
            bot.request(
                Method::POST,
                &format!("/channels/{}/messages", emu.channel_id()),
            )
            .multipart(form),
        )
        .await;
    assert_eq!(only_file.status, 200);
    assert_eq!(only_file.json()["content"], "");
}

#[tokio::test]
async fn messages_list_newest_first_and_page_like_discord() {
    let emu = start();
    let operator = emu.add_user("operator");
    let ids: Vec<String> = (0..7)
        .map(|i| {
            emu.post_as(&operator, emu.channel_id(), &format!("m{i}"))
                .unwrap()
                .id
                .to_string()
        })
        .collect();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let list = |query: String| {
        let bot = bot.clone();
        let path = format!("/channels/{}/messages{query}", emu.channel_id());
        async move {
            let answer = bot.get(&path).await;
            answer
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(list(String::new()).await, newest_first);
    assert_eq!(list("?limit=2".into()).await, newest_first[..2]);
    // `after` gives the messages right after the id, still newest first.
    assert_eq!(
        list(format!("?after={}&limit=2", ids[1])).await,
        vec![ids[3].clone(), ids[2].clone()]
    );
    assert_eq!(
        list(format!("?before={}&limit=2", ids[3])).await,
        vec![ids[2].clone(), ids[1].clone()]
    );
    assert_eq!(
        list(format!("?around={}&limit=3", ids[3])).await,
        vec![ids[4].clone(), ids[3].clone(), ids[2].clone()]
    );
    let both = bot
        .get(&format!(
            "/channels/{}/messages?before=1&after=2",
            emu.channel_id()
        ))
        .await;
    assert_eq!(both.json()["code"], 50035);
    assert_eq!(
        bot.get(&format!(
            "/channels/{}/messages?limit=101",
            emu.channel_id()
        ))
        .await
        .json()["code"],
        50035
    );
    // The control API answers oldest first.
    let oldest_first: Vec<String> = emu
        .messages(emu.channel_id())
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(oldest_first, ids);
}

#[tokio::test]
async fn threads_from_messages_post_a_thread_created_message() {
    let emu = start();
    let operator = emu.add_user("operator");
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let root = emu
        .post_as(&operator, emu.channel_id(), "start here")
        .unwrap();
    let thread = bot
        .post(
            &format!(
                "/channels/{}/messages/{}/threads",
                emu.channel_id(),
                root.id
            ),
            &json!({"name": "work"}),
        )
        .await;
    assert_eq!(thread.status, 201);
    assert_eq!(thread.json()["id"], root.id.to_string());
    assert_eq!(
        thread.json()["member"]["user_id"],
        emu.bot_user_id().to_string()
    );

    let parent = emu.messages(emu.channel_id());
    assert_eq!(parent.len(), 2);
    assert_eq!(parent[0].thread_id, Some(root.id));
    let system = &parent[1];
    assert_eq!(system.kind, message_type::THREAD_CREATED);
    assert_eq!(system.content, "work");
    assert_eq!(system.author_id, emu.bot_user_id());
    assert_eq!(
        system.reference.as_ref().map(|r| r.channel_id),
        Some(root.id)
    );

    let in_thread = emu.messages(root.id);
    assert_eq!(in_thread.len(), 1);
    assert_eq!(in_thread[0].kind, message_type::THREAD_STARTER_MESSAGE);
    let starter = bot
        .get(&format!(
            "/channels/{}/messages/{}",
            root.id, in_thread[0].id
        ))
        .await;
    assert_eq!(
        starter.json()["referenced_message"]["id"],
        root.id.to_string()
    );
    assert_eq!(starter.json()["content"], "");

    let info = emu.thread(root.id).unwrap();
    assert_eq!(
        (info.parent_id, info.owner_id, info.members.clone()),
        (emu.channel_id(), emu.bot_user_id(), vec![emu.bot_user_id()])
    );
    assert_eq!(
        bot.get(&format!("/channels/{}", root.id)).await.json()["message_count"],
        0
    );
    bot.post(
        &format!("/channels/{}/messages", root.id),
        &json!({"content": "reply"}),
    )
    .await;
    let channel = bot.get(&format!("/channels/{}", root.id)).await;
    assert_eq!(
        (
            channel.json()["message_count"].clone(),
            channel.json()["total_message_sent"].clone()
        ),
        (json!(1), json!(1))
    );

    // A thread from a message younger than the configured age posts no THREAD_CREATED.
    let emu = Emulator::start(
        Config::default()
            .rate_limits(RateLimits::unlimited())
            .thread_created_min_age(std::time::Duration::from_secs(60)),
    )
    .unwrap();
    let operator = emu.add_user("operator");
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let root = emu.post_as(&operator, emu.channel_id(), "fresh").unwrap();
    bot.post(
        &format!(
            "/channels/{}/messages/{}/threads",
            emu.channel_id(),
            root.id
        ),
        &json!({"name": "w"}),
    )
    .await;
    assert_eq!(emu.messages(emu.channel_id()).len(), 1);
}

#[tokio::test]
async fn the_hidden_channel_is_missing_access_for_the_bot_only() {
    let emu = start();
    let operator = emu.add_user("operator");
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let user = Api::user(&emu.base_url(), &operator.token);
    let path = format!("/channels/{}/messages", emu.hidden_channel_id());
    let refused = bot.post(&path, &json!({"content": "x"})).await;
    assert_eq!(
        (refused.status.as_u16(), refused.json().clone()),
        (403, json!({"message": "Missing Access", "code": 50001}))
    );
    assert_eq!(user.post(&path, &json!({"content": "x"})).await.status, 200);
    let unknown = bot.get("/channels/42").await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.json().clone()),
        (404, json!({"message": "Unknown Channel", "code": 10003}))
    );
    let no_message = bot
        .get(&format!("/channels/{}/messages/42", emu.channel_id()))
        .await;
    assert_eq!(
        no_message.json(),
        &json!({"message": "Unknown Message", "code": 10008})
    );
    let anonymous = Api::with_auth(&emu.base_url(), Some(emu.bot_token().to_owned()));
    let unauthorized = anonymous.get("/users/@me").await;
    assert_eq!(
        (unauthorized.status.as_u16(), unauthorized.json().clone()),
        (401, json!({"message": "401: Unauthorized", "code": 0}))
    );
    let channel = emu.add_channel("visible-later", true);
    assert_eq!(bot.get(&format!("/channels/{channel}")).await.status, 200);
}

#[tokio::test]
async fn a_lost_response_still_creates_the_message() {
    let emu = start();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    emu.faults()
        .lose_next_response("POST /channels/{channel_id}/messages")
        .unwrap();
    let lost = bot
        .request(Method::POST, &path)
        .json(&json!({"content": "did it land?"}))
        .send()
        .await;
    assert!(lost.is_err(), "the client sees an error: {lost:?}");
    let stored = emu.messages(emu.channel_id());
    assert_eq!(stored.len(), 1, "the message exists");
    assert_eq!(stored[0].content, "did it land?");
    assert_eq!(emu.requests().last().unwrap().status, None);
    // The next request is answered normally.
    assert_eq!(
        bot.post(&path, &json!({"content": "next"})).await.status,
        200
    );
}

#[tokio::test]
async fn injected_failures_answer_then_stop() {
    let emu = start();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let path = format!("/channels/{}/messages", emu.channel_id());
    emu.faults()
        .fail_next(
            &format!("POST /channels/{}/messages", emu.channel_id()),
            2,
            503,
        )
        .unwrap();
    for _ in 0..2 {
        let failed = bot.post(&path, &json!({"content": "x"})).await;
        assert_eq!(failed.status, 503);
        assert_eq!(
            failed.json(),
            &json!({"message": "503: Service Unavailable", "code": 0})
        );
    }
    assert_eq!(bot.post(&path, &json!({"content": "x"})).await.status, 200);
    assert_eq!(
        emu.messages(emu.channel_id()).len(),
        1,
        "failed requests had no effect"
    );
    // Patterns must name an emulated route.
    assert!(
        emu.faults()
            .fail_next("POST /channels/{channel_id}/messagez", 1, 500)
            .is_err()
    );
    assert!(
        emu.faults()
            .fail_next("POST /channels/{channel_id}/messages", 1, 200)
            .is_err()
    );
}

#[tokio::test]
async fn reactions_and_edits_follow_the_rules() {
    let emu = start();
    let operator = emu.add_user("operator");
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let theirs = emu.post_as(&operator, emu.channel_id(), "theirs").unwrap();
    let path = format!("/channels/{}/messages/{}", emu.channel_id(), theirs.id);
    let react = |emoji: &'static str| {
        bot.send(bot.request(Method::PUT, &format!("{path}/reactions/{emoji}/@me")))
    };
    assert_eq!(react("%F0%9F%91%8D").await.status, 204);
    assert_eq!(
        react("%F0%9F%91%8D").await.status,
        204,
        "reacting twice is fine"
    );
    let unknown = react("thumbsup").await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.json()["code"].clone()),
        (400, json!(10014))
    );
    let message = emu.message(emu.channel_id(), theirs.id).unwrap();
    assert_eq!(message.reactions.len(), 1);
    assert_eq!(message.reactions[0].users, vec![emu.bot_user_id()]);
    let seen = bot.get(&path).await;
    assert_eq!(seen.json()["reactions"][0]["me"], true);
    assert_eq!(seen.json()["reactions"][0]["count"], 1);
    let edit = bot
        .json(Method::PATCH, &path, &json!({"content": "not yours"}))
        .await;
    assert_eq!(
        (edit.status.as_u16(), edit.json()["code"].clone()),
        (403, json!(50005))
    );
}

#[tokio::test]
async fn get_reactions_pages_the_users_by_id() {
    let emu = start();
    let operator = emu.add_user("operator");
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let theirs = emu.post_as(&operator, emu.channel_id(), "vote").unwrap();
    let mut handles: Vec<_> = (0..30)
        .map(|i| emu.add_user(&format!("voter{i}")))
        .collect();
    handles.sort_by_key(|h| std::cmp::Reverse(h.id));
    // Reacting in descending id order: the answer is still by ascending id.
    for handle in &handles {
        emu.react_as(handle, emu.channel_id(), theirs.id, "👍")
            .unwrap();
    }
    let mut voters: Vec<_> = handles.iter().map(|h| h.id).collect();
    voters.sort_unstable();
    let path = format!(
        "/channels/{}/messages/{}/reactions/%F0%9F%91%8D",
        emu.channel_id(),
        theirs.id
    );
    let ids = |answer: &common::Answer| -> Vec<String> {
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected: Vec<String> = voters.iter().map(ToString::to_string).collect();
    let first = bot.get(&path).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        ids(&first),
        expected[..25],
        "25 by default, lowest ids first"
    );
    let rest = bot
        .get(&format!("{path}?after={}&limit=100", expected[24]))
        .await;
    assert_eq!(ids(&rest), expected[25..]);
    let one = bot.get(&format!("{path}?limit=1")).await;
    assert_eq!(ids(&one), expected[..1]);
    assert_eq!(
        ids(&bot.get(&format!("{path}?type=1")).await),
        Vec::<String>::new()
    );
    let nobody = bot
        .get(&format!(
            "/channels/{}/messages/{}/reactions/%F0%9F%8E%89",
            emu.channel_id(),
            theirs.id
        ))
        .await;
    assert_eq!((nobody.status.as_u16(), ids(&nobody).len()), (200, 0));
    for (query, field) in [
        ("limit=101", "limit"),
        ("type=7", "type"),
        ("after=x", "after"),
    ] {
        let bad = bot.get(&format!("{path}?{query}")).await;
        assert_eq!(
            (bad.status.as_u16(), bad.json()["code"].clone()),
            (400, json!(50035)),
            "{query}"
        );
        assert!(
            bad.json()["errors"][field].is_object(),
            "{query}: {:?}",
            bad.json()
        );
    }
    let unknown_emoji = bot
        .get(&format!(
            "/channels/{}/messages/{}/reactions/thumbsup",
            emu.channel_id(),
            theirs.id
        ))
        .await;
    assert_eq!(
        (
            unknown_emoji.status.as_u16(),
            unknown_emoji.json()["code"].clone()
        ),
        (400, json!(10014))
    );
    let unknown_message = bot
        .get(&format!(
            "/channels/{}/messages/1/reactions/%F0%9F%91%8D",
            emu.channel_id()
        ))
        .await;
    assert_eq!(
        (
            unknown_message.status.as_u16(),
            unknown_message.json()["code"].clone()
        ),
        (404, json!(10008))
    );
    let hidden = bot
        .get(&format!(
            "/channels/{}/messages/1/reactions/%F0%9F%91%8D",
            emu.hidden_channel_id()
        ))
        .await;
    assert_eq!(
        (hidden.status.as_u16(), hidden.json()["code"].clone()),
        (403, json!(50001))
    );

    // The message object counts them (docs, message, "Reaction Object").
    let message = bot
        .get(&format!(
            "/channels/{}/messages/{}",
            emu.channel_id(),
            theirs.id
        ))
        .await;
    assert_eq!(
        message.json()["reactions"],
        json!([{
            "count": 30,
            "count_details": {"burst": 0, "normal": 30},
            "me": false,
            "me_burst": false,
            "emoji": {"id": null, "name": "👍"},
            "burst_colors": [],
        }])
    );
}

#[test]
fn post_as_works_without_an_async_runtime() {
    let emu = start();
    let operator = emu.add_user("operator");
    let m = emu.post_as(&operator, emu.channel_id(), "sync").unwrap();
    assert_eq!(emu.message(emu.channel_id(), m.id).unwrap().content, "sync");
    assert!(
        emu.post_as(&operator, discord_emulator::Snowflake(1), "x")
            .is_err()
    );
    assert!(
        emu.post_as(&operator, emu.channel_id(), &"x".repeat(2001))
            .is_err()
    );
}

#[tokio::test]
async fn permissions_follow_roles_and_overwrites() {
    use discord_emulator::permission::{
        ADMINISTRATOR, CREATE_PUBLIC_THREADS, EVERYONE, SEND_MESSAGES, SEND_MESSAGES_IN_THREADS,
        VIEW_CHANNEL,
    };
    let emu = start();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let channel = emu.channel_id();
    let guild = emu.guild_id();
    let path = format!("/channels/{channel}/messages");
    let missing = json!({"message": "Missing Permissions", "code": 50013});
    assert_eq!(emu.bot_permissions(channel), EVERYONE);

    // @everyone may not post: 50013, and nothing is stored.
    emu.set_everyone_permissions(EVERYONE & !SEND_MESSAGES);
    let refused = bot.post(&path, &json!({"content": "x"})).await;
    assert_eq!((refused.status.as_u16(), refused.json()), (403, &missing));
    assert!(emu.messages(channel).is_empty());

    // A role of the bot grants it back; the guild's roles and the bot's member show it.
    let role = emu.add_role("bots", SEND_MESSAGES);
    emu.assign_role(emu.bot_user_id(), role).unwrap();
    assert_eq!(bot.post(&path, &json!({"content": "x"})).await.status, 200);
    let member = bot
        .get(&format!("/guilds/{guild}/members/{}", emu.bot_user_id()))
        .await;
    assert_eq!(member.json()["roles"], json!([role.to_string()]));
    let roles = bot.get(&format!("/guilds/{guild}")).await;
    assert_eq!(roles.json()["roles"].as_array().unwrap().len(), 2);

    // Overwrites: @everyone denies, the role's allows, the member's denies — in that order.
    emu.set_everyone_permissions(EVERYONE);
    emu.set_channel_overwrite(channel, guild, 0, SEND_MESSAGES)
        .unwrap();
    assert_eq!(
        emu.bot_permissions(channel) & SEND_MESSAGES,
        0,
        "the @everyone overwrite beats a role's base permission"
    );
    emu.set_channel_overwrite(channel, role, SEND_MESSAGES, 0)
        .unwrap();
    assert_eq!(
        emu.bot_permissions(channel) & SEND_MESSAGES,
        SEND_MESSAGES,
        "the role's overwrite allows it back"
    );
    let plain = emu.add_role("plain", 0);
    let operator = emu.add_user("operator");
    emu.assign_role(operator.id, plain).unwrap();
    let user = Api::user(&emu.base_url(), &operator.token);
    assert_eq!(user.post(&path, &json!({"content": "x"})).await.status, 403);
    emu.set_channel_overwrite(channel, plain, SEND_MESSAGES, 0)
        .unwrap();
    assert_eq!(user.post(&path, &json!({"content": "x"})).await.status, 200);
    emu.set_channel_overwrite(channel, operator.id, 0, SEND_MESSAGES)
        .unwrap();
    assert_eq!(user.post(&path, &json!({"content": "x"})).await.status, 403);
    let shown = bot.get(&format!("/channels/{channel}")).await;
    assert_eq!(
        shown.json()["permission_overwrites"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Threads: creating one needs CREATE_PUBLIC_THREADS, posting in it SEND_MESSAGES_IN_THREADS
    // (taken from the parent's overwrites).
    let root = emu
        .post_as(&emu.add_user("writer"), channel, "root")
        .unwrap_err();
    assert!(root.to_string().contains("50013"), "{root}");
    emu.remove_channel_overwrite(channel, guild).unwrap();
    let root = emu.post_as(&operator, emu.channel_id(), "root");
    assert!(
        root.is_err(),
        "the member overwrite still denies the operator"
    );
    emu.remove_channel_overwrite(channel, operator.id).unwrap();
    let root = emu.post_as(&operator, channel, "root").unwrap();
    emu.set_channel_overwrite(channel, emu.bot_user_id(), 0, CREATE_PUBLIC_THREADS)
        .unwrap();
    let threads = format!("/channels/{channel}/messages/{}/threads", root.id);
    let no_thread = bot.post(&threads, &json!({"name": "t"})).await;
    assert_eq!(
        (no_thread.status.as_u16(), no_thread.json()),
        (403, &missing)
    );
    emu.set_channel_overwrite(channel, emu.bot_user_id(), 0, SEND_MESSAGES_IN_THREADS)
        .unwrap();
    assert_eq!(bot.post(&threads, &json!({"name": "t"})).await.status, 201);
    let in_thread = bot
        .post(
            &format!("/channels/{}/messages", root.id),
            &json!({"content": "x"}),
        )
        .await;
    assert_eq!(
        (in_thread.status.as_u16(), in_thread.json()),
        (403, &missing)
    );

    // ADMINISTRATOR overrides every overwrite; without VIEW_CHANNEL there is nothing.
    let admin = emu.add_role("admin", ADMINISTRATOR);
    emu.assign_role(emu.bot_user_id(), admin).unwrap();
    assert_eq!(
        emu.bot_permissions(root.id),
        discord_emulator::permission::ALL
    );
    emu.set_everyone_permissions(EVERYONE & !VIEW_CHANNEL);
    assert_ne!(emu.bot_permissions(channel), 0, "still an administrator");
}

#[tokio::test]
async fn the_application_shows_its_privileged_intents_and_a_reset_token_is_refused() {
    let emu = Emulator::start(
        Config::default()
            .rate_limits(RateLimits::unlimited())
            .granted_privileged_intents(discord_emulator::Intents::MESSAGE_CONTENT),
    )
    .unwrap();
    let bot = Api::bot(&emu.base_url(), emu.bot_token());
    let app = bot.get("/applications/@me").await;
    assert_eq!(
        app.json()["flags"],
        1 << 19,
        "GATEWAY_MESSAGE_CONTENT_LIMITED"
    );
    assert_eq!(app.json()["id"], emu.bot_user_id().to_string());
    emu.revoke_privileged_intents(discord_emulator::Intents::MESSAGE_CONTENT);
    assert_eq!(bot.get("/applications/@me").await.json()["flags"], 0);

    let new_token = emu.reset_bot_token();
    assert_eq!(bot.get("/users/@me").await.status, 401);
    let renewed = Api::bot(&emu.base_url(), &new_token);
    assert_eq!(renewed.get("/users/@me").await.status, 200);
}
