//! A call's parameters: read from a JSON, urlencoded or multipart body (or the query string),
//! then checked and coerced against the method's parameter table, as the Bot API does.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::{
    errors::ApiError,
    form,
    method_params::{Method, Param},
    multipart,
};

/// A file sent with `multipart/form-data`.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub(crate) filename: String,
    pub(crate) data: Vec<u8>,
}

/// The parameters of one call, coerced to the spec's types.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: Map<String, Value>,
    uploads: HashMap<String, Upload>,
}

/// A value as it arrived: JSON bodies carry typed values, forms carry strings.
enum Raw {
    Json(Value),
    Text(String),
}

/// The raw values by name, and the uploaded files by part name.
type RawParams = (Vec<(String, Raw)>, HashMap<String, Upload>);

/// Reads the raw parameters from the query string and the body.
fn read(
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Result<RawParams, ApiError> {
    let mut raw: Vec<(String, Raw)> = query
        .map(form::parse)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Raw::Text(v)))
        .collect();
    let mut uploads = HashMap::new();
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((raw, uploads));
    }
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => raw.extend(map.into_iter().map(|(k, v)| (k, Raw::Json(v)))),
            _ => return Err(ApiError::bad_request("can't parse JSON object")),
        }
    } else if let Some(boundary) = multipart::boundary(&content_type) {
        let parts = multipart::parse(body, &boundary)
            .ok_or_else(|| ApiError::bad_request("can't parse multipart/form-data"))?;
        for part in parts {
            match part.filename {
                Some(filename) => {
                    uploads.insert(
                        part.name,
                        Upload {
                            filename,
                            data: part.data,
                        },
                    );
                }
                None => raw.push((
                    part.name,
                    Raw::Text(String::from_utf8_lossy(&part.data).into_owned()),
                )),
            }
        }
    } else {
        let text = String::from_utf8_lossy(body);
        raw.extend(
            form::parse(&text)
                .into_iter()
                .map(|(k, v)| (k, Raw::Text(v))),
        );
    }
    Ok((raw, uploads))
}

fn wrong_type(param: &Param) -> ApiError {
    ApiError::bad_request(format!(
        "field \"{}\" must be of type {}",
        param.name,
        param.types.join(" or ")
    ))
}

/// Whether a type is sent as a JSON-serialized object or array.
fn is_json_type(ty: &str) -> bool {
    !matches!(ty, "Integer" | "Float" | "Boolean" | "String" | "InputFile")
}

/// Coerces one value to one of the parameter's types, the way the Bot API reads forms.
fn coerce(param: &Param, raw: Raw) -> Result<Option<Value>, ApiError> {
    let text = match raw {
        Raw::Json(Value::Null) => return Ok(None),
        Raw::Json(Value::String(s)) | Raw::Text(s) => s,
        Raw::Json(value) => {
            let fits = param.types.iter().any(|ty| match *ty {
                "Integer" => value.is_i64(),
                "Float" => value.is_number(),
                "Boolean" => value.is_boolean(),
                "String" => value.is_number() || value.is_boolean(),
                ty if ty.starts_with("Array of") => value.is_array(),
                ty => is_json_type(ty) && value.is_object(),
            });
            return if !fits {
                Err(wrong_type(param))
            } else if param.types == ["String"] {
                Ok(Some(Value::String(value.to_string())))
            } else {
                Ok(Some(value))
            };
        }
    };
    for ty in param.types {
        match *ty {
            "Integer" => {
                if let Ok(n) = text.trim().parse::<i64>() {
                    return Ok(Some(Value::from(n)));
                }
            }
            "Float" => {
                if let Ok(n) = text.trim().parse::<f64>() {
                    return Ok(Some(Value::from(n)));
                }
            }
            "Boolean" => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => return Ok(Some(Value::Bool(true))),
                "false" | "0" | "" => return Ok(Some(Value::Bool(false))),
                _ => {}
            },
            "String" | "InputFile" => return Ok(Some(Value::String(text))),
            ty if is_json_type(ty) => {
                if let Ok(value) = serde_json::from_str::<Value>(&text)
                    && (value.is_object() || value.is_array())
                {
                    return Ok(Some(value));
                }
            }
            _ => {}
        }
    }
    if param.types.iter().any(|ty| is_json_type(ty)) {
        let what = if param.name == "reply_markup" {
            "reply keyboard markup".to_owned()
        } else {
            param.name.to_owned()
        };
        return Err(ApiError::bad_request(format!(
            "can't parse {what} JSON object"
        )));
    }
    Err(wrong_type(param))
}

