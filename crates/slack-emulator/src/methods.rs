//! The table of Web API methods the emulator serves: the scope each needs, the token kind it
//! takes and its rate-limit tier (from Slack's method reference pages).

use crate::ratelimit::Tier;

/// Which token a method takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A bot token, `xoxb-…`.
    Bot,
    /// An app-level token, `xapp-…` (only `apps.connections.open`).
    App,
}

/// One served method.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// Its name, as in `/api/<name>`.
    pub name: &'static str,
    /// The OAuth scope it needs, if any.
    pub scope: Option<&'static str>,
    /// Its rate-limit tier.
    pub tier: Tier,
    pub(crate) token: TokenKind,
}

const fn bot(name: &'static str, scope: Option<&'static str>, tier: Tier) -> Method {
    Method {
        name,
        scope,
        tier,
        token: TokenKind::Bot,
    }
}

/// Every Web API method the emulator serves.
pub const METHODS: &[Method] = &[
    bot("auth.test", None, Tier::Special),
    Method {
        name: "apps.connections.open",
        scope: Some("connections:write"),
        tier: Tier::Tier1,
        token: TokenKind::App,
    },
    bot("chat.postMessage", Some("chat:write"), Tier::Special),
    bot("chat.update", Some("chat:write"), Tier::Tier3),
    bot("chat.delete", Some("chat:write"), Tier::Tier3),
    bot("chat.postEphemeral", Some("chat:write"), Tier::Tier4),
    bot("chat.getPermalink", None, Tier::Special),
    bot("reactions.add", Some("reactions:write"), Tier::Tier3),
    bot("reactions.remove", Some("reactions:write"), Tier::Tier2),
    bot("reactions.get", Some("reactions:read"), Tier::Tier3),
    bot(
        "conversations.history",
        Some("channels:history"),
        Tier::Tier3,
    ),
    bot(
        "conversations.replies",
        Some("channels:history"),
        Tier::Tier3,
    ),
    bot("conversations.info", Some("channels:read"), Tier::Tier3),
    bot("conversations.join", Some("channels:join"), Tier::Tier3),
    bot("users.info", Some("users:read"), Tier::Tier4),
    bot("bots.info", Some("users:read"), Tier::Tier3),
    bot(
        "files.getUploadURLExternal",
        Some("files:write"),
        Tier::Tier4,
    ),
    bot(
        "files.completeUploadExternal",
        Some("files:write"),
        Tier::Tier4,
    ),
    bot("files.info", Some("files:read"), Tier::Tier4),
];

/// The method called `name`, if served.
pub(crate) fn find(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

/// The scopes a bot token gets by default: every scope a served method needs.
pub(crate) fn default_scopes() -> Vec<String> {
    let mut scopes: Vec<String> = METHODS
        .iter()
        .filter(|m| m.token == TokenKind::Bot)
        .filter_map(|m| m.scope.map(str::to_owned))
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}
