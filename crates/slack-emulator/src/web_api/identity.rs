//! Who is calling and who is who: `auth.test`, `apps.connections.open`, `users.info`,
//! `bots.info`.

use serde_json::json;

use super::{Reply, fail, fields};
use crate::{objects, params::Params, state::World};

/// `auth.test`.
pub(crate) fn auth_test(world: &World) -> Reply {
    Ok(fields(json!({
        "url": "https://emulated.slack.com/",
        "team": world.team_name,
        "user": world.bot_name,
        "team_id": world.team_id,
        "user_id": world.bot_user_id,
        "bot_id": world.bot_id,
        "is_enterprise_install": false,
    })))
}

/// `apps.connections.open`: a one-use ticket in a Socket Mode URL.
pub(crate) fn connections_open(world: &mut World) -> Reply {
    let ticket = world.ids.token();
    world.sockets.tickets.push(ticket.clone());
    let url = format!(
        "ws://127.0.0.1:{}/socket?ticket={ticket}&app_id={}",
        world.port, world.app_id
    );
    Ok(fields(json!({ "url": url })))
}

/// `users.info`.
pub(crate) fn users_info(world: &World, p: &Params) -> Reply {
    let id = p.str("user").ok_or_else(|| fail("user_not_found"))?;
    let user = world.user(&id).ok_or_else(|| fail("user_not_found"))?;
    Ok(fields(json!({ "user": objects::user(world, user) })))
}

/// `bots.info`.
pub(crate) fn bots_info(world: &World, p: &Params) -> Reply {
    match p.str("bot") {
        Some(id) if id == world.bot_id => Ok(fields(json!({ "bot": objects::bot(world) }))),
        _ => Err(fail("bot_not_found")),
    }
}
