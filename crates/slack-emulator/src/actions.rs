//! What changes the workspace — posting, editing, deleting, reacting — written once for the Web
//! API and the test handle, each emitting its events. Failures are Slack's error codes.

use serde_json::Value;

use crate::{
    events,
    state::{Message, Reaction, World},
};

/// Slack truncates message text longer than this many characters.
pub const MAX_TEXT_CHARS: usize = 40_000;

/// A message about to be posted.
#[derive(Debug, Default)]
pub(crate) struct NewMessage {
    pub(crate) channel: String,
    pub(crate) user: String,
    pub(crate) from_bot: bool,
    pub(crate) text: String,
    pub(crate) blocks: Option<Value>,
    pub(crate) thread_ts: Option<String>,
    pub(crate) reply_broadcast: bool,
    pub(crate) metadata: Option<Value>,
    pub(crate) files: Vec<String>,
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// Posts a message; returns its channel id and ts.
pub(crate) fn post(world: &mut World, new: NewMessage) -> Result<(String, String), &'static str> {
    let ts = world.ids.ts();
    let client_msg_id = (!new.from_bot).then(|| world.ids.token());
    let bot_id = new.from_bot.then(|| world.bot_id.clone());
    let channel = world.channel_mut(&new.channel).ok_or("channel_not_found")?;
    // A reply to a reply joins the parent's thread, as on Slack.
    let thread_ts = new.thread_ts.as_ref().map(|t| {
        channel.message(t).map_or_else(
            || t.clone(),
            |m| m.thread_ts.clone().unwrap_or(m.ts.clone()),
        )
    });
    if let Some(parent) = thread_ts.as_ref().and_then(|t| channel.message_mut(t)) {
        parent.thread_ts = Some(parent.ts.clone());
    }
    let channel_id = channel.id.clone();
    channel.messages.push(Message {
        channel: channel_id.clone(),
        ts: ts.clone(),
        user: new.user,
        bot_id,
        text: truncate(&new.text),
        blocks: new.blocks,
        reply_broadcast: new.reply_broadcast && thread_ts.is_some(),
        thread_ts,
        metadata: new.metadata,
        files: new.files,
        reactions: Vec::new(),
        edited: None,
        client_msg_id,
    });
    events::message_posted(world, &channel_id, &ts);
    Ok((channel_id, ts))
}

/// The edit asked for: `None` leaves a part as it is.
#[derive(Debug, Default)]
pub(crate) struct Edit {
    pub(crate) text: Option<String>,
    pub(crate) blocks: Option<Value>,
    pub(crate) metadata: Option<Value>,
}

/// Edits a message `user` posted; returns the message as it is now.
pub(crate) fn edit(
    world: &mut World,
    user: &str,
    channel: &str,
    ts: &str,
    edit: Edit,
) -> Result<Message, &'static str> {
    let edited_ts = world.ids.ts();
    let channel = world.channel_mut(channel).ok_or("channel_not_found")?;
    let m = channel.message_mut(ts).ok_or("message_not_found")?;
    if m.user != user {
        return Err("cant_update_message");
    }
    let previous = m.clone();
    if let Some(text) = edit.text {
        m.text = truncate(&text);
    }
    if edit.blocks.is_some() {
        m.blocks = edit.blocks;
    }
    if edit.metadata.is_some() {
        m.metadata = edit.metadata;
    }
    m.edited = Some(edited_ts.clone());
    let now = m.clone();
    events::message_changed(world, &previous, &edited_ts);
    Ok(now)
}

/// Deletes a message `user` posted (its replies stay, as on Slack).
pub(crate) fn delete(
    world: &mut World,
    user: &str,
    channel: &str,
    ts: &str,
) -> Result<Message, &'static str> {
    let event_ts = world.ids.ts();
    let channel = world.channel_mut(channel).ok_or("channel_not_found")?;
    let index = channel
        .messages
        .iter()
        .position(|m| m.ts == ts)
        .ok_or("message_not_found")?;
    if channel.messages[index].user != user {
        return Err("cant_delete_message");
    }
    let previous = channel.messages.remove(index);
    events::message_deleted(world, &previous, &event_ts);
    Ok(previous)
}

/// Adds (or removes) `user`'s reaction `name` on a message.
pub(crate) fn react(
    world: &mut World,
    user: &str,
    channel: &str,
    ts: &str,
    name: &str,
    add: bool,
) -> Result<(), &'static str> {
    let name = name.trim_matches(':');
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err("invalid_name");
    }
    let channel = world.channel_mut(channel).ok_or("channel_not_found")?;
    let m = channel.message_mut(ts).ok_or("message_not_found")?;
    let existing = m.reactions.iter().position(|r| r.name == name);
    if add {
        match existing {
            Some(i) if m.reactions[i].users.iter().any(|u| u == user) => {
                return Err("already_reacted");
            }
            Some(i) => m.reactions[i].users.push(user.to_owned()),
            None => m.reactions.push(Reaction {
                name: name.to_owned(),
                users: vec![user.to_owned()],
            }),
        }
    } else {
        let i = existing
            .filter(|i| m.reactions[*i].users.iter().any(|u| u == user))
            .ok_or("no_reaction")?;
        m.reactions[i].users.retain(|u| u != user);
        if m.reactions[i].users.is_empty() {
            m.reactions.remove(i);
        }
    }
    let m = m.clone();
    events::reaction(world, add, user, &m, name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_forty_thousand_chars() {
        let long = "é".repeat(MAX_TEXT_CHARS + 5);
        assert_eq!(truncate(&long).chars().count(), MAX_TEXT_CHARS);
        assert_eq!(truncate("short"), "short");
    }
}
