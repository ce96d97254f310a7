//! Button clicks: the `block_actions` payload (shaped like Slack's `BlockActionPayload`) sent as
//! an `interactive` envelope, and what the app then POSTs to the click's `response_url`.

use serde_json::{Value, json};

use crate::{
    actions::{self, Edit, NewMessage},
    delivery,
    ids::now_micros,
    objects::{self, MessageView},
    state::{Ephemeral, ResponseTarget, ResponseUrlPost, World},
};

/// Where `response_url`s point, under the emulator's base URL.
pub(crate) const RESPONSE_PATH: &str = "/response/";

/// Finds the element with `action_id` in a message's blocks: its block id and the element.
fn find_element(blocks: &Value, action_id: &str) -> Option<(String, Value)> {
    for block in blocks.as_array()? {
        let block_id = block.get("block_id").and_then(Value::as_str).unwrap_or("");
        let elements = block
            .get("elements")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(block.get("accessory"));
        for element in elements {
            if element.get("action_id").and_then(Value::as_str) == Some(action_id) {
                return Some((block_id.to_owned(), element.clone()));
            }
        }
    }
    None
}

/// Why a click could not happen.
#[derive(Debug)]
pub(crate) enum ClickError {
    Channel,
    Message,
    Action,
}

/// Sends `block_actions` for `user` clicking `action_id` on a message; returns the envelope id.
pub(crate) fn click(
    world: &mut World,
    user: &str,
    channel: &str,
    ts: &str,
    action_id: &str,
    value: Option<&str>,
) -> Result<String, ClickError> {
    let c = world.channel(channel).ok_or(ClickError::Channel)?;
    let m = c.message(ts).ok_or(ClickError::Message)?;
    let (block_id, element) = m
        .blocks
        .as_ref()
        .and_then(|b| find_element(b, action_id))
        .ok_or(ClickError::Action)?;
    let message = objects::message(world, c, m, MessageView::POSTED);
    let (channel_id, channel_name) = (c.id.clone(), c.name.clone());
    let thread_ts = m.thread_ts.clone();
    let user_name = world
        .user(user)
        .map_or_else(String::new, |u| u.name.clone());
    let token = world.ids.token();
    world.response_targets.insert(
        token.clone(),
        ResponseTarget {
            user: user.to_owned(),
            channel: channel_id.clone(),
            message_ts: ts.to_owned(),
            thread_ts: thread_ts.clone(),
        },
    );
    let response_url = format!("{}{RESPONSE_PATH}{token}", world.base_url());
    let trigger_id = format!("{}.{}", now_micros(), world.ids.token());
    let value = value
        .map(str::to_owned)
        .or_else(|| {
            element
                .get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let mut container = json!({
        "type": "message",
        "message_ts": ts,
        "channel_id": channel_id,
        "is_ephemeral": false,
    });
    if let Some(thread_ts) = &thread_ts {
        container["thread_ts"] = json!(thread_ts);
    }
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": world.team_id},
        "api_app_id": world.app_id,
        "token": "emulated-verification-token",
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": world.team_id, "domain": "emulated"},
        "is_enterprise_install": false,
        "channel": {"id": channel_id, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{
            "action_id": action_id,
            "block_id": block_id,
            "text": element.get("text").cloned().unwrap_or_else(|| json!({"type": "plain_text", "text": "", "emoji": true})),
            "value": value,
            "type": element.get("type").cloned().unwrap_or_else(|| json!("button")),
            "action_ts": crate::ids::format_ts(now_micros()),
        }],
    });
    Ok(delivery::enqueue(world, "interactive", payload))
}

/// Applies a POST to a `response_url`: ephemeral by default, `in_channel` posts as the bot,
/// `replace_original` edits and `delete_original` deletes the clicked message. False when the
/// URL is unknown.
pub(crate) fn respond(world: &mut World, token: &str, body: Value) -> bool {
    let Some(target) = world.response_targets.get(token).cloned() else {
        return false;
    };
    world.response_posts.push(ResponseUrlPost {
        user: target.user.clone(),
        channel: target.channel.clone(),
        message_ts: target.message_ts.clone(),
        body: body.clone(),
    });
    let text = body
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let blocks = body.get("blocks").filter(|b| b.is_array()).cloned();
    let bot = world.bot_user_id.clone();
    let flag = |name: &str| body.get(name).is_some_and(|v| v == true || v == "true");
    if flag("delete_original") {
        let _ = actions::delete(world, &bot, &target.channel, &target.message_ts);
    } else if flag("replace_original") {
        let edit = Edit {
            text: Some(text),
            blocks,
            metadata: None,
        };
        let _ = actions::edit(world, &bot, &target.channel, &target.message_ts, edit);
    } else if body.get("response_type").and_then(Value::as_str) == Some("in_channel") {
        let new = NewMessage {
            channel: target.channel,
            user: bot,
            from_bot: true,
            text,
            blocks,
            thread_ts: body
                .get("thread_ts")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(target.thread_ts),
            ..NewMessage::default()
        };
        let _ = actions::post(world, new);
    } else {
        world
            .ephemerals
            .entry(target.user)
            .or_default()
            .push(Ephemeral {
                channel: target.channel,
                text,
                blocks,
                thread_ts: target.thread_ts,
                via_response_url: true,
            });
    }
    true
}
