//! [`ModelConfig`]: one `[[models]]` entry of an experiment config, its validation
//! ([`ModelConfig::check`]) and the builder of the full layer stack
//! ([`ModelConfig::build`]): `Accounted<Cached<Retry<RateLimited<StoreReplies<Priced<ApiClient>>>>>>`: the cache is
//! looked up outside the retry and rate limits and written inside the concurrency slot.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentscale_core::model::{Model, ModelError, ModelRequest, ModelResponse};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounting::{Accounted, Ledger};
use crate::cache::{Cached, ResponseCache, StoreReplies};
use crate::client::{ApiClient, ClientOptions, MaxTokensParam, Provider};
use crate::http::{ClientBuildError, header_map, normalize_base_url};
use crate::limit::{LimiterRegistry, Limits, RateLimited};
use crate::prices::{Price, PriceTable, Priced};
use crate::retry::{Retry, RetryPolicy};
use crate::secret::{ApiKey, ApiKeyError};

/// Retries of failed model calls (429, 5xx, timeouts; never 400/401/404/context length).
// The experiment config embeds this type: its doc comments are the descriptions of
// `RetrySection` in `configs/schema.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(rename = "RetrySection")]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay in milliseconds, doubled on every retry (with jitter).
    pub base_delay_ms: u64,
    /// Longest backoff delay in milliseconds.
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 6,
            base_delay_ms: 1000,
            max_delay_ms: 60_000,
        }
    }
}

/// Response cache settings (off by default).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Serve identical requests (same sample index) from disk.
    pub enabled: bool,
    /// The folder (default [`DEFAULT_CACHE_DIR`], relative to the working directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

/// The default cache folder.
pub const DEFAULT_CACHE_DIR: &str = "results/.model-cache";

fn default_timeout() -> f64 {
    600.0
}

/// One model endpoint as configured. Holds no key: only the name of the variable with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model's name in records and tables (and, unless `model` is set, the model id
    /// sent to the API).
    pub name: String,
    /// The wire format.
    pub provider: Provider,
    /// The model id sent to the API and looked up in the price table (default: `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Base URL (OpenAI-compatible with `/v1`; Anthropic without). Default: the provider's
    /// official endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable holding the API key. Default: `OPENAI_API_KEY` or
    /// `ANTHROPIC_API_KEY` when `base_url` is unset (the official endpoint), else no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Headers added to every request (not for keys: use `api_key_env`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_headers: BTreeMap<String, String>,
    /// Timeout of one HTTP request, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_sec: f64,
    /// A price overriding the price table's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<Price>,
    /// Limits of the endpoint (shared by models on the same base URL).
    #[serde(default)]
    pub limits: Limits,
    /// Retry settings.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Response cache settings.
    #[serde(default)]
    pub cache: CacheConfig,
    /// OpenAI-compatible only: `max_tokens` (default) or `max_completion_tokens`.
    #[serde(default)]
    pub max_tokens_param: MaxTokensParam,
    /// Anthropic only: mark the system prompt and last message for prompt caching.
    #[serde(default)]
    pub prompt_cache: bool,
}

/// Why a model config is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelConfigError {
    /// The key variable is unset or empty.
    #[error("model {model:?}: {source}")]
    ApiKey {
        /// The model.
        model: String,
        /// What is wrong.
        source: ApiKeyError,
    },
    /// The base URL or a header is invalid, or the HTTP client failed.
    #[error("model {model:?}: {source}")]
    Client {
        /// The model.
        model: String,
        /// What is wrong.
        source: ClientBuildError,
    },
    /// A value is out of range.
    #[error("model {model:?}: `{key}` {message}")]
    Invalid {
        /// The model.
        model: String,
        /// The key (`timeout_sec`, `limits.requests_per_minute`, ...).
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

/// What the builder shares between models of a run.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Where call records go (one per run). A fresh ledger when `None`.
    pub ledger: Option<Arc<Ledger>>,
    /// The price table (default: the embedded one).
    pub prices: Arc<PriceTable>,
    /// Limiters per endpoint, shared by the models built with these options.
    pub limiters: Arc<LimiterRegistry>,
    /// Seed of the retry jitter.
    pub seed: u64,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            ledger: None,
            prices: PriceTable::embedded(),
            limiters: Arc::new(LimiterRegistry::new()),
            seed: 0,
        }
    }
}

/// The full stack a [`ModelConfig`] builds.
pub type ModelStack = Accounted<Cached<Retry<RateLimited<StoreReplies<Priced<ApiClient>>>>>>;

