//! The bot's permissions in its channel, computed the way Discord documents it (Permissions,
//! "Permission Hierarchy" and "Permission Overwrites"), from `GET /channels/{id}`,
//! `GET /guilds/{id}` and `GET /guilds/{id}/members/{bot}`.
//!
//! 1. Base: the guild owner has everything; else `@everyone`'s permissions OR those of every
//!    role the member has; ADMINISTRATOR means everything.
//! 2. Overwrites of the channel (a thread uses its parent's): the `@everyone` overwrite (id = the
//!    guild's), then all the member's role overwrites together (deny, then allow), then the
//!    member's own overwrite.
//! 3. Without VIEW_CHANNEL nothing else counts.

use connector_core::{Error, Result};
use serde_json::Value;
use serenity_reqwest::Method;

use crate::KIND;
use crate::rest::{Refusal, Rest};

/// Allows all permissions and bypasses channel overwrites.
pub(crate) const ADMINISTRATOR: u64 = 1 << 3;
/// Seeing the channel.
pub(crate) const VIEW_CHANNEL: u64 = 1 << 10;
/// Posting in the channel.
pub(crate) const SEND_MESSAGES: u64 = 1 << 11;
/// Reading older messages (backfill, history).
pub(crate) const READ_MESSAGE_HISTORY: u64 = 1 << 16;
/// Starting public threads.
pub(crate) const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
/// Posting in threads.
pub(crate) const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
/// What threads need: starting public threads and posting in them.
pub(crate) const THREADS: u64 = CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS;
/// Every permission bit Discord has defined so far.
pub(crate) const ALL: u64 = (1 << 51) - 1;

/// The names of the permissions the connector needs, for messages.
pub(crate) const NAMES: &[(u64, &str)] = &[
    (VIEW_CHANNEL, "VIEW_CHANNEL"),
    (SEND_MESSAGES, "SEND_MESSAGES"),
    (READ_MESSAGE_HISTORY, "READ_MESSAGE_HISTORY"),
    (CREATE_PUBLIC_THREADS, "CREATE_PUBLIC_THREADS"),
    (SEND_MESSAGES_IN_THREADS, "SEND_MESSAGES_IN_THREADS"),
];

/// The names of the bits of `needed` missing from `held`, in [`NAMES`] order.
pub(crate) fn missing(held: u64, needed: u64) -> Vec<&'static str> {
    NAMES
        .iter()
        .filter(|(bit, _)| needed & bit != 0 && held & bit == 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Where the computation starts: the channel's JSON (a thread's parent already resolved).
#[derive(Debug, Clone)]
pub(crate) struct ChannelAccess {
    /// The guild's id.
    pub(crate) guild_id: u64,
    /// The channel's `permission_overwrites`.
    pub(crate) overwrites: Vec<Overwrite>,
}

/// One permission overwrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overwrite {
    pub(crate) id: u64,
    /// 0 role, 1 member.
    pub(crate) kind: u64,
    pub(crate) allow: u64,
    pub(crate) deny: u64,
}

/// A guild's roles and owner.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuildRoles {
    pub(crate) owner_id: u64,
    /// `(role id, permissions)`, `@everyone` (id = the guild's) included.
    pub(crate) roles: Vec<(u64, u64)>,
}

fn id(value: &Value) -> Option<u64> {
    value.as_str().and_then(|s| s.parse().ok())
}

fn bits(value: &Value) -> u64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| value.as_u64())
        .unwrap_or(0)
}

fn unreadable(what: &str) -> Error {
    Error::backend_message(
        KIND,
        format!("{what}: Discord's answer lacks what the permission check needs"),
    )
}

