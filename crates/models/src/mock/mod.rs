//! [`MockServer`]: an axum server on `127.0.0.1:0` that speaks both wire formats
//! (`POST /v1/chat/completions` and `POST /chat/completions`, `POST /v1/messages`), serves
//! scripted replies ([`MockReply`], from a queue or a function of the [`MockRequest`]) and
//! injects [`Fault`]s on demand: at given call indexes, or at random with a seed, plus latency.
//! It counts requests and keeps them (path, headers, body) for assertions.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use agentscale_models::mock::{Fault, MockReply, MockServer};
//! let server = MockServer::start_with(|req| MockReply::text(format!("echo {}", req.last_user_text()))).await?;
//! server.fail_at(0, Fault::RateLimited { retry_after: Some("1".into()) });
//! let base = server.openai_base_url(); // http://127.0.0.1:PORT/v1
//! # Ok(()) }
//! ```

mod conn;
mod wire;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use agentscale_core::model::{FinishReason, ToolCall};
use agentscale_core::rng::Rng;
use agentscale_core::usage::Usage;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use serde_json::Value;

use conn::{ConnCtl, KillableListener};

/// Which API a request spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// OpenAI-compatible chat completions.
    Openai,
    /// Anthropic Messages.
    Anthropic,
}

/// A request as the mock received it.
#[derive(Debug, Clone)]
pub struct MockRequest {
    /// 0-based arrival index.
    pub index: usize,
    /// The API it spoke.
    pub format: WireFormat,
    /// The path (`/v1/chat/completions`).
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Null` if it was not JSON).
    pub body: Value,
    /// The body as text.
    pub raw_body: String,
}

impl MockRequest {
    /// The `model` field.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The text of the last user message (string or text blocks).
    pub fn last_user_text(&self) -> String {
        let Some(msgs) = self.body.get("messages").and_then(Value::as_array) else {
            return String::new();
        };
        msgs.iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .map(|m| match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(blocks)) => blocks
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(""),
                _ => String::new(),
            })
            .unwrap_or_default()
    }
}

/// A fault the mock can inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429, with this `Retry-After` header value if any (`"1"`, an HTTP-date).
    RateLimited {
        /// The header value.
        retry_after: Option<String>,
    },
    /// An HTTP 5xx.
    ServerError {
        /// The status (500, 502, 503, 529...).
        status: u16,
    },
    /// HTTP 503 with this `Retry-After` header value.
    Unavailable {
        /// The header value.
        retry_after: String,
    },
    /// The connection closes without a reply.
    DroppedConnection,
    /// HTTP 200 with a body that is not JSON.
    MalformedJson,
    /// HTTP 200 whose body stops halfway (the connection closes).
    TruncatedBody,
    /// HTTP 400 with the provider's context-length error.
    ContextTooLong,
    /// HTTP 401.
    Unauthorized,
    /// HTTP 400 (an invalid parameter).
    BadRequest,
    /// HTTP 404 (unknown model).
    NotFound,
    /// Any status with this body (sent as JSON content type).
    Custom {
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
}

/// What the mock answers to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct MockReply {
    /// The reply text.
    pub content: String,
    /// Tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// Usage reported (default: body bytes / 4 in, text bytes / 4 out).
    pub usage: Option<Usage>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer with this fault instead.
    pub fault: Option<Fault>,
}

impl MockReply {
    /// A text reply.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            tool_calls: Vec::new(),
            usage: None,
            finish_reason: FinishReason::Stop,
            delay: Duration::ZERO,
            fault: None,
        }
    }

    /// A reply calling one tool.
    pub fn tool_call(id: &str, name: &str, arguments: &str) -> Self {
        let mut r = Self::text("");
        r.tool_calls.push(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        });
        r.finish_reason = FinishReason::ToolCalls;
        r
    }

    /// A fault.
    pub fn fault(f: Fault) -> Self {
        let mut r = Self::text("");
        r.fault = Some(f);
        r
    }

    /// With this usage.
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// With this delay.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Replier = dyn Fn(&MockRequest) -> MockReply + Send + Sync;

#[derive(Default)]
struct FaultPlan {
    at: BTreeMap<usize, Fault>,
    random: Option<(f64, u64, Vec<Fault>)>,
}

struct MockState {
    replier: RwLock<Arc<Replier>>,
    queue: Mutex<VecDeque<MockReply>>,
    faults: Mutex<FaultPlan>,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<MockRequest>>,
    capture: AtomicBool,
    count: AtomicUsize,
    faults_injected: AtomicUsize,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// Counts a request as in flight from its arrival until its handler returns.
struct InFlight<'a>(&'a MockState);

impl<'a> InFlight<'a> {
    fn enter(state: &'a MockState) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The mock server. Stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<MockState>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockServer {
    /// Start with the default replier (`mock reply <index>`).
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(|r| MockReply::text(format!("mock reply {}", r.index))).await
    }

    /// Start with a function computing each reply.
    pub async fn start_with(
        replier: impl Fn(&MockRequest) -> MockReply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(MockState {
            replier: RwLock::new(Arc::new(replier)),
            queue: Mutex::new(VecDeque::new()),
            faults: Mutex::new(FaultPlan::default()),
            latency: Mutex::new(Duration::ZERO),
            requests: Mutex::new(Vec::new()),
            capture: AtomicBool::new(true),
            count: AtomicUsize::new(0),
            faults_injected: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .route("/chat/completions", post(handle))
            .route("/v1/messages", post(handle))
            .fallback(|uri: Uri| async move {
                let mut r = Response::new(Body::from(format!(
                    r#"{{"error":{{"message":"mock server: no route {uri}","type":"not_found"}}}}"#
                )));
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            })
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let svc = app.into_make_service_with_connect_info::<ConnCtl>();
            if let Err(e) = axum::serve(KillableListener(listener), svc).await {
                tracing::warn!("mock server stopped: {e}");
            }
        });
        Ok(Self { addr, state, task })
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`: the base URL of an OpenAI-compatible client.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`: the base URL of an Anthropic client.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replace the reply function.
    pub fn set_replier(&self, f: impl Fn(&MockRequest) -> MockReply + Send + Sync + 'static) {
        if let Ok(mut r) = self.state.replier.write() {
            *r = Arc::new(f);
        }
    }

    /// Queue replies: served in order before the reply function is asked.
    pub fn push_replies(&self, replies: impl IntoIterator<Item = MockReply>) {
        if let Ok(mut q) = self.state.queue.lock() {
            q.extend(replies);
        }
    }

    /// Answer request number `index` (0-based arrival order) with `fault`.
    pub fn fail_at(&self, index: usize, fault: Fault) {
        if let Ok(mut f) = self.state.faults.lock() {
            f.at.insert(index, fault);
        }
    }

    /// Answer each request with one of `faults` (chosen uniformly) with `probability`,
    /// decided by `seed` and the request's index (reproducible).
    pub fn fail_randomly(&self, probability: f64, seed: u64, faults: Vec<Fault>) {
        if let Ok(mut f) = self.state.faults.lock() {
            f.random = (!faults.is_empty()).then_some((probability, seed, faults));
        }
    }

    /// Remove every planned fault.
    pub fn clear_faults(&self) {
        if let Ok(mut f) = self.state.faults.lock() {
            *f = FaultPlan::default();
        }
    }

    /// Wait this long before every reply.
    pub fn set_latency(&self, latency: Duration) {
        if let Ok(mut l) = self.state.latency.lock() {
            *l = latency;
        }
    }

    /// Keep requests for [`Self::requests`] (on by default; benchmarks turn it off).
    pub fn set_capture(&self, on: bool) {
        self.state.capture.store(on, Ordering::Relaxed);
    }

    /// Requests received so far.
    pub fn request_count(&self) -> usize {
        self.state.count.load(Ordering::Relaxed)
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> usize {
        self.state.faults_injected.load(Ordering::Relaxed)
    }

    /// The most requests that were being answered at the same moment (from arrival until
    /// the handler returns, latency included): what a client's concurrency limit allowed.
    pub fn peak_in_flight(&self) -> usize {
        self.state.peak_in_flight.load(Ordering::SeqCst)
    }

    /// The requests kept so far.
    pub fn requests(&self) -> Vec<MockRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

fn choose(state: &MockState, req: &MockRequest) -> MockReply {
    if let Ok(plan) = state.faults.lock() {
        if let Some(f) = plan.at.get(&req.index) {
            return MockReply::fault(f.clone());
        }
        if let Some((p, seed, faults)) = &plan.random {
            let mut rng = Rng::derive(*seed, &format!("mock-fault/{}", req.index));
            if rng.chance(*p)
                && let Some(f) = faults.get(rng.below(faults.len() as u64) as usize)
            {
                return MockReply::fault(f.clone());
            }
        }
    }
    if let Some(r) = state.queue.lock().ok().and_then(|mut q| q.pop_front()) {
        return r;
    }
    let f = state.replier.read().map(|r| r.clone());
    match f {
        Ok(f) => f(req),
        Err(_) => MockReply::fault(Fault::ServerError { status: 500 }),
    }
}

async fn handle(
    State(state): State<Arc<MockState>>,
    ConnectInfo(ctl): ConnectInfo<ConnCtl>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&state);
    let index = state.count.fetch_add(1, Ordering::Relaxed);
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    let req = MockRequest {
        index,
        format: if uri.path().ends_with("/messages") {
            WireFormat::Anthropic
        } else {
            WireFormat::Openai
        },
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw_body,
    };
    let reply = choose(&state, &req);
    if state.capture.load(Ordering::Relaxed)
        && let Ok(mut r) = state.requests.lock()
    {
        r.push(req.clone());
    }
    let latency = state.latency.lock().map(|l| *l).unwrap_or_default() + reply.delay;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if reply.fault.is_some() {
        state.faults_injected.fetch_add(1, Ordering::Relaxed);
    }
    let encoded = match &reply.fault {
        None => wire::success(&reply, &req),
        Some(Fault::DroppedConnection) => {
            ctl.kill();
            return Response::new(Body::empty());
        }
        Some(Fault::TruncatedBody) => {
            let full = wire::success(&MockReply::text(format!("{} (cut)", reply.content)), &req);
            return truncated(&full.body, ctl);
        }
        Some(f) => wire::fault(f, &req),
    };
    let mut resp = Response::new(Body::from(encoded.body));
    *resp.status_mut() = StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    for (k, v) in encoded.headers {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

/// A 200 announcing the full length that sends half the body and then cuts the connection.
fn truncated(full: &[u8], ctl: ConnCtl) -> Response {
    let half = Bytes::copy_from_slice(full.get(..full.len() / 2).unwrap_or_default());
    let first = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(half) });
    let cut = futures_util::stream::once(async move {
        // Let the first half reach the socket, then cut.
        tokio::time::sleep(Duration::from_millis(20)).await;
        ctl.kill();
        Err::<Bytes, std::io::Error>(std::io::Error::other("body cut by the mock"))
    });
    let mut resp = Response::new(Body::from_stream(futures_util::StreamExt::chain(
        first, cut,
    )));
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        axum::http::header::CONTENT_LENGTH,
        axum::http::HeaderValue::from(full.len()),
    );
    resp
}
