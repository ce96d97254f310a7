//! The emulator over real HTTP, as a client library calls it: every answer's `result` is
//! checked against api.json by the shared client.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use telegram_emulator::Post;

use common::start;

#[tokio::test]
async fn requests_are_read_in_every_encoding_and_errors_look_like_telegrams() {
    let (emulator, bot) = start();
    let me = bot.call("getMe", json!({})).await;
    assert_eq!(me.result()["id"], emulator.bot_id());
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);

    let form = bot
        .http
        .post(format!("{}/sendmessage", bot.url))
        .form(&[("chat_id", chat.to_string()), ("text", "form".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(bot.read("sendMessage", form).await.result()["text"], "form");
    let query = bot
        .http
        .get(format!("{}/sendMessage", bot.url))
        .query(&[("chat_id", chat.to_string()), ("text", "query".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bot.read("sendMessage", query).await.result()["text"],
        "query"
    );
    let parts = reqwest::multipart::Form::new()
        .text("chat_id", chat.to_string())
        .text("text", "multipart");
    let multipart = bot
        .http
        .post(format!("{}/sendMessage", bot.url))
        .multipart(parts)
        .send()
        .await
        .unwrap();
    assert_eq!(
        bot.read("sendMessage", multipart).await.result()["text"],
        "multipart"
    );

    let wrong_token = bot
        .http
        .post(format!("{}/bot123:wrong/getMe", emulator.base_url()))
        .send()
        .await
        .unwrap();
    insta::assert_json_snapshot!("unauthorized", bot.read("getMe", wrong_token).await.body);
    let unknown = bot
        .http
        .post(format!("{}/sendMesage", bot.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    insta::assert_json_snapshot!(
        "unknown_method",
        unknown.json::<serde_json::Value>().await.unwrap()
    );
    insta::assert_json_snapshot!(
        "missing_chat_id",
        bot.call("sendMessage", json!({"text": "x"})).await.body
    );
    insta::assert_json_snapshot!(
        "wrong_type",
        bot.call(
            "sendMessage",
            json!({"chat_id": chat, "text": "x", "message_thread_id": "a"})
        )
        .await
        .body
    );
    insta::assert_json_snapshot!(
        "chat_not_found",
        bot.call("sendMessage", json!({"chat_id": 42, "text": "x"}))
            .await
            .body
    );
    let ignored = bot
        .call(
            "sendMessage",
            json!({"chat_id": chat, "text": "x", "no_such_parameter": 1}),
        )
        .await;
    assert_eq!(ignored.status, 200, "unknown parameters are ignored");
}

#[tokio::test]
async fn long_polls_wait_confirm_and_conflict() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);

    let started = Instant::now();
    let empty = bot.call("getUpdates", json!({"timeout": 1})).await;
    assert_eq!(empty.result(), &json!([]));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the timeout is honoured"
    );

    let waiting = tokio::spawn({
        let (http, url) = (bot.http.clone(), bot.url.clone());
        async move {
            common::Bot { http, url }
                .call("getUpdates", json!({"timeout": 10}))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    emulator.post_as(&user, chat, "hello").unwrap();
    let woke = waiting.await.unwrap();
    let updates = woke.result().as_array().unwrap().clone();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["message"]["text"], "hello");
    let first_id = updates[0]["update_id"].as_i64().unwrap();

    emulator.post_as(&user, chat, "again").unwrap();
    let both = bot.call("getUpdates", json!({})).await;
    assert_eq!(
        both.result().as_array().unwrap().len(),
        2,
        "unconfirmed updates come again"
    );
    let rest = bot
        .call("getUpdates", json!({"offset": first_id + 1}))
        .await;
    let rest = rest.result().as_array().unwrap().clone();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["update_id"], first_id + 1, "ids increase by one");
    bot.call("getUpdates", json!({"offset": first_id + 2}))
        .await;
    assert_eq!(
        emulator.pending_updates(),
        0,
        "a higher offset forgets them"
    );

    let first = tokio::spawn({
        let (http, url) = (bot.http.clone(), bot.url.clone());
        async move {
            common::Bot { http, url }
                .call("getUpdates", json!({"timeout": 10}))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = tokio::spawn({
        let (http, url) = (bot.http.clone(), bot.url.clone());
        async move {
            common::Bot { http, url }
                .call("getUpdates", json!({"timeout": 1}))
                .await
        }
    });
    let terminated = first.await.unwrap();
    assert_eq!(terminated.status, 409);
    insta::assert_json_snapshot!("terminated_by_other_poll", terminated.body);
    assert_eq!(second.await.unwrap().status, 200);

    bot.call("setWebhook", json!({"url": "https://example.org/hook"}))
        .await;
    let info = bot.call("getWebhookInfo", json!({})).await;
    assert_eq!(info.result()["url"], "https://example.org/hook");
    insta::assert_json_snapshot!(
        "webhook_active",
        bot.call("getUpdates", json!({})).await.body
    );
    bot.call("deleteWebhook", json!({})).await;
    assert_eq!(bot.call("getUpdates", json!({})).await.status, 200);
}

#[tokio::test]
async fn the_bots_own_messages_are_never_updates_and_old_ones_expire() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    bot.call(
        "sendMessage",
        json!({"chat_id": chat, "text": "from the bot"}),
    )
    .await;
    assert_eq!(emulator.pending_updates(), 0);
    emulator.post_as(&user, chat, "old").unwrap();
    emulator.advance_time(Duration::from_secs(24 * 60 * 60));
    assert_eq!(bot.call("getUpdates", json!({})).await.result(), &json!([]));
}

#[tokio::test]
async fn topic_replies_stay_in_their_topic() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let forum = emulator.add_forum("Ops", &[&user]);
    let created = bot
        .call(
            "createForumTopic",
            json!({"chat_id": forum, "name": "incident"}),
        )
        .await;
    let topic = created.result()["message_thread_id"].as_i64().unwrap();
    let asked = emulator
        .post(&user, forum, Post::text("is it down?").in_topic(topic))
        .unwrap();
    let updates = bot.call("getUpdates", json!({})).await;
    let message = &updates.result()[0]["message"];
    assert_eq!(message["message_thread_id"], topic);
    assert_eq!(message["is_topic_message"], true);

    let reply = bot
        .call(
            "sendMessage",
            json!({"chat_id": forum, "text": "looking", "reply_parameters": {"message_id": asked}}),
        )
        .await;
    assert_eq!(
        reply.result()["message_thread_id"],
        topic,
        "a reply lands in the replied message's topic"
    );
    assert_eq!(reply.result()["reply_to_message"]["message_id"], asked);
    let general = bot
        .call("sendMessage", json!({"chat_id": forum, "text": "general"}))
        .await;
    assert!(
        general.result().get("message_thread_id").is_none(),
        "no thread id: General"
    );
    let in_general = bot
        .call(
            "sendMessage",
            json!({"chat_id": forum, "text": "general too", "message_thread_id": 1}),
        )
        .await;
    assert!(in_general.result().get("message_thread_id").is_none());
    insta::assert_json_snapshot!(
        "thread_not_found",
        bot.call(
            "sendMessage",
            json!({"chat_id": forum, "text": "x", "message_thread_id": 999})
        )
        .await
        .body
    );
    let stored = emulator
        .message(forum, reply.result()["message_id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(stored.thread_id, Some(topic));
}

#[tokio::test]
async fn html_is_parsed_and_lengths_count_utf16_units() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    let sent = bot.call("sendMessage", json!({"chat_id": chat, "text": "<b>bold</b> &amp; <a href=\"https://e.org\">link</a>", "parse_mode": "HTML"})).await;
    assert_eq!(sent.result()["text"], "bold & link");
    assert_eq!(
        sent.result()["entities"][0],
        json!({"type": "bold", "offset": 0, "length": 4})
    );
    insta::assert_json_snapshot!(
        "unsupported_tag",
        bot.call(
            "sendMessage",
            json!({"chat_id": chat, "text": "<div>x</div>", "parse_mode": "HTML"})
        )
        .await
        .body
    );
    insta::assert_json_snapshot!(
        "unclosed_tag",
        bot.call(
            "sendMessage",
            json!({"chat_id": chat, "text": "<b>x", "parse_mode": "HTML"})
        )
        .await
        .body
    );

    let fits = "😀".repeat(2048);
    assert_eq!(
        bot.call("sendMessage", json!({"chat_id": chat, "text": fits}))
            .await
            .status,
        200,
        "4096 UTF-16 units fit"
    );
    let too_long = format!("<b>{}</b>", "😀".repeat(2048) + "a");
    insta::assert_json_snapshot!(
        "too_long",
        bot.call(
            "sendMessage",
            json!({"chat_id": chat, "text": too_long, "parse_mode": "HTML"})
        )
        .await
        .body
    );
    insta::assert_json_snapshot!(
        "empty_text",
        bot.call(
            "sendMessage",
            json!({"chat_id": chat, "text": "<b></b>", "parse_mode": "HTML"})
        )
        .await
        .body
    );
}

#[tokio::test]
async fn inline_buttons_are_clicked_and_answered() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    let keyboard = json!({"inline_keyboard": [[{"text": "Approve", "callback_data": "yes"}, {"text": "Deny", "callback_data": "no"}]]});
    let sent = bot
        .call(
            "sendMessage",
            json!({"chat_id": chat, "text": "Run it?", "reply_markup": keyboard}),
        )
        .await;
    let id = sent.result()["message_id"].as_i64().unwrap();
    assert_eq!(sent.result()["reply_markup"], keyboard);
    assert!(emulator.click(&user, chat, id, "maybe").is_err());
    let query = emulator.click(&user, chat, id, "yes").unwrap();
    let updates = bot.call("getUpdates", json!({})).await;
    let callback = &updates.result()[0]["callback_query"];
    assert_eq!(callback["id"], query);
    assert_eq!(callback["data"], "yes");
    assert_eq!(callback["message"]["message_id"], id);
    bot.call(
        "answerCallbackQuery",
        json!({"callback_query_id": query, "text": "Approved", "show_alert": true}),
    )
    .await
    .result();
    let seen = emulator.callback_answer(&query).unwrap();
    assert_eq!(seen.text.as_deref(), Some("Approved"));
    assert!(seen.show_alert);
    insta::assert_json_snapshot!(
        "answered_twice",
        bot.call("answerCallbackQuery", json!({"callback_query_id": query}))
            .await
            .body
    );

    let edited = bot
        .call(
            "editMessageText",
            json!({"chat_id": chat, "message_id": id, "text": "Approved"}),
        )
        .await;
    assert!(
        edited.result().get("reply_markup").is_none(),
        "an edit without reply_markup drops the keyboard"
    );
    insta::assert_json_snapshot!(
        "not_modified",
        bot.call(
            "editMessageText",
            json!({"chat_id": chat, "message_id": id, "text": "Approved"})
        )
        .await
        .body
    );
    bot.call(
        "editMessageReplyMarkup",
        json!({"chat_id": chat, "message_id": id, "reply_markup": keyboard}),
    )
    .await
    .result();
    let stored = emulator.message(chat, id).unwrap();
    assert_eq!(stored.history.len(), 2);
    assert_eq!(stored.history[0].text.as_deref(), Some("Run it?"));
    insta::assert_json_snapshot!("callback_data_too_long", bot.call("sendMessage", json!({"chat_id": chat, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x".repeat(65)}]]}})).await.body);
}

#[tokio::test]
async fn reactions_arrive_only_when_asked_for() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    let sent = bot
        .call("sendMessage", json!({"chat_id": chat, "text": "react"}))
        .await;
    let id = sent.result()["message_id"].as_i64().unwrap();
    emulator.react_as(&user, chat, id, "👍").unwrap();
    assert_eq!(
        bot.call("getUpdates", json!({})).await.result(),
        &json!([]),
        "off by default"
    );
    bot.call(
        "getUpdates",
        json!({"allowed_updates": ["message", "message_reaction"]}),
    )
    .await;
    emulator.react_as(&user, chat, id, "🔥").unwrap();
    let updates = bot.call("getUpdates", json!({})).await;
    let reaction = &updates.result()[0]["message_reaction"];
    assert_eq!(
        reaction["old_reaction"],
        json!([{"type": "emoji", "emoji": "👍"}])
    );
    assert_eq!(
        reaction["new_reaction"],
        json!([{"type": "emoji", "emoji": "🔥"}])
    );
    bot.call(
        "setMessageReaction",
        json!({"chat_id": chat, "message_id": id, "reaction": [{"type": "emoji", "emoji": "👀"}]}),
    )
    .await
    .result();
    assert_eq!(
        emulator.message(chat, id).unwrap().bot_reaction,
        vec!["👀".to_owned()]
    );
}

#[tokio::test]
async fn a_lost_response_still_sends_exactly_once() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    emulator.faults().lose_next_response("sendMessage").unwrap();
    let lost = bot
        .try_call("sendMessage", json!({"chat_id": chat, "text": "once"}))
        .await;
    assert!(lost.is_err(), "the client sees no answer");
    let sent: Vec<_> = emulator
        .messages(chat)
        .into_iter()
        .filter(|m| m.from == emulator.bot_id())
        .collect();
    assert_eq!(sent.len(), 1, "but the message was sent");
    assert_eq!(
        bot.call("sendMessage", json!({"chat_id": chat, "text": "next"}))
            .await
            .status,
        200
    );

    emulator
        .faults()
        .fail_next_rate_limited("sendMessage", 1, 5)
        .unwrap();
    insta::assert_json_snapshot!(
        "rate_limited",
        bot.call("sendMessage", json!({"chat_id": chat, "text": "x"}))
            .await
            .body
    );
    emulator.faults().fail_next("getMe", 1, 500).unwrap();
    insta::assert_json_snapshot!("injected_500", bot.call("getMe", json!({})).await.body);
    emulator.faults().fail_next("getMe", 1, 502).unwrap();
    let gateway = bot
        .http
        .post(format!("{}/getMe", bot.url))
        .send()
        .await
        .unwrap();
    assert_eq!(gateway.status(), 502);
    assert!(gateway.text().await.unwrap().contains("502 Bad Gateway"));
    emulator
        .faults()
        .delay("getMe", Duration::from_millis(300))
        .unwrap();
    let started = Instant::now();
    bot.call("getMe", json!({})).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        emulator.messages(chat).len(),
        2,
        "failed calls send nothing"
    );
}

#[tokio::test]
async fn stop_and_restart_keep_state_on_the_same_port() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    emulator.post_as(&user, chat, "before").unwrap();
    emulator.stop();
    assert!(bot.try_call("getMe", json!({})).await.is_err());
    emulator.restart().unwrap();
    let updates = bot.call("getUpdates", json!({})).await;
    assert_eq!(updates.result()[0]["message"]["text"], "before");
}

#[tokio::test]
async fn documents_are_uploaded_and_downloaded() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let chat = emulator.private_chat(&user);
    let form = reqwest::multipart::Form::new()
        .text("chat_id", chat.to_string())
        .text("caption", "the log")
        .part(
            "document",
            reqwest::multipart::Part::bytes(b"line 1\n".to_vec()).file_name("log.txt"),
        );
    let response = bot
        .http
        .post(format!("{}/sendDocument", bot.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let sent = bot.read("sendDocument", response).await;
    assert_eq!(sent.result()["caption"], "the log");
    let file_id = sent.result()["document"]["file_id"].clone();
    let file = bot.call("getFile", json!({"file_id": file_id})).await;
    let path = file.result()["file_path"].as_str().unwrap().to_owned();
    let bytes = bot
        .http
        .get(format!(
            "{}/file/bot{}/{path}",
            emulator.base_url(),
            emulator.token()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"line 1\n");
    insta::assert_json_snapshot!("photo_not_an_image", {
        let form = reqwest::multipart::Form::new()
            .text("chat_id", chat.to_string())
            .part(
                "photo",
                reqwest::multipart::Part::bytes(b"nope".to_vec()).file_name("a.png"),
            );
        let response = bot
            .http
            .post(format!("{}/sendPhoto", bot.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        bot.read("sendPhoto", response).await.body
    });

    emulator
        .post(
            &user,
            chat,
            Post::text("see attached").document("notes.md", b"# hi".to_vec()),
        )
        .unwrap();
    let updates = bot.call("getUpdates", json!({})).await;
    assert_eq!(
        updates.result()[0]["message"]["document"]["file_name"],
        "notes.md"
    );
    assert_eq!(updates.result()[0]["message"]["caption"], "see attached");
}

#[tokio::test]
async fn privacy_mode_hides_chatter_in_groups() {
    let (emulator, bot) = start();
    let user = emulator.add_user("Operator");
    let group = emulator.add_group("Team", &[&user]);
    emulator.post_as(&user, group, "just chatting").unwrap();
    emulator.post_as(&user, group, "/status").unwrap();
    emulator.post_as(&user, group, "hey @emulator_bot").unwrap();
    let updates = bot.call("getUpdates", json!({})).await;
    let texts: Vec<_> = updates
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message"]["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("/status"), json!("hey @emulator_bot")]);
    assert_eq!(
        updates.result()[0]["message"]["entities"][0]["type"],
        "bot_command"
    );
    emulator.set_privacy_mode(false);
    emulator.post_as(&user, group, "now visible").unwrap();
    let member = bot
        .call(
            "getChatMember",
            json!({"chat_id": group, "user_id": user.id}),
        )
        .await;
    assert_eq!(member.result()["status"], "member");
    bot.call("getChat", json!({"chat_id": group}))
        .await
        .result();
    bot.call(
        "sendChatAction",
        json!({"chat_id": group, "action": "typing"}),
    )
    .await
    .result();
    assert_eq!(
        emulator.chat_actions(group),
        vec![(None, "typing".to_owned())]
    );
    let updates = bot.call("getUpdates", json!({"offset": -1})).await;
    assert_eq!(updates.result()[0]["message"]["text"], "now visible");
}
