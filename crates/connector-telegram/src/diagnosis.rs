//! `diagnose()`: one probe per reason the bot can be deaf or muzzled, each failure with its
//! fix — the token (`getMe`), the chat (`getChat`), forum or not, privacy mode in groups
//! (`can_read_all_group_messages`), the bot's rights (`getChatMember`: can post, can manage
//! topics in a forum), a webhook still set (`getWebhookInfo`) and another poller (409).

use connector_core::Probe;
use serde_json::{Value, json};

use crate::api::Api;
use crate::health::{CONFLICT_FIX, InboundStatus};

/// The probes' names, in order.
pub(crate) const TOKEN: &str = "token";
/// See [`TOKEN`].
pub(crate) const CHAT: &str = "chat";
/// See [`TOKEN`].
pub(crate) const THREADS: &str = "threads";
/// See [`TOKEN`].
pub(crate) const PRIVACY: &str = "privacy mode";
/// See [`TOKEN`].
pub(crate) const RIGHTS: &str = "bot rights";
/// See [`TOKEN`].
pub(crate) const WEBHOOK: &str = "webhook";
/// See [`TOKEN`].
pub(crate) const POLLING: &str = "update polling";

/// Runs every probe for the bot in `chat_id`; `inbound` is the running connector's poller
/// state (`None` from the configuration alone: that probe is skipped).
pub(crate) async fn run(api: &Api, chat_id: i64, inbound: Option<&InboundStatus>) -> Vec<Probe> {
    let mut probes = Vec::new();
    let me = match api.call("getMe", &json!({})).await {
        Ok(me) => {
            let name = me.get("username").and_then(Value::as_str).unwrap_or("?");
            let id = me.get("id").and_then(Value::as_i64).unwrap_or_default();
            probes.push(Probe::pass(
                TOKEN,
                format!("the token belongs to @{name} (id {id})"),
            ));
            me
        }
        Err(failure) => {
            let refused = matches!(failure.status(), Some(401 | 404));
            let probe = Probe::fail(TOKEN, failure.into_error("check the token").to_string());
            probes.push(if refused {
                probe.with_fix(
                    "set TELEGRAM_BOT_TOKEN to the token @BotFather gave the bot (/mybots → \
                     API Token); a revoked token must be replaced",
                )
            } else {
                probe.with_fix(
                    "Telegram (or TELEGRAM_API_BASE_URL) does not answer: check the network \
                     and the proxy settings",
                )
            });
            let why = if refused {
                "the token is not accepted"
            } else {
                "Telegram does not answer"
            };
            for name in [CHAT, THREADS, PRIVACY, RIGHTS, WEBHOOK, POLLING] {
                probes.push(Probe::skipped(name, why));
            }
            return probes;
        }
    };
    let bot_id = me.get("id").and_then(Value::as_i64).unwrap_or_default();
    let chat = match api.call("getChat", &json!({ "chat_id": chat_id })).await {
        Ok(chat) => {
            let kind = chat.get("type").and_then(Value::as_str).unwrap_or("?");
            let title = chat
                .get("title")
                .or_else(|| chat.get("first_name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            probes.push(Probe::pass(
                CHAT,
                format!("chat {chat_id} is a {kind} ({title})"),
            ));
            Some(chat)
        }
        Err(failure) => {
            probes.push(
                Probe::fail(
                    CHAT,
                    format!(
                        "the bot cannot see chat {chat_id}: {}",
                        failure.description().unwrap_or("no answer")
                    ),
                )
                .with_fix(if chat_id > 0 {
                    "a private chat exists once the operator opened the bot and pressed Start \
                     (/start); its id is the operator's user id"
                } else {
                    "add the bot to the group, and check connector.telegram.chat_id (a \
                     supergroup's id starts with -100)"
                }),
            );
            None
        }
    };
    match &chat {
        Some(chat) => probes.extend(chat_probes(api, chat_id, bot_id, &me, chat).await),
        None => {
            for name in [THREADS, PRIVACY, RIGHTS] {
                probes.push(Probe::skipped(name, "the chat is not visible"));
            }
        }
    }
    probes.push(webhook_probe(api).await);
    probes.push(match inbound {
        None => Probe::skipped(POLLING, "the connector is not running"),
        Some(status) if !status.is_started() => Probe::skipped(
            POLLING,
            "not polling: nothing subscribed yet (a connector that only sends never polls)",
        ),
        Some(status) => match status.conflict_reason() {
            Some(conflict) => Probe::fail(
                POLLING,
                format!("getUpdates is refused with 409 Conflict: {conflict}"),
            )
            .with_fix(CONFLICT_FIX),
            None => match status.deaf() {
                Some(problem) => Probe::fail(POLLING, problem)
                    .with_fix("check that Telegram is reachable from this machine"),
                None => Probe::pass(POLLING, "getUpdates answers; no other poller"),
            },
        },
    });
    probes
}

