//! `reactions.add`, `reactions.remove` and `reactions.get` on messages.

use serde_json::json;

use super::{Reply, fail, fields, member_channel};
use crate::{
    actions,
    objects::{self, MessageView},
    params::Params,
    state::World,
};

/// `reactions.add` / `reactions.remove` as the bot.
pub(crate) fn add_or_remove(world: &mut World, p: &Params, add: bool) -> Reply {
    let (Some(_), Some(ts), Some(name)) = (p.str("channel"), p.str("timestamp"), p.str("name"))
    else {
        return Err(fail("no_item_specified"));
    };
    let channel = member_channel(world, p, "channel")?;
    let bot = world.bot_user_id.clone();
    actions::react(world, &bot, &channel, &ts, &name, add).map_err(fail)?;
    Ok(fields(json!({})))
}

/// `reactions.get` for a message.
pub(crate) fn get(world: &World, p: &Params) -> Reply {
    let (Some(channel), Some(ts)) = (p.str("channel"), p.str("timestamp")) else {
        return Err(fail("no_item_specified"));
    };
    let channel = world
        .channel(&channel)
        .ok_or_else(|| fail("channel_not_found"))?;
    let m = channel
        .message(&ts)
        .ok_or_else(|| fail("message_not_found"))?;
    let view = MessageView {
        thread: false,
        metadata: false,
        ..MessageView::UPDATED
    };
    let mut message = objects::message(world, channel, m, view);
    message["ts"] = json!(m.ts);
    if let Some(o) = message.as_object_mut() {
        o.remove("edited");
    }
    message["permalink"] = json!(super::chat::permalink(&channel.id, &m.ts));
    Ok(fields(json!({
        "type": "message",
        "channel": channel.id,
        "message": message,
    })))
}
