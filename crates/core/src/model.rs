//! The model seam: agents, summarizers and judges all call a [`Model`].
//!
//! HTTP clients (OpenAI-compatible, Anthropic), the layers that wrap them (retry, rate limits,
//! cost, cache) and the mock server live in `agentscale-models`. [`ScriptedModel`] lives here
//! so that every crate can test its loops offline.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::usage::{Cost, Usage};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The system prompt.
    System,
    /// The user (the harness speaking for the task and the environment).
    User,
    /// The model.
    Assistant,
    /// A tool result (tool-calling mode).
    Tool,
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call (echoed back in the tool result).
    pub id: String,
    /// The tool's name (`bash`).
    pub name: String,
    /// The arguments as a JSON string, exactly as the model produced them.
    pub arguments: String,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub content: String,
    /// Tool calls made in this (assistant) message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a tool result: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with text only.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// A tool result answering `call_id`.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
        }
    }
}

/// A tool the model may call. agentscale offers one: `bash(command: string)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON schema of the arguments, as a JSON string.
    pub parameters_schema: String,
}

impl ToolSpec {
    /// The `bash` tool: run one shell command.
    pub fn bash() -> Self {
        Self {
            name: "bash".into(),
            description: "Run one shell command in a fresh bash shell in the task's environment \
                          and return its exit code and output."
                .into(),
            parameters_schema: r#"{"type":"object","properties":{"command":{"type":"string","description":"The shell command to run."}},"required":["command"]}"#.into(),
        }
    }
}

/// Sampling parameters. `None` leaves the provider's default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sampling {
    /// Temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Seed, where the API has one (OpenAI-compatible servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The role a call plays in the method, for accounting.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum CallRole {
    /// An agent step.
    #[default]
    Agent,
    /// Summarizing a trajectory.
    Summarizer,
    /// A judge vote.
    Judge,
    /// Anything else (pings, tests).
    Other,
}

impl CallRole {
    /// The name used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Summarizer => "summarizer",
            Self::Judge => "judge",
            Self::Other => "other",
        }
    }
}

/// One request to a model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelRequest {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Sampling parameters.
    #[serde(default)]
    pub sampling: Sampling,
    /// Tools offered (empty: plain text replies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// Which of N independent samples of the same request this is. Part of the cache key, so
    /// that N samples at temperature > 0 stay N distinct samples and a rerun reuses them.
    #[serde(default)]
    pub sample_index: u32,
    /// The role of the call (accounting only; not sent to the provider).
    #[serde(default)]
    pub role: CallRole,
    /// A label of what the call is for (`rollout:<id>:step:3`), for logs and accounting; not
    /// sent to the provider.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub purpose: String,
}

impl ModelRequest {
    /// A request with these messages and default sampling.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end of the reply.
    #[default]
    Stop,
    /// The output-token limit was reached (the reply is truncated).
    Length,
    /// The model called a tool.
    ToolCalls,
    /// The provider filtered the content.
    ContentFilter,
    /// Anything else the provider reported.
    Other,
}

/// A model's reply with its accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// The assistant message.
    pub message: Message,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Tokens used.
    pub usage: Usage,
    /// Cost of the call (unknown when the model has no price).
    pub cost: Cost,
    /// Latency of the successful attempt, in milliseconds.
    pub latency_ms: u64,
    /// The provider's request id, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The model name the provider reported (or the configured one).
    pub model: String,
    /// How many retries the call needed.
    #[serde(default)]
    pub retries: u32,
    /// True when the reply came from the response cache (no HTTP call).
    #[serde(default)]
    pub cached: bool,
}

impl ModelResponse {
    /// A reply with only text, zero usage and zero cost (for scripted models and tests).
    pub fn text(model: &str, content: impl Into<String>) -> Self {
        Self {
            message: Message::assistant(content),
            finish_reason: FinishReason::Stop,
            usage: Usage::default(),
            cost: Cost::Usd(0.0),
            latency_ms: 0,
            request_id: None,
            model: model.to_string(),
            retries: 0,
            cached: false,
        }
    }
}

/// Typed model errors. [`ModelError::is_retryable`] tells the retry layer what to retry.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum ModelError {
    /// HTTP 429.
    #[error("rate limited by {endpoint}{}", retry_after_ms.map(|ms| format!(" (retry after {ms} ms)")).unwrap_or_default())]
    RateLimited {
        /// The endpoint.
        endpoint: String,
        /// The `Retry-After` the server asked for.
        retry_after_ms: Option<u64>,
    },
    /// HTTP 5xx.
    #[error("server error {status} from {endpoint}: {message}")]
    Server {
        /// The endpoint.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The body, cut short.
        message: String,
    },
    /// The request timed out, or the connection dropped before a full reply.
    #[error("request to {endpoint} timed out or was cut off: {message}")]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// No connection could be made (refused, unreachable host, DNS or TLS failure): the
    /// endpoint is down or misconfigured, not slow.
    #[error("cannot connect to {endpoint}: {message}")]
    Connection {
        /// The endpoint.
        endpoint: String,
        /// What happened (`Connection refused (os error 111)`).
        message: String,
    },
    /// The prompt is longer than the model's context window.
    #[error("context too long for {model}: {message}")]
    ContextTooLong {
        /// The model.
        model: String,
        /// The provider's message.
        message: String,
    },
    /// HTTP 401/403, or no API key in the named environment variable.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// HTTP 400/404/422 (other than context length).
    #[error("bad request ({status}): {message}")]
    BadRequest {
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The reply could not be read (bad JSON, missing fields, truncated body).
    #[error("malformed response from {endpoint}: {message}")]
    MalformedResponse {
        /// The endpoint.
        endpoint: String,
        /// What was wrong.
        message: String,
    },
    /// A scripted or replay model ran out of replies, or a similar test-double failure.
    #[error("scripted model: {0}")]
    Script(String),
    /// The call was cancelled (run shutting down).
    #[error("cancelled")]
    Cancelled,
}

