//! From the run store to the report crate's canonical tables ([`agentscale_report::RunData`]),
//! and [`load_run`] for `agentscale report` on a run directory.
//!
//! Tables are built from the pipeline records (`selections/`) and the artifacts they name,
//! sorted by the report crate, so they never depend on the order work finished in; every
//! wall-clock value goes to the `timing` table only. When a run has several systems (agent
//! models or sweep configurations), the same stored rollout appears once per system, with
//! `rollout_id = <system>/<key>` so ids stay unique.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use agentscale_core::Benchmark;
use agentscale_core::submission::Submission;
use agentscale_core::trajectory::Trajectory;
use agentscale_core::usage::CostTotal;
use agentscale_core::vote::{GroupDecision, VoteKind};
use agentscale_report::tables::{
    GradeRow, RolloutRow, SelectionRow, SummaryRow, TimingRow, VoteRow,
};
use agentscale_report::{RunData, RunMeta, RunSource, SystemMeta};

/// The grade status of a verifier that could not run to a verdict (counted apart).
const VERIFIER_ERROR: &str = "verifier_error";

use crate::config::ExperimentConfig;
use crate::orchestrator::records::{
    GradeRecord, PipelineRecord, RolloutRecord, SelectionOutcome, StoredSummary,
};
use crate::orchestrator::{Orchestrator, RunError, SystemResult};
use crate::store::{Kind, artifact_path};

/// Where the builder reads artifacts.
trait Source {
    fn rollout(&self, key: &str) -> Option<RolloutRecord>;
    fn summary(&self, key: &str) -> Option<StoredSummary>;
    fn grade_of(&self, rollout_key: &str) -> Option<GradeRecord>;
}

/// Metadata of one system, as the tables need it.
#[derive(Debug, Clone)]
struct SysInfo {
    meta: SystemMeta,
    judge_model: String,
}

struct Build<'a> {
    source: &'a dyn Source,
    qualify: bool,
    data: RunData,
}

