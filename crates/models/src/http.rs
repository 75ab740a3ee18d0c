//! The HTTP transport both clients share: [`Transport`] posts a JSON body and maps what
//! comes back (transport failures, HTTP statuses, provider error bodies) to typed
//! [`ModelError`]s. The API key goes into one sensitive header and is scrubbed from every
//! message we build from provider text.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use agentscale_core::errors::error_chain;
use agentscale_core::model::ModelError;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::secret::{ApiKey, scrub_opt};

/// Why a client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientBuildError {
    /// The base URL is not an http(s) URL.
    #[error("base_url {url:?} is not valid: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A header name or value cannot be sent.
    #[error("extra header {name:?} is not valid: {reason}")]
    Header {
        /// The header name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be created (TLS setup).
    #[error("cannot create the HTTP client: {0}")]
    Http(String),
}

/// A reply as received.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub latency_ms: u64,
}

/// Posts JSON to one URL with fixed headers.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    key: Option<ApiKey>,
    timeout: Duration,
}

/// Check that `base` is an absolute http(s) URL and return it without a trailing slash.
pub(crate) fn normalize_base_url(base: &str) -> Result<String, ClientBuildError> {
    let t = base.trim();
    let bad = |reason: &str| ClientBuildError::BaseUrl {
        url: base.to_string(),
        reason: reason.to_string(),
    };
    let rest = t
        .strip_prefix("http://")
        .or_else(|| t.strip_prefix("https://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("it has no host"));
    }
    if t.contains(char::is_whitespace) {
        return Err(bad("it contains white space"));
    }
    if t.contains('?') || t.contains('#') {
        return Err(bad("it must not carry a query or fragment"));
    }
    reqwest::Url::parse(t).map_err(|e| bad(&e.to_string()))?;
    Ok(t.trim_end_matches('/').to_string())
}

/// Build a header map from extra headers, checking names and values.
pub(crate) fn header_map(extra: &BTreeMap<String, String>) -> Result<HeaderMap, ClientBuildError> {
    let mut h = HeaderMap::new();
    for (name, value) in extra {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| ClientBuildError::Header {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        let mut v = HeaderValue::from_str(value).map_err(|e| ClientBuildError::Header {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        v.set_sensitive(true);
        h.insert(n, v);
    }
    Ok(h)
}

impl Transport {
    /// A transport posting to `url` with `headers` (the auth header included, built by the
    /// caller from `key` through [`auth_value`]).
    pub(crate) fn new(
        url: String,
        mut headers: HeaderMap,
        key: Option<ApiKey>,
        timeout: Duration,
    ) -> Result<Self, ClientBuildError> {
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .pool_idle_timeout(Duration::from_mins(1))
            .build()
            .map_err(|e| ClientBuildError::Http(error_chain(&e)))?;
        Ok(Self {
            client,
            url,
            headers,
            key,
            timeout,
        })
    }

    /// The URL posted to.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The key, for scrubbing.
    pub(crate) fn key(&self) -> Option<&ApiKey> {
        self.key.as_ref()
    }

    /// Post `body`; transport failures become typed errors, statuses are left to the caller.
    pub(crate) async fn post(&self, body: Vec<u8>) -> Result<HttpReply, ModelError> {
        let started = Instant::now();
        let resp = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                ModelError::Timeout {
                    endpoint: self.url.clone(),
                    message: format!(
                        "the reply body did not arrive within {} s",
                        self.timeout.as_secs_f64()
                    ),
                }
            } else {
                ModelError::MalformedResponse {
                    endpoint: self.url.clone(),
                    message: format!(
                        "truncated body (HTTP {status}; the connection closed mid-reply): {}",
                        scrub_opt(self.key.as_ref(), &error_chain(&e))
                    ),
                }
            }
        })?;
        let latency_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(url = %self.url, status, latency_ms, bytes = body.len(), "model HTTP reply");
        Ok(HttpReply {
            status,
            headers,
            body,
            latency_ms,
        })
    }

    /// Serialize `body`, post it, and map a non-2xx reply to a typed error
    /// ([`status_error`], for `model`): what comes back is a 2xx reply.
    pub(crate) async fn post_json(
        &self,
        body: &serde_json::Value,
        model: &str,
    ) -> Result<HttpReply, ModelError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ModelError::BadRequest {
            status: 0,
            message: format!("cannot serialize the request: {e}"),
        })?;
        let reply = self.post(bytes).await?;
        if !(200..300).contains(&reply.status) {
            return Err(status_error(&reply, &self.url, model, self.key()));
        }
        Ok(reply)
    }

    /// A reply this endpoint sent that is not what its API promises.
    pub(crate) fn malformed(&self, message: String) -> ModelError {
        ModelError::MalformedResponse {
            endpoint: self.url.clone(),
            message,
        }
    }

    /// The JSON body of `reply` (a malformed-response error quoting its start, scrubbed,
    /// when it is not JSON).
    pub(crate) fn json_body(&self, reply: &HttpReply) -> Result<serde_json::Value, ModelError> {
        serde_json::from_slice(&reply.body).map_err(|e| {
            self.malformed(format!(
                "the body is not JSON ({e}); it starts with {:?}",
                scrub_opt(self.key(), &cut(&String::from_utf8_lossy(&reply.body), 120))
            ))
        })
    }

    /// The error of a 2xx `reply` whose body is a provider error object (some proxies do
    /// that), typed as if it had come with HTTP `status`.
    pub(crate) fn error_in_body(&self, reply: &HttpReply, status: u16, model: &str) -> ModelError {
        let synthetic = HttpReply {
            status,
            headers: reply.headers.clone(),
            body: reply.body.clone(),
            latency_ms: reply.latency_ms,
        };
        status_error(&synthetic, &self.url, model, self.key())
    }

    fn transport_error(&self, e: &reqwest::Error) -> ModelError {
        let endpoint = self.url.clone();
        if e.is_timeout() {
            return ModelError::Timeout {
                endpoint,
                message: format!(
                    "no reply within {} s (timeout_sec)",
                    self.timeout.as_secs_f64()
                ),
            };
        }
        if e.is_connect() {
            // Refused, unreachable, DNS, TLS: nothing was sent; the endpoint is down or
            // misconfigured, which is not a timeout.
            return ModelError::Connection {
                endpoint,
                message: format!(
                    "could not connect ({})",
                    scrub_opt(self.key.as_ref(), &root_cause(e))
                ),
            };
        }
        ModelError::Timeout {
            endpoint,
            message: format!(
                "the connection dropped before a reply: {}",
                scrub_opt(self.key.as_ref(), &error_chain(e))
            ),
        }
    }
}

