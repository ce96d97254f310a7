//! The v2 file upload: `files.getUploadURLExternal` hands out an upload URL, the bytes are POSTed
//! there, `files.completeUploadExternal` shares the file into a channel or thread; and
//! `files.info`.

use serde_json::{Value, json};

use super::{Reply, fail, fields, member_channel};
use crate::{
    actions::{self, NewMessage},
    events,
    ids::now_secs,
    objects,
    params::Params,
    state::{UploadedFile, World},
};

/// Where the upload URLs point, under the emulator's base URL.
pub(crate) const UPLOAD_PATH: &str = "/upload/";

/// `files.getUploadURLExternal`.
pub(crate) fn get_upload_url(world: &mut World, p: &Params) -> Reply {
    let (Some(name), Some(length)) = (p.str("filename"), p.str("length")) else {
        return Err(fail("invalid_arguments"));
    };
    let length: u64 = length.parse().map_err(|_| fail("invalid_arguments"))?;
    let id = world.ids.next("F");
    world.files.push(UploadedFile {
        id: id.clone(),
        name,
        title: None,
        declared_length: length,
        bytes: None,
        channel: None,
        thread_ts: None,
        message_ts: None,
        completed: false,
        created: now_secs(),
        owner: None,
    });
    let upload_url = format!("{}{UPLOAD_PATH}{id}", world.base_url());
    Ok(fields(json!({"upload_url": upload_url, "file_id": id})))
}

/// Stores the bytes POSTed to an upload URL; false when no such upload is waiting.
pub(crate) fn receive_upload(world: &mut World, file_id: &str, bytes: Vec<u8>) -> bool {
    match world
        .files
        .iter_mut()
        .find(|f| f.id == file_id && !f.completed)
    {
        Some(file) => {
            file.bytes = Some(bytes);
            true
        }
        None => false,
    }
}

/// `files.completeUploadExternal`.
pub(crate) fn complete_upload(world: &mut World, p: &Params) -> Reply {
    let Ok(Some(Value::Array(list))) = p.json("files") else {
        return Err(fail("invalid_arguments"));
    };
    let channel = match p.str("channel_id") {
        Some(_) => Some(member_channel(world, p, "channel_id")?),
        None => None,
    };
    let thread_ts = p.str("thread_ts");
    let mut ids = Vec::new();
    for item in &list {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("invalid_arguments"))?;
        let file = world
            .files
            .iter_mut()
            .find(|f| f.id == id && !f.completed)
            .ok_or_else(|| fail("file_not_found"))?;
        if file.bytes.is_none() {
            return Err(fail("file_not_found"));
        }
        file.title = item.get("title").and_then(Value::as_str).map(str::to_owned);
        file.completed = true;
        ids.push(id.to_owned());
    }
    if let Some(channel) = &channel {
        let new = NewMessage {
            channel: channel.clone(),
            user: world.bot_user_id.clone(),
            from_bot: true,
            text: p.str("initial_comment").unwrap_or_default(),
            thread_ts: thread_ts.clone(),
            files: ids.clone(),
            ..NewMessage::default()
        };
        // Share the files before posting, so the message event carries them whole.
        for f in world.files.iter_mut().filter(|f| ids.contains(&f.id)) {
            f.channel = Some(channel.clone());
            f.thread_ts.clone_from(&thread_ts);
        }
        let (_, ts) = actions::post(world, new).map_err(fail)?;
        for f in world.files.iter_mut().filter(|f| ids.contains(&f.id)) {
            f.message_ts = Some(ts.clone());
        }
        for id in &ids {
            events::file_shared(world, id, channel);
        }
    }
    let files: Vec<Value> = ids
        .iter()
        .filter_map(|id| world.files.iter().find(|f| f.id == *id))
        .map(|f| json!({"id": f.id, "title": f.title.clone().unwrap_or_else(|| f.name.clone())}))
        .collect();
    Ok(fields(json!({"files": files})))
}

/// `files.info`.
pub(crate) fn info(world: &World, p: &Params) -> Reply {
    let id = p.str("file").ok_or_else(|| fail("file_not_found"))?;
    let file = world
        .files
        .iter()
        .find(|f| f.id == id && f.completed)
        .ok_or_else(|| fail("file_not_found"))?;
    Ok(fields(json!({"file": objects::file(world, file)})))
}
