//! The Web API at `/api/<method>`: token and scope checks, armed faults, rate limits, then the
//! method itself; answers `{"ok":true,…}` or `{"ok":false,"error":…}` as Slack does.

mod chat;
mod conversations;
pub(crate) mod files;
mod identity;
mod reactions;

use serde_json::{Map, Value, json};

use crate::{
    fault_plan::Failure,
    methods::{self, TokenKind},
    params::Params,
    state::{ApiCall, Shared, World},
};

/// What a method answers: the fields beside `"ok":true`, or a failure.
pub(crate) type Reply = Result<Map<String, Value>, ApiFailure>;

/// A Slack error answer: `error` and any extra fields (`needed`, `provided`, …).
#[derive(Debug)]
pub(crate) struct ApiFailure {
    pub(crate) error: String,
    pub(crate) extra: Map<String, Value>,
}

/// A failure with only an error code.
pub(crate) fn fail(error: &str) -> ApiFailure {
    ApiFailure {
        error: error.to_owned(),
        extra: Map::new(),
    }
}

/// Fields from a `json!` object literal.
pub(crate) fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The HTTP answer to one call.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Drop the connection instead of answering (the call took effect).
    pub(crate) lose: bool,
}

/// One request as the server read it.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) authorization: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) query: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

/// Handles one Web API call and records it.
pub(crate) fn handle(shared: &Shared, req: &Request<'_>) -> Outcome {
    let mut world = shared.lock();
    let outcome = answer(&mut world, req);
    world.api_calls.push(ApiCall {
        method: req.method.to_owned(),
        status: outcome.status,
        body: outcome.body.clone(),
        lost: outcome.lose,
    });
    outcome
}

fn error_body(failure: ApiFailure) -> Value {
    let mut body = Map::new();
    body.insert("ok".into(), json!(false));
    body.insert("error".into(), json!(failure.error));
    body.extend(failure.extra);
    Value::Object(body)
}

fn answer(world: &mut World, req: &Request<'_>) -> Outcome {
    let mut headers = Vec::new();
    let plain = |status: u16, failure: ApiFailure, headers: Vec<(&'static str, String)>| Outcome {
        status,
        body: error_body(failure),
        headers,
        lose: false,
    };
    let Some(method) = methods::find(req.method) else {
        return plain(404, fail("unknown_method"), headers);
    };
    let params = match Params::parse(req.content_type, req.query, req.body) {
        Ok(params) => params,
        Err(error) => return plain(200, fail(error), headers),
    };
    let token = req
        .authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| params.str("token"));
    let Some(token) = token else {
        return plain(200, fail("not_authed"), headers);
    };
    let kind = if token == world.bot_token {
        TokenKind::Bot
    } else if token == world.app_token {
        TokenKind::App
    } else {
        return plain(200, fail("invalid_auth"), headers);
    };
    let granted = match kind {
        TokenKind::Bot => world.scopes.join(","),
        TokenKind::App => "connections:write".to_owned(),
    };
    headers.push(("x-oauth-scopes", granted.clone()));
    headers.push((
        "x-accepted-oauth-scopes",
        method.scope.unwrap_or("").to_owned(),
    ));
    if kind != method.token {
        return plain(200, fail("not_allowed_token_type"), headers);
    }
    if let Some(failure) = world.faults.take_failure(method.name) {
        return match failure {
            Failure::Error(error) => plain(200, fail(&error), headers),
            Failure::Status(status) => plain(status, fail("internal_error"), headers),
            Failure::RateLimited { retry_after } => {
                headers.push(("retry-after", retry_after.to_string()));
                plain(429, fail("ratelimited"), headers)
            }
        };
    }
    if let Some(limit) = world.rate_limits.limit_for(method.name) {
        let key = match (method.name, params.str("channel")) {
            ("chat.postMessage", Some(channel)) => format!("{}:{channel}", method.name),
            _ => method.name.to_owned(),
        };
        if let Err(wait) = world.windows.check(&key, limit) {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.push(("retry-after", secs.max(1).to_string()));
            return plain(429, fail("ratelimited"), headers);
        }
    }
    if let Some(scope) = method.scope
        && kind == TokenKind::Bot
        && !world.scopes.iter().any(|s| s == scope)
    {
        let mut failure = fail("missing_scope");
        failure.extra.insert("needed".into(), json!(scope));
        failure.extra.insert("provided".into(), json!(granted));
        return plain(200, failure, headers);
    }
    let reply = dispatch(world, method.name, &params);
    let lose = world.faults.take_lose(method.name);
    match reply {
        Ok(fields) => {
            let mut body = Map::new();
            body.insert("ok".into(), json!(true));
            body.extend(fields);
            Outcome {
                status: 200,
                body: Value::Object(body),
                headers,
                lose,
            }
        }
        Err(failure) => Outcome {
            lose,
            ..plain(200, failure, headers)
        },
    }
}

fn dispatch(world: &mut World, method: &str, p: &Params) -> Reply {
    match method {
        "auth.test" => identity::auth_test(world),
        "apps.connections.open" => identity::connections_open(world),
        "users.info" => identity::users_info(world, p),
        "bots.info" => identity::bots_info(world, p),
        "chat.postMessage" => chat::post_message(world, p),
        "chat.update" => chat::update(world, p),
        "chat.delete" => chat::delete(world, p),
        "chat.postEphemeral" => chat::post_ephemeral(world, p),
        "chat.getPermalink" => chat::get_permalink(world, p),
        "reactions.add" => reactions::add_or_remove(world, p, true),
        "reactions.remove" => reactions::add_or_remove(world, p, false),
        "reactions.get" => reactions::get(world, p),
        "conversations.history" => conversations::history(world, p),
        "conversations.replies" => conversations::replies(world, p),
        "conversations.info" => conversations::info(world, p),
        "conversations.join" => conversations::join(world, p),
        "files.getUploadURLExternal" => files::get_upload_url(world, p),
        "files.completeUploadExternal" => files::complete_upload(world, p),
        "files.info" => files::info(world, p),
        _ => Err(fail("unknown_method")),
    }
}

/// The channel named by argument `name`, which the bot must be a member of.
pub(crate) fn member_channel(world: &World, p: &Params, name: &str) -> Result<String, ApiFailure> {
    let id = p.str(name).ok_or_else(|| fail("channel_not_found"))?;
    let channel = world
        .channel(&id)
        .ok_or_else(|| fail("channel_not_found"))?;
    if !channel.bot_member {
        return Err(fail("not_in_channel"));
    }
    Ok(channel.id.clone())
}
