//! The table of emulated REST routes, path matching, and the route patterns faults and rate
//! limits are keyed by.

use crate::{errors::Error, snowflake::Snowflake};

/// One emulated REST route: a method and a path template under `/api/v10`, spelled as in
/// Discord's OpenAPI spec (`{channel_id}`, `{message_id}`, `{emoji_name}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The path template, e.g. `/channels/{channel_id}/messages`.
    pub path: &'static str,
    /// The section of Discord's docs that describes it.
    pub doc: &'static str,
    pub(crate) id: RouteId,
}

/// Names a route inside the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RouteId {
    GetGateway,
    GetGatewayBot,
    GetCurrentUser,
    GetChannel,
    TriggerTyping,
    ListMessages,
    CreateMessage,
    GetMessage,
    EditMessage,
    DeleteMessage,
    StartThreadFromMessage,
    StartThreadWithoutMessage,
    JoinThread,
    LeaveThread,
    ListThreadMembers,
    CreateReaction,
    DeleteOwnReaction,
    GetReactions,
    GetCurrentApplication,
    GetGuild,
    GetGuildMember,
    CreateInteractionResponse,
    CreateFollowupMessage,
    GetOriginalResponse,
    EditOriginalResponse,
    DeleteOriginalResponse,
    GetFollowupMessage,
    EditFollowupMessage,
    DeleteFollowupMessage,
}

impl RouteId {
    /// Whether the route needs an `Authorization` header: Get Gateway does not, nor do the
    /// interaction endpoints, whose token is in the path (docs, receiving and responding).
    pub(crate) fn needs_authorization(self) -> bool {
        !matches!(self, RouteId::GetGateway) && !self.is_interaction_endpoint()
    }

    /// The interaction callback and webhook routes: "not bound to the application's Global
    /// Rate Limit" (docs, receiving and responding, "Endpoints").
    pub(crate) fn is_interaction_endpoint(self) -> bool {
        matches!(
            self,
            RouteId::CreateInteractionResponse
                | RouteId::CreateFollowupMessage
                | RouteId::GetOriginalResponse
                | RouteId::EditOriginalResponse
                | RouteId::DeleteOriginalResponse
                | RouteId::GetFollowupMessage
                | RouteId::EditFollowupMessage
                | RouteId::DeleteFollowupMessage
        )
    }
}

const fn route(method: &'static str, path: &'static str, doc: &'static str, id: RouteId) -> Route {
    Route {
        method,
        path,
        doc,
        id,
    }
}

