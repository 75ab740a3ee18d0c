//! Grading, after every selection of a task is frozen.
//!
//! The main seam is [`GradeBackend`]: the real one ([`crate::backends::RealGrader`]) grades
//! SWE-bench patches in fresh containers, and verifies Terminal-Bench rollouts in their own
//! container right after the agent ([`super::verified`]), a result this module only reads once
//! the task's selections are frozen; [`MarkerGrader`] is a deterministic stand-in for tests and
//! for the `fake` sandbox backend. Grades are keyed by the rollout and the grading settings, so
//! they are never repeated; attempts that fail through the infrastructure are retried and
//! counted apart, then recorded as `infra_error` (a resume retries those whose retries are not
//! spent); a grade cut off by a stop of the run is interrupted, not recorded. Diagnostic
//! snapshots of Terminal-Bench rollouts are removed once their task is graded.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use agentscale_core::grade::{Grade, GradeStatus};
use agentscale_core::sandbox::Sandbox;
use agentscale_core::submission::Submission;
use agentscale_core::{Benchmark, Task};
use async_trait::async_trait;

use super::progress::Stage;
use super::records::{GradeRecord, PipelineRecord, RolloutRecord};
use super::stop::retries_spent;
use super::{Orchestrator, RunError, TaskCtx};
use crate::config::GradeScope;
use crate::store::keys::content_key;
use crate::store::{Event, Kind};

/// A grade and the test output it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    /// The grade.
    pub grade: Grade,
    /// The test (or verifier) output, kept next to the grade as `grades/<key>.log`.
    pub log: Option<String>,
}

/// Grades one submission.
#[async_trait]
pub trait GradeBackend: Send + Sync {
    /// What identifies the grading settings (part of every grade's key).
    fn identity(&self) -> serde_json::Value;

    /// Grade `submission` of `task`. `host` is where a Terminal-Bench snapshot lives. An
    /// infrastructure failure is `Err` (or a grade with status `infra_error`): it is retried.
    async fn grade(
        &self,
        task: &Task,
        submission: &Submission,
        host: Option<&str>,
    ) -> Result<Graded, String>;

    /// Verify a Terminal-Bench rollout in its own container, right after the agent stopped
    /// (`None`: this grader grades from the submission instead). An infrastructure failure
    /// is a grade with status `infra_error` (the rollout attempt is retried).
    async fn verify_live(&self, _task: &Task, _sandbox: &dyn Sandbox) -> Option<Graded> {
        None
    }
}

/// A deterministic grader for tests and the `fake` sandbox backend: a submission resolves its
/// task when its text (the patch, or the changed files of a container state) contains the
/// marker; an empty patch is `empty_patch`.
#[derive(Debug, Clone)]
pub struct MarkerGrader {
    /// The marker.
    pub marker: String,
}

impl Default for MarkerGrader {
    fn default() -> Self {
        Self {
            marker: "FIXED".into(),
        }
    }
}

#[async_trait]
impl GradeBackend for MarkerGrader {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"grader": "marker", "marker": self.marker})
    }

    async fn grade(
        &self,
        task: &Task,
        submission: &Submission,
        _host: Option<&str>,
    ) -> Result<Graded, String> {
        let text = match submission {
            Submission::Patch { patch, .. } => patch.clone(),
            Submission::ContainerState { changed_files, .. } => changed_files.join("\n"),
        };
        let status = if submission.is_empty_patch() {
            GradeStatus::EmptyPatch
        } else if text.contains(&self.marker) {
            GradeStatus::Resolved
        } else {
            GradeStatus::Unresolved
        };
        Ok(Graded {
            grade: Grade::new(task.id(), task.benchmark(), status, None),
            log: None,
        })
    }
}

/// The key of a rollout's grade under these grading settings.
pub fn grade_key(
    rollout_key: &str,
    grader: &serde_json::Value,
    grading: &crate::config::GradingSection,
) -> String {
    let label = rollout_key.rsplit_once('-').map_or(rollout_key, |(l, _)| l);
    content_key(
        "grade",
        label,
        &(rollout_key, grader, &grading.mode, grading.timeout_sec),
    )
}

impl Orchestrator {
    /// Grade what the task's frozen selections need, then remove the task's snapshots.
    pub(crate) async fn grade_task(
        &self,
        t: &TaskCtx,
        pipelines: &[PipelineRecord],
    ) -> Result<(), RunError> {
        let mut keys = BTreeSet::new();
        for p in pipelines {
            match self.cfg.base.grading.scope {
                GradeScope::All => {
                    for it in &p.iterations {
                        keys.extend(it.rollouts.iter().cloned());
                    }
                }
                GradeScope::Selected => {
                    keys.extend(p.answer.iter().cloned());
                    for it in &p.iterations {
                        if let Some(s) = &it.select_k {
                            keys.extend(s.winners.iter().cloned());
                        }
                    }
                }
            }
        }
        let mut rollouts = Vec::new();
        for k in &keys {
            if let Some(r) = self.store.lookup::<RolloutRecord>(Kind::Rollout, k).await? {
                rollouts.push(Arc::new(r));
            }
        }
        let graded = futures_util::future::try_join_all(
            rollouts
                .iter()
                .filter(|r| !r.infra)
                .map(|r| self.grade(t, r)),
        )
        .await;
        if t.task.benchmark() == Benchmark::TerminalBench && graded.is_ok() {
            let mut all = BTreeSet::new();
            for p in pipelines {
                for it in &p.iterations {
                    all.extend(it.rollouts.iter().cloned());
                }
            }
            for k in &all {
                if let Some(r) = self.store.peek::<RolloutRecord>(Kind::Rollout, k)
                    && let Some(Submission::ContainerState {
                        snapshot_image: Some(img),
                        ..
                    }) = &r.trajectory.submission
                    && let Err(e) = self.backends.provider.remove_image(img).await
                {
                    tracing::warn!("removing snapshot {img}: {e}");
                }
            }
        }
        graded.map(|_| ())
    }

