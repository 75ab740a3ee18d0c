//! `[[models]]`: the model endpoints of an experiment (split from [`super::types`], which
//! re-exports everything here).

use std::collections::BTreeMap;

use agentscale_models::{MaxTokensParam, Price, RetryConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::default_true;

/// Which API a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// OpenAI-compatible chat completions (OpenAI, vLLM, SGLang, Ollama, LiteLLM, OpenRouter,
    /// Gemini's compatible endpoint).
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
    /// A scripted model built into agentscale (no network), named by `script`.
    Scripted,
}

/// Per-endpoint limits of a model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Requests per minute (unlimited when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute (unlimited when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub tokens_per_minute: Option<u64>,
    /// Concurrent requests to this endpoint.
    #[serde(default = "default_max_concurrent")]
    #[schemars(range(min = 1))]
    pub max_concurrent: u32,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            requests_per_minute: None,
            tokens_per_minute: None,
            max_concurrent: default_max_concurrent(),
        }
    }
}

fn default_max_concurrent() -> u32 {
    32
}

/// `[[models]]`: one model endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// The name used in tables and by `scaling.judge_model` / `scaling.summarizer_model`
    /// (unique within the config).
    pub name: String,
    /// Which API the endpoint speaks.
    pub provider: Provider,
    /// The model id sent to the API (default: `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The endpoint (default: `https://api.openai.com/v1` or `https://api.anthropic.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable holding the API key (default: `OPENAI_API_KEY` or
    /// `ANTHROPIC_API_KEY` for the official endpoints; none for a custom `base_url`). Keys are
    /// read from the environment only and never written anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Run this model as an agent (one system per agent model). `false` for a model that only
    /// summarizes or judges.
    #[serde(default = "default_true")]
    pub agent: bool,
    /// For `provider = "scripted"`: the built-in script (`demo`: a mediocre agent with a
    /// summarizer and a noisy judge that prefers verified work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// Sampling temperature of agent calls (default: the agent's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 2.0))]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub top_p: Option<f64>,
    /// Maximum output tokens per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_tokens: Option<u32>,
    /// OpenAI-compatible only: the request field of the output-token limit
    /// (`max_completion_tokens` for OpenAI's reasoning models).
    #[serde(default)]
    pub max_tokens_param: MaxTokensParam,
    /// Anthropic only: mark the system prompt and last message for prompt caching (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache: Option<bool>,
    /// Send a seed with every request where the API has one (OpenAI-compatible servers),
    /// derived from `experiment.seed` and the call's identity (distinct per rollout, summary
    /// and vote): sampling becomes reproducible on servers that honour it.
    #[serde(default)]
    pub send_seed: bool,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout_sec")]
    #[schemars(range(min = 1))]
    pub timeout_sec: u64,
    /// Extra HTTP headers sent with every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_headers: BTreeMap<String, String>,
    /// Prices overriding the built-in table (per million tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<Price>,
    /// Rate and concurrency limits of the endpoint.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Retry policy.
    #[serde(default)]
    pub retry: RetryConfig,
}

fn default_timeout_sec() -> u64 {
    600
}

impl ModelSection {
    /// The model id sent to the API.
    pub fn api_model(&self) -> &str {
        self.model.as_deref().unwrap_or(&self.name)
    }

    /// The API key variable: `api_key_env`, else (for the official endpoints, i.e. without
    /// `base_url`) `OPENAI_API_KEY` or `ANTHROPIC_API_KEY`; a custom endpoint without
    /// `api_key_env` takes no key.
    pub fn key_env(&self) -> Option<String> {
        match (self.provider, &self.api_key_env, &self.base_url) {
            (Provider::Scripted, _, _) | (_, None, Some(_)) => None,
            (_, Some(v), _) => Some(v.clone()),
            (Provider::Openai, None, None) => Some("OPENAI_API_KEY".into()),
            (Provider::Anthropic, None, None) => Some("ANTHROPIC_API_KEY".into()),
        }
    }

    /// The endpoint, with the provider's default.
    pub fn endpoint(&self) -> String {
        match (&self.base_url, self.provider) {
            (Some(u), _) => u.clone(),
            (None, Provider::Openai) => "https://api.openai.com/v1".into(),
            (None, Provider::Anthropic) => "https://api.anthropic.com".into(),
            (None, Provider::Scripted) => format!(
                "scripted:{}",
                self.script.as_deref().unwrap_or("unspecified")
            ),
        }
    }
}