/// Forum or not, privacy mode and the bot's rights in a visible chat.
async fn chat_probes(api: &Api, chat_id: i64, bot_id: i64, me: &Value, chat: &Value) -> Vec<Probe> {
    let kind = chat.get("type").and_then(Value::as_str).unwrap_or("");
    let forum = chat
        .get("is_forum")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut probes = vec![Probe::pass(
        THREADS,
        if forum {
            "a forum: threads are forum topics"
        } else {
            "not a forum: threads are reply chains"
        },
    )];
    if kind == "private" {
        probes.push(Probe::skipped(
            PRIVACY,
            "a private chat: the bot reads every message",
        ));
        probes.push(Probe::skipped(RIGHTS, "a private chat: the bot may post"));
        return probes;
    }
    let member = api
        .call(
            "getChatMember",
            &json!({ "chat_id": chat_id, "user_id": bot_id }),
        )
        .await;
    let admin = member
        .as_ref()
        .ok()
        .and_then(|m| m.get("status"))
        .and_then(Value::as_str)
        == Some("administrator");
    let reads_all = me
        .get("can_read_all_group_messages")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    probes.push(if reads_all || admin {
        Probe::pass(
            PRIVACY,
            if admin {
                "the bot is an administrator: it reads every message"
            } else {
                "privacy mode is off: the bot reads every message"
            },
        )
    } else {
        Probe::fail(
            PRIVACY,
            "privacy mode is on and the bot is not an administrator: it only sees commands, \
             replies to its own messages and mentions",
        )
        .with_fix(
            "in @BotFather: /mybots → the bot → Bot Settings → Group Privacy → Turn off, then \
             remove the bot from the group and add it again; or make the bot an administrator",
        )
    });
    probes.push(match member {
        Err(failure) => Probe::fail(
            RIGHTS,
            format!(
                "getChatMember for the bot failed: {}",
                failure.description().unwrap_or("no answer")
            ),
        )
        .with_fix("add the bot to the chat"),
        Ok(member) => rights_probe(&member, forum),
    });
    probes
}

/// Whether the bot may post (and, in a forum, start topics).
fn rights_probe(member: &Value, forum: bool) -> Probe {
    let status = member.get("status").and_then(Value::as_str).unwrap_or("");
    let flag = |name: &str| member.get(name).and_then(Value::as_bool);
    let muted = match status {
        "left" | "kicked" => Some(format!("the bot is not in the chat (status {status})")),
        "restricted" if flag("can_send_messages") == Some(false) => {
            Some("the bot is restricted: it may not send messages".to_owned())
        }
        _ => None,
    };
    if let Some(muted) = muted {
        return Probe::fail(RIGHTS, muted)
            .with_fix("add the bot back, or lift its restriction (allow Send Messages)");
    }
    if forum && !(status == "administrator" && flag("can_manage_topics") == Some(true)) {
        return Probe::fail(
            RIGHTS,
            "the bot may post but cannot start forum topics: sending into a new thread fails",
        )
        .with_fix("make the bot an administrator of the forum with the Manage Topics right");
    }
    Probe::pass(
        RIGHTS,
        format!(
            "the bot is {status} and may post{}",
            if forum { " and start topics" } else { "" }
        ),
    )
}

/// A webhook, while set, makes `getUpdates` refuse with 409.
async fn webhook_probe(api: &Api) -> Probe {
    match api.call("getWebhookInfo", &json!({})).await {
        Ok(info) => match info.get("url").and_then(Value::as_str) {
            Some(url) if !url.is_empty() => Probe::fail(
                WEBHOOK,
                format!("a webhook is set ({url}): Telegram refuses getUpdates while it is"),
            )
            .with_fix(
                "delete it (the deleteWebhook method, e.g. curl \
                 https://api.telegram.org/bot<token>/deleteWebhook) if nothing else uses it; \
                 one bot token cannot serve both",
            ),
            _ => Probe::pass(WEBHOOK, "no webhook is set"),
        },
        Err(failure) => Probe::fail(WEBHOOK, failure.into_error("read the webhook").to_string())
            .with_fix("check that Telegram is reachable"),
    }
}