impl Build<'_> {
    fn rid(&self, system: &str, key: &str) -> String {
        if self.qualify {
            format!("{system}/{key}")
        } else {
            key.to_string()
        }
    }

    fn pipeline(&mut self, p: &PipelineRecord, sys: &SysInfo) {
        let system = p.system.as_str();
        let task = p.task_id.to_string();
        let repo = p.repo.clone();
        let mut summary_to_rollout: BTreeMap<String, String> = BTreeMap::new();
        let mut graded = BTreeSet::new();
        for it in &p.iterations {
            for (i, key) in it.rollouts.iter().enumerate() {
                let Some(r) = self.source.rollout(key) else {
                    self.data
                        .meta
                        .issues
                        .push(agentscale_report::tables::Issue {
                            file: format!("rollouts/{key}.json"),
                            problem: "named by a pipeline record but missing".into(),
                        });
                    continue;
                };
                let context = r
                    .spec
                    .context
                    .iter()
                    .map(|sid| {
                        let rk = summary_to_rollout.get(sid).cloned().unwrap_or_else(|| {
                            sid.strip_suffix("/summary").unwrap_or(sid).to_string()
                        });
                        self.rid(system, &rk)
                    })
                    .collect();
                self.data.rollouts.push(rollout_row(
                    &r,
                    system,
                    &task,
                    repo.clone(),
                    it.iteration,
                    i as u32,
                    self.rid(system, key),
                    context,
                    &sys.meta,
                ));
                self.data.timing.push(TimingRow {
                    system: system.to_string(),
                    task_id: task.clone(),
                    stage: "rollout".into(),
                    id: self.rid(system, key),
                    duration_ms: r.duration_ms,
                });
                if !graded.insert(key.clone()) {
                    continue;
                }
                if let Some(g) = self.source.grade_of(key) {
                    self.data.grades.push(GradeRow {
                        system: system.to_string(),
                        task_id: task.clone(),
                        rollout_id: self.rid(system, key),
                        status: g.grade.status.as_str().to_string(),
                        resolved: g.grade.resolved,
                        reward: (g.grade.benchmark == Benchmark::TerminalBench)
                            .then(|| g.grade.reward()),
                        infra: g.grade.status.is_infra(),
                        exception: None,
                        message: g.grade.message.clone(),
                    });
                    self.data.timing.push(TimingRow {
                        system: system.to_string(),
                        task_id: task.clone(),
                        stage: "grade".into(),
                        id: self.rid(system, key),
                        duration_ms: g.duration_ms,
                    });
                }
            }
            for skey in it.summaries.iter().flatten() {
                let Some(s) = self.source.summary(skey) else {
                    continue;
                };
                summary_to_rollout.insert(s.record.id.clone(), s.rollout_key.clone());
                self.data.texts.summaries.insert(
                    self.rid(system, &s.rollout_key),
                    agentscale_scaling::summary::summary_text(&s.record),
                );
                let (cost, unknown) = cost_cells(&s.record.cost);
                self.data.summaries.push(SummaryRow {
                    system: system.to_string(),
                    task_id: task.clone(),
                    iteration: it.iteration,
                    summary_id: self.rid(system, &s.record.id),
                    rollout_id: self.rid(system, &s.rollout_key),
                    model: s.record.model.clone(),
                    valid: s.record.is_valid(),
                    attempts: s.record.attempts.len() as u32,
                    infra: s.infra,
                    input_tokens: s.record.usage.input_tokens,
                    cached_input_tokens: s.record.usage.cached_input_tokens,
                    cache_write_tokens: s.record.usage.cache_write_tokens,
                    output_tokens: s.record.usage.output_tokens,
                    cost_usd: cost,
                    unknown_cost_calls: unknown,
                });
                self.data.timing.push(TimingRow {
                    system: system.to_string(),
                    task_id: task.clone(),
                    stage: "summary".into(),
                    id: self.rid(system, &s.record.id),
                    duration_ms: s.duration_ms,
                });
            }
            for s in it.select_k.iter().chain(it.diagnostic.iter()) {
                self.selection(system, &task, s, None, &sys.judge_model);
            }
        }
        if let Some(f) = &p.final_selection {
            self.selection(system, &task, f, p.answer.as_deref(), &sys.judge_model);
        }
    }

    fn selection(
        &mut self,
        system: &str,
        task: &str,
        s: &SelectionOutcome,
        answer: Option<&str>,
        judge: &str,
    ) {
        self.data.timing.push(TimingRow {
            system: system.to_string(),
            task_id: task.to_string(),
            stage: format!("selection:{}", s.stage),
            id: format!("iter{}", s.iteration),
            duration_ms: s.duration_ms,
        });
        if s.groups.is_empty() && s.byes.is_empty() {
            // a baseline pick over the whole pool
            let winner = s.winners.first().cloned();
            self.data.selections.push(SelectionRow {
                system: system.to_string(),
                task_id: task.to_string(),
                iteration: s.iteration,
                method: s.method.clone(),
                stage: s.stage.clone(),
                round: 1,
                group: 0,
                candidates: s.candidates.iter().map(|c| self.rid(system, c)).collect(),
                answer: answer.is_some() && winner.as_deref() == answer,
                winner: winner.map(|w| self.rid(system, &w)),
                winner_votes: 0,
                valid_votes: 0,
                tie_break: None,
            });
            return;
        }
        let last_round = s.groups.iter().map(|g| g.round).max();
        for g in &s.groups {
            let idx = g.members.iter().position(|m| *m == g.winner);
            let is_answer = answer == Some(g.winner.as_str())
                && Some(g.round) == last_round
                && s.stage == "final";
            self.data.selections.push(SelectionRow {
                system: system.to_string(),
                task_id: task.to_string(),
                iteration: s.iteration,
                method: s.method.clone(),
                stage: s.stage.clone(),
                round: g.round + 1,
                group: g.group,
                candidates: g.members.iter().map(|c| self.rid(system, c)).collect(),
                winner: Some(self.rid(system, &g.winner)),
                winner_votes: idx.and_then(|i| g.counts.get(i).copied()).unwrap_or(0),
                valid_votes: g.counts.iter().sum(),
                tie_break: match g.decision {
                    GroupDecision::TieBreakVote => Some("extra_vote".into()),
                    GroupDecision::Coin => Some("coin".into()),
                    GroupDecision::Majority | GroupDecision::EarlyStop => None,
                },
                answer: is_answer,
            });
        }
        let groups_in_round = |r: u32| s.groups.iter().filter(|g| g.round == r).count() as u32;
        for (round, c) in &s.byes {
            self.data.selections.push(SelectionRow {
                system: system.to_string(),
                task_id: task.to_string(),
                iteration: s.iteration,
                method: s.method.clone(),
                stage: s.stage.clone(),
                round: round + 1,
                group: groups_in_round(*round),
                candidates: vec![self.rid(system, c)],
                winner: Some(self.rid(system, c)),
                winner_votes: 0,
                valid_votes: 0,
                tie_break: None,
                answer: false,
            });
        }
        for v in &s.votes {
            let members = s
                .groups
                .iter()
                .find(|g| g.round == v.round && g.group == v.group)
                .map_or_else(|| v.shown.clone(), |g| g.members.clone());
            let (cost, unknown) = cost_cells(&v.cost);
            let row = VoteRow {
                system: system.to_string(),
                task_id: task.to_string(),
                iteration: s.iteration,
                round: v.round + 1,
                group: v.group,
                vote: v.vote_index,
                candidates: members.iter().map(|c| self.rid(system, c)).collect(),
                shown: v.shown.iter().map(|c| self.rid(system, c)).collect(),
                verdict_slot: v.verdict,
                chosen: v.chosen.as_ref().map(|c| self.rid(system, c)),
                valid: v.valid,
                tie_break: v.kind == VoteKind::TieBreak,
                model: judge.to_string(),
                attempts: v.attempts.len() as u32,
                infra: false,
                input_tokens: v.usage.input_tokens,
                cached_input_tokens: v.usage.cached_input_tokens,
                cache_write_tokens: v.usage.cache_write_tokens,
                output_tokens: v.usage.output_tokens,
                cost_usd: cost,
                unknown_cost_calls: unknown,
            };
            if let Some(a) = v.attempts.last() {
                self.data.texts.replies.insert(
                    agentscale_report::tables::Texts::vote_key(&row),
                    a.reply.clone(),
                );
            }
            self.data.votes.push(row);
        }
    }
}

