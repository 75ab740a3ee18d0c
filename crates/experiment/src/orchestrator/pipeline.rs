//! The method's pipeline for one system on one task (METHOD.md, "The full pipeline"):
//!
//! ```text
//! iteration 0: N rollouts ─▶ N summaries ─┬─▶ select-K (RTV N→K) / random-K / single ─▶ contexts
//! iteration 1: N rollouts with contexts ─▶ N summaries ─▶ … ─▶ final selection (RTV N→1)
//! ```
//!
//! Only summaries cross iterations. Rollouts given up on after infrastructure failures are not
//! candidates (they are counted apart). Everything is looked up before it is made.

use std::sync::Arc;
use std::time::Instant;

use agentscale_scaling::{
    Candidate, PdrDriver, ScalingError, Selection, SelectionTask, Summarizer, SummaryInput,
    summary::summary_text,
};

use super::callstore::RunCallStore;
use super::progress::Stage;
use super::records::{IterationRecord, PipelineRecord, RolloutRecord, StoredSummary};
use super::rollout::ContextItem;
use super::system::{System, selects};
use super::{Orchestrator, RunError, TaskCtx};
use crate::store::Kind;
use crate::store::keys::content_key;

impl Orchestrator {
    /// Run (or resume) the pipeline of `sys` on `task`.
    pub(crate) async fn pipeline(
        &self,
        sys: &System,
        task: &TaskCtx,
    ) -> Result<PipelineRecord, RunError> {
        let sc = &sys.config.scaling;
        let n = sc.n;
        let iterations = sc.effective_iterations();
        let sel_task = SelectionTask::from_task(&task.task);
        let calls = RunCallStore::new(self.store.clone());
        let driver = PdrDriver {
            pdr: sys.pdr.clone(),
            tournament: sys.tournament.clone(),
            final_method: sys.final_method,
            prompts: &self.backends.prompts,
            judge: sys.judge.as_ref(),
            store: &calls,
            seed: self.cfg.base.experiment.seed,
        };
        let mut contexts: Vec<Vec<ContextItem>> = vec![Vec::new(); n as usize];
        let mut record = PipelineRecord {
            system: sys.name.clone(),
            task_id: task.task.id(),
            benchmark: task.task.benchmark(),
            repo: task.task.repo().map(str::to_string),
            iterations: Vec::new(),
            final_selection: None,
            answer: None,
            derived: None,
        };
        for it in 0..iterations {
            let rollouts: Vec<Arc<RolloutRecord>> =
                futures_util::future::try_join_all((0..n).map(|i| {
                    let ctx = contexts.get(i as usize).cloned().unwrap_or_default();
                    async move { self.rollout(sys, task, it, i, &ctx).await }
                }))
                .await?;
            let mut irec = IterationRecord {
                iteration: it,
                rollouts: rollouts.iter().map(|r| r.key.clone()).collect(),
                summaries: vec![None; rollouts.len()],
                select_k: None,
                diagnostic: None,
            };
            if !selects(sc) {
                if n == 1 {
                    record.answer = rollouts.first().filter(|r| !r.infra).map(|r| r.key.clone());
                }
                record.iterations.push(irec);
                continue;
            }
            let usable: Vec<(usize, &Arc<RolloutRecord>)> = rollouts
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.infra)
                .collect();
            let summaries: Vec<Arc<StoredSummary>> = futures_util::future::try_join_all(
                usable
                    .iter()
                    .map(|(_, r)| self.summary(sys, task, &sel_task, r)),
            )
            .await?;
            let mut candidates = Vec::with_capacity(usable.len());
            for ((i, r), s) in usable.iter().zip(&summaries) {
                if let Some(slot) = irec.summaries.get_mut(*i) {
                    *slot = Some(s.key.clone());
                }
                candidates.push(Candidate::new(
                    &r.key,
                    &s.record,
                    r.trajectory.submission.as_ref(),
                ));
            }
            if candidates.is_empty() {
                // every rollout failed through the infrastructure: nothing to select from
                record.iterations.push(irec);
                break;
            }
            let started = Instant::now();
            if it + 1 < iterations {
                // which rollout each candidate is (single mode pairs by rollout identity)
                let origins: Vec<usize> = usable.iter().map(|(i, _)| *i).collect();
                let next = self
                    .with_infra_retries(
                        Stage::Votes,
                        &format!("{} select-K", task.task.id()),
                        || {
                            driver.next_contexts_from(
                                &sel_task,
                                &candidates,
                                &origins,
                                rollouts.len(),
                                it,
                                n as usize,
                            )
                        },
                    )
                    .await?;
                for t in next.select_k.iter().chain(next.diagnostics.iter()) {
                    self.count_votes(&t.stats);
                }
                contexts = next
                    .contexts
                    .iter()
                    .map(|c| {
                        c.summary_ids
                            .iter()
                            .filter_map(|sid| {
                                candidates
                                    .iter()
                                    .find(|cand| &cand.summary_id == sid)
                                    .map(|cand| (sid.clone(), cand.summary.clone()))
                            })
                            .collect()
                    })
                    .collect();
                irec.select_k = next
                    .select_k
                    .map(|t| outcome("rtv", "select_k", it, &candidates, t, started));
                irec.diagnostic = next
                    .diagnostics
                    .map(|t| outcome("rtv", "diagnostic", it, &candidates, t, started));
            } else {
                let sel = self
                    .with_infra_retries(
                        Stage::Votes,
                        &format!("{} final selection", task.task.id()),
                        || driver.final_selection(&sel_task, &candidates, it),
                    )
                    .await?;
                if let Some(t) = &sel.tournament {
                    self.count_votes(&t.stats);
                }
                record.answer = sel.winner().map(str::to_string);
                record.final_selection = Some(final_outcome(sel, it, &candidates, started));
            }
            record.iterations.push(irec);
        }
        let key = pipeline_key(sys, task);
        self.store.finish(Kind::Selection, &key, &record).await?;
        Ok(record)
    }

    /// The summary of a rollout (looked up, else made and stored).
    async fn summary(
        &self,
        sys: &System,
        task: &TaskCtx,
        sel_task: &SelectionTask,
        r: &Arc<RolloutRecord>,
    ) -> Result<Arc<StoredSummary>, RunError> {
        let input = SummaryInput {
            task: sel_task,
            rollout_id: &r.key,
            trajectory: &r.trajectory,
        };
        let skey = sys.summarizer.key(&input)?;
        let key = content_key(
            "summary",
            &format!("{}-{}", task.task.id(), short_label(&r.key)),
            &skey,
        );
        self.summaries
            .get_or_try(&key, || async {
                if let Some(s) = self
                    .store
                    .lookup::<StoredSummary>(Kind::Summary, &key)
                    .await?
                {
                    self.progress.reused(Stage::Summaries);
                    return Ok(Arc::new(s));
                }
                self.check_stop(Stage::Summaries, &key, 0, false).await?;
                self.progress.start(Stage::Summaries);
                let started = Instant::now();
                let result = self
                    .with_infra_retries(Stage::Summaries, &format!("summary of {}", r.key), || {
                        sys.summarizer.summarize(&input)
                    })
                    .await;
                let record = match result {
                    Ok(rec) => rec,
                    Err(RunError::Interrupted(i)) => {
                        self.progress.interrupted(Stage::Summaries);
                        return Err(i.into());
                    }
                    Err(e) => {
                        self.progress.finish(Stage::Summaries, true);
                        return Err(e);
                    }
                };
                let stored = StoredSummary {
                    key: key.clone(),
                    rollout_key: r.key.clone(),
                    record,
                    infra: false,
                    duration_ms: started.elapsed().as_millis() as u64,
                };
                self.store.finish(Kind::Summary, &key, &stored).await?;
                self.progress.finish(Stage::Summaries, false);
                Ok(Arc::new(stored))
            })
            .await
    }

    /// Run a selection step, retrying it when it fails through the infrastructure (a model
    /// provider outage that outlived the retry layer). Stored votes make a retry cheap. A
    /// step that fails while the run is stopping is interrupted: no retry, no failure.
    async fn with_infra_retries<T, F, Fut>(
        &self,
        stage: Stage,
        what: &str,
        mut f: F,
    ) -> Result<T, RunError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ScalingError>>,
    {
        let retries = self.cfg.base.experiment.infra_retries;
        let mut attempt = 0;
        loop {
            self.check_stop(stage, what, attempt, false).await?;
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.check_stop(stage, what, attempt, false).await?;
                    if !e.is_infra() || attempt >= retries {
                        return Err(e.into());
                    }
                    attempt += 1;
                    self.progress.infra_failure(stage, what, &e.to_string());
                }
            }
        }
    }

    fn count_votes(&self, stats: &agentscale_scaling::rtv::TournamentStats) {
        for _ in 0..stats.votes_reused {
            self.progress.reused(Stage::Votes);
        }
        for _ in 0..stats.votes_made {
            self.progress.start(Stage::Votes);
            self.progress.finish(Stage::Votes, false);
        }
    }
}