/// The innermost cause of an error (`Connection refused (os error 111)`).
pub(crate) fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        last = c.to_string();
        src = c.source();
    }
    last
}

/// A header value for a key (marked sensitive, so that reqwest never prints it).
pub(crate) fn auth_value(prefix: &str, key: &ApiKey) -> Result<HeaderValue, ClientBuildError> {
    let mut v = HeaderValue::from_str(&format!("{prefix}{}", key.expose())).map_err(|_| {
        ClientBuildError::Header {
            name: format!("(API key from ${})", key.var()),
            reason: "the key contains characters that cannot be sent in a header".into(),
        }
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The wait a server asked for, in milliseconds: `retry-after-ms`, then `Retry-After` as
/// seconds (fractions allowed) or as an HTTP-date (relative to `now`; a date in the past
/// gives 0).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<u64> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(ms.ceil() as u64);
    }
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil() as u64);
    }
    let when = httpdate::parse_http_date(raw).ok()?;
    Some(
        when.duration_since(now)
            .map_or(0, |d| d.as_millis().min(u128::from(u64::MAX)) as u64),
    )
}

/// The provider's error message and code from an error body, else the text cut short.
pub(crate) fn error_detail(body: &[u8]) -> (String, Option<String>) {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let err = v.get("error").unwrap_or(&v);
        let msg = err
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .or_else(|| err.as_str().map(str::to_string));
        let code = ["code", "type"]
            .iter()
            .find_map(|k| err.get(*k).and_then(|c| c.as_str()))
            .map(str::to_string);
        if let Some(m) = msg {
            return (cut(&m, 600), code);
        }
        return (cut(&text, 600), code);
    }
    (cut(text.trim(), 600), None)
}

/// At most `n` characters of `s`.
pub(crate) fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// True when a provider's error says the prompt does not fit the context window. Covers
/// OpenAI, Anthropic, Gemini's compatible endpoint, vLLM, SGLang, OpenRouter and LiteLLM.
pub fn is_context_too_long(message: &str, code: Option<&str>) -> bool {
    const CODES: &[&str] = &[
        "context_length_exceeded",
        "request_too_large",
        "string_above_max_length",
    ];
    const PATTERNS: &[&str] = &[
        "context_length_exceeded",
        "maximum context length",
        "context length",
        "context window",
        "contextwindowexceeded",
        "prompt is too long",
        "exceed context limit",
        "maximum model length",
        "exceeds the maximum number of tokens",
        "input is too long",
        "too many input tokens",
    ];
    if code.is_some_and(|c| CODES.contains(&c.to_ascii_lowercase().as_str())) {
        return true;
    }
    let m = message.to_ascii_lowercase();
    PATTERNS.iter().any(|p| m.contains(p))
}

