//! Model clients of agentscale, the layers that wrap them, and test doubles.
//!
//! - Clients ([`client`]): [`OpenAiClient`] (OpenAI-compatible chat completions: OpenAI,
//!   vLLM, SGLang, Ollama, LiteLLM, OpenRouter, Gemini's compatible endpoint) and
//!   [`AnthropicClient`] (Messages API), both behind [`ApiClient`]. Errors are the typed
//!   [`agentscale_core::model::ModelError`].
//! - Layers, each wrapping any [`Model`]: [`Retry`] (backoff with seeded jitter, honours
//!   `Retry-After`), [`RateLimited`] (requests and tokens per minute, concurrency; one
//!   [`Limiter`] per endpoint), [`Priced`] (cost from the versioned [`PriceTable`]),
//!   [`Cached`] (opt-in response cache keyed by the request and its sample index; in the
//!   full stack its store half, [`StoreReplies`], sits inside the rate limiter) and
//!   [`Accounted`] (a [`CallRecord`] per call to a run's [`Ledger`]).
//! - [`ModelConfig`]: the serde config of one endpoint; [`ModelConfig::check`] validates it
//!   (key variable set) and [`ModelConfig::build`] returns the full stack as `Arc<dyn Model>`.
//! - Test doubles: the [`mock::MockServer`] (both wire formats, scripted replies, fault
//!   injection) and the [`ReplayModel`] (our trajectories and mini-swe-agent's).
//! - [`download::download_file`] streams a URL to disk.
//!
//! TLS: reqwest 0.13's `rustls` feature builds every client with the aws-lc-rs provider
//! explicitly (or the process default if one was installed), and no other crate in the
//! workspace brings `ring`, so rustls never has to pick a process-level provider.
//!
//! [`Model`]: agentscale_core::model::Model

pub mod accounting;
pub mod anthropic;
pub mod bench;
pub mod cache;
pub mod client;
pub mod config;
pub mod download;
pub mod http;
pub mod limit;
pub mod mock;
pub mod openai;
pub mod prices;
pub mod replay;
pub mod retry;
pub mod secret;

pub use accounting::{
    Accounted, CallRecord, CallSink, CallTotals, ChannelSink, FnSink, Ledger, LedgerTotals,
};
pub use anthropic::AnthropicClient;
pub use cache::{CacheStats, Cached, ResponseCache, StoreReplies, cache_key};
pub use client::{ApiClient, ClientOptions, MaxTokensParam, Provider};
pub use config::{
    CacheConfig, ModelConfig, ModelConfigError, ModelStack, RetryConfig, Shared, StackOptions,
};
pub use download::{DownloadError, download_file};
pub use http::ClientBuildError;
pub use limit::{Limiter, LimiterRegistry, Limits, RateLimited};
pub use openai::OpenAiClient;
pub use prices::{Price, PriceError, PriceTable, Priced};
pub use replay::{ReplayError, ReplayModel, ReplayTurn};
pub use retry::{Retry, RetryPolicy};
pub use secret::{ApiKey, ApiKeyError};
