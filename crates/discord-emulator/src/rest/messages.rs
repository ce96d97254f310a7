//! Messages: Create (JSON or multipart), Get, Get Channel Messages, Edit and Delete (docs,
//! message), with Discord's Invalid Form Body (50035) checks.

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use super::{
    Ctx, Reply,
    body::{self, FilePart},
};
use crate::{
    actions::{MAX_CONTENT, MessageEdit, NewFile, NewMessage, ReplyTo},
    components,
    errors::{ApiError, FormErrors},
    routes::parse_id,
    snowflake::Snowflake,
};

/// A nonce is "up to 25 characters".
const MAX_NONCE: usize = 25;
/// "Up to 10 rich embeds".
const MAX_EMBEDS: usize = 10;

/// `POST /channels/{channel_id}/messages`.
pub(crate) fn create(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = parse_id(ctx.params.channel_id.as_ref());
    ctx.world.visible_channel(user, channel)?;
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let new = new_message(body)?;
    let (message, _) = ctx.world.create_message(user, channel, new)?;
    Ok(Reply::Json(StatusCode::OK, ctx.message_json(&message)))
}

/// `GET /channels/{channel_id}/messages/{message_id}`.
pub(crate) fn get(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = ctx
        .world
        .visible_channel(user, parse_id(ctx.params.channel_id.as_ref()))?
        .id;
    let message = parse_id(ctx.params.message_id.as_ref())
        .and_then(|id| ctx.world.message(channel, id))
        .ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::Json(StatusCode::OK, ctx.message_json(message)))
}

/// `GET /channels/{channel_id}/messages?around|before|after=&limit=`: newest first.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = ctx
        .world
        .visible_channel(user, parse_id(ctx.params.channel_id.as_ref()))?
        .id;
    let mut errors = FormErrors::default();
    let limit = query_limit(ctx.query("limit"), 50, &mut errors);
    let mut anchor = None;
    for key in ["around", "before", "after"] {
        let Some(raw) = ctx.query(key) else { continue };
        match raw.parse::<u64>() {
            Ok(id) if anchor.is_none() => anchor = Some((key, Snowflake(id))),
            Ok(_) => errors.add(
                &[key],
                "BASE_TYPE_BAD_REQUEST",
                "`around`, `before` and `after` are mutually exclusive.",
            ),
            Err(_) => errors.add(
                &[key],
                "NUMBER_TYPE_COERCE",
                format!("Value \"{raw}\" is not snowflake."),
            ),
        }
    }
    errors.into_result()?;
    let all: Vec<_> = ctx
        .world
        .messages
        .get(&channel)
        .map(|m| m.values().collect())
        .unwrap_or_default();
    let mut picked: Vec<_> = match anchor {
        None => all.iter().rev().take(limit).copied().collect(),
        Some(("before", id)) => all
            .iter()
            .rev()
            .filter(|m| m.id < id)
            .take(limit)
            .copied()
            .collect(),
        // The `limit` messages right after `after`, still answered newest first.
        Some(("after", id)) => all
            .iter()
            .filter(|m| m.id > id)
            .take(limit)
            .copied()
            .collect(),
        Some((_, id)) => {
            let newer = limit / 2;
            let mut around: Vec<_> = all
                .iter()
                .filter(|m| m.id > id)
                .take(newer)
                .copied()
                .collect();
            let older = limit - around.len();
            around.extend(all.iter().rev().filter(|m| m.id <= id).take(older).copied());
            around
        }
    };
    picked.sort_by_key(|m| std::cmp::Reverse(m.id));
    let messages: Vec<Value> = picked.iter().map(|m| ctx.message_json(m)).collect();
    Ok(Reply::Json(StatusCode::OK, Value::Array(messages)))
}