/// Every route the emulator serves.
pub const ROUTES: &[Route] = &[
    route(
        "GET",
        "/gateway",
        "gateway.mdx, Get Gateway",
        RouteId::GetGateway,
    ),
    route(
        "GET",
        "/gateway/bot",
        "gateway.mdx, Get Gateway Bot",
        RouteId::GetGatewayBot,
    ),
    route(
        "GET",
        "/users/@me",
        "user resource, Get Current User",
        RouteId::GetCurrentUser,
    ),
    route(
        "GET",
        "/channels/{channel_id}",
        "channel.mdx, Get Channel",
        RouteId::GetChannel,
    ),
    route(
        "POST",
        "/channels/{channel_id}/typing",
        "channel.mdx, Trigger Typing Indicator",
        RouteId::TriggerTyping,
    ),
    route(
        "GET",
        "/channels/{channel_id}/messages",
        "message.mdx, Get Channel Messages",
        RouteId::ListMessages,
    ),
    route(
        "POST",
        "/channels/{channel_id}/messages",
        "message.mdx, Create Message",
        RouteId::CreateMessage,
    ),
    route(
        "GET",
        "/channels/{channel_id}/messages/{message_id}",
        "message.mdx, Get Channel Message",
        RouteId::GetMessage,
    ),
    route(
        "PATCH",
        "/channels/{channel_id}/messages/{message_id}",
        "message.mdx, Edit Message",
        RouteId::EditMessage,
    ),
    route(
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}",
        "message.mdx, Delete Message",
        RouteId::DeleteMessage,
    ),
    route(
        "POST",
        "/channels/{channel_id}/messages/{message_id}/threads",
        "channel.mdx, Start Thread from Message",
        RouteId::StartThreadFromMessage,
    ),
    route(
        "POST",
        "/channels/{channel_id}/threads",
        "channel.mdx, Start Thread without Message",
        RouteId::StartThreadWithoutMessage,
    ),
    route(
        "PUT",
        "/channels/{channel_id}/thread-members/@me",
        "channel.mdx, Join Thread",
        RouteId::JoinThread,
    ),
    route(
        "DELETE",
        "/channels/{channel_id}/thread-members/@me",
        "channel.mdx, Leave Thread",
        RouteId::LeaveThread,
    ),
    route(
        "GET",
        "/channels/{channel_id}/thread-members",
        "channel.mdx, List Thread Members",
        RouteId::ListThreadMembers,
    ),
    route(
        "PUT",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
        "message.mdx, Create Reaction",
        RouteId::CreateReaction,
    ),
    route(
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
        "message.mdx, Delete Own Reaction",
        RouteId::DeleteOwnReaction,
    ),
    route(
        "GET",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}",
        "message.mdx, Get Reactions",
        RouteId::GetReactions,
    ),
    route(
        "GET",
        "/applications/@me",
        "application resource, Get Current Application",
        RouteId::GetCurrentApplication,
    ),
    route(
        "GET",
        "/guilds/{guild_id}",
        "guild resource, Get Guild",
        RouteId::GetGuild,
    ),
    route(
        "GET",
        "/guilds/{guild_id}/members/{user_id}",
        "guild resource, Get Guild Member",
        RouteId::GetGuildMember,
    ),
    route(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "receiving-and-responding.mdx, Create Interaction Response",
        RouteId::CreateInteractionResponse,
    ),
    route(
        "POST",
        "/webhooks/{webhook_id}/{webhook_token}",
        "receiving-and-responding.mdx, Create Followup Message",
        RouteId::CreateFollowupMessage,
    ),
    // `@original` before `{message_id}`, which would match it too.
    route(
        "GET",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "receiving-and-responding.mdx, Get Original Interaction Response",
        RouteId::GetOriginalResponse,
    ),
    route(
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "receiving-and-responding.mdx, Edit Original Interaction Response",
        RouteId::EditOriginalResponse,
    ),
    route(
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "receiving-and-responding.mdx, Delete Original Interaction Response",
        RouteId::DeleteOriginalResponse,
    ),
    route(
        "GET",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "receiving-and-responding.mdx, Get Followup Message",
        RouteId::GetFollowupMessage,
    ),
    route(
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "receiving-and-responding.mdx, Edit Followup Message",
        RouteId::EditFollowupMessage,
    ),
    route(
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        "receiving-and-responding.mdx, Delete Followup Message",
        RouteId::DeleteFollowupMessage,
    ),
];

/// The parameters a matched path carried, percent-decoded.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    pub(crate) channel_id: Option<String>,
    pub(crate) message_id: Option<String>,
    pub(crate) emoji: Option<String>,
    pub(crate) guild_id: Option<String>,
    pub(crate) user_id: Option<String>,
    /// `{interaction_id}`, or `{webhook_id}` (the application's id for interactions).
    pub(crate) owner_id: Option<String>,
    /// `{interaction_token}` or `{webhook_token}`.
    pub(crate) token: Option<String>,
}

impl Params {
    /// The top-level resource rate limits are split by (docs, rate limits): the channel, the
    /// guild, or the webhook ("`webhook_id + webhook_token`"; an interaction likewise).
    pub(crate) fn major(&self) -> Option<String> {
        self.channel_id
            .clone()
            .or_else(|| self.guild_id.clone())
            .or_else(|| {
                self.owner_id
                    .as_ref()
                    .map(|id| format!("{id}/{}", self.token.as_deref().unwrap_or_default()))
            })
    }
}

