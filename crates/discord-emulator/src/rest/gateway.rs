//! Get Gateway and Get Gateway Bot (docs, gateway).

use hyper::StatusCode;
use serde_json::json;

use super::{Ctx, Reply};
use crate::errors::ApiError;

/// `GET /gateway`: the WebSocket URL, without a query string (clients append `?v=10`).
pub(crate) fn get_gateway(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    Ok(Reply::Json(
        StatusCode::OK,
        json!({ "url": ctx.world.gateway_url() }),
    ))
}

/// `GET /gateway/bot`: the URL, one shard, and the session start limit.
pub(crate) fn get_gateway_bot(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let total = 1000;
    let remaining = total - ctx.world.gateway.identifies.min(total);
    Ok(Reply::Json(
        StatusCode::OK,
        json!({
            "url": ctx.world.gateway_url(),
            "shards": 1,
            "session_start_limit": {
                "total": total,
                "remaining": remaining,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }),
    ))
}
