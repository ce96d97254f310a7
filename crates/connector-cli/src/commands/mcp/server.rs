//! The MCP server: the connector's operations as tools, the operator's messages as
//! notifications.

use std::sync::Arc;
use std::time::Duration;

use connector_core::live::{LiveKey, LiveMessages};
use connector_core::question::{Choice, Question, QuestionReceipt};
use connector_core::questions::{Waited, ask_and_wait};
use connector_core::{
    Capability, HistoryQuery, IdempotencyKey, MessageId, OrchestratorConnector, OutboundMessage,
    ThreadId, Timestamp,
};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, ContentBlock as Content, CustomNotification, Implementation, JsonObject,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::arguments::{self, ArgumentError, Parameters};
use super::inbound::Inbound;
use super::permission::{self, PermissionRelay};

/// The longest `wait_for_message` wait.
pub(crate) const MAX_WAIT_SECONDS: f64 = 600.0;

/// The default `wait_for_message` wait.
const DEFAULT_WAIT_SECONDS: f64 = 30.0;

/// How long `ask` waits for an answer unless told otherwise.
const DEFAULT_ASK_SECONDS: f64 = 300.0;

/// The most messages `history` returns.
const MAX_HISTORY: u32 = 100;

/// What the server tells the client about itself (Claude Code adds it to the system prompt).
const INSTRUCTIONS: &str = "This server connects you with your human operator over a chat \
connector (tmux, Matrix or Discord). Operator messages arrive as <channel> events (attributes \
message_id, thread_id, sender, ts, kind) when the client supports channels, and from the \
wait_for_message tool in any case. Answer the operator with `reply` (pass the \
message_id you answer; the reply goes to the same thread) or `send` (optionally with a \
thread_id). Use `react` to acknowledge a message, `edit` to correct one you sent, `history` to \
read back, `health` to check the link, and `ask` to put a question with choices to the \
operator and wait for the decision.";

/// `send`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct SendParams {
    /// The message text (Markdown where the platform renders it).
    pub(crate) text: String,
    /// Post into this thread (a thread id from a received message; on Discord and Matrix a
    /// message id starts a thread from that message). Omit for the main conversation.
    #[serde(default)]
    pub(crate) thread_id: Option<String>,
    /// Up to 25 letters, digits, '-' or '_': sending again with the same key never posts twice.
    #[serde(default)]
    pub(crate) idempotency_key: Option<String>,
    /// Files to send with the message: paths of local files (uploaded; absolute, or relative to
    /// this server's working directory) or http(s) URLs (passed on as links). A platform that
    /// takes no files (tmux) refuses the send with a tool error naming `attachments`.
    #[serde(default)]
    pub(crate) attachments: Vec<String>,
}

/// `reply`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ReplyParams {
    /// The operator message being answered (its message_id).
    pub(crate) message_id: String,
    /// The reply text.
    pub(crate) text: String,
    /// Files to send with the reply, as for `send`.
    #[serde(default)]
    pub(crate) attachments: Vec<String>,
}

/// `react`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ReactParams {
    /// The message to react to.
    pub(crate) message_id: String,
    /// A Unicode emoji such as 👍 (or `name:id` for a custom Discord emoji).
    pub(crate) emoji: String,
    /// The message's thread; found automatically for messages this server has seen.
    #[serde(default)]
    pub(crate) thread_id: Option<String>,
}

/// `edit`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct EditParams {
    /// A message this server sent (from a `send` or `reply` result).
    pub(crate) message_id: String,
    /// The new text.
    pub(crate) text: String,
    /// The message's thread; found automatically for messages this server sent.
    #[serde(default)]
    pub(crate) thread_id: Option<String>,
}

/// `live`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct LiveParams {
    /// The live message's name (1 to 64 ASCII letters, digits, `.`, `_`, `-`), e.g. `build`.
    pub(crate) key: String,
    /// Its whole new text (it replaces the old one).
    pub(crate) text: String,
    /// Mark it final: the next update with this key posts a new message.
    #[serde(default)]
    pub(crate) finish: bool,
    /// The thread to post it into (first update only).
    #[serde(default)]
    pub(crate) thread_id: Option<String>,
}

/// `ask`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct AskParams {
    /// The question (Markdown where the platform renders it).
    pub(crate) question: String,
    /// 2 to 10 choice labels, in the order to show them; each choice's id is its label in
    /// lowercase words joined by `-`.
    pub(crate) choices: Vec<String>,
    /// Ask in this thread; omit for the main conversation.
    #[serde(default)]
    pub(crate) thread_id: Option<String>,
    /// Seconds until the question expires unanswered (1 to 600, default 300); the result is
    /// then `expired`.
    #[serde(default)]
    #[schemars(range(min = 1.0, max = 600.0))]
    pub(crate) timeout_seconds: Option<f64>,
    /// Also take a typed reply that names no choice as the answer.
    #[serde(default)]
    pub(crate) free_text: bool,
}