/// How a path matched the table.
pub(crate) enum Match {
    Found(&'static Route, Params),
    /// The path exists, but not with this method.
    WrongMethod,
    None,
}

/// Splits `/a/b/c` into `["a", "b", "c"]`.
pub(crate) fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Finds the route for `method` and a path relative to `/api/v10`.
pub(crate) fn find(method: &str, path: &str) -> Match {
    let actual = segments(path);
    let mut path_exists = false;
    for route in ROUTES {
        let Some(params) = match_template(route.path, &actual) else {
            continue;
        };
        if route.method == method {
            return Match::Found(route, params);
        }
        path_exists = true;
    }
    if path_exists {
        Match::WrongMethod
    } else {
        Match::None
    }
}

fn match_template(template: &str, actual: &[&str]) -> Option<Params> {
    let template = segments(template);
    if template.len() != actual.len() {
        return None;
    }
    let mut params = Params::default();
    for (t, a) in template.iter().zip(actual) {
        let value = percent_decode(a);
        match *t {
            "{channel_id}" => params.channel_id = Some(value),
            "{message_id}" => params.message_id = Some(value),
            "{emoji_name}" => params.emoji = Some(value),
            "{guild_id}" => params.guild_id = Some(value),
            "{user_id}" => params.user_id = Some(value),
            "{interaction_id}" | "{webhook_id}" => params.owner_id = Some(value),
            "{interaction_token}" | "{webhook_token}" => params.token = Some(value),
            literal if literal == *a => {}
            _ => return None,
        }
    }
    Some(params)
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a query string into decoded pairs (`+` is a space, as in forms).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Parses a snowflake path parameter.
pub(crate) fn parse_id(value: Option<&String>) -> Option<Snowflake> {
    value.and_then(|v| v.parse().ok())
}

/// Selects requests by method and path, for faults and rate limits.
///
/// The form is `"[METHOD] /path"`: the method is optional (any method when left out, or `*`);
/// each path segment is a literal, a `{name}` or `*` wildcard matching one segment. A literal
/// matches either the request's own segment (`/channels/123/messages`) or the route template's
/// (`/channels/{channel_id}/messages` written out). A leading `/api/v10` is ignored.
///
/// ```
/// use discord_emulator::RoutePattern;
/// let p = RoutePattern::parse("POST /channels/{channel_id}/messages").unwrap();
/// assert!(p.to_string().starts_with("POST"));
/// assert!(RoutePattern::parse("POST /no/such/route").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePattern {
    method: Option<String>,
    segments: Vec<String>,
}

impl RoutePattern {
    /// Parses a pattern, refusing one that matches none of [`ROUTES`].
    ///
    /// # Errors
    ///
    /// [`Error::RoutePattern`] when the pattern is malformed or names no emulated route.
    pub fn parse(pattern: &str) -> Result<RoutePattern, Error> {
        let bad = |reason| Error::RoutePattern {
            pattern: pattern.to_owned(),
            reason,
        };
        let trimmed = pattern.trim();
        let (method, path) = match trimmed.split_once(char::is_whitespace) {
            Some((m, p)) => (Some(m), p.trim()),
            None if trimmed.starts_with('/') => (None, trimmed),
            None => return Err(bad("expected `METHOD /path` or `/path`")),
        };
        let method = match method {
            None | Some("*") => None,
            Some(m) if m.chars().all(|c| c.is_ascii_uppercase()) => Some(m.to_owned()),
            Some(_) => return Err(bad("the method must be upper case, like `POST`")),
        };
        if !path.starts_with('/') {
            return Err(bad("the path must start with `/`"));
        }
        let path = path.strip_prefix("/api/v10").unwrap_or(path);
        let parsed = RoutePattern {
            method,
            segments: segments(path).into_iter().map(str::to_owned).collect(),
        };
        if ROUTES.iter().any(|r| parsed.could_match(r)) {
            Ok(parsed)
        } else {
            Err(bad("it matches none of the emulated routes (see ROUTES)"))
        }
    }

    fn method_matches(&self, method: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
    }

    fn could_match(&self, route: &Route) -> bool {
        let template = segments(route.path);
        self.method_matches(route.method)
            && template.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&template)
                .all(|(p, t)| is_wildcard(p) || p == t || (t.starts_with('{') && !p.contains('/')))
    }