impl ModelError {
    /// True for errors worth retrying: rate limits, server errors, timeouts, failed or dropped
    /// connections and malformed (e.g. truncated) bodies. Never bad requests,
    /// authentication or context length.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Server { .. }
                | Self::Timeout { .. }
                | Self::Connection { .. }
                | Self::MalformedResponse { .. }
        )
    }

    /// The short kind name used in tables and events.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Server { .. } => "server_error",
            Self::Timeout { .. } => "timeout",
            Self::Connection { .. } => "connection",
            Self::ContextTooLong { .. } => "context_too_long",
            Self::Authentication(_) => "authentication",
            Self::BadRequest { .. } => "bad_request",
            Self::MalformedResponse { .. } => "malformed_response",
            Self::Script(_) => "script",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A language model.
#[async_trait]
pub trait Model: Send + Sync {
    /// The configured model name (used for prices and records).
    fn name(&self) -> &str;

    /// Complete one request.
    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError>;
}

type ReplyFn = dyn Fn(&ModelRequest) -> Result<ModelResponse, ModelError> + Send + Sync;

/// A model that answers from a list of replies, or with a function of the request.
///
/// Replies from a list are served in order; when the list is exhausted the model returns
/// [`ModelError::Script`], so a test notices an agent that calls more often than scripted.
pub struct ScriptedModel {
    name: String,
    queue: Mutex<VecDeque<Result<ModelResponse, ModelError>>>,
    func: Option<Box<ReplyFn>>,
    calls: Mutex<Vec<ModelRequest>>,
    latency: Duration,
}

impl std::fmt::Debug for ScriptedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedModel")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ScriptedModel {
    /// Serve these text replies in order.
    pub fn from_replies<I, S>(name: &str, replies: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name: name.to_string(),
            queue: Mutex::new(
                replies
                    .into_iter()
                    .map(|r| Ok(ModelResponse::text(name, r)))
                    .collect(),
            ),
            func: None,
            calls: Mutex::new(Vec::new()),
            latency: Duration::ZERO,
        }
    }

    /// Serve these responses or errors in order.
    pub fn from_results(
        name: &str,
        results: impl IntoIterator<Item = Result<ModelResponse, ModelError>>,
    ) -> Self {
        Self {
            name: name.to_string(),
            queue: Mutex::new(results.into_iter().collect()),
            func: None,
            calls: Mutex::new(Vec::new()),
            latency: Duration::ZERO,
        }
    }

    /// Answer every request with `f(request)`.
    pub fn from_fn(
        name: &str,
        f: impl Fn(&ModelRequest) -> Result<ModelResponse, ModelError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.to_string(),
            queue: Mutex::new(VecDeque::new()),
            func: Some(Box::new(f)),
            calls: Mutex::new(Vec::new()),
            latency: Duration::ZERO,
        }
    }

    /// Sleep this long before every reply (to exercise timeouts and concurrency).
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// How many requests were received.
    pub fn call_count(&self) -> usize {
        self.calls.lock().map_or(0, |c| c.len())
    }
}

#[async_trait]
impl Model for ScriptedModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        if let Ok(mut c) = self.calls.lock() {
            c.push(req.clone());
        }
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if let Some(f) = &self.func {
            return f(req);
        }
        self.queue
            .lock()
            .map_err(|_| ModelError::Script("poisoned lock".into()))?
            .pop_front()
            .unwrap_or_else(|| {
                Err(ModelError::Script(format!(
                    "{}: no scripted reply left for call {}",
                    self.name,
                    self.call_count()
                )))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scripted_replies_in_order_then_error() {
        let m = ScriptedModel::from_replies("m", ["a", "b"]);
        let r = ModelRequest::new(vec![Message::user("hi")]);
        assert_eq!(m.complete(&r).await.unwrap().message.content, "a");
        assert_eq!(m.complete(&r).await.unwrap().message.content, "b");
        assert!(matches!(m.complete(&r).await, Err(ModelError::Script(_))));
        assert_eq!(m.call_count(), 3);
    }

    #[test]
    fn retryable_kinds() {
        assert!(
            ModelError::RateLimited {
                endpoint: "e".into(),
                retry_after_ms: None
            }
            .is_retryable()
        );
        assert!(!ModelError::Authentication("x".into()).is_retryable());
        assert!(
            !ModelError::ContextTooLong {
                model: "m".into(),
                message: String::new()
            }
            .is_retryable()
        );
        assert!(
            !ModelError::BadRequest {
                status: 400,
                message: String::new()
            }
            .is_retryable()
        );
    }
}