/// What the Bot API says when a required parameter is missing.
fn missing(method: &Method, param: &Param) -> ApiError {
    match (method.name, param.name) {
        ("sendMessage" | "editMessageText", "text") => {
            ApiError::bad_request("message text is empty")
        }
        ("sendDocument", "document") => {
            ApiError::bad_request("there is no document in the request")
        }
        ("sendPhoto", "photo") => ApiError::bad_request("there is no photo in the request"),
        (_, name) => ApiError::bad_request(format!("{name} is empty")),
    }
}

impl Params {
    /// Reads and checks a call's parameters. Parameters the method does not have are ignored,
    /// as the Bot API ignores them.
    pub(crate) fn parse(
        method: &Method,
        content_type: Option<&str>,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let (raw, mut uploads) = read(content_type, query, body)?;
        let mut params = Params::default();
        for (name, value) in raw {
            let Some(param) = method.params.iter().find(|p| p.name == name) else {
                continue;
            };
            if let Some(value) = coerce(param, value)? {
                params.values.insert(name, value);
            }
        }
        for param in method.params {
            if param.types.iter().any(|t| t.starts_with("InputFile"))
                && let Some(Value::String(reference)) = params.values.get(param.name)
                && let Some(attached) = reference.strip_prefix("attach://")
                && let Some(upload) = uploads.remove(attached)
            {
                params.values.remove(param.name);
                uploads.insert(param.name.to_owned(), upload);
            }
            let present = uploads.contains_key(param.name)
                || params
                    .values
                    .get(param.name)
                    .is_some_and(|v| v.as_str() != Some(""));
            if param.required && !present {
                return Err(missing(method, param));
            }
        }
        params.uploads = uploads;
        Ok(params)
    }

    /// A parameter's value.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// A string parameter.
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    /// An integer parameter.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.values.get(name).and_then(Value::as_i64)
    }

    /// A boolean parameter (`false` when absent).
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.values
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// An uploaded file sent for this parameter.
    pub(crate) fn upload(&self, name: &str) -> Option<&Upload> {
        self.uploads.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method_params::METHODS;

    fn method(name: &str) -> &'static Method {
        METHODS.iter().find(|m| m.name == name).unwrap()
    }

    #[test]
    fn forms_are_coerced_to_the_spec_types() {
        let params = Params::parse(
            method("sendMessage"),
            Some("application/x-www-form-urlencoded"),
            None,
            b"chat_id=42&text=hi&disable_notification=true&unknown=1&reply_markup=%7B%7D",
        )
        .unwrap();
        assert_eq!(params.int("chat_id"), Some(42));
        assert!(params.flag("disable_notification"));
        assert!(params.get("unknown").is_none());
        assert!(params.get("reply_markup").unwrap().is_object());
    }

    #[test]
    fn missing_and_mistyped_parameters_are_refused() {
        let send = method("sendMessage");
        let e = Params::parse(send, Some("application/json"), None, br#"{"chat_id":1}"#);
        assert_eq!(
            e.unwrap_err().description,
            "Bad Request: message text is empty"
        );
        let e = Params::parse(send, None, Some("text=hi"), b"");
        assert_eq!(e.unwrap_err().description, "Bad Request: chat_id is empty");
        let e = Params::parse(
            send,
            Some("application/json"),
            None,
            br#"{"chat_id":1,"text":"x","message_thread_id":"seven"}"#,
        );
        assert_eq!(
            e.unwrap_err().description,
            "Bad Request: field \"message_thread_id\" must be of type Integer"
        );
        let e = Params::parse(send, None, Some("chat_id=1&text=x&reply_markup=nope"), b"");
        assert_eq!(
            e.unwrap_err().description,
            "Bad Request: can't parse reply keyboard markup JSON object"
        );
    }
}
