//! `getFile`: the `File` object whose `file_path` the download route
//! `/file/bot<token>/<file_path>` serves.

use serde_json::Value;

use crate::{errors::ApiError, objects, params::Params, state::World};

pub(super) fn get_file(world: &World, params: &Params) -> Result<Value, ApiError> {
    let id = params.str("file_id").unwrap_or("");
    world
        .files
        .get(id)
        .map(objects::file)
        .ok_or_else(|| ApiError::bad_request("invalid file_id"))
}