impl ModelConfig {
    /// A config with defaults for `provider` and `name`.
    pub fn new(name: &str, provider: Provider) -> Self {
        Self {
            name: name.to_string(),
            provider,
            model: None,
            base_url: None,
            api_key_env: None,
            extra_headers: BTreeMap::new(),
            timeout_sec: default_timeout(),
            prices: None,
            limits: Limits::default(),
            retry: RetryConfig::default(),
            cache: CacheConfig::default(),
            max_tokens_param: MaxTokensParam::default(),
            prompt_cache: false,
        }
    }

    /// The model id sent to the API.
    pub fn api_model(&self) -> &str {
        self.model.as_deref().unwrap_or(&self.name)
    }

    /// The base URL used.
    pub fn effective_base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or_else(|| self.provider.default_base_url())
    }

    /// The key variable used, if any.
    pub fn effective_api_key_env(&self) -> Option<&str> {
        match (&self.api_key_env, &self.base_url) {
            (Some(v), _) => Some(v.as_str()),
            (None, None) => Some(self.provider.default_api_key_env()),
            (None, Some(_)) => None,
        }
    }

    fn invalid(&self, key: &str, message: impl Into<String>) -> ModelConfigError {
        ModelConfigError::Invalid {
            model: self.name.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Check everything without sending anything: values in range, base URL and headers
    /// valid, and the key variable set. Errors name the model and the key or variable.
    pub fn check(&self) -> Result<(), ModelConfigError> {
        self.check_values()?;
        self.api_key().map(|_| ())
    }

    fn check_values(&self) -> Result<(), ModelConfigError> {
        if self.name.trim().is_empty() {
            return Err(self.invalid("name", "must not be empty"));
        }
        if self.api_model().trim().is_empty() {
            return Err(self.invalid("model", "must not be empty (omit it to send `name`)"));
        }
        let client_err = |source| ModelConfigError::Client {
            model: self.name.clone(),
            source,
        };
        normalize_base_url(self.effective_base_url()).map_err(client_err)?;
        header_map(&self.extra_headers).map_err(client_err)?;
        for h in self.extra_headers.keys() {
            if ["authorization", "x-api-key", "api-key"].contains(&h.to_ascii_lowercase().as_str())
            {
                return Err(self.invalid(
                    &format!("extra_headers.{h}"),
                    "would write a key into the config; put the key in an environment variable and name it in `api_key_env`",
                ));
            }
        }
        if !(self.timeout_sec.is_finite() && self.timeout_sec > 0.0 && self.timeout_sec <= 86_400.0)
        {
            return Err(self.invalid(
                "timeout_sec",
                format!(
                    "= {} must be a number of seconds in (0, 86400]",
                    self.timeout_sec
                ),
            ));
        }
        if let Some(p) = &self.prices {
            p.validate().map_err(|m| self.invalid("prices", m))?;
        }
        if self.limits.requests_per_minute == Some(0) {
            return Err(self.invalid(
                "limits.requests_per_minute",
                "must be at least 1 (omit it for no limit)",
            ));
        }
        if self.limits.tokens_per_minute == Some(0) {
            return Err(self.invalid(
                "limits.tokens_per_minute",
                "must be at least 1 (omit it for no limit)",
            ));
        }
        if self.limits.max_concurrent == Some(0) {
            return Err(self.invalid(
                "limits.max_concurrent",
                "must be at least 1 (omit it for no limit)",
            ));
        }
        if self.retry.base_delay_ms > self.retry.max_delay_ms {
            return Err(self.invalid(
                "retry.base_delay_ms",
                format!(
                    "= {} is larger than retry.max_delay_ms = {}",
                    self.retry.base_delay_ms, self.retry.max_delay_ms
                ),
            ));
        }
        Ok(())
    }

    /// Read the key from its variable (`None` when the endpoint takes no key).
    pub fn api_key(&self) -> Result<Option<ApiKey>, ModelConfigError> {
        self.effective_api_key_env()
            .map(|var| {
                ApiKey::from_env(var).map_err(|source| ModelConfigError::ApiKey {
                    model: self.name.clone(),
                    source,
                })
            })
            .transpose()
    }

    /// The client options (reads the key).
    pub fn client_options(&self) -> Result<ClientOptions, ModelConfigError> {
        self.check_values()?;
        Ok(ClientOptions {
            model: self.api_model().to_string(),
            base_url: self.effective_base_url().to_string(),
            api_key: self.api_key()?,
            extra_headers: self.extra_headers.clone(),
            timeout: agentscale_core::time::secs(self.timeout_sec),
            max_tokens_param: self.max_tokens_param,
            prompt_cache: self.prompt_cache,
        })
    }

    /// The retry policy.
    pub fn retry_policy(&self, seed: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.retry.max_retries,
            base_delay: Duration::from_millis(self.retry.base_delay_ms),
            max_delay: Duration::from_millis(self.retry.max_delay_ms),
            seed,
            ..RetryPolicy::default()
        }
    }

    /// Build the full stack with its concrete type.
    pub fn build_stack(&self, opts: &StackOptions) -> Result<ModelStack, ModelConfigError> {
        let client = ApiClient::new(self.provider, &self.client_options()?).map_err(|source| {
            ModelConfigError::Client {
                model: self.name.clone(),
                source,
            }
        })?;
        let endpoint = client.endpoint().to_string();
        let limiter = opts.limiters.get(&endpoint, self.limits);
        let cache = self.cache.enabled.then(|| {
            Arc::new(ResponseCache::new(
                self.cache
                    .dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR)),
            ))
        });
        let priced = Priced::new(client, opts.prices.clone(), self.prices);
        let stored = StoreReplies::new(priced, cache.clone(), endpoint.clone());
        let stack = Accounted::new(
            Cached::lookup_only(
                Retry::new(
                    RateLimited::new(stored, limiter),
                    self.retry_policy(opts.seed),
                ),
                cache,
                endpoint.clone(),
            ),
            opts.ledger
                .clone()
                .unwrap_or_else(|| Arc::new(Ledger::new())),
            endpoint,
        )
        .with_label(&self.name);
        Ok(stack)
    }

    /// Build the full stack behind the [`Model`] trait.
    pub fn build(&self, opts: &StackOptions) -> Result<Arc<dyn Model>, ModelConfigError> {
        Ok(Arc::new(self.build_stack(opts)?))
    }
}