/// Map a non-2xx reply to a typed error.
pub(crate) fn status_error(
    reply: &HttpReply,
    endpoint: &str,
    model: &str,
    key: Option<&ApiKey>,
) -> ModelError {
    let (raw_msg, code) = error_detail(&reply.body);
    let msg = scrub_opt(key, &raw_msg);
    let status = reply.status;
    let code_str = code.as_deref();
    match status {
        429 if code_str == Some("insufficient_quota") => ModelError::BadRequest {
            status,
            message: format!("quota exhausted (not retried): {msg}"),
        },
        429 => ModelError::RateLimited {
            endpoint: endpoint.to_string(),
            retry_after_ms: parse_retry_after(&reply.headers, SystemTime::now()),
        },
        401 | 403 => ModelError::Authentication(format!(
            "HTTP {status} from {endpoint}: {msg}{}",
            key.map_or_else(
                || " (no API key was sent: set api_key_env)".to_string(),
                |k| format!(" (check the key in ${})", k.var())
            )
        )),
        408 => {
            if let Some(ms) = parse_retry_after(&reply.headers, SystemTime::now()) {
                crate::retry::leave_retry_hint(ms);
            }
            ModelError::Timeout {
                endpoint: endpoint.to_string(),
                message: format!("HTTP 408: {msg}"),
            }
        }
        413 => ModelError::ContextTooLong {
            model: model.to_string(),
            message: format!("HTTP 413: {msg}"),
        },
        400..=499 if is_context_too_long(&msg, code_str) => ModelError::ContextTooLong {
            model: model.to_string(),
            message: msg,
        },
        400..=499 => ModelError::BadRequest {
            status,
            message: format!("{endpoint}: {msg}"),
        },
        500..=599 => {
            if let Some(ms) = parse_retry_after(&reply.headers, SystemTime::now()) {
                crate::retry::leave_retry_hint(ms);
            }
            ModelError::Server {
                endpoint: endpoint.to_string(),
                status,
                message: msg,
            }
        }
        _ => ModelError::MalformedResponse {
            endpoint: endpoint.to_string(),
            message: format!("unexpected HTTP status {status}: {msg}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn retry_after_seconds_ms_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "1")]), now),
            Some(1000)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "0.5")]), now),
            Some(500)
        );
        assert_eq!(
            parse_retry_after(
                &headers(&[("retry-after-ms", "250"), ("retry-after", "9")]),
                now
            ),
            Some(250)
        );
        assert_eq!(
            parse_retry_after(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:07 GMT")]),
                now
            ),
            Some(7000)
        );
        // RFC 850 and asctime forms too.
        assert_eq!(
            parse_retry_after(
                &headers(&[("retry-after", "Wednesday, 21-Oct-15 07:28:03 GMT")]),
                now
            ),
            Some(3000)
        );
        assert_eq!(
            parse_retry_after(
                &headers(&[("retry-after", "Wed Oct 21 07:28:02 2015")]),
                now
            ),
            Some(2000)
        );
        // In the past: retry at once.
        assert_eq!(
            parse_retry_after(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:00:00 GMT")]),
                now
            ),
            Some(0)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "-3")]), now),
            None
        );
        assert_eq!(parse_retry_after(&headers(&[]), now), None);
    }

    #[test]
    fn context_messages_of_providers() {
        for m in [
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
            "prompt is too long: 208310 tokens > 200000 maximum",
            "input length and `max_tokens` exceed context limit: 190000 + 20000 > 200000",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            "The input (40000 tokens) is longer than the model's context length (32768 tokens).",
            "litellm.ContextWindowExceededError: too long",
        ] {
            assert!(is_context_too_long(m, None), "{m}");
        }
        assert!(is_context_too_long(
            "whatever",
            Some("context_length_exceeded")
        ));
        assert!(!is_context_too_long(
            "max_tokens must be at most 4096",
            None
        ));
        assert!(!is_context_too_long(
            "invalid model name",
            Some("invalid_request_error")
        ));
    }

    fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply {
            status,
            headers: headers(&[("retry-after", "2")]),
            body: Bytes::from(body.to_string()),
            latency_ms: 1,
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let key = ApiKey::from_value("K", "sk-secret-123");
        let kind = |status, body: &str| status_error(&reply(status, body), "e", "m", Some(&key));
        assert_eq!(
            kind(429, "{}"),
            ModelError::RateLimited {
                endpoint: "e".into(),
                retry_after_ms: Some(2000)
            }
        );
        assert_eq!(
            kind(
                429,
                r#"{"error":{"code":"insufficient_quota","message":"pay"}}"#
            )
            .kind(),
            "bad_request"
        );
        assert_eq!(kind(500, "oops").kind(), "server_error");
        assert_eq!(
            kind(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            )
            .kind(),
            "server_error"
        );
        assert_eq!(kind(408, "").kind(), "timeout");
        assert_eq!(kind(413, "").kind(), "context_too_long");
        assert_eq!(kind(404, "no such model").kind(), "bad_request");
        assert_eq!(
            kind(400, r#"{"error":{"message":"prompt is too long: 3 > 2","type":"invalid_request_error"}}"#).kind(),
            "context_too_long"
        );
        let auth = kind(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-secret-123"}}"#,
        );
        assert_eq!(auth.kind(), "authentication");
        let text = auth.to_string();
        assert!(!text.contains("sk-secret-123"), "{text}");
        assert!(text.contains("$K"), "{text}");
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8000/v1/").unwrap(),
            "http://127.0.0.1:8000/v1"
        );
        assert!(normalize_base_url("127.0.0.1:8000").is_err());
        assert!(normalize_base_url("http://").is_err());
        assert!(normalize_base_url("http://h/v1?key=x").is_err());
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("hi", 5), "hi");
    }
}
