//! Accounting: every call through an [`Accounted`] layer becomes a [`CallRecord`] event,
//! sent to the [`CallSink`]s of a [`Ledger`] and added to its running totals per role
//! (agent, summarizer, judge, other) and per model. One ledger per run.
//!
//! A record is one logical call: its retries are counted in it (also when it failed in the
//! end), and a cache hit is marked `cached` and kept apart from spent tokens and dollars.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use agentscale_core::model::{CallRole, Model, ModelError, ModelRequest, ModelResponse};
use agentscale_core::usage::{Cost, CostTotal, Usage};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::retry::RETRY_COUNTER;

/// One model call as an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Unix time (ms) the call ended.
    pub at_ms: u64,
    /// The configured model name.
    pub model: String,
    /// The endpoint URL (empty for test doubles).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    /// The call's role.
    pub role: CallRole,
    /// What the call was for (`rollout:<id>:step:3`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub purpose: String,
    /// The request's sample index.
    pub sample_index: u32,
    /// Tokens (zero for a failed call).
    pub usage: Usage,
    /// Cost (unknown for a failed call: it may have been billed).
    pub cost: Cost,
    /// Wall time of the whole call, retries and waits included, in milliseconds.
    pub latency_ms: u64,
    /// Retries made.
    pub retries: u32,
    /// Served from the response cache.
    pub cached: bool,
    /// The error kind if the call failed (`rate_limited`, `context_too_long`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// The error message if the call failed (never contains the API key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The provider's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Where call records go.
pub trait CallSink: Send + Sync {
    /// Receive one record. Must not block for long.
    fn record(&self, rec: &CallRecord);
}

/// A sink sending records into a tokio channel (dropped silently once the receiver is gone).
#[derive(Debug, Clone)]
pub struct ChannelSink(pub tokio::sync::mpsc::UnboundedSender<CallRecord>);

impl CallSink for ChannelSink {
    fn record(&self, rec: &CallRecord) {
        let _ = self.0.send(rec.clone());
    }
}

/// A sink calling a function.
pub struct FnSink<F>(pub F);

impl<F: Fn(&CallRecord) + Send + Sync> CallSink for FnSink<F> {
    fn record(&self, rec: &CallRecord) {
        (self.0)(rec);
    }
}

/// Totals of a set of calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CallTotals {
    /// Logical calls (cache hits and failures included).
    pub calls: u64,
    /// Calls that failed in the end.
    pub failed: u64,
    /// Calls that failed through the infrastructure (rate limits, server errors, timeouts,
    /// malformed replies) rather than the request (context length, bad request).
    pub infra_failed: u64,
    /// Retries made.
    pub retries: u64,
    /// Calls served from the cache.
    pub cache_hits: u64,
    /// Tokens of calls that reached the provider.
    pub usage: Usage,
    /// Dollars of calls that reached the provider (failed calls count as unknown).
    pub cost: CostTotal,
    /// Tokens of replies served from the cache (not spent again).
    pub cached_usage: Usage,
    /// Dollars the cache saved.
    pub cached_cost: CostTotal,
    /// Sum of call wall times, in milliseconds.
    pub latency_ms: u64,
}

impl CallTotals {
    /// Add one record.
    pub fn add(&mut self, r: &CallRecord) {
        self.calls += 1;
        self.retries += u64::from(r.retries);
        self.latency_ms += r.latency_ms;
        if let Some(kind) = &r.error_kind {
            self.failed += 1;
            if matches!(
                kind.as_str(),
                "rate_limited" | "server_error" | "timeout" | "connection" | "malformed_response"
            ) {
                self.infra_failed += 1;
            }
            self.cost.add(Cost::Unknown);
        } else if r.cached {
            self.cache_hits += 1;
            self.cached_usage += r.usage;
            self.cached_cost.add(r.cost);
        } else {
            self.usage += r.usage;
            self.cost.add(r.cost);
        }
    }
}

/// Totals by role and by model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerTotals {
    /// Every call.
    pub all: CallTotals,
    /// By role.
    pub by_role: BTreeMap<CallRole, CallTotals>,
    /// By configured model name.
    pub by_model: BTreeMap<String, CallTotals>,
}