fn cost_cells(c: &CostTotal) -> (Option<f64>, u64) {
    let known = c.calls.saturating_sub(c.unknown_calls);
    ((known > 0).then_some(c.known_usd), c.unknown_calls)
}

#[allow(clippy::too_many_arguments)]
fn rollout_row(
    r: &RolloutRecord,
    system: &str,
    task: &str,
    repo: Option<String>,
    iteration: u32,
    index: u32,
    rollout_id: String,
    context: Vec<String>,
    meta: &SystemMeta,
) -> RolloutRow {
    let t: &Trajectory = &r.trajectory;
    let (cost, unknown) = cost_cells(&t.cost);
    let patch_hash = match &t.submission {
        Some(Submission::Patch { patch, .. }) if !patch.trim().is_empty() => Some(
            agentscale_core::hash::short(
                &agentscale_core::hash::sha256_hex(
                    agentscale_scaling::patch::normalize_patch(patch)
                        .0
                        .as_bytes(),
                ),
                16,
            )
            .to_string(),
        ),
        _ => None,
    };
    RolloutRow {
        system: system.to_string(),
        task_id: task.to_string(),
        repo,
        iteration,
        index,
        rollout_id,
        model: meta.model.clone().unwrap_or_default(),
        agent: t.agent.clone(),
        exit_status: t.exit.as_ref().map_or_else(
            || "unfinished".to_string(),
            |e| e.status.as_str().to_string(),
        ),
        infra: r.infra,
        steps: Some(t.n_steps() as u32),
        input_tokens: Some(t.usage.input_tokens),
        cached_input_tokens: Some(t.usage.cached_input_tokens),
        cache_write_tokens: Some(t.usage.cache_write_tokens),
        output_tokens: Some(t.usage.output_tokens),
        cost_usd: cost,
        unknown_cost_calls: unknown,
        context,
        patch_hash,
    }
}

