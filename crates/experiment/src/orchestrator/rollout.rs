//! One rollout: find it in the store, or run it in a fresh sandbox with the system's agent,
//! retrying attempts that fail because of the infrastructure.
//!
//! A Terminal-Bench rollout is verified in its own container right after the agent stops
//! ([`super::verified`]); with `terminal_bench.snapshots` its final state is also committed
//! to an image first (a diagnostic). Its container has network as the task says
//! (`allow_internet`, or `terminal_bench.network`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentscale_agents::{
    PriorSummary, RefinementContext, RolloutContext, SinkError, TrajectorySink,
};
use agentscale_core::model::{Model, ModelError, ModelRequest, ModelResponse};
use agentscale_core::sandbox::{Sandbox, SandboxSpec};
use agentscale_core::submission::Submission;
use agentscale_core::trajectory::{AgentExit, ExitStatus, Trajectory};
use agentscale_core::{Benchmark, Task};
use async_trait::async_trait;

use super::progress::Stage;
use super::records::{RolloutRecord, RolloutSpec};
use super::stop::retries_spent;
use super::system::System;
use super::{Orchestrator, RunError, TaskCtx};
use crate::store::{Event, Kind, RunStore};

/// Why one attempt did not produce a trajectory.
enum AttemptError {
    /// The infrastructure failed (retried).
    Infra(String),
    /// The harness failed (stops the task).
    Harness(RunError),
}

/// A context summary: its id and the text shown to the agent.
pub type ContextItem = (String, String);

impl Orchestrator {
    /// The rollout of `sys` on `task` at (iteration, index) with this context.
    pub(crate) async fn rollout(
        &self,
        sys: &System,
        task: &TaskCtx,
        iteration: u32,
        index: u32,
        context: &[ContextItem],
    ) -> Result<Arc<RolloutRecord>, RunError> {
        let bench = task.task.benchmark();
        let (context_ids, context_text) = RolloutSpec::context_fields(context);
        let spec = RolloutSpec {
            task_id: task.task.id(),
            task_hash: task.hash.clone(),
            model: sys.model_identity.clone(),
            agent: sys.agent(bench).1.clone(),
            iteration,
            index,
            context: context_ids,
            context_text,
            seed: self.cfg.base.experiment.seed,
        };
        let key = spec.key();
        self.rollouts
            .get_or_try(&key, || {
                self.make_rollout(sys, task, spec, key.clone(), context)
            })
            .await
    }

    async fn make_rollout(
        &self,
        sys: &System,
        task: &TaskCtx,
        spec: RolloutSpec,
        key: String,
        context: &[ContextItem],
    ) -> Result<Arc<RolloutRecord>, RunError> {
        let retries = self.cfg.base.experiment.infra_retries;
        let mut failures = Vec::new();
        let mut attempt = 0u32;
        if let Some(r) = self
            .store
            .lookup::<RolloutRecord>(Kind::Rollout, &key)
            .await?
        {
            if !r.infra || retries_spent(&r.infra_failures) > retries {
                if r.infra {
                    self.progress
                        .reused_given_up(Stage::Rollouts, r.infra_failures.len() as u64);
                } else {
                    self.progress.reused(Stage::Rollouts);
                }
                return Ok(Arc::new(r));
            }
            // given up on by an earlier process with retries left: go on counting from there
            attempt = r.attempts;
            failures = r.infra_failures;
        }
        self.check_stop(Stage::Rollouts, &key, attempt, false)
            .await?;
        self.progress.start(Stage::Rollouts);
        let record = loop {
            self.check_stop(Stage::Rollouts, &key, attempt, true)
                .await?;
            self.store
                .event(Event::RolloutStarted {
                    key: key.clone(),
                    attempt,
                })
                .await?;
            let started = Instant::now();
            let outcome = self.attempt(sys, task, &spec, &key, context).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            if self.stop.is_stopped() {
                // whatever it ended in, its sandbox may have been removed under it
                if let Ok((t, _)) = &outcome {
                    self.remove_snapshot_of(t).await;
                }
                self.check_stop(Stage::Rollouts, &key, attempt, true)
                    .await?;
            }
            let (trajectory, host, error) = match outcome {
                Ok((t, host)) => {
                    let err = t.is_infra_failure().then(|| exit_message(t.exit.as_ref()));
                    (Some(t), host, err)
                }
                Err(AttemptError::Infra(e)) => (None, None, Some(e)),
                Err(AttemptError::Harness(e)) => {
                    self.progress.finish(Stage::Rollouts, false);
                    return Err(e);
                }
            };
            let Some(error) = error else {
                break RolloutRecord {
                    key: key.clone(),
                    spec: spec.clone(),
                    trajectory: trajectory.unwrap_or_else(|| infra_trajectory(&task.task, sys, "")),
                    attempts: attempt + 1,
                    infra_failures: failures,
                    infra: false,
                    host,
                    duration_ms,
                };
            };
            self.store
                .event(Event::RolloutInfraFailure {
                    key: key.clone(),
                    attempt,
                    error: error.clone(),
                })
                .await?;
            self.progress.infra_failure(
                Stage::Rollouts,
                &format!("{} rollout {}/{}", spec.task_id, spec.iteration, spec.index),
                &error,
            );
            failures.push(error.clone());
            if retries_spent(&failures) <= retries {
                attempt += 1;
                continue;
            }
            break RolloutRecord {
                key: key.clone(),
                spec: spec.clone(),
                trajectory: trajectory.unwrap_or_else(|| infra_trajectory(&task.task, sys, &error)),
                attempts: attempt + 1,
                infra_failures: failures,
                infra: true,
                host,
                duration_ms,
            };
        };
        self.store.finish(Kind::Rollout, &key, &record).await?;
        self.store.remove(Kind::Partial, &key);
        self.progress.finish(Stage::Rollouts, record.infra);
        Ok(Arc::new(record))
    }

