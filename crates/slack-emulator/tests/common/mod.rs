//! Helpers shared by the integration tests: a Web API client, a Socket Mode client, and the
//! JSON-shape comparison against Slack's recorded samples.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message as Frame,
};

/// One Web API answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Calls `method` with a JSON body and a bearer token.
pub async fn call(api_url: &str, token: &str, method: &str, args: Value) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{api_url}{method}"))
        .bearer_auth(token)
        .json(&args)
        .send()
        .await
        .expect("the request is answered");
    finish(response).await
}

/// Calls `method` with a form body.
pub async fn call_form(
    api_url: &str,
    token: Option<&str>,
    method: &str,
    form: &[(&str, &str)],
) -> Answer {
    let mut request = reqwest::Client::new()
        .post(format!("{api_url}{method}"))
        .form(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    finish(request.send().await.expect("the request is answered")).await
}

async fn finish(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.expect("a JSON body");
    Answer {
        status,
        headers,
        body,
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a Socket Mode connection and reads its `hello`.
pub async fn connect(slack: &slack_emulator::Emulator) -> (Socket, Value) {
    let open = call(
        &slack.api_url(),
        slack.app_token(),
        "apps.connections.open",
        json!({}),
    )
    .await;
    let url = open.body["url"].as_str().expect("a url").to_owned();
    let (mut ws, _) = connect_async(url).await.expect("the socket opens");
    let hello = next_frame(&mut ws, Duration::from_secs(5))
        .await
        .expect("hello");
    (ws, hello)
}

/// The next text frame as JSON, or `None` on timeout or close.
pub async fn next_frame(ws: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        match frame {
            Frame::Text(text) => return serde_json::from_str(&text).ok(),
            Frame::Close(_) => return None,
            _ => {}
        }
    }
}

/// The next envelope whose payload satisfies `pick`; acks every envelope it reads when `ack`.
pub async fn next_envelope(ws: &mut Socket, ack: bool, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = next_frame(ws, Duration::from_secs(10))
            .await
            .expect("an envelope");
        if let Some(id) = frame.get("envelope_id").and_then(Value::as_str) {
            if ack {
                send_ack(ws, id).await;
            }
            if pick(&frame) {
                return frame;
            }
        }
    }
}

pub async fn send_ack(ws: &mut Socket, envelope_id: &str) {
    let ack = json!({"envelope_id": envelope_id}).to_string();
    ws.send(Frame::text(ack)).await.expect("the ack is sent");
}

/// Whether an envelope carries an event of `kind` (and `subtype`, when given).
pub fn is_event(frame: &Value, kind: &str, subtype: Option<&str>) -> bool {
    let event = &frame["payload"]["event"];
    event["type"] == kind && event.get("subtype").and_then(Value::as_str) == subtype
}

/// Differences between `value` and the shape of a recorded `sample`: every field of `value` must
/// be in the sample with the same JSON type. Empty objects and empty arrays in the sample are
/// free-form.
pub fn shape_errors(value: &Value, sample: &Value, path: &str, errors: &mut Vec<String>) {
    match (value, sample) {
        (Value::Object(v), Value::Object(s)) => {
            if s.is_empty() {
                return;
            }
            for (key, field) in v {
                // Maps keyed by ids (`shares.public.C…`) have one sample key shaped like an id.
                let by_id = || s.iter().find(|(k, _)| looks_like_id(k)).map(|(_, v)| v);
                match s
                    .get(key)
                    .or_else(|| by_id().filter(|_| looks_like_id(key)))
                {
                    Some(expected) => {
                        shape_errors(field, expected, &format!("{path}.{key}"), errors)
                    }
                    None => errors.push(format!("{path}.{key} is not in the sample")),
                }
            }
        }
        (Value::Array(v), Value::Array(s)) => {
            let Some(first) = s.first() else { return };
            for (i, item) in v.iter().enumerate() {
                // Samples merge shapes: an item may match any of the sample's items.
                let fits = s.iter().any(|candidate| {
                    let mut e = Vec::new();
                    shape_errors(item, candidate, "", &mut e);
                    e.is_empty()
                });
                if !fits {
                    shape_errors(item, first, &format!("{path}[{i}]"), errors);
                }
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, _) => {}
        (v, s) => errors.push(format!(
            "{path}: {} where the sample has {}",
            kind(v),
            kind(s)
        )),
    }
}

fn looks_like_id(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && key.len() >= 9
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Replaces the ids and times that change from run to run, for snapshots.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                let volatile = [
                    "envelope_id",
                    "event_id",
                    "event_time",
                    "event_context",
                    "ts",
                    "event_ts",
                    "client_msg_id",
                    "trigger_id",
                    "action_ts",
                    "message_ts",
                    "response_url",
                ];
                if volatile.contains(&key.as_str()) && !field.is_object() {
                    *field = json!(format!("[{key}]"));
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}
