//! Offline re-selection (`agentscale select`): another selection configuration on a run's
//! stored rollouts and summaries.
//!
//! The main entry point is [`reselect`]. For every system of the run and every task, the final
//! selection is replayed over the stored candidates of the last iteration with the changed
//! knobs (method, G, V, tie-break, pairing, ...). Votes are looked up by their request (task,
//! judge prompt hash, vote index), so every vote another configuration already asked is
//! reused and only the missing ones are made (none with `offline`). The result is a new system
//! `<system>+<label>` in the run's tables, next to the original.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use agentscale_core::Task;
use agentscale_core::model::Model;
use agentscale_scaling::baselines::{MethodSelector, Selector as _};
use agentscale_scaling::{Candidate, Judge, LlmJudge, SelectionTask, TournamentInput};
use serde::Serialize;

use crate::config::doc::{KeyPath, Seg};
use crate::config::{self, LoadOptions};
use crate::orchestrator::callstore::RunCallStore;
use crate::orchestrator::records::{
    Derived, GradeRecord, PipelineRecord, RolloutRecord, StoredSummary,
};
use crate::orchestrator::system::{to_method, to_tournament_of};
use crate::run::{PrepareError, load_tasks};
use crate::store::keys::content_key;
use crate::store::{Kind, RunStore};

/// The scaling knobs a re-selection may change (anything else would need new rollouts).
pub const SELECTION_KNOBS: &[&str] = &[
    "selector",
    "group_size",
    "votes",
    "tie_break",
    "pairing",
    "shuffle",
    "byes",
    "invalid_vote_reasks",
    "early_stop",
    "collapse_identical",
    "judge_model",
    "judge_temperature",
];

/// What to re-select.
#[derive(Debug, Clone, Default)]
pub struct ReselectRequest {
    /// The run directory.
    pub run_dir: PathBuf,
    /// `scaling.<knob>=<value>` overrides (only [`SELECTION_KNOBS`]).
    pub overrides: Vec<String>,
    /// Make no judge call: every vote must be stored already.
    pub offline: bool,
}

/// One re-selected system.
#[derive(Debug, Clone, Serialize)]
pub struct ReselectedSystem {
    /// The original system.
    pub base: String,
    /// The new system's name in the tables.
    pub system: String,
    /// Tasks whose answer resolves them: original, re-selected.
    pub resolved: (usize, usize),
    /// Tasks scored: original, re-selected.
    pub scored: (usize, usize),
    /// Votes found in the store.
    pub votes_reused: usize,
    /// Votes asked now.
    pub votes_made: usize,
    /// Answers without a grade (the run graded only its own selections).
    pub ungraded: usize,
}

/// The outcome of [`reselect`].
#[derive(Debug, Clone, Serialize)]
pub struct ReselectSummary {
    /// The label of the re-selection (`selector=rtv,group_size=4`).
    pub label: String,
    /// One entry per system of the run.
    pub systems: Vec<ReselectedSystem>,
    /// The tables written.
    pub tables: Vec<String>,
}

fn label_of(overrides: &[String]) -> String {
    let mut parts: Vec<String> = overrides
        .iter()
        .map(|o| o.trim().trim_start_matches("scaling.").to_string())
        .collect();
    parts.sort();
    parts.join(",")
}

