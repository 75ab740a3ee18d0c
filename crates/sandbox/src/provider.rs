//! [`DockerProvider`]: starts [`DockerSandbox`]es on a pool of engines. It connects lazily
//! (negotiating the API version once per host), sweeps containers of dead runs from each host
//! the first time it uses it, places every sandbox with the fair [`Scheduler`], keeps a list
//! of its live containers so that [`DockerProvider::shutdown`] (and the signal handler of
//! [`crate::cleanup`]) can remove them, and prepares images through [`crate::images`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentscale_core::sandbox::{ImageSource, Sandbox, SandboxError, SandboxProvider, SandboxSpec};
use async_trait::async_trait;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};

use crate::config::DockerConfig;
use crate::connect::{self, Endpoint, classify, message, status};
use crate::labels::{self, ProcessIdentity};
use crate::pool::{AcquireError, Scheduler};
use crate::sandbox::DockerSandbox;

/// The number in container names: one counter for the whole process, since several providers
/// may share a pid.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// One engine of the pool.
pub(crate) struct Host {
    pub name: String,
    pub endpoint: Endpoint,
    pub display: String,
    client: tokio::sync::OnceCell<Docker>,
    timeout_sec: u64,
    pub pulls: tokio::sync::Semaphore,
}

impl Host {
    /// The negotiated client (connects, negotiates and sweeps on first use).
    pub async fn docker(&self, inner: &Inner) -> Result<&Docker, SandboxError> {
        self.client
            .get_or_try_init(|| async {
                let d = self.endpoint.connect(self.timeout_sec)?;
                let d = connect::negotiate(d, &self.display).await?;
                if !inner.config.sweep_on_start {
                    return Ok(d);
                }
                match sweep_engine(&d, &inner.me).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(host = %self.name, "removed {n} containers of dead runs");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(host = %self.name, "sweep failed: {e}"),
                }
                Ok(d)
            })
            .await
    }
}

/// What a provider shares with its sandboxes.
pub(crate) struct Inner {
    pub config: DockerConfig,
    pub hosts: Vec<Host>,
    pub sched: Scheduler,
    pub me: ProcessIdentity,
    pub run_id: String,
    /// Live containers: id -> host index.
    pub live: Mutex<HashMap<String, usize>>,
    /// One lock per image tag being prepared (concurrent prepares build once).
    pub preparing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    pub shutting_down: AtomicBool,
    /// Create requests in flight: a shutdown waits for them, so that a container the engine
    /// creates (state `Created`) just as the shutdown starts is removed too.
    pub creating: AtomicUsize,
    /// Snapshot commits in flight: a shutdown waits for them before removing containers, so
    /// that no image appears after the process ended (the next process of the run removes
    /// snapshots its predecessor announced but never recorded).
    pub committing: AtomicUsize,
}

/// Counts a request in flight for as long as it lives (see [`Inner::creating`] and
/// [`Inner::committing`]).
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    pub(crate) fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Self(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The error of a start refused because the provider is shutting down.
fn shutting_down_error() -> SandboxError {
    SandboxError::backend("start", crate::cleanup::SHUTTING_DOWN)
}

impl Inner {
    /// Remove a container (force) and forget it. A missing container is fine.
    pub async fn remove_container(&self, host: usize, id: &str) -> Result<(), SandboxError> {
        let Some(h) = self.hosts.get(host) else {
            return Ok(());
        };
        let r = match h.docker(self).await {
            Ok(d) => {
                let opts = RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build();
                match d.remove_container(id, Some(opts)).await {
                    Ok(()) => Ok(()),
                    Err(e) if status(&e) == Some(404) => Ok(()),
                    // "removal already in progress"
                    Err(e) if status(&e) == Some(409) => Ok(()),
                    Err(e) => Err(classify("remove", &h.display, e)),
                }
            }
            Err(e) => Err(e),
        };
        if let Ok(mut l) = self.live.lock() {
            l.remove(id);
        }
        r
    }
}

/// The Docker [`SandboxProvider`]. Cheap to clone.
#[derive(Clone)]
pub struct DockerProvider {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for DockerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerProvider")
            .field("run", &self.inner.run_id)
            .field("hosts", &self.inner.sched.snapshot())
            .finish_non_exhaustive()
    }
}