    /// The key of a rollout's grade.
    pub(crate) fn grade_key(&self, rollout_key: &str) -> String {
        grade_key(
            rollout_key,
            &self.backends.grader.identity(),
            &self.cfg.base.grading,
        )
    }

    /// A rollout's grade (looked up, else graded with infrastructure retries).
    pub(crate) async fn grade(
        &self,
        t: &TaskCtx,
        r: &Arc<RolloutRecord>,
    ) -> Result<Arc<GradeRecord>, RunError> {
        let key = self.grade_key(&r.key);
        self.grades
            .get_or_try(&key, || async {
                let retries = self.cfg.base.experiment.infra_retries;
                let mut failures = Vec::new();
                let mut attempt = 0u32;
                if let Some(g) = self.store.lookup::<GradeRecord>(Kind::Grade, &key).await? {
                    let infra = g.grade.status.is_infra();
                    if !infra || retries_spent(&g.infra_failures) > retries {
                        if infra {
                            self.progress
                                .reused_given_up(Stage::Grading, g.infra_failures.len() as u64);
                        } else {
                            self.progress.reused(Stage::Grading);
                        }
                        return Ok(Arc::new(g));
                    }
                    // given up on by an earlier process with retries left
                    attempt = g.attempts;
                    failures = g.infra_failures;
                }
                self.check_stop(Stage::Grading, &key, attempt, false)
                    .await?;
                let _slot = self
                    .grading_slots
                    .acquire()
                    .await
                    .map_err(|e| RunError::Infra(e.to_string()))?;
                self.progress.start(Stage::Grading);
                let live = self.live_grade(&r.key, &r.trajectory);
                let (grade, duration_ms) = loop {
                    self.check_stop(Stage::Grading, &key, attempt, true).await?;
                    let started = Instant::now();
                    let result = match (&live, &r.trajectory.submission) {
                        (Some(v), _) => Ok(Graded {
                            grade: v.grade.clone(),
                            log: v.log.clone(),
                        }),
                        (None, Some(s)) => {
                            self.backends
                                .grader
                                .grade(&t.task, s, r.host.as_deref())
                                .await
                        }
                        (None, None) => Ok(Graded {
                            grade: Grade::new(
                                t.task.id(),
                                t.task.benchmark(),
                                if t.task.benchmark() == Benchmark::SweBench {
                                    GradeStatus::EmptyPatch
                                } else {
                                    GradeStatus::Unresolved
                                },
                                Some("the rollout submitted nothing".into()),
                            ),
                            log: None,
                        }),
                    };
                    let ms = live
                        .as_ref()
                        .map_or(started.elapsed().as_millis() as u64, |v| v.duration_ms);
                    // a grade made while stopping may come from a container removed under it
                    self.check_stop(Stage::Grading, &key, attempt, true).await?;
                    let error = match result {
                        Ok(g) if !g.grade.status.is_infra() => {
                            if let Some(log) = &g.log {
                                let p = self.store.path(Kind::Grade, &key).with_extension("log");
                                if let Err(e) =
                                    agentscale_core::fsutil::atomic_write(&p, log.as_bytes())
                                {
                                    tracing::warn!("writing {}: {e}", p.display());
                                }
                            }
                            break (g.grade, ms);
                        }
                        Ok(g) => g.grade.message.unwrap_or_else(|| "infra_error".into()),
                        Err(e) => e,
                    };
                    self.store
                        .event(Event::GradeInfraFailure {
                            key: key.clone(),
                            attempt,
                            error: error.clone(),
                        })
                        .await?;
                    self.progress.infra_failure(
                        Stage::Grading,
                        &format!("grading {}", r.key),
                        &error,
                    );
                    failures.push(error.clone());
                    if retries_spent(&failures) <= retries {
                        attempt += 1;
                        continue;
                    }
                    break (
                        Grade::new(
                            t.task.id(),
                            t.task.benchmark(),
                            GradeStatus::InfraError,
                            Some(error),
                        ),
                        ms,
                    );
                };
                let given_up = grade.status.is_infra();
                let rec = GradeRecord {
                    key: key.clone(),
                    rollout_key: r.key.clone(),
                    task_id: t.task.id(),
                    grade,
                    attempts: attempt + 1,
                    infra_failures: failures,
                    duration_ms,
                };
                self.store.finish(Kind::Grade, &key, &rec).await?;
                self.progress.finish(Stage::Grading, given_up);
                Ok(Arc::new(rec))
            })
            .await
    }
}