    /// Remove the snapshot image of a Terminal-Bench trajectory that will not be stored (its
    /// rollout was interrupted). Best effort, bounded: the resume's sweep of unrecorded
    /// snapshots removes what is left.
    async fn remove_snapshot_of(&self, t: &Trajectory) {
        if let Some(Submission::ContainerState {
            snapshot_image: Some(img),
            ..
        }) = &t.submission
        {
            let removal = self.backends.provider.remove_image(img);
            match tokio::time::timeout(Duration::from_secs(10), removal).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!("removing the snapshot {img} of a cut-off rollout: {e}");
                }
                Err(_) => {
                    tracing::warn!("removing the snapshot {img} of a cut-off rollout timed out");
                }
            }
        }
    }

    /// The image of a task, prepared once (a failure is remembered for the task).
    pub(crate) async fn image(&self, task: &Task) -> Result<String, String> {
        let id = task.id().to_string();
        let provider = &self.backends.provider;
        self.images
            .get_or_try::<(), _, _>(&id, || async {
                Ok(match task.image_source() {
                    None => Err(format!(
                        "task {id} has neither environment/Dockerfile nor a docker_image; it \
                         cannot be run"
                    )),
                    Some(src) => match provider.prepare_image(&src).await {
                        Err(e) => Err(format!("preparing the image of {id}: {e}")),
                        Ok(image) => self.with_tmux(task, image).await,
                    },
                })
            })
            .await
            .unwrap_or_else(|()| Err("unreachable".into()))
    }

    /// For a Terminal-Bench task run by the tmux agent: the image with tmux installed when it
    /// lacks it (`terminal_bench.install_tmux`).
    async fn with_tmux(&self, task: &Task, image: String) -> Result<String, String> {
        let tb = &self.cfg.base.terminal_bench;
        let Task::TerminalBench(t) = task else {
            return Ok(image);
        };
        let tmux = self.systems.iter().any(|s| {
            s.agent(Benchmark::TerminalBench).0.kind() == agentscale_agents::AgentKind::Tmux
        });
        if !tmux || !tb.install_tmux {
            return Ok(image);
        }
        agentscale_agents::tmux::install::image_with_tmux(
            self.backends.provider.as_ref(),
            &image,
            tb.network_for(t.config.allow_internet),
        )
        .await
        .map_err(|e| format!("task {}: {e}", t.name))
    }

    async fn attempt(
        &self,
        sys: &System,
        task: &TaskCtx,
        spec: &RolloutSpec,
        key: &str,
        context: &[ContextItem],
    ) -> Result<(Trajectory, Option<String>), AttemptError> {
        let image = self.image(&task.task).await.map_err(AttemptError::Infra)?;
        let _permit = self
            .containers
            .acquire()
            .await
            .map_err(|e| AttemptError::Infra(e.to_string()))?;
        let sb_spec = self.sandbox_spec(
            &task.task,
            image,
            &format!("{}-i{}-r{}", spec.task_id, spec.iteration, spec.index),
            "rollout",
        );
        let sandbox = self
            .backends
            .provider
            .start(&sb_spec)
            .await
            .map_err(|e| AttemptError::Infra(format!("starting a sandbox: {e}")))?;
        let result = match self
            .prepare_sandbox(&task.task, &sb_spec, sandbox.as_ref())
            .await
        {
            Ok(()) => {
                self.drive(sys, task, spec, key, context, sandbox.as_ref())
                    .await
            }
            Err(e) => Err(AttemptError::Infra(e)),
        };
        let host = sandbox.host().to_string();
        if let Err(e) = sandbox.close().await {
            tracing::warn!("closing the sandbox of {key}: {e}");
        }
        result.map(|t| (t, Some(host)))
    }

    async fn drive(
        &self,
        sys: &System,
        task: &TaskCtx,
        spec: &RolloutSpec,
        key: &str,
        context: &[ContextItem],
        sandbox: &dyn Sandbox,
    ) -> Result<Trajectory, AttemptError> {
        let bench = task.task.benchmark();
        let (agent, _) = sys.agent(bench);
        let mut ctx = RolloutContext::new(key, spec.index);
        if !context.is_empty() {
            ctx = ctx.with_refinement(RefinementContext {
                summaries: context
                    .iter()
                    .map(|(id, text)| PriorSummary {
                        id: id.clone(),
                        text: text.clone(),
                    })
                    .collect(),
            });
        }
        let model: Arc<dyn Model> = if sys.model_identity.send_seed {
            Arc::new(Seeded {
                inner: sys.agent_model.clone(),
                seed: seed_of(self.cfg.base.experiment.seed, key),
            })
        } else {
            sys.agent_model.clone()
        };
        let mut sink = PartialSink::new(self.store.clone(), key);
        let mut t = agent
            .run(&task.task, sandbox, model.as_ref(), &ctx, &mut sink)
            .await
            .map_err(|e| AttemptError::Harness(RunError::Agent(e.to_string())))?;
        if bench == Benchmark::TerminalBench
            && !t.is_infra_failure()
            && self.cfg.base.terminal_bench.snapshots
        {
            let name = snapshot_name(key);
            self.store
                .event(Event::SnapshotStarted {
                    key: key.to_string(),
                    image: name.clone(),
                })
                .await
                .map_err(|e| AttemptError::Harness(e.into()))?;
            match sandbox.snapshot(&name).await {
                Ok(image) => {
                    let changed = match &t.submission {
                        Some(Submission::ContainerState { changed_files, .. }) => {
                            changed_files.clone()
                        }
                        _ => Vec::new(),
                    };
                    t.submission = Some(Submission::ContainerState {
                        snapshot_image: Some(image),
                        snapshot_host: Some(sandbox.host().to_string()),
                        changed_files: changed,
                    });
                }
                Err(e) if e.is_infra() => {
                    return Err(AttemptError::Infra(format!(
                        "snapshotting the container: {e}"
                    )));
                }
                Err(e) => {
                    return Err(AttemptError::Harness(RunError::Agent(format!(
                        "snapshotting the container of {key}: {e}"
                    ))));
                }
            }
        }
        if !t.is_infra_failure() {
            self.verify_live(&task.task, key, &t, sandbox)
                .await
                .map_err(AttemptError::Harness)?
                .map_err(|e| AttemptError::Infra(e.0))?;
        }
        Ok(t)
    }

    /// Put the proxy's CA bundle into a networked Terminal-Bench container (the spec's
    /// environment already points at it).
    async fn prepare_sandbox(
        &self,
        task: &Task,
        spec: &SandboxSpec,
        sandbox: &dyn Sandbox,
    ) -> Result<(), String> {
        let tb = &self.cfg.base.terminal_bench;
        match (&tb.ca_bundle, task) {
            (Some(bundle), Task::TerminalBench(_)) if spec.network => {
                agentscale_grader::tb::setup::install_ca_bundle(sandbox, bundle)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("copying the CA bundle into the container: {e}"))
            }
            _ => Ok(()),
        }
    }

    /// The sandbox spec for a task (rollouts and grading).
    pub(crate) fn sandbox_spec(
        &self,
        task: &Task,
        image: String,
        hint: &str,
        role: &str,
    ) -> SandboxSpec {
        let sc = &self.cfg.base.sandbox;
        let mut spec = SandboxSpec {
            image,
            network: self.cfg.base.rollout_network() && role == "rollout",
            name_hint: Some(format!("{role}-{hint}")),
            ..SandboxSpec::default()
        };
        spec.limits.cpus = sc.cpus;
        spec.limits.memory_mb = sc.memory_mb;
        spec.limits.pids = Some(sc.pids);
        match task {
            Task::SweBench(_) => spec.workdir = Some("/testbed".into()),
            Task::TerminalBench(t) => {
                let tb = &self.cfg.base.terminal_bench;
                spec.network = tb.network_for(t.config.allow_internet);
                if spec.network && tb.ca_bundle.is_some() {
                    spec.env
                        .extend(agentscale_grader::tb::setup::ca_bundle_env());
                }
                spec.workdir.clone_from(&t.config.workdir);
                spec.limits.cpus = sc.cpus.or(Some(t.config.cpus));
                spec.limits.memory_mb = sc.memory_mb.or(Some(t.config.memory_mb));
            }
        }
        spec.labels
            .insert("agentscale.task".into(), task.id().to_string());
        spec.labels.insert("agentscale.role".into(), role.into());
        spec
    }
}