/// A shared model as a [`Model`], so that any layer can wrap an `Arc<dyn Model>`.
#[derive(Clone)]
pub struct Shared(pub Arc<dyn Model>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shared({})", self.0.name())
    }
}

#[async_trait]
impl Model for Shared {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        self.0.complete(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults_and_rejects_unknown_keys() {
        let c: ModelConfig = toml::from_str(
            r#"
name = "qwen"
provider = "openai"
base_url = "http://localhost:8000/v1"
[limits]
requests_per_minute = 60
"#,
        )
        .unwrap();
        assert!((c.timeout_sec - 600.0).abs() < 1e-9);
        assert_eq!(c.retry.max_retries, 6);
        assert!(!c.cache.enabled);
        assert_eq!(c.effective_api_key_env(), None);
        c.check().unwrap();
        let e = toml::from_str::<ModelConfig>("name = \"m\"\nprovider = \"openai\"\ntimeout = 3\n")
            .unwrap_err();
        assert!(e.to_string().contains("timeout"), "{e}");
        let e = toml::from_str::<ModelConfig>(
            "name = \"m\"\nprovider = \"openai\"\n[retry]\nmax_retry = 3\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_retry"), "{e}");
    }

    #[test]
    fn check_names_model_and_variable() {
        let mut c = ModelConfig::new("gpt-5", Provider::Openai);
        c.api_key_env = Some("AGENTSCALE_TEST_UNSET_KEY_VAR".into());
        let e = c.check().unwrap_err().to_string();
        assert!(
            e.contains("gpt-5") && e.contains("AGENTSCALE_TEST_UNSET_KEY_VAR"),
            "{e}"
        );
        // the official endpoint defaults to the provider's variable
        let d = ModelConfig::new("claude-sonnet-4-5", Provider::Anthropic);
        assert_eq!(d.effective_api_key_env(), Some("ANTHROPIC_API_KEY"));
    }

    #[test]
    fn check_rejects_bad_values_with_their_key() {
        let base = || {
            let mut c = ModelConfig::new("m", Provider::Openai);
            c.base_url = Some("http://localhost:1/v1".into());
            c
        };
        let mut c = base();
        c.timeout_sec = 0.0;
        assert!(c.check().unwrap_err().to_string().contains("timeout_sec"));
        let mut c = base();
        c.limits.requests_per_minute = Some(0);
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .contains("requests_per_minute")
        );
        let mut c = base();
        c.extra_headers
            .insert("Authorization".into(), "Bearer x".into());
        assert!(c.check().unwrap_err().to_string().contains("api_key_env"));
        let mut c = base();
        c.extra_headers.insert("bad header".into(), "x".into());
        assert!(c.check().unwrap_err().to_string().contains("bad header"));
        let mut c = base();
        c.base_url = Some("localhost:8000".into());
        assert!(c.check().unwrap_err().to_string().contains("http://"));
        let mut c = base();
        c.retry.base_delay_ms = 10;
        c.retry.max_delay_ms = 1;
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .contains("retry.base_delay_ms")
        );
    }
}