/// `history`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct HistoryParams {
    /// How many recent messages (1 to 100, default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub(crate) limit: Option<u32>,
    /// Only this thread's messages; omit for the main conversation.
    #[serde(default)]
    pub(crate) thread_id: Option<String>,
}

/// `wait_for_message`'s parameters.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct WaitParams {
    /// How long to wait for a message, in seconds (0 to 600, default 30). 0 only takes a
    /// message already queued.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 600.0))]
    pub(crate) timeout_seconds: Option<f64>,
}

/// What `wait_for_message` answers.
#[derive(Debug, Serialize)]
struct WaitResult<'a> {
    /// The message, or `null` when the wait timed out.
    message: Option<&'a connector_core::InboundMessage>,
    /// How many more messages are queued.
    pending: usize,
}

/// The JSON `ask` answers: the answer message's fields, flattened, or how the wait ended.
fn asked_result(receipt: &QuestionReceipt, waited: &Waited) -> Value {
    let mut value = json!({ "question_id": receipt.question_id });
    match waited {
        Waited::Settled(message) => {
            if let (Value::Object(object), Some(Ok(Value::Object(answer)))) = (
                &mut value,
                message.answer.as_ref().map(serde_json::to_value),
            ) {
                object.extend(answer);
                object.insert("text".into(), json!(message.text));
                object.insert("sender".into(), json!(message.sender));
                object.insert("ts".into(), json!(message.ts));
            }
        }
        Waited::TimedOut => value["outcome"] = json!("timed_out"),
        Waited::Closed => value["outcome"] = json!("closed"),
    }
    value
}

/// The `connector mcp` server: one connector, shared by every tool call.
#[derive(Clone)]
pub(crate) struct ConnectorServer {
    connector: Arc<dyn OrchestratorConnector>,
    inbound: Arc<Inbound>,
    live: Arc<LiveMessages>,
    permissions: PermissionRelay,
    tool_router: ToolRouter<Self>,
}

impl ConnectorServer {
    /// A server for `connector`, fed by `inbound`, keeping `live` messages.
    pub(crate) fn new(
        connector: Arc<dyn OrchestratorConnector>,
        inbound: Arc<Inbound>,
        live: Arc<LiveMessages>,
    ) -> Self {
        Self {
            permissions: PermissionRelay::new(Arc::clone(&connector)),
            connector,
            inbound,
            live,
            tool_router: Self::tool_router(),
        }
    }

    /// Sends `message` and answers the receipt as JSON; remembers the thread of its ids.
    async fn send_message(&self, message: OutboundMessage) -> CallToolResult {
        match self.connector.send(message).await {
            Ok(receipt) => {
                for id in &receipt.message_ids {
                    self.inbound
                        .remember(id.as_str(), receipt.thread_id.as_ref().map(|t| t.as_str()));
                }
                json_result(&receipt)
            }
            Err(e) => tool_error(&e),
        }
    }

    /// The thread given, else the remembered thread of `message_id`.
    fn thread_for(&self, message_id: &str, given: Option<String>) -> Option<ThreadId> {
        given
            .or_else(|| self.inbound.thread_of(message_id).flatten())
            .map(ThreadId::new)
    }
}

/// A successful tool result holding `value` as JSON text.
fn json_result(value: &impl Serialize) -> CallToolResult {
    match serde_json::to_string_pretty(value) {
        Ok(text) => CallToolResult::success(vec![Content::text(text)]),
        Err(e) => CallToolResult::error(vec![Content::text(format!("encoding the result: {e}"))]),
    }
}

/// A tool error (not a protocol error): the client shows it to the model, which can adapt. An
/// unsupported capability is named, e.g. "unsupported capability `reactions`: the tmux connector
/// does not support reactions".
fn tool_error(error: &connector_core::Error) -> CallToolResult {
    let text = match error {
        connector_core::Error::Unsupported { capability, .. } => {
            format!("unsupported capability `{capability}`: {error}")
        }
        _ => format!("error: {error}"),
    };
    CallToolResult::error(vec![Content::text(text)])
}

