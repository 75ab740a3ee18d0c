//! The HTTP clients behind one type: [`ApiClient`] is an [`OpenAiClient`] or an
//! [`AnthropicClient`], built from [`ClientOptions`].

use std::collections::BTreeMap;
use std::time::Duration;

use agentscale_core::model::{
    FinishReason, Message, Model, ModelError, ModelRequest, ModelResponse,
};
use agentscale_core::usage::{Cost, Usage};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::anthropic::AnthropicClient;
use crate::http::{ClientBuildError, HttpReply};
use crate::openai::OpenAiClient;
use crate::secret::ApiKey;

/// The wire format of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// OpenAI-compatible chat completions (`POST {base_url}/chat/completions`): OpenAI, vLLM,
    /// SGLang, Ollama, LiteLLM, OpenRouter, Gemini's compatible endpoint.
    Openai,
    /// Anthropic Messages (`POST {base_url}/v1/messages`).
    Anthropic,
}

impl Provider {
    /// `openai` or `anthropic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    /// The official endpoint, used when no base URL is given.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Openai => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
        }
    }

    /// The conventional key variable of the official endpoint.
    pub fn default_api_key_env(self) -> &'static str {
        match self {
            Self::Openai => "OPENAI_API_KEY",
            Self::Anthropic => "ANTHROPIC_API_KEY",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "openai" => Ok(Self::Openai),
            "anthropic" => Ok(Self::Anthropic),
            other => Err(format!(
                "unknown provider {other:?}; expected openai or anthropic"
            )),
        }
    }
}

/// Which request field carries the output-token limit on OpenAI-compatible servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensParam {
    /// `max_tokens` (vLLM, SGLang, Ollama, LiteLLM, OpenRouter, Gemini).
    #[default]
    MaxTokens,
    /// `max_completion_tokens` (OpenAI's reasoning models require it).
    MaxCompletionTokens,
}

/// The output-token limit sent to Anthropic for a model this crate does not know, when the
/// request sets none (the API requires one).
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 32_000;

/// The output-token limit sent to Anthropic when the request sets none: the model's own
/// maximum, as LiteLLM (and so mini-swe-agent) sends it, so that a long reply (a summary of
/// 40,000 characters, a long patch) is not cut at an arbitrary 8,192 tokens. Matched on the
/// model id without a `provider/` prefix; unknown models get [`ANTHROPIC_DEFAULT_MAX_TOKENS`].
pub fn anthropic_max_output_tokens(model: &str) -> u32 {
    const TABLE: &[(&str, u32)] = &[
        ("claude-opus-4-5", 64_000),
        ("claude-sonnet-4-5", 64_000),
        ("claude-haiku-4-5", 64_000),
        ("claude-opus-4-1", 32_000),
        ("claude-opus-4", 32_000),
        ("claude-sonnet-4", 64_000),
        ("claude-3-7-sonnet", 64_000),
        ("claude-3-5", 8_192),
        ("claude-3-", 4_096),
    ];
    let m = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    let m = m.replace('.', "-");
    TABLE
        .iter()
        .find(|(prefix, _)| m.starts_with(prefix))
        .map_or(ANTHROPIC_DEFAULT_MAX_TOKENS, |&(_, n)| n)
}

/// What a client needs. The key is held in an [`ApiKey`] (never printed or serialized).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The model name sent to the API.
    pub model: String,
    /// Base URL: with `/v1` for OpenAI-compatible servers (`http://host:8000/v1`), without
    /// for Anthropic (`https://api.anthropic.com`).
    pub base_url: String,
    /// The API key, if the endpoint needs one.
    pub api_key: Option<ApiKey>,
    /// Headers added to every request.
    pub extra_headers: BTreeMap<String, String>,
    /// Timeout of one HTTP request (connect, send and the whole reply).
    pub timeout: Duration,
    /// OpenAI-compatible only: the field for the output-token limit.
    pub max_tokens_param: MaxTokensParam,
    /// Anthropic only: mark the system prompt and the last message for prompt caching.
    pub prompt_cache: bool,
}