/// The state of one host of the pool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostStatus {
    /// The host's name.
    pub name: String,
    /// Where it listens.
    pub endpoint: String,
    /// Sandboxes running now.
    pub active: usize,
    /// The concurrency limit.
    pub limit: usize,
    /// Whether it is marked down.
    pub down: bool,
}

impl DockerProvider {
    /// A provider from a configuration (validated here; no connection is made yet), labelling
    /// its containers with a run id made of a timestamp and our pid.
    pub fn from_config(config: DockerConfig) -> Result<Self, SandboxError> {
        Self::new(config, None)
    }

    /// A provider whose containers carry `run_id` (default: a timestamp and our pid).
    pub fn new(config: DockerConfig, run_id: Option<String>) -> Result<Self, SandboxError> {
        config.validate().map_err(SandboxError::InvalidRequest)?;
        let me = ProcessIdentity::current();
        let hosts_cfg = config.effective_hosts();
        let mut hosts = Vec::new();
        let mut limits = Vec::new();
        for h in &hosts_cfg {
            let endpoint = Endpoint::parse(&h.endpoint, h.tls.as_ref(), h.ssh_key.as_ref())
                .map_err(|e| SandboxError::InvalidRequest(format!("host {}: {e}", h.name)))?;
            let limit = h.concurrency.unwrap_or(config.concurrency).max(1);
            limits.push((h.name.clone(), limit));
            hosts.push(Host {
                name: h.name.clone(),
                display: endpoint.display(),
                endpoint,
                client: tokio::sync::OnceCell::new(),
                timeout_sec: config.request_timeout_sec.max(1),
                pulls: tokio::sync::Semaphore::new(config.pull_concurrency.max(1)),
            });
        }
        let run_id = run_id.unwrap_or_else(|| {
            format!(
                "{}-{}",
                agentscale_core::time::compact_stamp(agentscale_core::time::now_ms()),
                me.pid
            )
        });
        let inner = Arc::new(Inner {
            sched: Scheduler::new(&limits, Duration::from_secs(config.down_retry_sec)),
            config,
            hosts,
            me,
            run_id,
            live: Mutex::new(HashMap::new()),
            preparing: Mutex::new(HashMap::new()),
            shutting_down: AtomicBool::new(false),
            creating: AtomicUsize::new(0),
            committing: AtomicUsize::new(0),
        });
        crate::cleanup::register(&inner);
        Ok(Self { inner })
    }

    /// The provider for `DOCKER_HOST` (or the local socket) with default settings.
    pub fn from_env() -> Result<Self, SandboxError> {
        Self::from_config(DockerConfig::default())
    }

    /// The run id on this provider's containers.
    pub fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &DockerConfig {
        &self.inner.config
    }

