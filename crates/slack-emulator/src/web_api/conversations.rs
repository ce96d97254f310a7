//! `conversations.history` and `conversations.replies` with cursor pagination and
//! `oldest`/`latest`/`inclusive`, `conversations.info` and `conversations.join`.

use base64::Engine as _;
use serde_json::{Value, json};

use super::{ApiFailure, Reply, fail, fields, member_channel};
use crate::{
    events,
    ids::parse_ts,
    objects::{self, MessageView},
    params::Params,
    ratelimit::RESTRICTED_HISTORY_PAGE,
    state::{Message, World},
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Encodes where the next page starts, as Slack does (`base64("next_ts:<ts>")`).
fn encode_cursor(ts: &str) -> String {
    B64.encode(format!("next_ts:{}", ts.replace('.', "")))
}

fn decode_cursor(cursor: &str) -> Result<u64, ApiFailure> {
    let bytes = B64.decode(cursor).map_err(|_| fail("invalid_cursor"))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("invalid_cursor"))?;
    text.strip_prefix("next_ts:")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| fail("invalid_cursor"))
}

/// The window and page size asked for.
struct Page {
    oldest: u64,
    latest: u64,
    inclusive: bool,
    limit: usize,
    cursor: Option<u64>,
}

fn page(world: &World, p: &Params) -> Result<Page, ApiFailure> {
    let bound = |name: &str, error: &str, default: u64| match p.str(name) {
        Some(ts) => parse_ts(&ts).ok_or_else(|| fail(error)),
        None => Ok(default),
    };
    let mut limit = p
        .str("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(100)
        .min(999);
    if world.rate_limits.is_history_restricted() {
        limit = limit.min(RESTRICTED_HISTORY_PAGE);
    }
    Ok(Page {
        oldest: bound("oldest", "invalid_ts_oldest", 0)?,
        latest: bound("latest", "invalid_ts_latest", u64::MAX)?,
        inclusive: p.bool("inclusive"),
        limit,
        cursor: p.str("cursor").map(|c| decode_cursor(&c)).transpose()?,
    })
}

impl Page {
    fn admits(&self, ts: u64) -> bool {
        if self.inclusive {
            ts >= self.oldest && ts <= self.latest
        } else {
            ts > self.oldest && ts < self.latest
        }
    }
}

/// Cuts one page from messages in answer order; the cursor names the first message left out.
fn cut<'a>(
    page: &Page,
    ordered: Vec<&'a Message>,
    newest_first: bool,
) -> (Vec<&'a Message>, Option<String>) {
    let start = page.cursor.map_or(0, |cursor| {
        ordered
            .iter()
            .position(|m| {
                let ts = parse_ts(&m.ts).unwrap_or(0);
                if newest_first {
                    ts <= cursor
                } else {
                    ts >= cursor
                }
            })
            .unwrap_or(ordered.len())
    });
    let rest = &ordered[start..];
    let taken: Vec<&Message> = rest.iter().take(page.limit).copied().collect();
    let next = rest.get(page.limit).map(|m| encode_cursor(&m.ts));
    (taken, next)
}

fn listed(world: &World, channel: &str, messages: &[&Message], metadata: bool) -> Vec<Value> {
    let Some(c) = world.channel(channel) else {
        return Vec::new();
    };
    let view = MessageView {
        metadata,
        ..MessageView::LISTED
    };
    messages
        .iter()
        .map(|m| objects::message(world, c, m, view))
        .collect()
}

/// `conversations.history`: the channel's messages (thread replies only when broadcast), newest
/// first.
pub(crate) fn history(world: &World, p: &Params) -> Reply {
    let channel = member_channel(world, p, "channel")?;
    let page = page(world, p)?;
    let c = world
        .channel(&channel)
        .ok_or_else(|| fail("channel_not_found"))?;
    let ordered: Vec<&Message> = c
        .messages
        .iter()
        .rev()
        .filter(|m| !m.is_reply() || m.reply_broadcast)
        .filter(|m| page.admits(parse_ts(&m.ts).unwrap_or(0)))
        .collect();
    let (taken, next) = cut(&page, ordered, true);
    let messages = listed(world, &channel, &taken, p.bool("include_all_metadata"));
    Ok(fields(json!({
        "messages": messages,
        "has_more": next.is_some(),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next.unwrap_or_default()},
    })))
}

/// `conversations.replies`: a thread's parent then its replies, oldest first.
pub(crate) fn replies(world: &World, p: &Params) -> Reply {
    let channel = member_channel(world, p, "channel")?;
    let page = page(world, p)?;
    let ts = p.str("ts").ok_or_else(|| fail("thread_not_found"))?;
    let c = world
        .channel(&channel)
        .ok_or_else(|| fail("channel_not_found"))?;
    let parent = c.message(&ts).ok_or_else(|| fail("thread_not_found"))?;
    let root = parent
        .thread_ts
        .clone()
        .unwrap_or_else(|| parent.ts.clone());
    let ordered: Vec<&Message> = c
        .messages
        .iter()
        .filter(|m| m.ts == root || (m.is_reply() && m.thread_ts.as_deref() == Some(&root)))
        .filter(|m| m.ts == root || page.admits(parse_ts(&m.ts).unwrap_or(0)))
        .collect();
    let (taken, next) = cut(&page, ordered, false);
    let mut messages = listed(world, &channel, &taken, p.bool("include_all_metadata"));
    // Replies listings carry neither the client's id nor the broadcast subtype.
    for m in &mut messages {
        if let Some(o) = m.as_object_mut() {
            o.remove("client_msg_id");
            o.remove("subtype");
        }
    }
    Ok(fields(json!({
        "messages": messages,
        "has_more": next.is_some(),
        "response_metadata": {"next_cursor": next.unwrap_or_default()},
    })))
}

/// `conversations.info`.
pub(crate) fn info(world: &World, p: &Params) -> Reply {
    let id = p.str("channel").ok_or_else(|| fail("channel_not_found"))?;
    let c = world
        .channel(&id)
        .ok_or_else(|| fail("channel_not_found"))?;
    Ok(fields(json!({"channel": objects::channel(world, c)})))
}

/// `conversations.join`: the bot becomes a member (`member_joined_channel` follows).
pub(crate) fn join(world: &mut World, p: &Params) -> Reply {
    let id = p.str("channel").ok_or_else(|| fail("channel_not_found"))?;
    let c = world
        .channel_mut(&id)
        .ok_or_else(|| fail("channel_not_found"))?;
    let already = std::mem::replace(&mut c.bot_member, true);
    let id = c.id.clone();
    if !already {
        let bot = world.bot_user_id.clone();
        events::member_joined(world, &id, &bot);
    }
    let c = world
        .channel(&id)
        .ok_or_else(|| fail("channel_not_found"))?;
    let mut answer = json!({"channel": objects::channel(world, c)});
    if already {
        answer["warning"] = json!("already_in_channel");
        answer["response_metadata"] = json!({"warnings": ["already_in_channel"]});
    }
    Ok(fields(answer))
}