impl ClientOptions {
    /// Options with defaults: no key, no extra headers, a 600 s timeout.
    pub fn new(model: &str, base_url: &str) -> Self {
        Self {
            model: model.to_string(),
            base_url: base_url.to_string(),
            api_key: None,
            extra_headers: BTreeMap::new(),
            timeout: Duration::from_mins(10),
            max_tokens_param: MaxTokensParam::default(),
            prompt_cache: false,
        }
    }

    /// With this key.
    #[must_use]
    pub fn with_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// With this timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Either HTTP client.
#[derive(Debug)]
pub enum ApiClient {
    /// OpenAI-compatible chat completions.
    Openai(OpenAiClient),
    /// Anthropic Messages.
    Anthropic(AnthropicClient),
}

impl ApiClient {
    /// Build the client for `provider`.
    pub fn new(provider: Provider, opts: &ClientOptions) -> Result<Self, ClientBuildError> {
        Ok(match provider {
            Provider::Openai => Self::Openai(OpenAiClient::new(opts)?),
            Provider::Anthropic => Self::Anthropic(AnthropicClient::new(opts)?),
        })
    }

    /// The URL requests are posted to.
    pub fn endpoint(&self) -> &str {
        match self {
            Self::Openai(c) => c.endpoint(),
            Self::Anthropic(c) => c.endpoint(),
        }
    }
}

#[async_trait]
impl Model for ApiClient {
    fn name(&self) -> &str {
        match self {
            Self::Openai(c) => c.name(),
            Self::Anthropic(c) => c.name(),
        }
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        match self {
            Self::Openai(c) => c.complete(req).await,
            Self::Anthropic(c) => c.complete(req).await,
        }
    }
}

/// Parse a tool's JSON schema string, or fail the request before sending it.
pub(crate) fn tool_schema(
    spec: &agentscale_core::model::ToolSpec,
) -> Result<serde_json::Value, ModelError> {
    serde_json::from_str(&spec.parameters_schema).map_err(|e| ModelError::BadRequest {
        status: 0,
        message: format!(
            "tool {:?}: parameters_schema is not valid JSON ({e}); the request was not sent",
            spec.name
        ),
    })
}

/// A JSON number field as u64 (absent, null or negative: 0).
pub(crate) fn u64_field(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// The [`ModelResponse`] of a parsed 2xx `reply` with JSON `body`: `message`,
/// `finish_reason` and `usage` as the provider's parser read them; the request id from the
/// first of `id_headers` present, else the body's `id`; the model the body names, else
/// `model`; cost left for the accounting layer.
pub(crate) fn response(
    reply: &HttpReply,
    body: &Value,
    model: &str,
    id_headers: &[&str],
    message: Message,
    finish_reason: FinishReason,
    usage: Usage,
) -> ModelResponse {
    ModelResponse {
        message,
        finish_reason,
        usage,
        cost: Cost::Unknown,
        latency_ms: reply.latency_ms,
        request_id: request_id(
            &reply.headers,
            id_headers,
            body.get("id").and_then(Value::as_str),
        ),
        model: body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_string(),
        retries: 0,
        cached: false,
    }
}

/// The provider's request id: a header, else the body's `id`.
pub(crate) fn request_id(
    headers: &reqwest::header::HeaderMap,
    names: &[&str],
    body_id: Option<&str>,
) -> Option<String> {
    names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
        .map(str::to_string)
        .or_else(|| body_id.map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse() {
        assert_eq!("OpenAI".parse::<Provider>().unwrap(), Provider::Openai);
        assert_eq!(
            "anthropic".parse::<Provider>().unwrap(),
            Provider::Anthropic
        );
        assert!("gemini".parse::<Provider>().unwrap_err().contains("openai"));
    }

    #[test]
    fn a_client_builds_with_tls() {
        // reqwest builds its TLS config with an explicit aws-lc-rs provider (or the process
        // default if one is installed), so construction never hits rustls' "no process-level
        // CryptoProvider" panic.
        let c = ApiClient::new(
            Provider::Openai,
            &ClientOptions::new("m", "https://api.openai.com/v1"),
        )
        .unwrap();
        assert_eq!(c.endpoint(), "https://api.openai.com/v1/chat/completions");
    }
}
