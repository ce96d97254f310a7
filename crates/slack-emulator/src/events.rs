//! Events API payloads (`event_callback` wrappers around `message`, `app_mention`,
//! `reaction_added`, `file_shared`, …) shaped like Slack's recorded samples, queued for Socket
//! Mode.

use serde_json::{Map, Value, json};

use crate::{
    delivery,
    ids::now_secs,
    objects::{self, MessageView},
    state::{Message, World},
};

/// Wraps an event in its `event_callback` and queues it as an `events_api` envelope.
pub(crate) fn emit(world: &mut World, event: Value) {
    let event_id = world.ids.next("Ev");
    let context = format!("4-{}", world.ids.token());
    let payload = json!({
        "token": "emulated-verification-token",
        "team_id": world.team_id,
        "api_app_id": world.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now_secs(),
        "authorizations": [{
            "team_id": world.team_id,
            "user_id": world.bot_user_id,
            "is_bot": true,
            "is_enterprise_install": false,
        }],
        "is_ext_shared_channel": false,
        "event_context": context,
    });
    delivery::enqueue(world, "events_api", payload);
}

/// Whether the bot hears events from this channel (it is a member).
fn hears(world: &World, channel: &str) -> bool {
    world.channel(channel).is_some_and(|c| c.bot_member)
}

/// The `message` event for a message as it is now.
fn message_event(world: &World, m: &Message) -> Option<Map<String, Value>> {
    let channel = world.channel(&m.channel)?;
    let Value::Object(mut o) = objects::message(world, channel, m, MessageView::POSTED) else {
        return None;
    };
    o.remove("app_id");
    // Message events carry the metadata's type only (sample: MessagePayload); the payload is
    // read back with `conversations.history` and `include_all_metadata`.
    if let Some(metadata) = o.get_mut("metadata") {
        *metadata = json!({"event_type": metadata["event_type"]});
    }
    if m.reply_broadcast {
        for key in ["team", "bot_id", "bot_profile", "parent_user_id"] {
            o.remove(key);
        }
    }
    if !m.files.is_empty() {
        o.insert("subtype".into(), json!("file_share"));
        for key in ["team", "bot_id", "bot_profile"] {
            o.remove(key);
        }
    }
    o.insert("channel".into(), json!(m.channel));
    o.insert("event_ts".into(), json!(m.ts));
    o.insert("channel_type".into(), json!("channel"));
    Some(o)
}

/// A new message: `message` (and `app_mention` when a user mentions the bot), each with its own
/// event id and the same `ts`.
pub(crate) fn message_posted(world: &mut World, channel: &str, ts: &str) {
    if !hears(world, channel) {
        return;
    }
    let Some(m) = world.channel(channel).and_then(|c| c.message(ts)).cloned() else {
        return;
    };
    let own = m.bot_id.is_some();
    if own && !world.echo_own_messages {
        return;
    }
    if let Some(event) = message_event(world, &m) {
        emit(world, Value::Object(event));
    }
    let mention = format!("<@{}>", world.bot_user_id);
    if !own && m.text.contains(&mention) {
        let mut event = json!({
            "type": "app_mention",
            "user": m.user,
            "text": m.text,
            "ts": m.ts,
            "team": world.team_id,
            "channel": m.channel,
            "event_ts": m.ts,
        });
        if let Some(id) = &m.client_msg_id {
            event["client_msg_id"] = json!(id);
        }
        if let Some(blocks) = &m.blocks {
            event["blocks"] = blocks.clone();
        }
        if let Some(thread_ts) = m.thread_ts.as_ref().filter(|_| m.is_reply()) {
            event["thread_ts"] = json!(thread_ts);
        }
        emit(world, event);
    }
}

/// An edit: `message` with subtype `message_changed`.
pub(crate) fn message_changed(world: &mut World, previous: &Message, event_ts: &str) {
    if !hears(world, &previous.channel) {
        return;
    }
    let Some(now) = world
        .channel(&previous.channel)
        .and_then(|c| c.message(&previous.ts))
        .cloned()
    else {
        return;
    };
    let (Some(mut message), Some(mut before)) =
        (message_event(world, &now), message_event(world, previous))
    else {
        return;
    };
    for o in [&mut message, &mut before] {
        for key in ["channel", "event_ts", "channel_type", "metadata"] {
            o.remove(key);
        }
    }
    emit(
        world,
        json!({
            "type": "message",
            "subtype": "message_changed",
            "channel": previous.channel,
            "hidden": true,
            "message": message,
            "previous_message": before,
            "event_ts": event_ts,
            "ts": event_ts,
            "channel_type": "channel",
        }),
    );
}

/// A deletion: `message` with subtype `message_deleted`.
pub(crate) fn message_deleted(world: &mut World, previous: &Message, event_ts: &str) {
    if !hears(world, &previous.channel) {
        return;
    }
    let Some(mut before) = message_event(world, previous) else {
        return;
    };
    for key in ["channel", "event_ts", "channel_type", "metadata"] {
        before.remove(key);
    }
    emit(
        world,
        json!({
            "type": "message",
            "subtype": "message_deleted",
            "channel": previous.channel,
            "hidden": true,
            "deleted_ts": previous.ts,
            "previous_message": before,
            "event_ts": event_ts,
            "ts": event_ts,
            "channel_type": "channel",
        }),
    );
}

/// `reaction_added` / `reaction_removed`.
pub(crate) fn reaction(world: &mut World, added: bool, user: &str, m: &Message, name: &str) {
    if !hears(world, &m.channel) {
        return;
    }
    let event_ts = world.ids.ts();
    emit(
        world,
        json!({
            "type": if added { "reaction_added" } else { "reaction_removed" },
            "user": user,
            "item": {"type": "message", "channel": m.channel, "ts": m.ts},
            "reaction": name,
            "item_user": m.user,
            "event_ts": event_ts,
        }),
    );
}

/// `file_shared`, after the file's `message` (subtype `file_share`).
pub(crate) fn file_shared(world: &mut World, file_id: &str, channel: &str) {
    if !hears(world, channel) {
        return;
    }
    let event_ts = world.ids.ts();
    let user = world
        .files
        .iter()
        .find(|f| f.id == file_id)
        .and_then(|f| f.owner.clone())
        .unwrap_or_else(|| world.bot_user_id.clone());
    emit(
        world,
        json!({
            "type": "file_shared",
            "channel_id": channel,
            "file_id": file_id,
            "user_id": user,
            "file": {"id": file_id},
            "event_ts": event_ts,
        }),
    );
}

/// `member_joined_channel`.
pub(crate) fn member_joined(world: &mut World, channel: &str, user: &str) {
    let event_ts = world.ids.ts();
    emit(
        world,
        json!({
            "type": "member_joined_channel",
            "user": user,
            "channel": channel,
            "channel_type": "C",
            "team": world.team_id,
            "event_ts": event_ts,
        }),
    );
}