    /// The hosts' names, in configuration order.
    pub fn host_names(&self) -> Vec<String> {
        self.inner.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// Load, limit and state of every host.
    pub fn status(&self) -> Vec<HostStatus> {
        self.inner
            .sched
            .snapshot()
            .into_iter()
            .zip(&self.inner.hosts)
            .map(|((name, active, limit, down), h)| HostStatus {
                name,
                endpoint: h.display.clone(),
                active,
                limit,
                down,
            })
            .collect()
    }

    /// The negotiated client of a host (connecting if needed).
    pub async fn client(&self, host: &str) -> Result<Docker, SandboxError> {
        let i = self.host_index(host)?;
        self.inner.hosts[i].docker(&self.inner).await.cloned()
    }

    pub(crate) fn host_index(&self, host: &str) -> Result<usize, SandboxError> {
        self.inner
            .hosts
            .iter()
            .position(|h| h.name == host)
            .ok_or_else(|| {
                SandboxError::InvalidRequest(format!(
                    "no host named {host:?} in the pool (hosts: {})",
                    self.host_names().join(", ")
                ))
            })
    }

    /// Containers of this provider that are still running.
    pub fn live_containers(&self) -> Vec<String> {
        self.inner
            .live
            .lock()
            .map(|l| l.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Remove every live container of this provider (concurrently); returns how many were
    /// removed. New starts fail afterwards.
    pub async fn shutdown(&self) -> usize {
        let wait = Duration::from_secs(self.inner.config.request_timeout_sec.clamp(1, 30));
        shutdown_inner(&self.inner, wait).await
    }

    /// Remove containers of dead agentscale processes of this machine from every reachable
    /// host; returns how many were removed.
    pub async fn sweep(&self) -> Result<usize, SandboxError> {
        let mut n = 0;
        for h in &self.inner.hosts {
            let d = h.docker(&self.inner).await?;
            n += sweep_engine(d, &self.inner.me).await?;
        }
        Ok(n)
    }

    /// Create and start a container on `host`. The requests run in a task of their own, so
    /// that a caller dropped mid-way (its work cancelled) never leaves a container behind:
    /// the task removes what nobody is waiting for, and a shutdown waits for the task.
    async fn start_on(
        &self,
        host: usize,
        spec: &SandboxSpec,
    ) -> Result<(String, String, Docker), SandboxError> {
        let inner = Arc::clone(&self.inner);
        let spec = spec.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            // until the container is registered (or removed), a shutdown waits for us
            let _creating = InFlight::new(&inner.creating);
            let r = create_and_start(&inner, host, &spec).await;
            if let Err(Ok((id, _, _))) = tx.send(r) {
                // the caller is gone: nobody owns this container
                let _ = inner.remove_container(host, &id).await;
            }
        });
        rx.await.map_err(|_| {
            SandboxError::backend("start", "the task starting the container ended early")
        })?
    }
}

/// The requests of [`DockerProvider::start_on`].
async fn create_and_start(
    inner: &Inner,
    host: usize,
    spec: &SandboxSpec,
) -> Result<(String, String, Docker), SandboxError> {
    {
        let h = &inner.hosts[host];
        let d = h.docker(inner).await?.clone();
        if inner.shutting_down.load(Ordering::SeqCst) {
            return Err(shutting_down_error());
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut name = container_name(spec.name_hint.as_deref(), inner.me.pid, n);
        let body = create_body(inner, spec, &h.name)?;
        let opts = CreateContainerOptionsBuilder::default().name(&name).build();
        let mut created = d.create_container(Some(opts), body.clone()).await;
        if let Err(e) = &created
            && status(e) == Some(409)
        {
            // a leftover of an earlier process with our pid (not swept yet): another name
            name = format!("{name}-{}", agentscale_core::time::now_ms());
            let opts = CreateContainerOptionsBuilder::default().name(&name).build();
            created = d.create_container(Some(opts), body).await;
        }
        let created = created.map_err(|e| match status(&e) {
                Some(404) if message(&e).to_lowercase().contains("image") => {
                    SandboxError::ImageUnavailable {
                        image: spec.image.clone(),
                        message: format!(
                            "not found on engine {} ({}); build it first (`agentscale images build-base` for {}, or the task's Dockerfile through prepare_image)",
                            h.name,
                            h.display,
                            agentscale_core::BASE_IMAGE
                        ),
                    }
                }
                _ => classify("create", &h.display, e),
            })?;
        if let Ok(mut l) = inner.live.lock() {
            l.insert(created.id.clone(), host);
        }
        if inner.shutting_down.load(Ordering::SeqCst) {
            let _ = inner.remove_container(host, &created.id).await;
            return Err(shutting_down_error());
        }
        if let Err(e) = d.start_container(&created.id, None).await {
            let err = classify("start", &h.display, e);
            let _ = inner.remove_container(host, &created.id).await;
            return Err(err);
        }
        Ok((created.id, name, d))
    }
}

/// PID 1 of our containers (see [`create_body`]).
pub(crate) const KEEPALIVE: &str = "trap 'exit 0' TERM; while :; do sleep 86400 & wait; done";

/// `agentscale-<hint>-<pid>-<n>`, with the hint reduced to characters the engine accepts.
pub(crate) fn container_name(hint: Option<&str>, pid: u32, n: u64) -> String {
    let clean: String = hint
        .unwrap_or("sandbox")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    let clean = clean.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let clean = if clean.is_empty() { "sandbox" } else { clean };
    format!("agentscale-{clean}-{pid}-{n}")
}

/// The create request for a spec: keep-alive command, labels, limits, no privileges, no
/// network unless asked for.
pub(crate) fn create_body(
    inner: &Inner,
    spec: &SandboxSpec,
    engine: &str,
) -> Result<ContainerCreateBody, SandboxError> {
    if spec.image.trim().is_empty() {
        return Err(SandboxError::InvalidRequest(
            "the sandbox spec names no image".into(),
        ));
    }
    for (k, v) in &spec.env {
        if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
            return Err(SandboxError::InvalidRequest(format!(
                "invalid environment variable in the sandbox spec: {k:?}"
            )));
        }
    }
    if let Some(w) = &spec.workdir
        && !w.starts_with('/')
    {
        return Err(SandboxError::InvalidRequest(format!(
            "the sandbox workdir must be absolute: {w:?}"
        )));
    }
    let lim = &spec.limits;
    let mib = 1024 * 1024;
    let memory = lim
        .memory_mb
        .map(|m| i64::try_from(m).unwrap_or(i64::MAX).saturating_mul(mib));
    let host_config = HostConfig {
        memory,
        memory_swap: memory,
        nano_cpus: lim.cpus.filter(|c| *c > 0.0).map(|c| (c * 1e9) as i64),
        pids_limit: lim.pids,
        network_mode: Some(if spec.network { "bridge" } else { "none" }.into()),
        privileged: Some(false),
        security_opt: Some(vec!["no-new-privileges".into()]),
        init: Some(inner.config.init),
        log_config: Some(HostConfigLogConfig {
            typ: Some("none".into()),
            config: None,
        }),
        ..HostConfig::default()
    };
    let labels: BTreeMap<String, String> = spec.labels.clone();
    // PID 1 keeps the container alive. By default a shell loop: as PID 1 it ignores signals it
    // has no handler for, so a command that kills every process it can (`kill -9 -1`) does
    // not stop the sandbox, and its `wait` reaps orphaned zombies. With docker-init instead,
    // killing init's child would stop the container.
    let (entrypoint, cmd) = if inner.config.init {
        (
            vec!["sleep".to_string()],
            Some(vec!["infinity".to_string()]),
        )
    } else {
        (
            vec!["sh".to_string(), "-c".to_string(), KEEPALIVE.to_string()],
            None,
        )
    };
    Ok(ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: Some(entrypoint),
        cmd,
        env: (!spec.env.is_empty())
            .then(|| spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: spec.workdir.clone(),
        labels: Some(labels::container_labels(
            &inner.me,
            &inner.run_id,
            engine,
            &labels,
        )),
        network_disabled: Some(!spec.network),
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    })
}

/// Refuse new sandboxes, wait (at most `wait`) for the snapshot commits in flight, remove
/// the live containers, wait (at most `wait`) for the create requests in flight and remove
/// what they created; returns how many were removed.
pub(crate) async fn shutdown_inner(inner: &Arc<Inner>, wait: Duration) -> usize {
    inner.shutting_down.store(true, Ordering::SeqCst);
    settle(&inner.committing, wait).await;
    let mut n = remove_live(inner).await;
    settle(&inner.creating, wait).await;
    n += remove_live(inner).await;
    n
}

/// Wait until no request counted by `n` is in flight, at most `wait`.
async fn settle(n: &AtomicUsize, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    while n.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Remove the containers of this process (every state, `Created` included) that the engines
/// of `inner` already connected to still hold: what no live list knows of (a create whose
/// reply was lost). Returns how many were removed.
pub(crate) async fn remove_ours_by_label(inner: &Inner) -> usize {
    let mut n = 0;
    for h in &inner.hosts {
        let Some(d) = h.client.get() else {
            continue;
        };
        let mut filters = HashMap::new();
        filters.insert(
            "label".to_string(),
            vec![
                format!("{}={}", labels::PID, inner.me.pid),
                format!("{}={}", labels::HOST, inner.me.hostname),
            ],
        );
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let Ok(list) = d.list_containers(Some(opts)).await else {
            continue;
        };
        for c in list {
            let ours = c.labels.as_ref().is_some_and(|l| {
                l.get(labels::PID_START).and_then(|s| s.parse().ok()) == inner.me.start
            });
            let Some(id) = c.id.filter(|_| ours) else {
                continue;
            };
            let opts = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(true)
                .build();
            if d.remove_container(&id, Some(opts)).await.is_ok() {
                n += 1;
            }
        }
    }
    n
}

async fn remove_live(inner: &Arc<Inner>) -> usize {
    let live: Vec<(String, usize)> = inner
        .live
        .lock()
        .map(|l| l.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    let n = live.len();
    let futs = live
        .into_iter()
        .map(|(id, host)| async move { inner.remove_container(host, &id).await });
    let results = futures_util::future::join_all(futs).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        tracing::warn!("{failed} of {n} containers could not be removed at shutdown");
    }
    n - failed
}

/// Remove stale containers (see [`labels::stale_reason`]) from one engine.
pub(crate) async fn sweep_engine(d: &Docker, me: &ProcessIdentity) -> Result<usize, SandboxError> {
    let stale = stale_containers(d, me).await?;
    let n = stale.len();
    let futs = stale.into_iter().map(|(id, reason)| async move {
        tracing::info!(container = %id, "removing stale container: {reason}");
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        d.remove_container(&id, Some(opts)).await
    });
    let removed = futures_util::future::join_all(futs)
        .await
        .into_iter()
        .flatten()
        .count();
    if removed < n {
        tracing::warn!("{} stale containers could not be removed", n - removed);
    }
    Ok(removed)
}

/// `(id, reason)` of the containers of dead agentscale processes of this machine.
pub(crate) async fn stale_containers(
    d: &Docker,
    me: &ProcessIdentity,
) -> Result<Vec<(String, String)>, SandboxError> {
    let mut filters = HashMap::new();
    filters.insert(
        "label".to_string(),
        vec![format!("{}={}", labels::HOST, me.hostname)],
    );
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let list = d
        .list_containers(Some(opts))
        .await
        .map_err(|e| classify("list", "engine", e))?;
    Ok(list
        .into_iter()
        .filter_map(|c| {
            let labels = c.labels.unwrap_or_default();
            let reason = labels::stale_reason(&labels, me)?;
            Some((c.id?, reason))
        })
        .collect())
}

#[async_trait]
impl SandboxProvider for DockerProvider {
    fn name(&self) -> &'static str {
        "docker"
    }

    async fn start(&self, spec: &SandboxSpec) -> Result<Box<dyn Sandbox>, SandboxError> {
        Ok(Box::new(self.start_docker(spec).await?))
    }

    async fn prepare_image(&self, source: &ImageSource) -> Result<String, SandboxError> {
        crate::images::prepare(self, source).await
    }

    async fn remove_image(&self, image: &str) -> Result<(), SandboxError> {
        crate::images::remove_everywhere(self, image).await
    }

    async fn derive_image(
        &self,
        req: &agentscale_core::sandbox::DeriveRequest,
    ) -> Result<String, SandboxError> {
        crate::derive::derive(self, req).await
    }
}

impl DockerProvider {
    /// Start a sandbox (what [`SandboxProvider::start`] boxes).
    pub async fn start_docker(&self, spec: &SandboxSpec) -> Result<DockerSandbox, SandboxError> {
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return Err(shutting_down_error());
        }
        let queue = (self.inner.config.queue_timeout_sec > 0)
            .then(|| Duration::from_secs(self.inner.config.queue_timeout_sec));
        let mut last_err = None;
        for _ in 0..=self.inner.hosts.len() {
            let slot = match self.inner.sched.acquire(spec.host.as_deref(), queue).await {
                Ok(s) => s,
                Err(AcquireError::UnknownHost(h)) => {
                    return Err(SandboxError::InvalidRequest(format!(
                        "spec.host {h:?} is not in the pool (hosts: {})",
                        self.host_names().join(", ")
                    )));
                }
                Err(AcquireError::AllDown(why)) => {
                    return Err(last_err.unwrap_or(SandboxError::EngineUnavailable {
                        endpoint: "pool".into(),
                        message: format!("every Docker host is down: {why}"),
                    }));
                }
                Err(AcquireError::QueueTimeout(t)) => {
                    return Err(SandboxError::backend(
                        "start",
                        format!("no free sandbox slot on any host within {} s", t.as_secs()),
                    ));
                }
            };
            let host = slot.host();
            match self.start_on(host, spec).await {
                Ok((id, name, docker)) => {
                    let h = &self.inner.hosts[host];
                    return Ok(DockerSandbox {
                        id,
                        name,
                        host_name: h.name.clone(),
                        host_index: host,
                        endpoint: h.display.clone(),
                        docker,
                        workdir: spec.workdir.clone(),
                        output_cap: self.inner.config.output_cap,
                        kill_grace: Duration::from_secs(self.inner.config.kill_grace_sec),
                        inner: Arc::clone(&self.inner),
                        slot: Mutex::new(Some(slot)),
                        closed: AtomicBool::new(false),
                        mode: AtomicU8::new(crate::exec::MODE_UNKNOWN),
                        seq: AtomicU64::new(0),
                        runner: tokio::sync::Mutex::new(crate::sandbox::RunnerSlot::NotStarted),
                    });
                }
                Err(e @ SandboxError::EngineUnavailable { .. }) => {
                    if let SandboxError::EngineUnavailable { message, .. } = &e {
                        self.inner.sched.mark_down(host, message);
                    }
                    drop(slot);
                    if spec.host.is_some() {
                        return Err(e);
                    }
                    // try another host
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| SandboxError::backend("start", "no host could start it")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe() {
        assert_eq!(
            container_name(Some("django__django-11099/Rollout 3"), 7, 2),
            "agentscale-django__django-11099-rollout-3-7-2"
        );
        assert_eq!(container_name(Some("///"), 1, 0), "agentscale-sandbox-1-0");
        assert_eq!(container_name(None, 1, 0), "agentscale-sandbox-1-0");
    }

    #[test]
    fn create_body_applies_limits_labels_and_isolation() {
        let p = DockerProvider::from_config(DockerConfig::default()).unwrap();
        let mut spec = SandboxSpec {
            image: "img".into(),
            workdir: Some("/testbed".into()),
            ..SandboxSpec::default()
        };
        spec.limits.memory_mb = Some(512);
        spec.limits.cpus = Some(1.5);
        spec.limits.pids = Some(256);
        spec.labels.insert("role".into(), "rollout".into());
        let b = create_body(&p.inner, &spec, "local").unwrap();
        let hc = b.host_config.unwrap();
        assert_eq!(hc.memory, Some(512 * 1024 * 1024));
        assert_eq!(hc.nano_cpus, Some(1_500_000_000));
        assert_eq!(hc.pids_limit, Some(256));
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.privileged, Some(false));
        assert_eq!(hc.security_opt, Some(vec!["no-new-privileges".to_string()]));
        let l = b.labels.unwrap();
        assert_eq!(l.get("agentscale").map(String::as_str), Some("1"));
        assert_eq!(l.get("role").map(String::as_str), Some("rollout"));
        assert_eq!(l.get(labels::RUN), Some(&p.inner.run_id));
        assert_eq!(l.get(labels::PID), Some(&std::process::id().to_string()));
        assert_eq!(
            b.entrypoint,
            Some(vec![
                "sh".to_string(),
                "-c".to_string(),
                KEEPALIVE.to_string()
            ])
        );
        assert_eq!(b.cmd, None);
        spec.workdir = Some("rel".into());
        assert!(create_body(&p.inner, &spec, "local").is_err());
    }
}
