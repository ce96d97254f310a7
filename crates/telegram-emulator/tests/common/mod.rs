//! What the integration tests share: a Bot API client over real HTTP (reqwest) that checks
//! every `result` it reads against api.json, and the emulator setup.

#![allow(dead_code, unreachable_pub)]

pub mod spec;

use serde_json::{Value, json};
use telegram_emulator::{Config, Emulator};

/// A bot's view of the emulator: calls methods the way client libraries do.
pub struct Bot {
    pub http: reqwest::Client,
    pub url: String,
}

/// A call's outcome: the HTTP status and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The `result` of a successful call.
    pub fn result(&self) -> &Value {
        assert_eq!(self.body["ok"], true, "{}", self.body);
        &self.body["result"]
    }
}

pub fn start() -> (Emulator, Bot) {
    let emulator = Emulator::start(Config::default()).expect("the emulator starts");
    let bot = Bot {
        http: reqwest::Client::new(),
        url: emulator.bot_url(),
    };
    (emulator, bot)
}

impl Bot {
    /// Calls `method` with a JSON body; checks a successful `result` against the spec.
    pub async fn call(&self, method: &str, params: Value) -> Answer {
        let response = self
            .http
            .post(format!("{}/{method}", self.url))
            .json(&params)
            .send()
            .await
            .expect("the call is answered");
        self.read(method, response).await
    }

    /// Like [`call`](Self::call), with the transport error when there is no answer.
    pub async fn try_call(&self, method: &str, params: Value) -> Result<Answer, reqwest::Error> {
        let response = self
            .http
            .post(format!("{}/{method}", self.url))
            .json(&params)
            .send()
            .await?;
        Ok(self.read(method, response).await)
    }

    pub async fn read(&self, method: &str, response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("a JSON body");
        if body["ok"] == true {
            let problems = spec::result_problems(method, &body["result"]);
            assert!(
                problems.is_empty(),
                "{method} answered outside the spec:\n{}",
                problems.join("\n")
            );
        } else {
            assert_eq!(body["error_code"], json!(status), "{body}");
            assert!(body["description"].is_string(), "{body}");
        }
        Answer { status, body }
    }
}
