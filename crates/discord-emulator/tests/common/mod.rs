//! Helpers shared by the integration tests: a small REST client, a raw gateway client, and the
//! OpenAPI spec loaded for schema checks.

#![allow(dead_code, unreachable_pub)]

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use jsonschema::{Draft, Registry, Validator};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message as Frame,
};

/// One REST answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Option<Value>,
    pub raw: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> &Value {
        self.body.as_ref().expect("the answer has a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A REST client for one identity.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub authorization: Option<String>,
}

impl Api {
    pub fn bot(base: &str, token: &str) -> Api {
        Api::with_auth(base, Some(format!("Bot {token}")))
    }

    pub fn user(base: &str, token: &str) -> Api {
        Api::with_auth(base, Some(token.to_owned()))
    }

    pub fn with_auth(base: &str, authorization: Option<String>) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: format!("{base}/api/v10"),
            authorization,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        if let Some(auth) = &self.authorization {
            builder = builder.header("Authorization", auth);
        }
        builder
    }

    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Answer {
        let response = builder.send().await.expect("the emulator answers");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.bytes().await.expect("a body").to_vec();
        let body = serde_json::from_slice(&raw).ok();
        Answer {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn json(&self, method: Method, path: &str, body: &Value) -> Answer {
        self.send(self.request(method, path).json(body)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.json(Method::POST, path, body).await
    }
}

/// A raw gateway client.
pub struct Gateway {
    pub ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What reading the gateway gave.
#[derive(Debug)]
pub enum Read {
    Payload(Value),
    Closed(Option<u16>),
}

impl Gateway {
    pub async fn connect(url: &str) -> Gateway {
        let (ws, _) = connect_async(url)
            .await
            .expect("the gateway accepts the connection");
        Gateway { ws }
    }

    /// Connects with `?v=10&encoding=json` and reads Hello.
    pub async fn open(gateway_url: &str) -> (Gateway, Value) {
        let mut gw = Gateway::connect(&format!("{gateway_url}?v=10&encoding=json")).await;
        let hello = gw.next().await;
        assert_eq!(hello["op"], 10, "the first payload is Hello: {hello}");
        (gw, hello)
    }

    pub async fn send(&mut self, payload: Value) {
        self.ws
            .send(Frame::text(payload.to_string()))
            .await
            .expect("the gateway takes the payload");
    }

    pub async fn identify(&mut self, token: &str, intents: u64) {
        self.send(json!({"op": 2, "d": {
            "token": token,
            "intents": intents,
            "properties": {"os": "linux", "browser": "tests", "device": "tests"},
        }}))
        .await;
    }

    pub async fn read(&mut self, timeout: Duration) -> Option<Read> {
        loop {
            let frame = tokio::time::timeout(timeout, self.ws.next()).await.ok()?;
            return Some(match frame {
                Some(Ok(Frame::Text(text))) => {
                    Read::Payload(serde_json::from_str(&text).expect("JSON text frames"))
                }
                Some(Ok(Frame::Close(frame))) => Read::Closed(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => Read::Closed(None),
            });
        }
    }

    /// The next payload (panics on close or after 5 s).
    pub async fn next(&mut self) -> Value {
        match self.read(Duration::from_secs(5)).await {
            Some(Read::Payload(value)) => value,
            other => panic!("expected a payload, got {other:?}"),
        }
    }

    /// The next dispatch named `name`, skipping other payloads.
    pub async fn dispatch(&mut self, name: &str) -> Value {
        loop {
            let payload = self.next().await;
            if payload["op"] == 0 && payload["t"] == name {
                return payload;
            }
        }
    }

    /// The close code the server sends next (skipping payloads).
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.read(Duration::from_secs(5)).await {
                Some(Read::Payload(_)) => continue,
                Some(Read::Closed(code)) => return code,
                None => panic!("the gateway did not close within 5 s"),
            }
        }
    }

    /// Asserts nothing arrives for `wait`.
    pub async fn quiet(&mut self, wait: Duration) {
        if let Some(Read::Payload(p)) = self.read(wait).await {
            panic!("expected silence, got {p}");
        }
    }
}

/// Discord's OpenAPI document, registered for `$ref`s into it.
pub struct Spec {
    pub doc: Value,
    registry: Registry<'static>,
    cache: std::sync::Mutex<HashMap<String, Arc<Validator>>>,
}

pub const SPEC_URI: &str = "https://discord.com/developers/openapi.json";

pub fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/discord-api-spec/openapi.json")
}

/// Loads the spec with one documented patch: Discord sends the `code` of each `_errors` entry
/// as a string (`"BASE_TYPE_MAX_LENGTH"`), the spec's `InnerErrors` reuses `Error`, whose `code`
/// is an integer. See the README, "Where the spec and the wire disagree".
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc = raw_spec();
        doc["components"]["schemas"]["InnerErrors"]["properties"]["_errors"]["items"] = json!({
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
            "additionalProperties": false,
        });
        Spec::new(doc)
    })
}