fn build(
    run_id: &str,
    seed: u64,
    systems: &BTreeMap<String, SysInfo>,
    pipelines: &[PipelineRecord],
    source: &dyn Source,
) -> RunData {
    let benchmarks: BTreeSet<Benchmark> = pipelines.iter().map(|p| p.benchmark).collect();
    let benchmark = (benchmarks.len() == 1)
        .then(|| benchmarks.into_iter().next())
        .flatten();
    let mut b = Build {
        source,
        qualify: systems.len() > 1,
        data: RunData::new(RunMeta {
            run_id: run_id.to_string(),
            benchmark,
            seed,
            source: RunSource {
                kind: "agentscale".into(),
                ..RunSource::default()
            },
            systems: systems.values().map(|s| s.meta.clone()).collect(),
            ..RunMeta::default()
        }),
    };
    for p in pipelines {
        if let Some(sys) = systems.get(&p.system) {
            b.pipeline(p, sys);
        }
    }
    let mut data = b.data;
    data.normalize();
    data
}

fn sys_info(name: &str, model: &str, label: &str, cfg: &ExperimentConfig) -> SysInfo {
    let sc = &cfg.scaling;
    let tc = crate::orchestrator::system::to_tournament_of(cfg);
    let mut extra = BTreeMap::new();
    extra.insert(
        "sweep_label".to_string(),
        serde_json::Value::String(label.to_string()),
    );
    let name_of = |v: serde_json::Value| v.as_str().map(str::to_string);
    SysInfo {
        meta: SystemMeta {
            name: name.to_string(),
            model: Some(model.to_string()),
            agent: serde_json::to_value(cfg.agent.kind).ok().and_then(name_of),
            method: serde_json::to_value(sc.method).ok().and_then(name_of),
            n: Some(sc.n),
            iterations: Some(sc.effective_iterations()),
            k: Some(sc.effective_k()),
            group_size: Some(sc.group_size),
            votes: Some(sc.votes),
            rounds: Some(
                (agentscale_scaling::rtv::schedule(
                    sc.n as usize,
                    sc.group_size as usize,
                    1,
                    tc.leftover,
                )
                .len() as u32)
                    .saturating_sub(1),
            ),
            context_mode: serde_json::to_value(sc.context).ok().and_then(name_of),
            extra,
        },
        judge_model: sc.judge_model.clone().unwrap_or_else(|| model.to_string()),
    }
}

struct RunSource2<'a>(&'a Orchestrator);

impl Source for RunSource2<'_> {
    fn rollout(&self, key: &str) -> Option<RolloutRecord> {
        self.0.store.peek(Kind::Rollout, key)
    }
    fn summary(&self, key: &str) -> Option<StoredSummary> {
        self.0.store.peek(Kind::Summary, key)
    }
    fn grade_of(&self, rollout_key: &str) -> Option<GradeRecord> {
        self.0
            .store
            .peek(Kind::Grade, &self.0.grade_key(rollout_key))
    }
}

/// The canonical tables of a run, from its store.
pub(crate) fn build_run_data(o: &Orchestrator) -> RunData {
    let systems: BTreeMap<String, SysInfo> = o
        .systems
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                sys_info(&s.name, &s.model, &s.label, &s.config),
            )
        })
        .collect();
    let mut pipelines = Vec::new();
    for t in &o.tasks {
        for s in &o.systems {
            let key = crate::orchestrator::pipeline::pipeline_key(s, t);
            if let Some(p) = o.store.peek::<PipelineRecord>(Kind::Selection, &key) {
                pipelines.push(p);
            }
        }
    }
    build(
        &o.run_id,
        o.cfg.base.experiment.seed,
        &systems,
        &pipelines,
        &RunSource2(o),
    )
}

/// Write `tables/` (CSV and Parquet, every canonical and derived table) and the reports.
pub(crate) fn write_tables(dir: &Path, data: &RunData) -> Result<Vec<String>, RunError> {
    let opts = agentscale_report::ReportOptions {
        build: agentscale_report::BuildOptions {
            seed: data.meta.seed,
            ..agentscale_report::BuildOptions::default()
        },
        ..agentscale_report::ReportOptions::default()
    };
    let written = agentscale_report::write_report(dir, data, &opts)
        .map_err(|e| RunError::Tables(e.to_string()))?;
    let mut names: Vec<String> = written
        .files
        .iter()
        .filter_map(|f| f.strip_prefix(dir).ok().map(|p| p.display().to_string()))
        .collect();
    names.sort();
    Ok(names)
}