    /// Whether a request for `route` with this path (relative to `/api/v10`) matches.
    pub(crate) fn matches(&self, method: &str, route: &Route, path: &str) -> bool {
        let actual = segments(path);
        let template = segments(route.path);
        self.method_matches(method)
            && actual.len() == self.segments.len()
            && template.len() == actual.len()
            && self
                .segments
                .iter()
                .zip(actual.iter().zip(&template))
                .all(|(p, (a, t))| is_wildcard(p) || p == t || *p == percent_decode(a))
    }
}

fn is_wildcard(segment: &str) -> bool {
    segment == "*" || (segment.starts_with('{') && segment.ends_with('}'))
}

impl std::fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} /{}",
            self.method.as_deref().unwrap_or("*"),
            self.segments.join("/")
        )
    }
}

impl std::str::FromStr for RoutePattern {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoutePattern::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: &str, path: &str) -> (&'static Route, Params) {
        match find(method, path) {
            Match::Found(route, params) => (route, params),
            _ => panic!("{method} {path} did not match"),
        }
    }

    #[test]
    fn paths_match_their_templates() {
        let (route, params) = found("PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me");
        assert_eq!(route.id, RouteId::CreateReaction);
        assert_eq!(params.channel_id.as_deref(), Some("1"));
        assert_eq!(params.message_id.as_deref(), Some("2"));
        assert_eq!(params.emoji.as_deref(), Some("👍"));
        assert!(matches!(find("PUT", "/channels/1"), Match::WrongMethod));
        assert!(matches!(find("GET", "/guilds/1/nothing"), Match::None));
        assert!(matches!(find("DELETE", "/guilds/1"), Match::WrongMethod));
        let (route, params) = found("GET", "/guilds/3/members/4");
        assert_eq!(route.id, RouteId::GetGuildMember);
        assert_eq!(params.guild_id.as_deref(), Some("3"));
        assert_eq!(params.user_id.as_deref(), Some("4"));
        assert_eq!(params.major().as_deref(), Some("3"));
        assert_eq!(found("GET", "/gateway/bot").0.id, RouteId::GetGatewayBot);
        let (route, params) = found("GET", "/webhooks/5/tok/messages/@original");
        assert_eq!(route.id, RouteId::GetOriginalResponse);
        assert_eq!(params.token.as_deref(), Some("tok"));
        assert_eq!(params.major().as_deref(), Some("5/tok"));
        assert_eq!(
            found("PATCH", "/webhooks/5/tok/messages/6").0.id,
            RouteId::EditFollowupMessage
        );
        assert_eq!(
            found("POST", "/interactions/7/tok/callback").0.id,
            RouteId::CreateInteractionResponse
        );
        assert!(matches!(find("GET", "/webhooks/5/tok"), Match::WrongMethod));
        let (route, params) = found("GET", "/channels/1/messages/2/reactions/blob%3A99");
        assert_eq!(route.id, RouteId::GetReactions);
        assert_eq!(params.emoji.as_deref(), Some("blob:99"));
    }

    #[test]
    fn patterns_match_templates_and_concrete_ids() {
        let (route, _) = found("POST", "/channels/42/messages");
        for pattern in [
            "POST /channels/{channel_id}/messages",
            "POST /channels/*/messages",
            "POST /channels/42/messages",
            "/api/v10/channels/42/messages",
            "* /channels/{id}/messages",
        ] {
            let p = RoutePattern::parse(pattern).unwrap();
            assert!(
                p.matches("POST", route, "/channels/42/messages"),
                "{pattern}"
            );
            assert!(!p.matches("POST", route, "/channels/43/messages") || !pattern.contains("42"));
        }
        let get = RoutePattern::parse("GET /channels/{channel_id}/messages").unwrap();
        assert!(!get.matches("POST", route, "/channels/42/messages"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for pattern in [
            "post /channels/1/messages",
            "channels",
            "GET /nope",
            "GET channels/1",
        ] {
            assert!(RoutePattern::parse(pattern).is_err(), "{pattern}");
        }
    }

    #[test]
    fn queries_decode() {
        assert_eq!(
            query_pairs(Some("limit=5&after=12&x=a%20b+c")),
            vec![
                ("limit".into(), "5".into()),
                ("after".into(), "12".into()),
                ("x".into(), "a b c".into())
            ]
        );
        assert_eq!(percent_decode("%E2%9C%85"), "✅");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