/// `PATCH /channels/{channel_id}/messages/{message_id}`: fires MESSAGE_UPDATE.
pub(crate) fn edit(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    let channel = parse_id(ctx.params.channel_id.as_ref());
    ctx.world.visible_channel(user, channel)?;
    let body = body::parse(ctx.content_type.as_deref(), &ctx.body)?;
    let edit = message_edit(body)?;
    let message = ctx.world.edit_message(
        user,
        channel,
        parse_id(ctx.params.message_id.as_ref()),
        edit,
    )?;
    Ok(Reply::Json(StatusCode::OK, ctx.message_json(&message)))
}

/// `DELETE /channels/{channel_id}/messages/{message_id}`: 204, fires MESSAGE_DELETE.
pub(crate) fn delete(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let user = ctx.caller_id();
    ctx.world.delete_message(
        user,
        parse_id(ctx.params.channel_id.as_ref()),
        parse_id(ctx.params.message_id.as_ref()),
    )?;
    Ok(Reply::NoContent)
}

/// Checks an Edit Message (or Edit Webhook Message) body, collecting every field error.
pub(super) fn message_edit(body: body::Body) -> Result<MessageEdit, ApiError> {
    let mut errors = FormErrors::default();
    let json = &body.json;
    let edit = MessageEdit {
        content: match json.get("content") {
            None => None,
            Some(Value::Null) => Some(String::new()),
            Some(value) => Some(content(value, &mut errors)),
        },
        embeds: match json.get("embeds") {
            None => None,
            Some(Value::Null) => Some(Vec::new()),
            Some(value) => Some(embeds(value, &mut errors)),
        },
        flags: json.get("flags").and_then(Value::as_u64),
        keep_attachments: json.get("attachments").map(|a| {
            a.as_array()
                .map(|list| list.iter().filter_map(|a| snowflake(&a["id"])).collect())
                .unwrap_or_default()
        }),
        files: files(body.files, json.get("attachments")),
        allowed_mentions: json.get("allowed_mentions").cloned(),
        components: json
            .get("components")
            .map(|v| components::parse(v, &mut errors)),
        clear_flags: 0,
    };
    errors.into_result()?;
    Ok(edit)
}

/// Checks a Create Message body the way Discord does, collecting every field error.
pub(super) fn new_message(body: body::Body) -> Result<NewMessage, ApiError> {
    let json = &body.json;
    let mut errors = FormErrors::default();
    let new = NewMessage {
        content: json
            .get("content")
            .map_or_else(String::new, |v| content(v, &mut errors)),
        tts: boolean(json, "tts", &mut errors),
        embeds: json
            .get("embeds")
            .map_or_else(Vec::new, |v| embeds(v, &mut errors)),
        nonce: nonce(json.get("nonce"), &mut errors),
        enforce_nonce: boolean(json, "enforce_nonce", &mut errors),
        flags: json.get("flags").and_then(Value::as_u64).unwrap_or(0),
        reply_to: reply_to(json.get("message_reference"), &mut errors),
        allowed_mentions: json
            .get("allowed_mentions")
            .filter(|v| !v.is_null())
            .cloned(),
        files: files(body.files, json.get("attachments")),
        components: json
            .get("components")
            .map_or_else(Vec::new, |v| components::parse(v, &mut errors)),
    };
    errors.into_result()?;
    Ok(new)
}

pub(super) fn content(value: &Value, errors: &mut FormErrors) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => {
            if s.chars().count() > MAX_CONTENT {
                errors.add(
                    &["content"],
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {MAX_CONTENT} or fewer in length."),
                );
            }
            s.clone()
        }
        other => {
            errors.add(
                &["content"],
                "BASE_TYPE_STRING",
                format!("Could not interpret \"{other}\" as string."),
            );
            String::new()
        }
    }
}

pub(super) fn boolean(json: &Map<String, Value>, key: &str, errors: &mut FormErrors) -> bool {
    match json.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        // Multipart and url-encoded fields arrive as text.
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(_) => {
            errors.add(&[key], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
            false
        }
    }
}

