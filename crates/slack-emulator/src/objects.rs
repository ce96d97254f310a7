//! The JSON objects Slack answers with: messages, users, bots, channels and files, built from the
//! state in the shapes of Slack's recorded samples.

use serde_json::{Map, Value, json};

use crate::state::{Channel, Message, UploadedFile, UserHandle, World};

/// The bot's profile as messages carry it (`bot_profile`).
pub(crate) fn bot_profile(world: &World) -> Value {
    json!({
        "id": world.bot_id,
        "deleted": false,
        "name": world.bot_name,
        "updated": 1_700_000_000,
        "app_id": world.app_id,
        "icons": {
            "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
            "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
            "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
        },
        "team_id": world.team_id,
    })
}

/// Which fields a message carries where it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageView {
    /// Thread summary on parents (`reply_count`, `reply_users`, …): history and replies.
    pub(crate) thread_summary: bool,
    /// `metadata` (`include_all_metadata`, or always for post/update answers and events).
    pub(crate) metadata: bool,
    /// `ts` (absent from `chat.update`'s `message`).
    pub(crate) ts: bool,
    /// `thread_ts`/`parent_user_id`.
    pub(crate) thread: bool,
}

impl MessageView {
    pub(crate) const LISTED: MessageView = MessageView {
        thread_summary: true,
        metadata: false,
        ts: true,
        thread: true,
    };
    pub(crate) const POSTED: MessageView = MessageView {
        thread_summary: false,
        metadata: true,
        ts: true,
        thread: true,
    };
    pub(crate) const UPDATED: MessageView = MessageView {
        thread_summary: false,
        metadata: true,
        ts: false,
        thread: false,
    };
}

/// A message object.
pub(crate) fn message(world: &World, channel: &Channel, m: &Message, view: MessageView) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!("message"));
    o.insert("text".into(), json!(m.text));
    o.insert("user".into(), json!(m.user));
    if view.ts {
        o.insert("ts".into(), json!(m.ts));
    }
    o.insert("team".into(), json!(world.team_id));
    if let Some(bot_id) = &m.bot_id {
        o.insert("bot_id".into(), json!(bot_id));
        o.insert("app_id".into(), json!(world.app_id));
        o.insert("bot_profile".into(), bot_profile(world));
    }
    if let Some(id) = &m.client_msg_id {
        o.insert("client_msg_id".into(), json!(id));
    }
    if let Some(blocks) = &m.blocks {
        o.insert("blocks".into(), blocks.clone());
    }
    if view.thread
        && let Some(thread_ts) = &m.thread_ts
    {
        o.insert("thread_ts".into(), json!(thread_ts));
        if m.is_reply() {
            if let Some(parent) = channel.message(thread_ts) {
                o.insert("parent_user_id".into(), json!(parent.user));
            }
        } else if view.thread_summary {
            let replies: Vec<&Message> = channel.replies(&m.ts).collect();
            let mut users: Vec<&str> = Vec::new();
            for r in &replies {
                if !users.contains(&r.user.as_str()) {
                    users.push(&r.user);
                }
            }
            o.insert("reply_count".into(), json!(replies.len()));
            o.insert("reply_users_count".into(), json!(users.len()));
            if let Some(last) = replies.last() {
                o.insert("latest_reply".into(), json!(last.ts));
            }
            o.insert("reply_users".into(), json!(users));
            o.insert("subscribed".into(), json!(false));
        }
    }
    if m.reply_broadcast && view.thread {
        o.insert("subtype".into(), json!("thread_broadcast"));
    }
    if view.metadata
        && let Some(metadata) = &m.metadata
    {
        o.insert("metadata".into(), metadata.clone());
    }
    if let Some(edited) = &m.edited {
        o.insert("edited".into(), json!({"user": m.user, "ts": edited}));
    }
    if !m.reactions.is_empty() {
        let reactions: Vec<Value> = m
            .reactions
            .iter()
            .map(|r| json!({"name": r.name, "users": r.users, "count": r.users.len()}))
            .collect();
        o.insert("reactions".into(), Value::Array(reactions));
    }
    if !m.files.is_empty() {
        let files: Vec<Value> = m
            .files
            .iter()
            .filter_map(|id| world.files.iter().find(|f| f.id == *id))
            .map(|f| file(world, f))
            .collect();
        o.insert("files".into(), Value::Array(files));
        o.insert("upload".into(), json!(false));
        o.insert("display_as_bot".into(), json!(false));
    }
    Value::Object(o)
}

