//! `getMe` and the webhook methods (`setWebhook`, `deleteWebhook`, `getWebhookInfo`): enough
//! for a webhook to block `getUpdates` and for a connector's doctor to read.

use serde_json::{Value, json};

use crate::{
    errors::ApiError,
    objects,
    params::Params,
    state::{Webhook, World},
};

pub(super) fn get_me(world: &World) -> Value {
    objects::me(world)
}

fn allowed_updates(params: &Params) -> Option<Vec<String>> {
    params
        .get("allowed_updates")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
}

pub(super) fn set_webhook(world: &mut World, params: &Params) -> Result<Value, ApiError> {
    let url = params.str("url").unwrap_or("");
    if params.flag("drop_pending_updates") {
        world.updates.clear();
    }
    if url.is_empty() {
        world.webhook = None;
        return Ok(json!(true));
    }
    if !url.starts_with("https://") {
        return Err(ApiError::bad_request(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    if let Some(allowed) = allowed_updates(params) {
        world.updates.set_allowed(allowed);
    }
    world.webhook = Some(Webhook {
        url: url.to_owned(),
        max_connections: params.int("max_connections").unwrap_or(40),
        allowed_updates: allowed_updates(params).unwrap_or_default(),
    });
    Ok(json!(true))
}

pub(super) fn delete_webhook(world: &mut World, params: &Params) -> Value {
    if params.flag("drop_pending_updates") {
        world.updates.clear();
    }
    world.webhook = None;
    json!(true)
}

pub(super) fn webhook_info(world: &World) -> Value {
    let mut info = json!({
        "url": world.webhook.as_ref().map_or("", |w| w.url.as_str()),
        "has_custom_certificate": false,
        "pending_update_count": world.updates.len(),
    });
    if let Some(webhook) = &world.webhook {
        info["max_connections"] = json!(webhook.max_connections);
        if !webhook.allowed_updates.is_empty() {
            info["allowed_updates"] = json!(webhook.allowed_updates);
        }
    }
    info
}
