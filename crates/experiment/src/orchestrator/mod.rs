//! The run orchestrator (tokio): for every task and system, the pipeline of METHOD.md, then
//! grading, then the tables.
//!
//! The main type is [`Orchestrator`]. A *system* is one agent model under one configuration
//! of the sweep ([`System`]). For each task, every system's pipeline runs
//! ([`pipeline`]): iteration-0 rollouts → summaries → select-K (or random-K / single
//! contexts) → refined rollouts → … → final selection. Rollouts, summaries and votes are
//! content-addressed and single-flight ([`memo::Memo`]), so systems that need the same
//! rollout share it, and a resumed run finds what an earlier process finished. Only after
//! every selection of a task is frozen are its rollouts graded ([`grading`]).
//!
//! Concurrency limits are separate: containers (a semaphore per run on top of the sandbox
//! pool's per-host limits), model calls (the per-endpoint limiters of the model stacks), and
//! grading (its own semaphore). Infrastructure failures (sandbox errors, provider outages)
//! are retried `experiment.infra_retries` times, counted apart, and recorded — never scored as
//! the model's failures. A resume retries a stored failure whose retries are not spent.
//! Work cut off by a stop (a signal, a budget: [`stop`]) is neither: it is *interrupted*, not
//! stored, and redone by the next process of the run.

pub mod callstore;
pub mod grading;
pub mod memo;
pub mod pipeline;
pub mod progress;
pub mod records;
pub mod rollout;
pub mod stop;
pub mod system;
pub mod verified;

use std::collections::BTreeMap;
use std::sync::Arc;

use agentscale_core::Task;
use agentscale_core::model::Model;
use agentscale_core::sandbox::SandboxProvider;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::config::LoadedConfig;
use crate::store::{Event, RunStore, StoreError};
pub use grading::{GradeBackend, MarkerGrader};
use memo::Memo;
pub use progress::{Progress, ProgressEvent, ProgressSnapshot, Stage};
use records::{GradeRecord, PipelineRecord, RolloutRecord, StoredSummary};
pub use stop::{Interrupted, StopReason, StopToken};
pub use system::System;