/// One line per system: resolved answers over scored tasks.
pub(crate) fn system_results(data: &RunData) -> Vec<SystemResult> {
    let grades: BTreeMap<&str, &GradeRow> = data
        .grades
        .iter()
        .map(|g| (g.rollout_id.as_str(), g))
        .collect();
    let mut out = Vec::new();
    for s in &data.meta.systems {
        let answers: BTreeMap<&str, Option<&str>> = {
            let mut m = BTreeMap::new();
            for r in data.rollouts.iter().filter(|r| r.system == s.name) {
                m.entry(r.task_id.as_str()).or_insert(None);
            }
            for sel in data
                .selections
                .iter()
                .filter(|x| x.system == s.name && x.answer)
            {
                m.insert(sel.task_id.as_str(), sel.winner.as_deref());
            }
            // a single rollout per task is the answer
            for (task, ans) in &mut m {
                if ans.is_none() {
                    let rs: Vec<&RolloutRow> = data
                        .rollouts
                        .iter()
                        .filter(|r| r.system == s.name && r.task_id == *task)
                        .collect();
                    if let [one] = rs.as_slice() {
                        *ans = Some(one.rollout_id.as_str());
                    }
                }
            }
            m
        };
        let (mut resolved, mut scored, mut infra, mut no_answer, mut verifier) = (0, 0, 0, 0, 0);
        for (task, ans) in &answers {
            match ans.and_then(|a| grades.get(a)) {
                // Nothing was selected (or graded): an infrastructure failure when every
                // rollout of the task was one, else the task counts, unresolved.
                None if data
                    .rollouts
                    .iter()
                    .filter(|r| r.system == s.name && r.task_id == *task)
                    .all(|r| r.infra) =>
                {
                    infra += 1;
                }
                None => {
                    no_answer += 1;
                    scored += 1;
                }
                Some(g) if g.infra => infra += 1,
                Some(g) if g.status == VERIFIER_ERROR => verifier += 1,
                Some(g) => {
                    scored += 1;
                    if g.resolved {
                        resolved += 1;
                    }
                }
            }
        }
        let pass: Vec<bool> = data
            .rollouts
            .iter()
            .filter(|r| r.system == s.name)
            .filter_map(|r| grades.get(r.rollout_id.as_str()))
            .filter(|g| !g.infra && g.status != VERIFIER_ERROR)
            .map(|g| g.resolved)
            .collect();
        out.push(SystemResult {
            system: s.name.clone(),
            resolved,
            scored,
            rate: if scored > 0 {
                resolved as f64 / scored as f64
            } else {
                0.0
            },
            infra,
            verifier_errors: verifier,
            no_answer,
            mean_pass1: (!pass.is_empty())
                .then(|| pass.iter().filter(|p| **p).count() as f64 / pass.len() as f64),
        });
    }
    out
}