#[tool_router]
impl ConnectorServer {
    /// Sends a message to the operator.
    #[tool(
        description = "Send a message to the human operator. Optional thread_id posts into that \
thread; optional attachments (file paths or http(s) URLs) go with it. Returns the receipt: \
message_ids, thread_id, confirmed."
    )]
    async fn send(&self, Parameters(params): Parameters<SendParams>) -> CallToolResult {
        let mut message = OutboundMessage::new(params.text);
        if let Some(thread) = params.thread_id {
            message = message.in_thread(thread);
        }
        for spec in &params.attachments {
            message = message.attach(crate::commands::attachment(spec));
        }
        if let Some(key) = params.idempotency_key {
            match IdempotencyKey::parse(&key) {
                Ok(key) => message = message.with_idempotency_key(key),
                Err(e) => return tool_error(&e),
            }
        }
        self.send_message(message).await
    }

    /// Replies to an operator message, in its thread.
    #[tool(
        description = "Reply to an operator message: the reply goes to the thread that message \
came from (or the main conversation). Returns the receipt like send."
    )]
    async fn reply(&self, Parameters(params): Parameters<ReplyParams>) -> CallToolResult {
        let Some(thread) = self.inbound.thread_of(&params.message_id) else {
            return CallToolResult::error(vec![Content::text(format!(
                "error: message {} is not one this server has seen; use send with a thread_id",
                params.message_id
            ))]);
        };
        let mut message = OutboundMessage::new(params.text);
        if let Some(thread) = thread {
            message = message.in_thread(thread);
        }
        for spec in &params.attachments {
            message = message.attach(crate::commands::attachment(spec));
        }
        self.send_message(message).await
    }

    /// Reacts to a message with an emoji.
    #[tool(
        description = "Add an emoji reaction to a message (e.g. 👀 to acknowledge an operator \
message). Fails with a tool error naming the capability where the platform has no reactions."
    )]
    async fn react(&self, Parameters(params): Parameters<ReactParams>) -> CallToolResult {
        let thread = self.thread_for(&params.message_id, params.thread_id);
        match self
            .connector
            .react(
                &MessageId::new(params.message_id),
                thread.as_ref(),
                &params.emoji,
            )
            .await
        {
            Ok(()) => json_result(&json!({ "ok": true })),
            Err(e) => tool_error(&e),
        }
    }

    /// Replaces the text of a message this server sent.
    #[tool(description = "Replace the text of a message this server sent.")]
    async fn edit(&self, Parameters(params): Parameters<EditParams>) -> CallToolResult {
        let thread = self.thread_for(&params.message_id, params.thread_id);
        match self
            .connector
            .edit(
                &MessageId::new(params.message_id),
                thread.as_ref(),
                &params.text,
            )
            .await
        {
            Ok(()) => json_result(&json!({ "ok": true })),
            Err(e) => tool_error(&e),
        }
    }

    /// Keeps one message up to date under a key.
    #[tool(
        description = "Keep one status message up to date instead of posting a new one per \
step: the first call with a key posts it, later calls with the same key replace its text \
(edited in place; rapid updates are coalesced, the last always lands). finish marks it final. \
Returns message_ids and finished."
    )]
    async fn live(&self, Parameters(params): Parameters<LiveParams>) -> CallToolResult {
        let key = match LiveKey::new(params.key) {
            Ok(key) => key,
            Err(e) => return tool_error(&e),
        };
        let thread = params.thread_id.map(ThreadId::new);
        match self
            .live
            .update(&key, &params.text, thread, params.finish)
            .await
        {
            Ok(receipt) => json_result(&receipt),
            Err(e) => tool_error(&e),
        }
    }

    /// Asks the operator a question with choices and waits for the outcome.
    #[tool(
        description = "Ask the operator a question with 2 to 10 choices (buttons on Discord, \
reactions on Matrix, a numbered list on the tmux console; the operator may also type a \
choice's number or label) and wait for the outcome, at most timeout_seconds (default 300): \
returns question_id, outcome (chosen, typed or expired), choice_id, label, text, sender and ts. \
Only allowed senders can answer, and only the first answer counts."
    )]
    async fn ask(
        &self,
        Parameters(params): Parameters<AskParams>,
    ) -> Result<CallToolResult, McpError> {
        let seconds = params.timeout_seconds.unwrap_or(DEFAULT_ASK_SECONDS);
        if !seconds.is_finite() || !(1.0..=MAX_WAIT_SECONDS).contains(&seconds) {
            return Err(arguments::invalid(
                "ask",
                &ArgumentError::Invalid {
                    name: "timeout_seconds".to_owned(),
                    message: format!("must be between 1 and {MAX_WAIT_SECONDS}"),
                },
            ));
        }
        let choices = Choice::from_labels(&params.choices);
        let deadline = Timestamp::now().checked_add(Duration::from_secs_f64(seconds));
        let question = Question::new(params.question, choices).map(|mut question| {
            question.thread_id = params.thread_id.map(ThreadId::new);
            question.deadline = deadline.ok();
            question.free_text = params.free_text;
            question
        });
        let question = match question {
            Ok(question) => question,
            Err(e) => return Ok(tool_error(&e)),
        };
        // The connector reports the expiry at the deadline; this bounds the wait if it cannot.
        let wait = Duration::from_secs_f64(seconds) + Duration::from_secs(15);
        Ok(
            match ask_and_wait(self.connector.as_ref(), question, Some(wait)).await {
                Ok((receipt, waited)) => json_result(&asked_result(&receipt, &waited)),
                Err(e) => tool_error(&e),
            },
        )
    }

    /// Fetches recent messages of the conversation.
    #[tool(
        description = "Fetch the most recent messages of the conversation (both directions), \
oldest first."
    )]
    async fn history(&self, Parameters(params): Parameters<HistoryParams>) -> CallToolResult {
        let limit = params.limit.unwrap_or(20).clamp(1, MAX_HISTORY) as usize;
        let mut query = HistoryQuery::latest(limit);
        if let Some(thread) = params.thread_id {
            query = query.in_thread(thread);
        }
        match self.connector.history(query).await {
            Ok(messages) => json_result(&json!({ "messages": messages })),
            Err(e) => tool_error(&e),
        }
    }

    /// Waits for the next operator message.
    #[tool(
        description = "Wait for the next message from the operator and return it (message_id, \
text, thread_id, sender, ts). Messages are queued while nobody waits, so none is lost between \
calls. Returns message null when timeout_seconds pass first."
    )]
    async fn wait_for_message(
        &self,
        Parameters(params): Parameters<WaitParams>,
    ) -> Result<CallToolResult, McpError> {
        let seconds = params.timeout_seconds.unwrap_or(DEFAULT_WAIT_SECONDS);
        if !seconds.is_finite() || !(0.0..=MAX_WAIT_SECONDS).contains(&seconds) {
            return Err(arguments::invalid(
                "wait_for_message",
                &ArgumentError::Invalid {
                    name: "timeout_seconds".to_owned(),
                    message: format!("must be between 0 and {MAX_WAIT_SECONDS}"),
                },
            ));
        }
        let message = self.inbound.next(Duration::from_secs_f64(seconds)).await;
        Ok(json_result(&WaitResult {
            message: message.as_ref(),
            pending: self.inbound.pending(),
        }))
    }

    /// Probes the connector.
    #[tool(
        description = "Probe the connector: its kind, whether the platform is reachable and \
accepts our credentials, a detail when not, and the optional capabilities it offers."
    )]
    async fn health(&self) -> CallToolResult {
        let health = self.connector.health().await;
        let capabilities = self.connector.capabilities();
        let offered: Vec<&str> = Capability::ALL
            .into_iter()
            .filter(|c| capabilities.supports(*c))
            .map(Capability::name)
            .collect();
        let mut value = json!({ "kind": self.connector.kind(), "capabilities": offered });
        if let (Value::Object(object), Ok(Value::Object(health))) =
            (&mut value, serde_json::to_value(&health))
        {
            object.extend(health);
        }
        json_result(&value)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ConnectorServer {
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder().enable_tools().build();
        // Claude Code's channels: push operator messages into the session, and relay its
        // permission prompts to the operator (see `permission`).
        capabilities.experimental = Some(
            [
                ("claude/channel".to_owned(), JsonObject::new()),
                (permission::CAPABILITY.to_owned(), JsonObject::new()),
            ]
            .into(),
        );
        // Log message notifications (`notifications/message`) carry every operator message too.
        capabilities.logging = Some(JsonObject::new());
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new("connector", env!("CARGO_PKG_VERSION"))
                    .with_title("Orchestrator connector"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) {
        if notification.method == permission::REQUEST_METHOD {
            self.permissions.request(notification.params, context.peer);
        } else {
            tracing::debug!(method = %notification.method, "unknown notification ignored");
        }
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        tracing::info!("MCP client initialized");
        self.inbound.client_ready(context.peer).await;
    }

    #[allow(
        deprecated,
        reason = "logging/setLevel is still what 2025 clients send"
    )]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        use rmcp::model::LoggingLevel;
        let on = matches!(request.level, LoggingLevel::Debug | LoggingLevel::Info);
        self.inbound.set_log_messages(on);
        Ok(())
    }
}
