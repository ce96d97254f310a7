//! The rendered HTML through a Bot API server's own HTML parser (the project's Telegram
//! emulator, which parses `parse_mode: HTML` as Telegram documents it): hostile text is always
//! accepted, shows as the text it is, and makes no entity but the formatting asked for — no
//! mention, no link to a refused scheme.

use connector_telegram::markup::{TELEGRAM_LIMIT, split, to_html};
use serde_json::{Value, json};
use telegram_emulator::{Config, Emulator};

async fn send_html(emulator: &Emulator, chat: i64, html: &str) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/sendMessage", emulator.bot_url()))
        .json(&json!({ "chat_id": chat, "text": html, "parse_mode": "HTML" }))
        .send()
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(answer["ok"], true, "Telegram refused {html:?}: {answer}");
    answer["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_markdown_is_accepted_and_shows_as_text() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let operator = emulator.add_user("Operator");
    let chat = emulator.private_chat(&operator);
    let hostile = "<b>not bold</b> </i> & <tg-spoiler>x</tg-spoiler> [click](javascript:alert(1)) \
                   @admin **bold** `a<b` [ok](https://example.org/?a=1&b=\"2\") *unclosed";
    let message = send_html(&emulator, chat, &to_html(hostile)).await;
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains("<b>not bold</b> </i> & <tg-spoiler>x</tg-spoiler>"),
        "{text}"
    );
    assert!(text.contains("@\u{2060}admin"), "{text}");
    let kinds: Vec<&str> = message["entities"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        ["bold", "code", "text_link"],
        "only the formatting asked for: {message}"
    );
    assert_eq!(
        message["entities"][2]["url"],
        "https://example.org/?a=1&b=\"2\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_part_of_a_long_text_is_accepted() {
    let emulator = Emulator::start(Config::default()).expect("start the emulator");
    let operator = emulator.add_user("Operator");
    let chat = emulator.private_chat(&operator);
    let long = "😀 **@someone** & <x> ".repeat(1200);
    let parts = split(&long).unwrap();
    assert!(parts.len() > 2, "{} parts", parts.len());
    for part in &parts {
        let message = send_html(&emulator, chat, &to_html(part)).await;
        let units = message["text"].as_str().unwrap().encode_utf16().count();
        assert!(units <= TELEGRAM_LIMIT, "{units}");
    }
}
