//! The REST API under `/api/v10`: authentication, injected faults, rate limits, then the route's
//! handler; every answer is Discord-shaped JSON (or an empty 204).

mod body;
mod channels;
mod gateway;
mod guilds;
mod interactions;
mod messages;
mod reactions;
mod threads;
mod users;
mod webhooks;

use std::time::Instant;

use http_body_util::Full;
use hyper::{Response, StatusCode, body::Bytes, header, http::request::Parts};
use serde_json::Value;

use crate::{
    Shared,
    errors::ApiError,
    faults::Injected,
    message_content, objects, ratelimit,
    responses::{json_response, no_content},
    routes::{self, Match, Params, RouteId},
    state::{Caller, Message, RequestRecord, World},
};

/// What a handler answers.
pub(crate) enum Reply {
    Json(StatusCode, Value),
    NoContent,
}

/// A request as handlers see it.
pub(crate) struct Ctx<'a> {
    pub(crate) world: &'a mut World,
    pub(crate) caller: Option<Caller>,
    pub(crate) params: Params,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

impl Ctx<'_> {
    /// The caller's id (routes other than Get Gateway are authenticated).
    pub(crate) fn caller_id(&self) -> crate::snowflake::Snowflake {
        self.caller.map_or(self.world.bot_id, Caller::id)
    }

    pub(crate) fn is_bot(&self) -> bool {
        self.caller.is_some_and(Caller::is_bot)
    }

    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A message as this caller reads it: the bot without the granted MESSAGE_CONTENT intent
    /// gets empty content over HTTP too (docs, gateway, "HTTP Restrictions").
    pub(crate) fn message_json(&self, message: &Message) -> Value {
        let mut value = objects::message(self.world, message, self.caller_id());
        if self.is_bot() && !self.world.http_content_granted() {
            message_content::redact_message(&mut value, self.world.bot_id);
        }
        value
    }
}

/// A finished REST exchange.
pub(crate) struct Outcome {
    pub(crate) response: Response<Full<Bytes>>,
    /// Drop the connection instead of answering.
    pub(crate) lose: bool,
}

/// Serves one REST request; `path` is relative to `/api/v10`.
pub(crate) fn handle(shared: &Shared, parts: &Parts, path: &str, body: Bytes) -> Outcome {
    let method = parts.method.as_str();
    let mut world = shared.lock();
    let world = &mut *world;
    let (route, params) = match routes::find(method, path) {
        Match::Found(route, params) => (route, params),
        Match::WrongMethod => {
            return finish(
                world,
                method,
                path,
                false,
                error(&ApiError::method_not_allowed(), &[]),
            );
        }
        Match::None => {
            return finish(
                world,
                method,
                path,
                false,
                error(&ApiError::not_found(), &[]),
            );
        }
    };
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = world.authenticate(authorization);
    let by_bot = caller.is_some_and(Caller::is_bot);
    let identity = caller.map_or_else(|| "anonymous".to_owned(), |c| c.id().to_string());
    let now = Instant::now();
    let needs_bot = route.id == RouteId::GetGatewayBot;
    let needs_auth = route.id.needs_authorization();
    if (needs_auth && caller.is_none()) || (needs_bot && !by_bot) {
        let verdict = world
            .limiter
            .check(&identity, method, route, path, params.major(), now);
        return finish(
            world,
            method,
            path,
            by_bot,
            error(&ApiError::unauthorized(), &verdict.headers),
        );
    }
    if let Some(injected) = world.faults.take_failure(method, route, path) {
        let response = match injected {
            Injected::RateLimited {
                retry_after,
                global,
            } => {
                world
                    .limiter
                    .exhaust(&identity, route, params.major(), retry_after, now);
                let (headers, body) = ratelimit::injected(route, retry_after, global);
                json_response(StatusCode::TOO_MANY_REQUESTS, &body, &headers)
            }
            Injected::Status(status) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                error(&ApiError::server_error(status), &[])
            }
        };
        return finish(world, method, path, by_bot, response);
    }
    let verdict = world
        .limiter
        .check(&identity, method, route, path, params.major(), now);
    if let Some(body) = verdict.limited {
        let response = json_response(StatusCode::TOO_MANY_REQUESTS, &body, &verdict.headers);
        return finish(world, method, path, by_bot, response);
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut ctx = Ctx {
        world,
        caller,
        params,
        query: routes::query_pairs(parts.uri.query()),
        content_type,
        body,
    };
    let result = dispatch(route.id, &mut ctx);
    let world = ctx.world;
    let response = match result {
        Ok(Reply::Json(status, value)) => json_response(status, &value, &verdict.headers),
        Ok(Reply::NoContent) => no_content(&verdict.headers),
        Err(e) => error(&e, &verdict.headers),
    };
    let lose = world.faults.take_loss(method, route, path);
    let mut outcome = finish(world, method, path, by_bot, response);
    if lose {
        outcome.lose = true;
        if let Some(record) = world.requests.last_mut() {
            record.status = None;
        }
    }
    outcome
}

fn dispatch(route: RouteId, ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    match route {
        RouteId::GetGateway => gateway::get_gateway(ctx),
        RouteId::GetGatewayBot => gateway::get_gateway_bot(ctx),
        RouteId::GetCurrentUser => users::get_current_user(ctx),
        RouteId::GetChannel => channels::get_channel(ctx),
        RouteId::TriggerTyping => channels::trigger_typing(ctx),
        RouteId::ListMessages => messages::list(ctx),
        RouteId::CreateMessage => messages::create(ctx),
        RouteId::GetMessage => messages::get(ctx),
        RouteId::EditMessage => messages::edit(ctx),
        RouteId::DeleteMessage => messages::delete(ctx),
        RouteId::StartThreadFromMessage => threads::start_from_message(ctx),
        RouteId::StartThreadWithoutMessage => threads::start_without_message(ctx),
        RouteId::JoinThread => threads::join(ctx),
        RouteId::LeaveThread => threads::leave(ctx),
        RouteId::ListThreadMembers => threads::list_members(ctx),
        RouteId::CreateReaction => reactions::add(ctx),
        RouteId::DeleteOwnReaction => reactions::remove(ctx),
        RouteId::GetReactions => reactions::list(ctx),
        RouteId::GetCurrentApplication => users::get_current_application(ctx),
        RouteId::GetGuild => guilds::get_guild(ctx),
        RouteId::GetGuildMember => guilds::get_member(ctx),
        RouteId::CreateInteractionResponse => interactions::callback(ctx),
        RouteId::CreateFollowupMessage => webhooks::followup(ctx),
        RouteId::GetOriginalResponse | RouteId::GetFollowupMessage => webhooks::get(ctx),
        RouteId::EditOriginalResponse | RouteId::EditFollowupMessage => webhooks::edit(ctx),
        RouteId::DeleteOriginalResponse | RouteId::DeleteFollowupMessage => webhooks::delete(ctx),
    }
}

fn error(e: &ApiError, headers: &[(&'static str, String)]) -> Response<Full<Bytes>> {
    json_response(e.status, &e.body(), headers)
}

fn finish(
    world: &mut World,
    method: &str,
    path: &str,
    by_bot: bool,
    response: Response<Full<Bytes>>,
) -> Outcome {
    world.requests.push(RequestRecord {
        method: method.to_owned(),
        path: format!("/api/v10{path}"),
        status: Some(response.status().as_u16()),
        by_bot,
    });
    Outcome {
        response,
        lose: false,
    }
}