/// The spec as published.
pub fn raw_spec() -> Value {
    let path = spec_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the spec is JSON")
}

impl Spec {
    pub fn new(doc: Value) -> Spec {
        assert_eq!(
            doc["openapi"].as_str().map(|v| &v[..2]),
            Some("3."),
            "an OpenAPI 3 document"
        );
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(SPEC_URI, doc.clone())
            .expect("the spec registers")
            .prepare()
            .expect("the spec's references resolve");
        Spec {
            doc,
            registry,
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// A validator for a schema that may `$ref` into the document (`#/components/...`).
    pub fn validator(&self, schema: &Value) -> Arc<Validator> {
        let schema = absolutize(schema);
        let key = schema.to_string();
        let mut cache = self.cache.lock().unwrap();
        if let Some(v) = cache.get(&key) {
            return Arc::clone(v);
        }
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("cannot compile {key}: {e}"));
        let validator = Arc::new(validator);
        cache.insert(key, Arc::clone(&validator));
        validator
    }

    /// The errors of `value` against `#/components/schemas/{name}`.
    pub fn check_component(&self, name: &str, value: &Value) -> Vec<String> {
        assert!(
            self.doc["components"]["schemas"].get(name).is_some(),
            "no component {name}"
        );
        self.check(
            &json!({"$ref": format!("#/components/schemas/{name}")}),
            value,
        )
    }

    /// Schema errors plus fields the schema does not declare.
    pub fn check(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors: Vec<String> = self
            .validator(schema)
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        errors.extend(
            undeclared(&self.doc, schema, value, "")
                .into_iter()
                .map(|p| format!("undeclared field {p}")),
        );
        errors
    }

    /// Follows a local `$ref`.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        resolve(&self.doc, value)
    }

    /// The operation object for a method and path template.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.doc["paths"]
            .get(template)?
            .get(method.to_ascii_lowercase())
    }
}

/// Turns `#/...` references into references into [`SPEC_URI`].
fn absolutize(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) if r.starts_with('#') => {
                        (k.clone(), json!(format!("{SPEC_URI}{r}")))
                    }
                    _ => (k.clone(), absolutize(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(absolutize).collect()),
        other => other.clone(),
    }
}

pub fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let pointer = reference
            .strip_prefix(SPEC_URI)
            .unwrap_or(reference)
            .trim_start_matches('#');
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    value
}

/// The property names a schema declares (own and through `allOf`), or `None` when it accepts
/// any property (`additionalProperties` not false, or no `properties` at all).
fn declared(doc: &Value, schema: &Value) -> Option<HashMap<String, Vec<Value>>> {
    let schema = resolve(doc, schema);
    let mut props: HashMap<String, Vec<Value>> = HashMap::new();
    let mut has_properties = false;
    if let Some(own) = schema.get("properties").and_then(Value::as_object) {
        has_properties = true;
        for (k, v) in own {
            props.entry(k.clone()).or_default().push(v.clone());
        }
    }
    if schema
        .get("additionalProperties")
        .is_some_and(|a| a != &Value::Bool(false))
    {
        return None;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for branch in all {
            let branch = resolve(doc, branch);
            if branch.get("properties").is_none() && branch.get("allOf").is_none() {
                continue;
            }
            has_properties = true;
            for (k, v) in declared(doc, branch)? {
                props.entry(k).or_default().extend(v);
            }
        }
    }
    has_properties.then_some(props)
}

/// Paths of object fields the schema does not declare (a typo'd field passes JSON Schema when
/// `additionalProperties` is unset, as everywhere in Discord's spec).
pub fn undeclared(doc: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            return branches
                .iter()
                .map(|b| undeclared(doc, b, value, path))
                .min_by_key(Vec::len)
                .unwrap_or_default();
        }
    }
    match value {
        Value::Object(map) => {
            let Some(props) = declared(doc, schema) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for (k, v) in map {
                let here = format!("{path}/{k}");
                match props.get(k) {
                    None => out.push(here),
                    Some(subs) => out.extend(
                        subs.iter()
                            .map(|s| undeclared(doc, s, v, &here))
                            .min_by_key(Vec::len)
                            .unwrap_or_default(),
                    ),
                }
            }
            out
        }
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => items
                .iter()
                .enumerate()
                .flat_map(|(i, v)| undeclared(doc, item_schema, v, &format!("{path}/{i}")))
                .collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Polls `check` every 10 ms for up to 5 s.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}