/// Errors that stop a task's pipeline (the run goes on with the other tasks) or the run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Selection failed (a judge or summarizer error that outlived its retries, a bad
    /// configuration).
    #[error(transparent)]
    Scaling(#[from] agentscale_scaling::ScalingError),
    /// The harness around a rollout failed (a prompt template that does not render, ...).
    #[error("{0}")]
    Agent(String),
    /// The configuration cannot be run.
    #[error("{0}")]
    Config(String),
    /// The infrastructure failed before any work could start (no Docker engine, ...).
    #[error("{0}")]
    Infra(String),
    /// Writing the tables failed.
    #[error("writing the tables failed: {0}")]
    Tables(String),
    /// The run was stopped (signal, budget) before this work was done: not a failure; the
    /// work is redone when the run resumes ([`stop`]).
    #[error("{0}")]
    Interrupted(#[from] Interrupted),
}

/// The runtime objects a run uses (built from the config by [`crate::backends`], or given by
/// tests).
pub struct Backends {
    /// Starts sandboxes (Docker pool or fake).
    pub provider: Arc<dyn SandboxProvider>,
    /// Models by configured name (each already wrapped with cache and accounting).
    pub models: BTreeMap<String, Arc<dyn Model>>,
    /// Grades submissions.
    pub grader: Arc<dyn GradeBackend>,
    /// Prompt templates of the summarizer, judge and refinement context.
    pub prompts: Arc<agentscale_scaling::Prompts>,
    /// The run's model-call accounting, if any.
    pub ledger: Option<Arc<agentscale_models::Ledger>>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends")
            .field("provider", &self.provider.name())
            .field("models", &self.models.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A task with its content hash.
#[derive(Debug, Clone)]
pub struct TaskCtx {
    /// The task.
    pub task: Task,
    /// [`records::task_hash`].
    pub hash: String,
}

/// What a finished run reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// The run directory.
    pub run_dir: std::path::PathBuf,
    /// True when every task finished.
    pub complete: bool,
    /// Tasks in the run.
    pub tasks: usize,
    /// Tasks whose pipeline failed, with the reason (rerun `agentscale run` to retry them).
    pub failed_tasks: Vec<(String, String)>,
    /// One line per system.
    pub systems: Vec<SystemResult>,
    /// Final counters.
    pub progress: ProgressSnapshot,
    /// The tables written (file names under `tables/`).
    pub tables: Vec<String>,
}

/// A system's headline result.
#[derive(Debug, Clone, Serialize)]
pub struct SystemResult {
    /// The system's name.
    pub system: String,
    /// Tasks whose answer resolves the task.
    pub resolved: usize,
    /// Tasks scored: infrastructure failures excluded, tasks without an answer included
    /// (as unresolved).
    pub scored: usize,
    /// resolved / scored.
    pub rate: f64,
    /// Tasks whose outcome is an infrastructure failure (not scored).
    pub infra: usize,
    /// Tasks whose answer's verifier could not run to a verdict (not scored, not reward 0).
    pub verifier_errors: usize,
    /// Tasks without a graded answer although some rollout ran (counted in `scored`, as
    /// unresolved).
    pub no_answer: usize,
    /// Mean pass@1 of all graded rollouts of the system (infrastructure failures excluded).
    pub mean_pass1: Option<f64>,
}

/// Runs one experiment.
pub struct Orchestrator {
    pub(crate) cfg: LoadedConfig,
    pub(crate) run_id: String,
    pub(crate) store: Arc<RunStore>,
    pub(crate) backends: Backends,
    pub(crate) progress: Arc<Progress>,
    pub(crate) tasks: Vec<TaskCtx>,
    pub(crate) systems: Vec<System>,
    pub(crate) containers: Semaphore,
    pub(crate) grading_slots: Semaphore,
    pub(crate) rollouts: Memo<Arc<RolloutRecord>>,
    pub(crate) summaries: Memo<Arc<StoredSummary>>,
    pub(crate) grades: Memo<Arc<GradeRecord>>,
    pub(crate) images: Memo<Result<String, String>>,
    pub(crate) stop: StopToken,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("run_id", &self.run_id)
            .field("tasks", &self.tasks.len())
            .field("systems", &self.systems.len())
            .finish_non_exhaustive()
    }
}

impl Orchestrator {
    /// An orchestrator for a loaded config, its tasks, an open store and built backends.
    pub fn new(
        cfg: LoadedConfig,
        run_id: String,
        store: Arc<RunStore>,
        tasks: Vec<Task>,
        backends: Backends,
        progress: Arc<Progress>,
    ) -> Result<Self, RunError> {
        let systems = system::build_systems(&cfg, &backends)?;
        let hosts = cfg.base.sandbox.hosts.len().max(1);
        let containers = (cfg.base.sandbox.concurrency as usize) * hosts;
        let grading = cfg.base.grading.concurrency as usize;
        let tasks = tasks
            .into_iter()
            .map(|task| TaskCtx {
                hash: records::task_hash(&task),
                task,
            })
            .collect();
        Ok(Self {
            cfg,
            run_id,
            store,
            backends,
            progress,
            tasks,
            systems,
            containers: Semaphore::new(containers.max(1)),
            grading_slots: Semaphore::new(grading.max(1)),
            rollouts: Memo::default(),
            summaries: Memo::default(),
            grades: Memo::default(),
            images: Memo::default(),
            stop: StopToken::new(),
        })
    }

    /// Remove the snapshot images that an earlier process of this run committed but never
    /// recorded in a finished rollout (it was killed in between): announced by a
    /// `snapshot_started` event, referenced by no stored rollout. Snapshots that a stored
    /// rollout references are kept for grading, which removes them. Failures to remove are
    /// warnings: a leftover image costs disk, not correctness.
    async fn remove_orphan_snapshots(&self) {
        let mut orphans = std::collections::BTreeSet::new();
        for r in self.store.replayed() {
            let Event::SnapshotStarted { key, image } = &r.event else {
                continue;
            };
            let recorded = self
                .store
                .peek::<RolloutRecord>(crate::store::Kind::Rollout, key)
                .is_some_and(|rec| {
                    matches!(
                        &rec.trajectory.submission,
                        Some(agentscale_core::submission::Submission::ContainerState {
                            snapshot_image: Some(i),
                            ..
                        }) if i == image
                    )
                });
            if !recorded {
                orphans.insert(image.clone());
            }
        }
        let mut removed = 0usize;
        for image in &orphans {
            match self.backends.provider.remove_image(image).await {
                Ok(()) => removed += 1,
                Err(e) => self.progress.warn(format!(
                    "could not remove {image}, a snapshot left by an interrupted earlier \
                     process of this run: {e}"
                )),
            }
        }
        if removed > 0 {
            tracing::info!(
                "removed {removed} snapshot image(s) left by an interrupted earlier process of \
                 this run"
            );
        }
    }

    /// The systems of the run.
    pub fn systems(&self) -> &[System] {
        &self.systems
    }

    /// The run store.
    pub fn store(&self) -> &Arc<RunStore> {
        &self.store
    }

    /// The progress counters.
    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// The run's stop flag: [`StopToken::stop`] ends the work in flight as interrupted (not
    /// stored, redone on resume) and makes [`Orchestrator::run`] return
    /// [`RunError::Interrupted`] without writing tables.
    pub fn stop_token(&self) -> &StopToken {
        &self.stop
    }

    /// `Err(RunError::Interrupted)` once the run is stopping: logs that `key` of `stage`
    /// (attempt `attempt`) was cut off, and takes it off the running counters. Call it before
    /// starting, retrying or recording a piece of work.
    pub(crate) async fn check_stop(
        &self,
        stage: Stage,
        key: &str,
        attempt: u32,
        started: bool,
    ) -> Result<(), RunError> {
        let Err(i) = self.stop.check() else {
            return Ok(());
        };
        if started {
            self.progress.interrupted(stage);
        }
        // best effort: the log may already be closing with the process
        let _ = self
            .store
            .event(Event::WorkInterrupted {
                stage: stage.as_str().to_string(),
                key: key.to_string(),
                attempt,
                reason: i.reason.to_string(),
            })
            .await;
        Err(i.into())
    }

    /// Run every task (resuming whatever is stored), then write the tables.
    pub async fn run(&self) -> Result<RunSummary, RunError> {
        let resumed = self.store.resume_info().events > 0;
        self.store
            .event(Event::RunStarted {
                run_id: self.run_id.clone(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                pid: std::process::id(),
                resumed,
                torn_lines: self.store.resume_info().torn_lines,
            })
            .await?;
        if self.store.resume_info().torn_lines > 0 {
            self.progress.warn(format!(
                "the event log ended in a torn line (an interrupted write); it was cut off and \
                 the run resumes from the last complete event ({} events)",
                self.store.resume_info().events
            ));
        }
        self.remove_orphan_snapshots().await;
        self.plan();
        self.progress.set_tasks(self.tasks.len() as u64);
        let parallel = (self.containers.available_permits() + 2).max(2);
        let results: Vec<(String, Result<(), RunError>)> = futures_util::stream::iter(&self.tasks)
            .map(|t| async move {
                let r = self.run_task(t).await;
                self.refresh_calls();
                match &r {
                    Ok(()) => self.progress.task_done(t.task.id().as_str()),
                    Err(RunError::Interrupted(_)) => {}
                    Err(e) => self.progress.emit(ProgressEvent::TaskFailed {
                        task_id: t.task.id().to_string(),
                        error: e.to_string(),
                    }),
                }
                (t.task.id().to_string(), r)
            })
            .buffer_unordered(parallel)
            .collect()
            .await;
        if let Err(i) = self.stop.check() {
            // the tables would be of a cut-off run; the resume writes them
            let _ = self
                .store
                .event(Event::RunFinished { complete: false })
                .await;
            return Err(i.into());
        }
        let mut failed: Vec<(String, String)> = results
            .into_iter()
            .filter_map(|(id, r)| r.err().map(|e| (id, e.to_string())))
            .collect();
        failed.sort();
        if let Some((_, e)) = failed.iter().find(|(_, e)| e.starts_with("run store")) {
            return Err(RunError::Infra(format!(
                "the run store failed ({e}); the run stopped. Finished work is kept: fix the \
                 cause and run the same command again to resume"
            )));
        }
        let data = crate::tables::build_run_data(self);
        let systems = crate::tables::system_results(&data);
        let tables = crate::tables::write_tables(self.store.dir(), &data)?;
        self.store
            .event(Event::TablesWritten {
                tables: tables.len(),
            })
            .await?;
        let complete = failed.is_empty();
        self.store.event(Event::RunFinished { complete }).await?;
        self.refresh_calls();
        Ok(RunSummary {
            run_id: self.run_id.clone(),
            run_dir: self.store.dir().to_path_buf(),
            complete,
            tasks: self.tasks.len(),
            failed_tasks: failed,
            systems,
            progress: self.progress.snapshot(),
            tables,
        })
    }

    /// One task: every system's pipeline, then grading.
    async fn run_task(&self, t: &TaskCtx) -> Result<(), RunError> {
        let pipelines: Vec<PipelineRecord> =
            futures_util::future::try_join_all(self.systems.iter().map(|s| self.pipeline(s, t)))
                .await?;
        self.grade_task(t, &pipelines).await?;
        // the task is done: nothing else needs its records in memory
        for p in &pipelines {
            for it in &p.iterations {
                for k in &it.rollouts {
                    self.rollouts.forget(k);
                    self.grades.forget(&self.grade_key(k));
                }
                for k in it.summaries.iter().flatten() {
                    self.summaries.forget(k);
                }
            }
        }
        self.images.forget(t.task.id().as_str());
        Ok(())
    }

    /// Expected work, for the progress bars (an estimate: select-K decides what later
    /// iterations share).
    fn plan(&self) {
        let tasks = self.tasks.len() as u64;
        let mut rollouts = std::collections::BTreeSet::new();
        let mut later = 0u64;
        let mut votes = 0u64;
        let mut summaries = 0u64;
        for s in &self.systems {
            let sc = &s.config.scaling;
            let t = sc.effective_iterations();
            for i in 0..sc.n {
                rollouts.insert((s.model.clone(), i));
            }
            later += u64::from(sc.n) * u64::from(t.saturating_sub(1));
            if sc.method != crate::config::Method::None {
                summaries += u64::from(sc.n) * u64::from(t);
                votes += system::planned_votes(s);
            }
        }
        let per_task_rollouts = rollouts.len() as u64 + later;
        self.progress
            .plan(Stage::Rollouts, per_task_rollouts * tasks);
        self.progress.plan(Stage::Summaries, summaries * tasks);
        self.progress.plan(Stage::Votes, votes * tasks);
        let graded = match self.cfg.base.grading.scope {
            crate::config::GradeScope::All => per_task_rollouts,
            crate::config::GradeScope::Selected => self.systems.len() as u64,
        };
        self.progress.plan(Stage::Grading, graded * tasks);
    }

    /// Copy the model ledger's totals into the progress counters.
    pub(crate) fn refresh_calls(&self) {
        if let Some(l) = &self.backends.ledger {
            let t = l.totals().all;
            self.progress.set_calls(progress::CallSnapshot {
                calls: t.calls,
                cache_hits: t.cache_hits,
                retries: t.retries,
                failed: t.failed,
                cost_usd: t.cost.known_usd,
                unknown_cost_calls: t.cost.unknown_calls,
                tokens: t.usage.total(),
            });
        }
    }
}
