//! The opt-in response cache: [`ResponseCache`] stores replies on disk, one JSON file per
//! request, and [`Cached`] is the layer that consults it.
//!
//! In the full stack the lookup and the store are two layers: [`Cached::lookup_only`] sits
//! outside the retry and rate-limit layers (a hit takes no concurrency slot and counts against
//! no rate limit) and [`StoreReplies`] sits inside the rate limiter, so a reply is on disk
//! before its concurrency slot is released. A process killed at any moment has then lost at
//! most the calls holding a slot: a reply that had arrived is never requested again.
//!
//! The key ([`cache_key`]) is a hash of the endpoint, the model, the messages, the sampling
//! parameters, the tools and the request's `sample_index` — never the API key — so N samples
//! at temperature > 0 stay N distinct samples and a rerun reuses each. Files are written
//! atomically; an unreadable or mismatched entry is ignored, counted, and overwritten by the
//! fresh reply. Only successful replies are stored. Identical requests in flight at the same
//! time make one call: the others wait for it and are served its reply from the cache, so
//! the number of calls made does not depend on timing and every caller of a key sees the
//! reply a rerun would replay.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use agentscale_core::hash::json_hash;
use agentscale_core::model::{
    Message, Model, ModelError, ModelRequest, ModelResponse, Sampling, ToolSpec,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The format tag of cache entries (part of the key: a new format never reads old entries).
pub const CACHE_FORMAT: &str = "agentscale-model-cache/1";

#[derive(Serialize)]
struct KeyInput<'a> {
    format: &'a str,
    endpoint: &'a str,
    model: &'a str,
    messages: &'a [Message],
    sampling: &'a Sampling,
    tools: &'a [ToolSpec],
    sample_index: u32,
}

/// The cache key of a request to `model` at `endpoint`.
pub fn cache_key(endpoint: &str, model: &str, req: &ModelRequest) -> String {
    json_hash(&KeyInput {
        format: CACHE_FORMAT,
        endpoint,
        model,
        messages: &req.messages,
        sampling: &req.sampling,
        tools: &req.tools,
        sample_index: req.sample_index,
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format: String,
    key: String,
    model: String,
    created_at_ms: u64,
    response: ModelResponse,
}

/// Counters of a cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Requests served from the cache.
    pub hits: u64,
    /// Requests not found.
    pub misses: u64,
    /// Entries that could not be read or did not match (ignored and overwritten).
    pub corrupt: u64,
    /// Entries written.
    pub writes: u64,
    /// Entries that could not be written (the call still succeeded).
    pub write_errors: u64,
}

/// Replies on disk under one folder (`<dir>/<2 hex>/<hash>.json`).
#[derive(Debug)]
pub struct ResponseCache {
    dir: PathBuf,
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
    writes: AtomicU64,
    write_errors: AtomicU64,
    /// One lock per key being asked right now: identical requests in flight at the same
    /// time make one call, and the others read its reply from the cache.
    in_flight: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds the lock of one key; removes the key's entry when nobody else waits for it.
struct KeyGuard<'a> {
    cache: &'a ResponseCache,
    key: String,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let Some(guard) = self.lock.take() else {
            return;
        };
        drop(guard);
        if let Ok(mut map) = self.cache.in_flight.lock()
            && map
                .get(&self.key)
                .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            map.remove(&self.key);
        }
    }
}

