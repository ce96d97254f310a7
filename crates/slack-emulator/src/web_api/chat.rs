//! `chat.postMessage`, `chat.update`, `chat.delete`, `chat.postEphemeral`, `chat.getPermalink`.

use serde_json::{Value, json};

use super::{ApiFailure, Reply, fail, fields, member_channel};
use crate::{
    actions::{self, Edit, NewMessage},
    objects::{self, MessageView},
    params::Params,
    state::{Ephemeral, World},
};

/// A message's permalink.
pub(crate) fn permalink(channel: &str, ts: &str) -> String {
    format!(
        "https://emulated.slack.com/archives/{channel}/p{}",
        ts.replace('.', "")
    )
}

fn blocks(p: &Params) -> Result<Option<Value>, ApiFailure> {
    match p.json("blocks") {
        Ok(Some(blocks @ Value::Array(_))) => Ok(Some(blocks)),
        Ok(None) => Ok(None),
        _ => Err(fail("invalid_blocks")),
    }
}

fn metadata(p: &Params) -> Result<Option<Value>, ApiFailure> {
    match p.json("metadata") {
        Ok(None) => Ok(None),
        Ok(Some(m)) if m.get("event_type").is_some_and(Value::is_string) => {
            let payload = m.get("event_payload").cloned().unwrap_or_else(|| json!({}));
            if !payload.is_object() {
                return Err(fail("invalid_metadata_format"));
            }
            Ok(Some(
                json!({"event_type": m["event_type"], "event_payload": payload}),
            ))
        }
        _ => Err(fail("invalid_metadata_format")),
    }
}

/// `chat.postMessage`.
pub(crate) fn post_message(world: &mut World, p: &Params) -> Reply {
    let channel = member_channel(world, p, "channel")?;
    let blocks = blocks(p)?;
    let text = p.str("text");
    if text.is_none() && blocks.is_none() {
        return Err(fail("no_text"));
    }
    let new = NewMessage {
        channel,
        user: world.bot_user_id.clone(),
        from_bot: true,
        text: text.unwrap_or_default(),
        blocks,
        thread_ts: p.str("thread_ts"),
        reply_broadcast: p.bool("reply_broadcast"),
        metadata: metadata(p)?,
        files: Vec::new(),
    };
    let (channel, ts) = actions::post(world, new).map_err(fail)?;
    let c = world
        .channel(&channel)
        .ok_or_else(|| fail("channel_not_found"))?;
    let m = c.message(&ts).ok_or_else(|| fail("message_not_found"))?;
    let message = objects::message(world, c, m, MessageView::POSTED);
    Ok(fields(
        json!({"channel": channel, "ts": ts, "message": message}),
    ))
}

/// `chat.update` of one of the bot's messages.
pub(crate) fn update(world: &mut World, p: &Params) -> Reply {
    let channel = member_channel(world, p, "channel")?;
    let ts = p.str("ts").ok_or_else(|| fail("message_not_found"))?;
    let edit = Edit {
        text: p.str("text"),
        blocks: blocks(p)?,
        metadata: metadata(p)?,
    };
    let bot = world.bot_user_id.clone();
    let m = actions::edit(world, &bot, &channel, &ts, edit).map_err(fail)?;
    let c = world
        .channel(&channel)
        .ok_or_else(|| fail("channel_not_found"))?;
    let message = objects::message(world, c, &m, MessageView::UPDATED);
    Ok(fields(
        json!({"channel": channel, "ts": ts, "text": m.text, "message": message}),
    ))
}

/// `chat.delete` of one of the bot's messages.
pub(crate) fn delete(world: &mut World, p: &Params) -> Reply {
    let channel = member_channel(world, p, "channel")?;
    let ts = p.str("ts").ok_or_else(|| fail("message_not_found"))?;
    let bot = world.bot_user_id.clone();
    actions::delete(world, &bot, &channel, &ts).map_err(fail)?;
    Ok(fields(json!({"channel": channel, "ts": ts})))
}

/// `chat.postEphemeral`: shown to one user, recorded for [`crate::Emulator::ephemeral_seen_by`].
pub(crate) fn post_ephemeral(world: &mut World, p: &Params) -> Reply {
    let channel = member_channel(world, p, "channel")?;
    let user = p.str("user").ok_or_else(|| fail("user_not_in_channel"))?;
    if world.user(&user).is_none() {
        return Err(fail("user_not_in_channel"));
    }
    let blocks = blocks(p)?;
    let text = p.str("text");
    if text.is_none() && blocks.is_none() {
        return Err(fail("no_text"));
    }
    let message_ts = world.ids.ts();
    world.ephemerals.entry(user).or_default().push(Ephemeral {
        channel,
        text: text.unwrap_or_default(),
        blocks,
        thread_ts: p.str("thread_ts"),
        via_response_url: false,
    });
    Ok(fields(json!({"message_ts": message_ts})))
}

/// `chat.getPermalink`.
pub(crate) fn get_permalink(world: &World, p: &Params) -> Reply {
    let channel = p.str("channel").ok_or_else(|| fail("channel_not_found"))?;
    let c = world
        .channel(&channel)
        .ok_or_else(|| fail("channel_not_found"))?;
    let ts = p
        .str("message_ts")
        .ok_or_else(|| fail("message_not_found"))?;
    c.message(&ts).ok_or_else(|| fail("message_not_found"))?;
    Ok(fields(
        json!({"channel": c.id, "permalink": permalink(&c.id, &ts)}),
    ))
}