/// The image name a Terminal-Bench rollout's container is committed to: the rollout's key
/// (lower-cased, cut to fit a tag) and a suffix unique to this attempt (process id and time),
/// so that two runs of the same config (content-addressed keys are equal) never share — and
/// never remove — each other's snapshots.
pub fn snapshot_name(key: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = format!(
        "-p{}-{}-{}",
        std::process::id(),
        agentscale_core::time::now_ms(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let tag: String = key
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tag = tag.trim_start_matches(['.', '-']);
    let keep = 127usize.saturating_sub(unique.len());
    let start = tag.len().saturating_sub(keep);
    let tag = tag
        .get(start..)
        .unwrap_or(tag)
        .trim_start_matches(['.', '-']);
    format!("agentscale/snapshot:{tag}{unique}")
}

fn exit_message(e: Option<&AgentExit>) -> String {
    e.map_or_else(
        || "the rollout ended without an exit".into(),
        |e| {
            format!(
                "{}{}",
                e.status.as_str(),
                e.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )
        },
    )
}

/// The trajectory recorded for a rollout given up on before any agent step ran.
fn infra_trajectory(task: &Task, sys: &System, error: &str) -> Trajectory {
    let mut t = Trajectory::start(
        task.id(),
        task.benchmark(),
        sys.agent(task.benchmark())
            .1
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("agent"),
        &sys.model,
    );
    t.started_at_ms = 0;
    t.exit = Some(AgentExit {
        status: ExitStatus::SandboxError,
        message: Some(error.to_string()),
        error_kind: None,
        infra: true,
    });
    t
}

/// A per-rollout seed: the run's seed and the rollout's key.
pub fn seed_of(seed: u64, key: &str) -> u64 {
    agentscale_core::rng::Rng::derive(seed, key).next_u64() >> 1
}

/// A model wrapper that sets `sampling.seed` on every request that has none.
struct Seeded {
    inner: Arc<dyn Model>,
    seed: u64,
}

#[async_trait]
impl Model for Seeded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        if req.sampling.seed.is_some() {
            return self.inner.complete(req).await;
        }
        let mut r = req.clone();
        r.sampling.seed = Some(self.seed);
        self.inner.complete(&r).await
    }
}

