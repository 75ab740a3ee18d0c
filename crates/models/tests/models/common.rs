//! Helpers shared by the tests.

use std::sync::Arc;
use std::time::Duration;

use agentscale_core::model::{Message, ModelRequest};
use agentscale_models::{
    Accounted, ApiClient, ApiKey, Cached, ClientOptions, Ledger, Limiter, Limits, PriceTable,
    Priced, Provider, RateLimited, ResponseCache, Retry, RetryPolicy, StoreReplies,
};

/// Both providers with the base URL of each on `server`.
pub fn providers(server: &agentscale_models::mock::MockServer) -> [(Provider, String); 2] {
    [
        (Provider::Openai, server.openai_base_url()),
        (Provider::Anthropic, server.anthropic_base_url()),
    ]
}

/// A bare client with a key and a timeout.
pub fn client(
    provider: Provider,
    base: &str,
    model: &str,
    key: &str,
    timeout: Duration,
) -> ApiClient {
    ApiClient::new(
        provider,
        &ClientOptions::new(model, base)
            .with_key(ApiKey::from_value("TEST_KEY", key))
            .with_timeout(timeout),
    )
    .unwrap()
}

/// A retry policy with short delays.
pub fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        seed: 1,
        ..RetryPolicy::default()
    }
}

/// The full stack around a client, as `ModelConfig::build` makes it.
pub type Stack = Accounted<Cached<Retry<RateLimited<StoreReplies<Priced<ApiClient>>>>>>;

/// Build the full stack by hand (no environment variable needed).
pub fn stack(
    client: ApiClient,
    ledger: Arc<Ledger>,
    cache: Option<Arc<ResponseCache>>,
    retries: u32,
) -> Stack {
    let endpoint = client.endpoint().to_string();
    Accounted::new(
        Cached::lookup_only(
            Retry::new(
                RateLimited::new(
                    StoreReplies::new(
                        Priced::new(client, PriceTable::embedded(), None),
                        cache.clone(),
                        endpoint.clone(),
                    ),
                    Limiter::new(Limits::default()),
                ),
                fast_retry(retries),
            ),
            cache,
            endpoint.clone(),
        ),
        ledger,
        endpoint,
    )
}

/// A one-message request.
pub fn ask(text: &str) -> ModelRequest {
    ModelRequest::new(vec![Message::system("be brief"), Message::user(text)])
}