/// The key of a system's pipeline record on a task.
pub fn pipeline_key(sys: &System, task: &TaskCtx) -> String {
    content_key(
        "pipeline",
        &format!("{}-{}", task.task.id(), sys.name),
        &(
            &sys.name,
            &sys.label,
            &task.hash,
            crate::config::resolved::identity(&sys.config),
        ),
    )
}

fn short_label(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(l, _)| l)
}

pub(crate) fn outcome(
    method: &str,
    stage: &str,
    iteration: u32,
    candidates: &[Candidate],
    t: agentscale_scaling::TournamentResult,
    started: Instant,
) -> super::records::SelectionOutcome {
    super::records::SelectionOutcome {
        method: method.to_string(),
        stage: stage.to_string(),
        iteration,
        candidates: candidates.iter().map(|c| c.id.clone()).collect(),
        winners: t.survivors.clone(),
        groups: t.rounds.iter().flat_map(|r| r.groups.clone()).collect(),
        byes: t
            .rounds
            .iter()
            .flat_map(|r| r.byes.iter().map(move |b| (r.round, b.clone())))
            .collect(),
        votes: t.votes,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// The record of a final selection: its tournament's ([`outcome`]), or for a baseline the
/// pick alone (no groups, byes or votes).
pub(crate) fn final_outcome(
    sel: Selection,
    iteration: u32,
    candidates: &[Candidate],
    started: Instant,
) -> super::records::SelectionOutcome {
    let method = sel.method.as_str();
    match sel.tournament {
        Some(t) => outcome(method, "final", iteration, candidates, t, started),
        None => super::records::SelectionOutcome {
            method: method.to_string(),
            stage: "final".into(),
            iteration,
            candidates: candidates.iter().map(|c| c.id.clone()).collect(),
            winners: sel.survivors,
            groups: Vec::new(),
            byes: Vec::new(),
            votes: Vec::new(),
            duration_ms: started.elapsed().as_millis() as u64,
        },
    }
}

/// The text a summary shows (re-exported for the tables and `select`).
pub fn shown_summary(s: &StoredSummary) -> String {
    summary_text(&s.record)
}