impl ResponseCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            corrupt: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            in_flight: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Wait until no other caller is asking for `key`, then hold it.
    async fn hold(&self, key: &str) -> KeyGuard<'_> {
        let lock = self.in_flight.lock().ok().map(|mut map| {
            map.entry(key.to_string())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
                .clone()
        });
        let lock = match lock {
            Some(l) => Some(l.lock_owned().await),
            None => None,
        };
        KeyGuard {
            cache: self,
            key: key.to_string(),
            lock,
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a key.
    pub fn path_of(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("xx");
        self.dir.join(shard).join(format!("{key}.json"))
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            corrupt: self.corrupt.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
        }
    }

    /// The stored reply for `key`, if a valid one exists.
    pub fn get(&self, key: &str) -> Option<ModelResponse> {
        let path = self.path_of(key);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read cache entry ({e}); calling the model");
                self.corrupt.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        match serde_json::from_slice::<Entry>(&data) {
            Ok(e) if e.format == CACHE_FORMAT && e.key == key => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(e.response)
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "cache entry does not match its key; ignoring and overwriting it");
                self.corrupt.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "corrupt cache entry ({e}); ignoring and overwriting it");
                self.corrupt.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Store a reply (atomically). A failure is logged and counted, never fatal.
    pub fn put(&self, key: &str, model: &str, response: &ModelResponse) {
        let mut stored = response.clone();
        stored.cached = false;
        stored.retries = 0;
        let entry = Entry {
            format: CACHE_FORMAT.to_string(),
            key: key.to_string(),
            model: model.to_string(),
            created_at_ms: agentscale_core::time::now_ms(),
            response: stored,
        };
        let path = self.path_of(key);
        match agentscale_core::fsutil::write_json_atomic(&path, &entry) {
            Ok(()) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot write cache entry: {e}");
                self.write_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The cache layer. With no cache it passes calls through.
#[derive(Debug)]
pub struct Cached<M> {
    inner: M,
    cache: Option<Arc<ResponseCache>>,
    endpoint: String,
    /// Whether this layer stores replies itself (false when a [`StoreReplies`] layer inside
    /// does it).
    store: bool,
}

impl<M: Model> Cached<M> {
    /// Wrap `inner`; `endpoint` (the URL) is part of every key.
    pub fn new(inner: M, cache: Option<Arc<ResponseCache>>, endpoint: impl Into<String>) -> Self {
        Self {
            inner,
            cache,
            endpoint: endpoint.into(),
            store: true,
        }
    }

    /// Wrap `inner` for lookups only: replies are stored by a [`StoreReplies`] layer inside
    /// `inner` (with the same cache and endpoint).
    pub fn lookup_only(
        inner: M,
        cache: Option<Arc<ResponseCache>>,
        endpoint: impl Into<String>,
    ) -> Self {
        Self {
            store: false,
            ..Self::new(inner, cache, endpoint)
        }
    }

    /// The cache, if enabled.
    pub fn cache(&self) -> Option<&ResponseCache> {
        self.cache.as_deref()
    }
}

#[async_trait]
impl<M: Model> Model for Cached<M> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let Some(cache) = &self.cache else {
            return self.inner.complete(req).await;
        };
        let started = Instant::now();
        let key = cache_key(&self.endpoint, self.inner.name(), req);
        // An identical request already in flight: wait for it, then read its reply.
        let _held = cache.hold(&key).await;
        let c = cache.clone();
        let k = key.clone();
        let found = tokio::task::spawn_blocking(move || c.get(&k))
            .await
            .ok()
            .flatten();
        if let Some(mut r) = found {
            r.cached = true;
            r.retries = 0;
            r.latency_ms = started.elapsed().as_millis() as u64;
            return Ok(r);
        }
        let r = self.inner.complete(req).await?;
        if self.store {
            store(cache, key, self.inner.name(), &r).await;
        }
        Ok(r)
    }
}

/// Write one reply to the cache off the async threads (failures are logged and counted).
async fn store(cache: &Arc<ResponseCache>, key: String, model: &str, r: &ModelResponse) {
    let c = cache.clone();
    let model = model.to_string();
    let stored = r.clone();
    let _ = tokio::task::spawn_blocking(move || c.put(&key, &model, &stored)).await;
}

/// The store half of the cache: every successful reply of `inner` is written to the cache
/// before it is returned. Placed under the rate limiter, it keeps the concurrency slot until
/// the reply is durable (see the module docs); [`Cached::lookup_only`] does the lookups.
#[derive(Debug)]
pub struct StoreReplies<M> {
    inner: M,
    cache: Option<Arc<ResponseCache>>,
    endpoint: String,
}

impl<M: Model> StoreReplies<M> {
    /// Wrap `inner`; `endpoint` must be the one the lookup layer keys with.
    pub fn new(inner: M, cache: Option<Arc<ResponseCache>>, endpoint: impl Into<String>) -> Self {
        Self {
            inner,
            cache,
            endpoint: endpoint.into(),
        }
    }
}