impl ChannelAccess {
    /// Reads a channel object (not a thread: give the parent).
    pub(crate) fn from_channel(channel: &Value) -> Result<Self> {
        let guild_id = id(&channel["guild_id"]).ok_or_else(|| unreadable("the channel"))?;
        let overwrites = channel["permission_overwrites"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|o| {
                        Some(Overwrite {
                            id: id(&o["id"])?,
                            kind: o["type"].as_u64()?,
                            allow: bits(&o["allow"]),
                            deny: bits(&o["deny"]),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            guild_id,
            overwrites,
        })
    }
}

impl GuildRoles {
    /// Reads a guild object.
    pub(crate) fn from_guild(guild: &Value) -> Result<Self> {
        let owner_id = id(&guild["owner_id"]).ok_or_else(|| unreadable("the guild"))?;
        let roles = guild["roles"]
            .as_array()
            .ok_or_else(|| unreadable("the guild"))?
            .iter()
            .filter_map(|r| Some((id(&r["id"])?, bits(&r["permissions"]))))
            .collect();
        Ok(Self { owner_id, roles })
    }
}

/// The member's role ids from a guild member object.
pub(crate) fn member_roles(member: &Value) -> Vec<u64> {
    member["roles"]
        .as_array()
        .map(|roles| roles.iter().filter_map(id).collect())
        .unwrap_or_default()
}

/// The permissions of `user` with `roles` in the channel (Discord's algorithm, module docs).
pub(crate) fn compute(
    user: u64,
    roles: &[u64],
    guild: &GuildRoles,
    channel: &ChannelAccess,
) -> u64 {
    if user == guild.owner_id {
        return ALL;
    }
    let role_permissions = |role: u64| {
        guild
            .roles
            .iter()
            .find(|(id, _)| *id == role)
            .map_or(0, |(_, p)| *p)
    };
    let mut base = role_permissions(channel.guild_id);
    for role in roles {
        base |= role_permissions(*role);
    }
    if base & ADMINISTRATOR != 0 {
        return ALL;
    }
    let mut permissions = base;
    if let Some(everyone) = channel.overwrites.iter().find(|o| o.id == channel.guild_id) {
        permissions &= !everyone.deny;
        permissions |= everyone.allow;
    }
    let (mut allow, mut deny) = (0, 0);
    for o in channel
        .overwrites
        .iter()
        .filter(|o| o.kind == 0 && roles.contains(&o.id))
    {
        allow |= o.allow;
        deny |= o.deny;
    }
    permissions &= !deny;
    permissions |= allow;
    if let Some(member) = channel
        .overwrites
        .iter()
        .find(|o| o.kind == 1 && o.id == user)
    {
        permissions &= !member.deny;
        permissions |= member.allow;
    }
    if permissions & VIEW_CHANNEL == 0 {
        return 0;
    }
    permissions
}

/// The bot's permissions in `channel` (the channel object already fetched), asking Discord for
/// the guild's roles and the bot's member object.
pub(crate) async fn of_bot(
    rest: &Rest,
    bot: u64,
    channel: &Value,
) -> std::result::Result<u64, Refusal> {
    let access = ChannelAccess::from_channel(channel).map_err(plain)?;
    let guild = call(rest, &format!("/guilds/{}", access.guild_id)).await?;
    let guild = GuildRoles::from_guild(&guild).map_err(plain)?;
    let member = call(rest, &format!("/guilds/{}/members/{bot}", access.guild_id)).await?;
    Ok(compute(bot, &member_roles(&member), &guild, &access))
}

/// One GET, failures kept with Discord's status and code.
pub(crate) async fn call(rest: &Rest, path: &str) -> std::result::Result<Value, Refusal> {
    rest.call(Method::GET, path, None)
        .await
        .map_err(|failure| failure.into_refusal(path))
}

fn plain(error: Error) -> Refusal {
    Refusal {
        error,
        status: None,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GUILD: u64 = 100;
    const BOT: u64 = 7;
    const ROLE: u64 = 300;

    fn guild(everyone: u64, role: u64) -> GuildRoles {
        GuildRoles {
            owner_id: 1,
            roles: vec![(GUILD, everyone), (ROLE, role)],
        }
    }

    fn channel(overwrites: Vec<Overwrite>) -> ChannelAccess {
        ChannelAccess {
            guild_id: GUILD,
            overwrites,
        }
    }

    #[test]
    fn follows_discords_hierarchy() {
        let base = VIEW_CHANNEL | SEND_MESSAGES;
        assert_eq!(compute(BOT, &[], &guild(base, 0), &channel(vec![])), base);
        // A role adds; ADMINISTRATOR and ownership give everything.
        assert_eq!(
            compute(
                BOT,
                &[ROLE],
                &guild(VIEW_CHANNEL, SEND_MESSAGES),
                &channel(vec![])
            ),
            base
        );
        assert_eq!(
            compute(BOT, &[ROLE], &guild(0, ADMINISTRATOR), &channel(vec![])),
            ALL
        );
        assert_eq!(compute(1, &[], &guild(0, 0), &channel(vec![])), ALL);
        // @everyone overwrite denies, the role overwrite allows back, the member's denies.
        let everyone_deny = Overwrite {
            id: GUILD,
            kind: 0,
            allow: 0,
            deny: SEND_MESSAGES,
        };
        let role_allow = Overwrite {
            id: ROLE,
            kind: 0,
            allow: SEND_MESSAGES,
            deny: 0,
        };
        let member_deny = Overwrite {
            id: BOT,
            kind: 1,
            allow: 0,
            deny: SEND_MESSAGES,
        };
        let g = guild(base, 0);
        assert_eq!(
            compute(BOT, &[], &g, &channel(vec![everyone_deny])),
            VIEW_CHANNEL
        );
        assert_eq!(
            compute(BOT, &[ROLE], &g, &channel(vec![everyone_deny, role_allow])),
            base
        );
        assert_eq!(
            compute(
                BOT,
                &[ROLE],
                &g,
                &channel(vec![everyone_deny, role_allow, member_deny])
            ),
            VIEW_CHANNEL
        );
        // No VIEW_CHANNEL, nothing.
        let hidden = Overwrite {
            id: BOT,
            kind: 1,
            allow: 0,
            deny: VIEW_CHANNEL,
        };
        assert_eq!(compute(BOT, &[], &g, &channel(vec![hidden])), 0);
        assert_eq!(
            missing(VIEW_CHANNEL, SEND_MESSAGES | CREATE_PUBLIC_THREADS),
            ["SEND_MESSAGES", "CREATE_PUBLIC_THREADS"]
        );
    }

    #[test]
    fn reads_discord_objects() {
        let channel = ChannelAccess::from_channel(&json!({
            "guild_id": "100",
            "permission_overwrites": [{"id": "7", "type": 1, "allow": "0", "deny": "2048"}]
        }))
        .unwrap();
        assert_eq!(channel.overwrites[0].deny, SEND_MESSAGES);
        let guild = GuildRoles::from_guild(&json!({
            "owner_id": "1",
            "roles": [{"id": "100", "permissions": "3072"}]
        }))
        .unwrap();
        assert_eq!(guild.roles, vec![(100, VIEW_CHANNEL | SEND_MESSAGES)]);
        assert_eq!(member_roles(&json!({"roles": ["300", "301"]})), [300, 301]);
    }
}