fn nonce(value: Option<&Value>, errors: &mut FormErrors) -> Option<Value> {
    match value? {
        Value::Null => None,
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(Value::Number(n.clone())),
        Value::String(s) if s.chars().count() <= MAX_NONCE => Some(json!(s)),
        Value::String(_) => {
            errors.add(
                &["nonce"],
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_NONCE} or fewer in length."),
            );
            None
        }
        _ => {
            errors.add(
                &["nonce"],
                "NONCE_TYPE_INVALID",
                "Must be an integer or a string.",
            );
            None
        }
    }
}

pub(super) fn embeds(value: &Value, errors: &mut FormErrors) -> Vec<Value> {
    let Some(list) = value.as_array() else {
        errors.add(&["embeds"], "BASE_TYPE_ARRAY", "Must be an array.");
        return Vec::new();
    };
    if list.len() > MAX_EMBEDS {
        errors.add(
            &["embeds"],
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_EMBEDS} or fewer in length."),
        );
    }
    let mut out = Vec::new();
    for (i, embed) in list.iter().enumerate() {
        let Some(fields) = embed.as_object() else {
            errors.add(
                &["embeds", &i.to_string()],
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            );
            continue;
        };
        let mut embed = fields.clone();
        // "type ... will be rich regardless of if you try to set it".
        embed.insert("type".into(), json!("rich"));
        out.push(Value::Object(embed));
    }
    out
}

fn snowflake(value: &Value) -> Option<Snowflake> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().map(Snowflake),
        _ => None,
    }
}

fn reply_to(value: Option<&Value>, errors: &mut FormErrors) -> Option<ReplyTo> {
    let reference = value.filter(|v| !v.is_null())?;
    let Some(message_id) = snowflake(&reference["message_id"]) else {
        errors.add(
            &["message_reference", "message_id"],
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
        return None;
    };
    Some(ReplyTo {
        message_id,
        channel_id: snowflake(&reference["channel_id"]),
        fail_if_not_exists: reference["fail_if_not_exists"].as_bool().unwrap_or(true),
    })
}

/// Uploaded files with the metadata of the `attachments` entry whose `id` is their `n`.
pub(super) fn files(parts: Vec<FilePart>, attachments: Option<&Value>) -> Vec<NewFile> {
    let metadata = attachments.and_then(Value::as_array);
    parts
        .into_iter()
        .map(|part| {
            let meta = metadata.and_then(|list| {
                list.iter().find(|a| match &a["id"] {
                    Value::Number(n) => n.as_u64() == u64::try_from(part.index).ok(),
                    Value::String(s) => s.parse::<usize>().ok() == Some(part.index),
                    _ => false,
                })
            });
            NewFile {
                filename: meta
                    .and_then(|m| m["filename"].as_str())
                    .map_or(part.filename, str::to_owned),
                content_type: part.content_type,
                description: meta
                    .and_then(|m| m["description"].as_str())
                    .map(str::to_owned),
                data: part.data,
            }
        })
        .collect()
}

/// A `limit` query parameter of 1–100 (`default` when absent); a bad one is recorded in
/// `errors` as Discord words it.
pub(super) fn query_limit(raw: Option<&str>, default: usize, errors: &mut FormErrors) -> usize {
    let Some(raw) = raw else { return default };
    match raw.parse::<i64>() {
        Ok(n) if n < 1 => {
            errors.add(
                &["limit"],
                "NUMBER_TYPE_MIN",
                "int value should be greater than or equal to 1.",
            );
            0
        }
        Ok(n) if n > 100 => {
            errors.add(
                &["limit"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 100.",
            );
            0
        }
        Ok(n) => usize::try_from(n).unwrap_or(default),
        Err(_) => {
            errors.add(
                &["limit"],
                "NUMBER_TYPE_COERCE",
                format!("Value \"{raw}\" is not int."),
            );
            0
        }
    }
}