#[async_trait]
impl<M: Model> Model for StoreReplies<M> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let r = self.inner.complete(req).await?;
        if let Some(cache) = &self.cache {
            let key = cache_key(&self.endpoint, self.inner.name(), req);
            store(cache, key, self.inner.name(), &r).await;
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use agentscale_core::model::ScriptedModel;

    use super::*;

    #[test]
    fn key_depends_on_every_part_but_not_on_role_or_purpose() {
        let base = ModelRequest::new(vec![Message::user("hi")]);
        let k = cache_key("e", "m", &base);
        let mut other = base.clone();
        other.sample_index = 1;
        assert_ne!(k, cache_key("e", "m", &other));
        let mut other = base.clone();
        other.sampling.temperature = Some(1.0);
        assert_ne!(k, cache_key("e", "m", &other));
        let mut other = base.clone();
        other.tools = vec![ToolSpec::bash()];
        assert_ne!(k, cache_key("e", "m", &other));
        assert_ne!(k, cache_key("e2", "m", &base));
        assert_ne!(k, cache_key("e", "m2", &base));
        let mut same = base.clone();
        same.purpose = "step 3".into();
        same.role = agentscale_core::model::CallRole::Judge;
        assert_eq!(k, cache_key("e", "m", &same));
    }

    #[tokio::test]
    async fn corrupt_entries_are_counted_and_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(ResponseCache::new(dir.path()));
        let m = Cached::new(
            ScriptedModel::from_replies("m", ["one", "two"]),
            Some(cache.clone()),
            "e",
        );
        let req = ModelRequest::new(vec![Message::user("hi")]);
        let path = cache.path_of(&cache_key("e", "m", &req));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"{ truncated").unwrap();
        let r = m.complete(&req).await.unwrap();
        assert_eq!(r.message.content, "one");
        assert!(!r.cached);
        assert_eq!(cache.stats().corrupt, 1);
        let again = m.complete(&req).await.unwrap();
        assert_eq!(again.message.content, "one");
        assert!(again.cached);
        assert_eq!(cache.stats().hits, 1);
        assert_eq!(cache.stats().writes, 1);
    }

    #[tokio::test]
    async fn split_lookup_and_store_behave_as_one_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(ResponseCache::new(dir.path()));
        let m = Cached::lookup_only(
            StoreReplies::new(
                ScriptedModel::from_replies("m", ["one", "two"]),
                Some(cache.clone()),
                "e",
            ),
            Some(cache.clone()),
            "e",
        );
        let req = ModelRequest::new(vec![Message::user("hi")]);
        let first = m.complete(&req).await.unwrap();
        assert!(!first.cached);
        assert_eq!(
            cache.stats().writes,
            1,
            "the inner layer stores the reply once"
        );
        let again = m.complete(&req).await.unwrap();
        assert_eq!(again.message.content, "one");
        assert!(again.cached);
        let mut other = req.clone();
        other.sample_index = 1;
        let second = m.complete(&other).await.unwrap();
        assert_eq!(second.message.content, "two");
        assert_eq!(cache.stats().writes, 2);
        assert_eq!(cache.stats().hits, 1);
    }

    /// A model that answers after a delay and counts its calls.
    struct Slow(std::sync::atomic::AtomicUsize);

    #[async_trait]
    impl Model for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }

        async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Ok(ModelResponse::text(
                "slow",
                format!("reply {n} to sample {}", req.sample_index),
            ))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_requests_in_flight_make_one_call() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(ResponseCache::new(dir.path()));
        let m = Arc::new(Cached::new(
            Slow(std::sync::atomic::AtomicUsize::new(0)),
            Some(cache.clone()),
            "e",
        ));
        let req = ModelRequest::new(vec![Message::user("same")]);
        let mut other = req.clone();
        other.sample_index = 1;
        let mut handles = Vec::new();
        for r in [&req, &req, &req, &other] {
            let (m, r) = (m.clone(), r.clone());
            handles.push(tokio::spawn(async move { m.complete(&r).await.unwrap() }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        assert_eq!(
            m.inner.0.load(Ordering::SeqCst),
            2,
            "one call per distinct key"
        );
        let same: Vec<&str> = out[..3]
            .iter()
            .map(|r| r.message.content.as_str())
            .collect();
        assert!(same.iter().all(|c| *c == same[0]), "{same:?}");
        assert_eq!(out.iter().filter(|r| r.cached).count(), 2);
        assert_ne!(out[3].message.content, out[0].message.content);
        assert!(
            cache.in_flight.lock().unwrap().is_empty(),
            "entries are cleaned up"
        );
    }
}