/// Errors of [`load_run`].
#[derive(Debug, thiserror::Error)]
pub enum LoadRunError {
    /// Not a run directory of ours.
    #[error("{}: {message}", path.display())]
    NotARun {
        /// The folder.
        path: PathBuf,
        /// What is missing.
        message: String,
    },
    /// Its config could not be read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

struct DirSource {
    dir: PathBuf,
    grades: BTreeMap<String, GradeRecord>,
}

fn read<T: serde::de::DeserializeOwned>(p: &Path) -> Option<T> {
    std::fs::read(p)
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
}

impl Source for DirSource {
    fn rollout(&self, key: &str) -> Option<RolloutRecord> {
        read(&artifact_path(&self.dir, Kind::Rollout, key))
    }
    fn summary(&self, key: &str) -> Option<StoredSummary> {
        read(&artifact_path(&self.dir, Kind::Summary, key))
    }
    fn grade_of(&self, rollout_key: &str) -> Option<GradeRecord> {
        self.grades.get(rollout_key).cloned()
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Load one of our run directories (`results/<experiment>/<run-id>/`) into the canonical
/// tables, from its artifacts (complete or not), without taking its lock: `agentscale report`
/// may read a run that is still going.
pub fn load_run(dir: &Path) -> Result<RunData, LoadRunError> {
    let run_toml = dir.join("run.toml");
    if !run_toml.is_file() {
        return Err(LoadRunError::NotARun {
            path: dir.to_path_buf(),
            message: "no run.toml: not an agentscale run directory (for imported runs and other \
                      folders with tables/, read the tables directly)"
                .into(),
        });
    }
    let cfg = crate::config::load(
        &run_toml,
        &crate::config::LoadOptions {
            env_has: std::sync::Arc::new(|_| true),
            check_files: false,
            ..crate::config::LoadOptions::default()
        },
    )?;
    let run_id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let several = cfg.points.len() > 1;
    let mut systems = BTreeMap::new();
    for p in &cfg.points {
        for m in p.config.models.iter().filter(|m| m.agent) {
            let name = if several {
                format!("{}@{}", m.name, p.label)
            } else {
                m.name.clone()
            };
            systems.insert(name.clone(), sys_info(&name, &m.name, &p.label, &p.config));
        }
    }
    let mut pipelines: Vec<PipelineRecord> = json_files(&dir.join(Kind::Selection.dir()))
        .iter()
        .filter_map(|p| read::<PipelineRecord>(p))
        .collect();
    pipelines.sort_by(|a, b| (&a.system, &a.task_id).cmp(&(&b.system, &b.task_id)));
    // systems made by `agentscale select`: their base system's settings, with the scaling
    // settings of the re-selection
    for p in &pipelines {
        if let Some(d) = &p.derived
            && !systems.contains_key(&p.system)
            && let Some(base) = systems.get(&d.base).cloned()
        {
            let mut cfg = cfg
                .points
                .iter()
                .find(|pt| {
                    base.meta.extra.get("sweep_label").and_then(|v| v.as_str())
                        == Some(pt.label.as_str())
                })
                .map_or_else(|| cfg.base.clone(), |pt| pt.config.clone());
            cfg.scaling = d.scaling.clone();
            let model = base.meta.model.clone().unwrap_or_default();
            let label = base
                .meta
                .extra
                .get("sweep_label")
                .and_then(|v| v.as_str())
                .unwrap_or("default")
                .to_string();
            systems.insert(p.system.clone(), sys_info(&p.system, &model, &label, &cfg));
        }
    }
    let mut grades = BTreeMap::new();
    for p in json_files(&dir.join(Kind::Grade.dir())) {
        if let Some(g) = read::<GradeRecord>(&p) {
            grades.entry(g.rollout_key.clone()).or_insert(g);
        }
    }
    let source = DirSource {
        dir: dir.to_path_buf(),
        grades,
    };
    Ok(build(
        &run_id,
        cfg.base.experiment.seed,
        &systems,
        &pipelines,
        &source,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(task: &str, id: &str, infra: bool) -> RolloutRow {
        RolloutRow {
            system: "s".into(),
            task_id: task.into(),
            rollout_id: id.into(),
            infra,
            ..RolloutRow::default()
        }
    }

    #[test]
    fn tasks_without_an_answer_stay_in_the_denominator_as_unresolved() {
        let mut data = RunData::default();
        data.meta.systems = vec![SystemMeta {
            name: "s".into(),
            ..SystemMeta::default()
        }];
        // t1: selected and resolved; t2: two rollouts, nothing selected; t3: every rollout
        // an infrastructure failure.
        data.rollouts = vec![
            rollout("t1", "a", false),
            rollout("t1", "b", false),
            rollout("t2", "c", false),
            rollout("t2", "d", false),
            rollout("t3", "e", true),
            rollout("t3", "f", true),
        ];
        data.selections = vec![SelectionRow {
            system: "s".into(),
            task_id: "t1".into(),
            winner: Some("a".into()),
            answer: true,
            ..SelectionRow::default()
        }];
        data.grades = vec![GradeRow {
            system: "s".into(),
            task_id: "t1".into(),
            rollout_id: "a".into(),
            resolved: true,
            ..GradeRow::default()
        }];
        let r = &system_results(&data)[0];
        assert_eq!((r.resolved, r.scored, r.infra, r.no_answer), (1, 2, 1, 1));
        assert!(
            (r.rate - 0.5).abs() < 1e-12,
            "1 of 2, not 1 of 1: {}",
            r.rate
        );
    }
}