/// Writes the trajectory of a rollout in progress to `partial/<key>.json`, at most once a
/// second (a crash keeps what happened; fast rollouts never pay for it).
struct PartialSink {
    store: Arc<RunStore>,
    key: String,
    started: Instant,
    last: Option<Instant>,
}

impl PartialSink {
    fn new(store: Arc<RunStore>, key: &str) -> Self {
        Self {
            store,
            key: key.to_string(),
            started: Instant::now(),
            last: None,
        }
    }
}

impl TrajectorySink for PartialSink {
    fn record(&mut self, trajectory: &Trajectory) -> Result<(), SinkError> {
        let since = self.last.unwrap_or(self.started);
        if since.elapsed() < Duration::from_secs(1) {
            return Ok(());
        }
        self.last = Some(Instant::now());
        let path = self.store.path(Kind::Partial, &self.key);
        agentscale_core::fsutil::write_json_atomic(&path, trajectory).map_err(|e| SinkError {
            path: Some(path),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_valid_tags_and_unique() {
        let key = format!("Csv-Report-i0-r0-{}", "a".repeat(200));
        let a = snapshot_name(&key);
        let b = snapshot_name(&key);
        assert_ne!(a, b);
        let tag = a.strip_prefix("agentscale/snapshot:").unwrap();
        assert!(tag.len() <= 128, "{}", tag.len());
        assert!(
            tag.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        );
        assert!(!tag.starts_with(['.', '-']));
        assert!(
            snapshot_name("csv-report-i0-r0-95ae")
                .starts_with("agentscale/snapshot:csv-report-i0-r0-95ae-p")
        );
    }
}