/// A user object (`users.info`).
pub(crate) fn user(world: &World, u: &UserHandle) -> Value {
    let is_bot = world.is_bot_user(&u.id);
    let mut profile = json!({
        "real_name": u.name,
        "display_name": u.name,
        "real_name_normalized": u.name,
        "display_name_normalized": u.name,
        "team": world.team_id,
    });
    if is_bot {
        profile["bot_id"] = json!(world.bot_id);
        profile["api_app_id"] = json!(world.app_id);
    }
    json!({
        "id": u.id,
        "team_id": world.team_id,
        "name": u.name,
        "deleted": false,
        "real_name": u.name,
        "tz": "Europe/Berlin",
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "profile": profile,
        "is_admin": false,
        "is_owner": false,
        "is_primary_owner": false,
        "is_restricted": false,
        "is_ultra_restricted": false,
        "is_bot": is_bot,
        "is_app_user": false,
        "updated": 1_700_000_000,
    })
}

/// A bot object (`bots.info`).
pub(crate) fn bot(world: &World) -> Value {
    json!({
        "id": world.bot_id,
        "deleted": false,
        "name": world.bot_name,
        "updated": 1_700_000_000,
        "app_id": world.app_id,
        "user_id": world.bot_user_id,
        "icons": {
            "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
            "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
            "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
        },
    })
}

/// A channel object (`conversations.info`, `conversations.join`).
pub(crate) fn channel(world: &World, c: &Channel) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "is_channel": true,
        "is_group": false,
        "is_im": false,
        "is_mpim": false,
        "is_private": false,
        "created": c.created,
        "is_archived": false,
        "is_general": c.is_general,
        "unlinked": 0,
        "name_normalized": c.name,
        "is_shared": false,
        "is_org_shared": false,
        "is_ext_shared": false,
        "is_pending_ext_shared": false,
        "pending_shared": [],
        "shared_team_ids": [world.team_id],
        "context_team_id": world.team_id,
        "creator": world.users.get(1).map_or(world.bot_user_id.as_str(), |u| u.id.as_str()),
        "is_member": c.bot_member,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
        "updated": c.created * 1000,
    })
}

/// A file object (`files.info`, `files.completeUploadExternal`, message `files`).
pub(crate) fn file(world: &World, f: &UploadedFile) -> Value {
    let base = world.base_url();
    let owner = f.owner.as_deref().unwrap_or(world.bot_user_id.as_str());
    let mut o = json!({
        "id": f.id,
        "created": f.created,
        "timestamp": f.created,
        "name": f.name,
        "title": f.title.clone().unwrap_or_else(|| f.name.clone()),
        "mimetype": "application/octet-stream",
        "filetype": "binary",
        "pretty_type": "Binary",
        "user": owner,
        "user_team": world.team_id,
        "editable": false,
        "size": f.bytes.as_ref().map_or(f.declared_length, |b| b.len() as u64),
        "mode": "hosted",
        "is_external": false,
        "external_type": "",
        "is_public": true,
        "public_url_shared": false,
        "display_as_bot": false,
        "username": "",
        "url_private": format!("{base}/files/{}/{}", f.id, f.name),
        "url_private_download": format!("{base}/files/{}/{}?download=1", f.id, f.name),
        "permalink": format!("https://emulated.slack.com/files/{owner}/{}/{}", f.id, f.name),
        "has_rich_preview": false,
        "file_access": "visible",
    });
    if let (Some(channel), Some(ts)) = (&f.channel, &f.message_ts) {
        let share = json!({
            "public": {channel.clone(): [{
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": world.channel(channel).map(|c| c.name.clone()),
                "team_id": world.team_id,
                "share_user_id": owner,
                "source": "UNKNOWN",
            }]}
        });
        o["channels"] = json!([channel]);
        o["groups"] = json!([]);
        o["ims"] = json!([]);
        o["shares"] = share;
    }
    o
}