/// Re-select the final answers of a run with other selection settings.
pub async fn reselect(req: &ReselectRequest) -> Result<ReselectSummary, PrepareError> {
    let run_toml = req.run_dir.join("run.toml");
    if !run_toml.is_file() {
        return Err(PrepareError::Usage(format!(
            "{} is not a run directory (no run.toml)",
            req.run_dir.display()
        )));
    }
    if req.overrides.is_empty() {
        return Err(PrepareError::Usage(
            "nothing to change: give at least one selection setting (--method, --group-size, \
             --votes, or --set scaling.KNOB=VALUE)"
                .into(),
        ));
    }
    for o in &req.overrides {
        let key = o.split_once('=').map_or(o.as_str(), |(k, _)| k);
        let ok = KeyPath::parse(key.trim()).is_ok_and(|p| {
            matches!(p.0.as_slice(), [Seg::Key(a), Seg::Key(b)]
                if a == "scaling" && SELECTION_KNOBS.contains(&b.as_str()))
        });
        if !ok {
            return Err(PrepareError::Usage(format!(
                "--set {o}: a re-selection can change only scaling.{{{}}}; other settings need \
                 new rollouts (use `agentscale run` with a sweep instead)",
                SELECTION_KNOBS.join(",")
            )));
        }
    }
    let opts = |overrides: Vec<String>| LoadOptions {
        overrides,
        check_files: false,
        env_has: if req.offline {
            Arc::new(|_| true)
        } else {
            LoadOptions::default().env_has
        },
        ..LoadOptions::default()
    };
    let before = config::load(&run_toml, &opts(Vec::new()))?;
    let after = config::load(&run_toml, &opts(req.overrides.clone()))?;
    let label = label_of(&req.overrides);
    let tasks: BTreeMap<String, Task> = load_tasks(&before.base)?
        .into_iter()
        .map(|t| (t.id().to_string(), t))
        .collect();
    let store = Arc::new(RunStore::open(&req.run_dir)?);
    let models: BTreeMap<String, Arc<dyn Model>> = if req.offline {
        BTreeMap::new()
    } else {
        let ledger = Arc::new(agentscale_models::Ledger::new());
        let tv: Vec<Task> = tasks.values().cloned().collect();
        crate::backends::models(&after.base, &tv, &req.run_dir.join("calls"), &ledger)
            .map_err(|e| PrepareError::Usage(e.to_string()))?
    };
    let prompts = Arc::new(agentscale_scaling::Prompts::embedded());
    let calls = RunCallStore::new(store.clone());
    let pipelines: Vec<PipelineRecord> = {
        let mut v = Vec::new();
        for key in store.done_keys(Kind::Selection) {
            if let Some(p) = store.peek::<PipelineRecord>(Kind::Selection, &key) {
                v.push(p);
            }
        }
        v
    };
    let mut grades: BTreeMap<String, GradeRecord> = BTreeMap::new();
    for key in store.done_keys(Kind::Grade) {
        if let Some(g) = store.peek::<GradeRecord>(Kind::Grade, &key) {
            grades.entry(g.rollout_key.clone()).or_insert(g);
        }
    }
    let several = before.points.len() > 1;
    let mut out = Vec::new();
    for (pb, pa) in before.points.iter().zip(&after.points) {
        let tournament = to_tournament_of(&pa.config);
        tournament
            .validate("scaling")
            .map_err(|e| PrepareError::Usage(e.to_string()))?;
        let method = to_method(pa.config.scaling.selector);
        for m in pb.config.models.iter().filter(|m| m.agent) {
            let base = if several {
                format!("{}@{}", m.name, pb.label)
            } else {
                m.name.clone()
            };
            let system = format!("{base}+{label}");
            let judge_name = pa
                .config
                .scaling
                .judge_model
                .clone()
                .unwrap_or_else(|| m.name.clone());
            let judge: Box<dyn Judge> = match models.get(&judge_name) {
                Some(model) => Box::new(LlmJudge::new(model.clone(), prompts.clone())),
                None => Box::new(LlmJudge::offline(&judge_name, prompts.clone())),
            };
            let mut entry = ReselectedSystem {
                base: base.clone(),
                system: system.clone(),
                resolved: (0, 0),
                scored: (0, 0),
                votes_reused: 0,
                votes_made: 0,
                ungraded: 0,
            };
            for p in pipelines
                .iter()
                .filter(|p| p.system == base && p.derived.is_none())
            {
                let Some(task) = tasks.get(p.task_id.as_str()) else {
                    continue;
                };
                let Some(last) = p.iterations.last() else {
                    continue;
                };
                let mut candidates = Vec::new();
                for (i, key) in last.rollouts.iter().enumerate() {
                    let (Some(r), Some(Some(skey))) = (
                        store.peek::<RolloutRecord>(Kind::Rollout, key),
                        last.summaries.get(i),
                    ) else {
                        continue;
                    };
                    if r.infra {
                        continue;
                    }
                    let Some(s) = store.peek::<StoredSummary>(Kind::Summary, skey) else {
                        continue;
                    };
                    candidates.push(Candidate::new(
                        key,
                        &s.record,
                        r.trajectory.submission.as_ref(),
                    ));
                }
                if candidates.is_empty() {
                    continue;
                }
                let sel_task = SelectionTask::from_task(task);
                let tlabel = format!("iter{}/final", last.iteration);
                let started = std::time::Instant::now();
                let sel = MethodSelector {
                    method,
                    config: tournament.clone(),
                    judge: judge.as_ref(),
                    store: &calls,
                }
                .select(
                    &TournamentInput {
                        task: &sel_task,
                        candidates: &candidates,
                        label: &tlabel,
                        seed: pa.config.experiment.seed,
                    },
                    1,
                )
                .await
                .map_err(|e| PrepareError::Run(e.into()))?;
                if let Some(t) = &sel.tournament {
                    entry.votes_reused += t.stats.votes_reused;
                    entry.votes_made += t.stats.votes_made;
                }
                let mut q = p.clone();
                q.system.clone_from(&system);
                q.answer = sel.winner().map(str::to_string);
                q.final_selection = Some(crate::orchestrator::pipeline::final_outcome(
                    sel,
                    last.iteration,
                    &candidates,
                    started,
                ));
                q.derived = Some(Derived {
                    base: base.clone(),
                    scaling: pa.config.scaling.clone(),
                });
                let key = content_key(
                    "pipeline",
                    &format!("{}-{system}", p.task_id),
                    &(&system, &p.task_id, &label),
                );
                store.finish(Kind::Selection, &key, &q).await?;
                let graded = |a: &Option<String>| a.as_ref().and_then(|k| grades.get(k));
                for (ans, slot_r, slot_s, count_ungraded) in [
                    (&p.answer, &mut entry.resolved.0, &mut entry.scored.0, false),
                    (&q.answer, &mut entry.resolved.1, &mut entry.scored.1, true),
                ] {
                    match graded(ans) {
                        Some(g) if !g.grade.status.is_infra() => {
                            *slot_s += 1;
                            if g.grade.resolved {
                                *slot_r += 1;
                            }
                        }
                        None if ans.is_some() && count_ungraded => entry.ungraded += 1,
                        _ => {}
                    }
                }
            }
            out.push(entry);
        }
    }
    drop(calls);
    let data =
        crate::tables::load_run(&req.run_dir).map_err(|e| PrepareError::Usage(e.to_string()))?;
    let tables = crate::tables::write_tables(&req.run_dir, &data)?;
    Ok(ReselectSummary {
        label,
        systems: out,
        tables,
    })
}