/// The accounting of one run: running totals and the sinks that receive every record.
#[derive(Default)]
pub struct Ledger {
    totals: Mutex<LedgerTotals>,
    sinks: Vec<Arc<dyn CallSink>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("sinks", &self.sinks.len())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// A ledger with no sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a sink.
    #[must_use]
    pub fn with_sink(mut self, sink: Arc<dyn CallSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Record one call: add it to the totals and send it to every sink.
    pub fn record(&self, rec: &CallRecord) {
        if let Ok(mut t) = self.totals.lock() {
            t.all.add(rec);
            t.by_role.entry(rec.role).or_default().add(rec);
            t.by_model.entry(rec.model.clone()).or_default().add(rec);
        }
        for s in &self.sinks {
            s.record(rec);
        }
    }

    /// The totals so far.
    pub fn totals(&self) -> LedgerTotals {
        self.totals.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// The layer that records every call in a [`Ledger`]. Put it outermost (over the cache and
/// the retry layer) so that each record is one logical call.
#[derive(Debug)]
pub struct Accounted<M> {
    inner: M,
    ledger: Arc<Ledger>,
    endpoint: String,
    label: Option<String>,
}

impl<M: Model> Accounted<M> {
    /// Wrap `inner`; `endpoint` labels its records.
    pub fn new(inner: M, ledger: Arc<Ledger>, endpoint: impl Into<String>) -> Self {
        Self {
            inner,
            ledger,
            endpoint: endpoint.into(),
            label: None,
        }
    }

    /// Name the model `label` in records and in [`Model::name`] (when the configured name
    /// differs from the model id sent to the API).
    #[must_use]
    pub fn with_label(mut self, label: &str) -> Self {
        self.label = (label != self.inner.name()).then(|| label.to_string());
        self
    }

    /// The endpoint its records carry.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The ledger.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// The wrapped model.
    pub fn inner(&self) -> &M {
        &self.inner
    }
}

#[async_trait]
impl<M: Model> Model for Accounted<M> {
    fn name(&self) -> &str {
        self.label.as_deref().unwrap_or_else(|| self.inner.name())
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let started = std::time::Instant::now();
        let counter = Arc::new(AtomicU32::new(0));
        let out = RETRY_COUNTER
            .scope(counter.clone(), self.inner.complete(req))
            .await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let mut rec = CallRecord {
            at_ms: agentscale_core::time::now_ms(),
            model: self.name().to_string(),
            endpoint: self.endpoint.clone(),
            role: req.role,
            purpose: req.purpose.clone(),
            sample_index: req.sample_index,
            usage: Usage::default(),
            cost: Cost::Unknown,
            latency_ms,
            retries: counter.load(Ordering::Relaxed),
            cached: false,
            error_kind: None,
            error: None,
            request_id: None,
        };
        match &out {
            Ok(r) => {
                rec.usage = r.usage;
                rec.cost = r.cost;
                rec.retries = r.retries.max(rec.retries);
                rec.cached = r.cached;
                rec.request_id.clone_from(&r.request_id);
            }
            Err(e) => {
                rec.error_kind = Some(e.kind().to_string());
                rec.error = Some(e.to_string());
            }
        }
        self.ledger.record(&rec);
        out
    }
}

#[cfg(test)]
mod tests {
    use agentscale_core::model::{Message, ScriptedModel};

    use super::*;
    use crate::retry::{Retry, RetryPolicy};

    #[tokio::test(start_paused = true)]
    async fn failed_calls_keep_their_retry_count_and_roles_are_split() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let ledger = Arc::new(Ledger::new().with_sink(Arc::new(ChannelSink(tx))));
        let m = Accounted::new(
            Retry::new(
                ScriptedModel::from_results(
                    "m",
                    [
                        Err(ModelError::Server {
                            endpoint: "e".into(),
                            status: 503,
                            message: String::new(),
                        }),
                        Ok({
                            let mut r = ModelResponse::text("m", "ok");
                            r.usage.input_tokens = 10;
                            r.cost = Cost::Usd(0.5);
                            r
                        }),
                        Err(ModelError::Timeout {
                            endpoint: "e".into(),
                            message: String::new(),
                        }),
                        Err(ModelError::Timeout {
                            endpoint: "e".into(),
                            message: String::new(),
                        }),
                    ],
                ),
                RetryPolicy {
                    max_retries: 1,
                    ..RetryPolicy::default()
                },
            ),
            ledger.clone(),
            "e",
        );
        let mut req = ModelRequest::new(vec![Message::user("x")]);
        req.role = CallRole::Judge;
        m.complete(&req).await.unwrap();
        req.role = CallRole::Summarizer;
        assert!(m.complete(&req).await.is_err());
        let a = rx.recv().await.unwrap();
        let b = rx.recv().await.unwrap();
        assert_eq!((a.retries, a.error_kind.as_deref()), (1, None));
        assert_eq!((b.retries, b.error_kind.as_deref()), (1, Some("timeout")));
        let t = ledger.totals();
        assert_eq!(t.all.calls, 2);
        assert_eq!(t.all.retries, 2);
        assert_eq!(t.all.failed, 1);
        assert_eq!(t.all.infra_failed, 1);
        assert!((t.by_role[&CallRole::Judge].cost.known_usd - 0.5).abs() < 1e-12);
        assert_eq!(t.by_role[&CallRole::Judge].usage.input_tokens, 10);
        assert_eq!(t.by_role[&CallRole::Summarizer].failed, 1);
        assert_eq!(t.by_model["m"].calls, 2);
    }
}
