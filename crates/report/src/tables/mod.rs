//! The report crate's input: [`RunData`], the canonical tables of one run (typed rows in
//! [`input`]) plus its metadata ([`RunMeta`]), and the derived tables' row types
//! ([`derived`], [`paper`]).
//!
//! Producers: the experiment crate converts its run store into a `RunData`; the importers
//! ([`crate::import`]) convert other tools' outputs. Consumers: [`crate::build::build_all`]
//! computes every derived table; [`crate::io`] writes and reads `tables/`.

pub mod derived;
pub mod input;
pub mod paper;

use std::collections::{BTreeMap, BTreeSet};

use agentscale_core::Benchmark;
use serde::{Deserialize, Serialize};

pub use input::{GradeRow, RolloutRow, SelectionRow, SummaryRow, TimingRow, VoteRow};

/// The value of [`RunMeta::format`] written by this version.
pub const RUN_META_FORMAT: &str = "agentscale-run-tables/1";

/// What one system (configuration) of a run is. Only `name` is required; the numeric knobs
/// feed the plots (rate vs N, group size, votes, rounds).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SystemMeta {
    /// The system's name, as in the tables' `system` column.
    pub name: String,
    /// The agent's model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The agent kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The selection method (`rtv`, `pdr`, `none`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Rollouts per task and iteration (N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Iterations (T).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u32>,
    /// Context summaries per refined rollout (K).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    /// Tournament group size (G).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_size: Option<u32>,
    /// Judge votes per group (V).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<u32>,
    /// Tournament rounds of the final selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u32>,
    /// The PDR context mode (`single`, `random-k`, `select-k`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_mode: Option<String>,
    /// Anything else worth keeping (the resolved config, the source's own labels).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A problem met while producing the tables (a malformed file, a missing report), counted and
/// shown in the report instead of being skipped silently.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Issue {
    /// The file (or item) concerned.
    pub file: String,
    /// What was wrong and what was done about it.
    pub problem: String,
}

/// Where a run's tables came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunSource {
    /// `agentscale`, `swebench`, `mini-swe-agent`, `harbor` or `matrix`.
    pub kind: String,
    /// The path that was read (as given on the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Figures the source reports about itself (e.g. the official summary's counts, Harbor's
    /// job mean), kept to be compared with ours.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reported: BTreeMap<String, serde_json::Value>,
}

impl RunSource {
    /// The source's name for display: its kind, `agentscale` when unset.
    pub fn name(&self) -> &str {
        if self.kind.is_empty() {
            "agentscale"
        } else {
            &self.kind
        }
    }
}

/// A run's metadata, written as `tables/meta.json` (and as `run.json` by importers).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunMeta {
    /// [`RUN_META_FORMAT`].
    pub format: String,
    /// The run's id (the run directory's name for our runs).
    pub run_id: String,
    /// The benchmark, when the run has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<Benchmark>,
    /// The run's seed (also seeds the report's bootstrap unless overridden).
    #[serde(default)]
    pub seed: u64,
    /// Where the tables came from.
    pub source: RunSource,
    /// The systems of the run, sorted by name.
    #[serde(default)]
    pub systems: Vec<SystemMeta>,
    /// Problems met while producing the tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
}

/// The canonical tables of one run: the report crate's whole input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunData {
    /// Metadata.
    pub meta: RunMeta,
    /// One row per rollout.
    pub rollouts: Vec<RolloutRow>,
    /// One row per summary.
    pub summaries: Vec<SummaryRow>,
    /// One row per judge vote.
    pub votes: Vec<VoteRow>,
    /// One row per selection decision.
    pub selections: Vec<SelectionRow>,
    /// One row per graded rollout.
    pub grades: Vec<GradeRow>,
    /// Wall-clock durations.
    pub timing: Vec<TimingRow>,
    /// Summary texts and judge replies for the tournament view (not a table: empty for runs
    /// read from `tables/`).
    pub texts: Texts,
}

/// The texts behind the tables, for reading decisions in `report.html`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Texts {
    /// The rendered summary (as the judge saw it), by the summarized rollout's id.
    pub summaries: BTreeMap<String, String>,
    /// The judge's last reply of each vote, by [`Texts::vote_key`].
    pub replies: BTreeMap<String, String>,
}

impl Texts {
    /// The key of a vote's reply: its system, task, iteration, round, group and index.
    pub fn vote_key(v: &VoteRow) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            v.system, v.task_id, v.iteration, v.round, v.group, v.vote
        )
    }
}

impl RunData {
    /// An empty run with its metadata.
    pub fn new(meta: RunMeta) -> Self {
        Self {
            meta,
            ..Self::default()
        }
    }

    /// Sort every table by its key columns, sort the systems by name and add a
    /// [`SystemMeta`] for every system that appears in a table without one. Producers call
    /// this before writing, so that output never depends on the order work finished in.
    pub fn normalize(&mut self) {
        self.rollouts.sort_by(|a, b| {
            (&a.system, &a.task_id, a.iteration, a.index, &a.rollout_id).cmp(&(
                &b.system,
                &b.task_id,
                b.iteration,
                b.index,
                &b.rollout_id,
            ))
        });
        self.summaries.sort_by(|a, b| {
            (
                &a.system,
                &a.task_id,
                a.iteration,
                &a.rollout_id,
                &a.summary_id,
            )
                .cmp(&(
                    &b.system,
                    &b.task_id,
                    b.iteration,
                    &b.rollout_id,
                    &b.summary_id,
                ))
        });
        self.votes.sort_by(|a, b| {
            (&a.system, &a.task_id, a.iteration, a.round, a.group, a.vote).cmp(&(
                &b.system,
                &b.task_id,
                b.iteration,
                b.round,
                b.group,
                b.vote,
            ))
        });
        self.selections.sort_by(|a, b| {
            (
                &a.system,
                &a.task_id,
                a.iteration,
                &a.method,
                &a.stage,
                a.round,
                a.group,
            )
                .cmp(&(
                    &b.system,
                    &b.task_id,
                    b.iteration,
                    &b.method,
                    &b.stage,
                    b.round,
                    b.group,
                ))
        });
        self.grades.sort_by(|a, b| {
            (&a.system, &a.task_id, &a.rollout_id).cmp(&(&b.system, &b.task_id, &b.rollout_id))
        });
        self.timing.sort_by(|a, b| {
            (&a.system, &a.task_id, &a.stage, &a.id).cmp(&(&b.system, &b.task_id, &b.stage, &b.id))
        });
        let mut names: BTreeSet<String> =
            self.meta.systems.iter().map(|s| s.name.clone()).collect();
        let mut add = |n: &str, systems: &mut Vec<SystemMeta>| {
            if names.insert(n.to_string()) {
                systems.push(SystemMeta {
                    name: n.to_string(),
                    ..SystemMeta::default()
                });
            }
        };
        for r in &self.rollouts {
            add(&r.system, &mut self.meta.systems);
        }
        for g in &self.grades {
            add(&g.system, &mut self.meta.systems);
        }
        self.meta.systems.sort_by(|a, b| a.name.cmp(&b.name));
        self.meta.issues.sort();
        self.meta.issues.dedup();
        if self.meta.format.is_empty() {
            self.meta.format = RUN_META_FORMAT.to_string();
        }
    }

    /// Check the tables against each other: unique rollout ids, and every grade, summary,
    /// vote and selection referring to a known rollout. Returns one message per problem
    /// (empty when consistent); the report shows them.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut ids = BTreeSet::new();
        for r in &self.rollouts {
            if !ids.insert(r.rollout_id.as_str()) {
                problems.push(format!(
                    "rollouts: rollout_id {:?} appears more than once (task {})",
                    r.rollout_id, r.task_id
                ));
            }
        }
        let mut unknown = |table: &str, id: &str, task: &str| {
            if !ids.contains(id) {
                problems.push(format!(
                    "{table}: refers to rollout {id:?} (task {task}), which is not in rollouts"
                ));
            }
        };
        for g in &self.grades {
            unknown("grades", &g.rollout_id, &g.task_id);
        }
        for s in &self.summaries {
            unknown("summaries", &s.rollout_id, &s.task_id);
        }
        for s in &self.selections {
            for c in &s.candidates {
                unknown("selections", c, &s.task_id);
            }
        }
        for v in &self.votes {
            for c in &v.candidates {
                unknown("votes", c, &v.task_id);
            }
        }
        problems
    }
}

/// The repository of a SWE-bench instance id (`django__django-11099` → `django/django`), or
/// `None` when the id does not have that shape.
pub fn swe_repo(instance_id: &str) -> Option<String> {
    let (owner, rest) = instance_id.split_once("__")?;
    let (name, number) = rest.rsplit_once('-')?;
    if owner.is_empty() || name.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_from_instance_id() {
        assert_eq!(
            swe_repo("django__django-11099").as_deref(),
            Some("django/django")
        );
        assert_eq!(
            swe_repo("scikit-learn__scikit-learn-14141").as_deref(),
            Some("scikit-learn/scikit-learn")
        );
        assert_eq!(swe_repo("fix-git"), None);
        assert_eq!(swe_repo("a__b-x1"), None);
    }

    #[test]
    fn check_finds_dangling_references() {
        let mut d = RunData::default();
        d.rollouts.push(RolloutRow {
            rollout_id: "r1".into(),
            ..RolloutRow::default()
        });
        d.rollouts.push(RolloutRow {
            rollout_id: "r1".into(),
            ..RolloutRow::default()
        });
        d.grades.push(GradeRow {
            rollout_id: "r2".into(),
            task_id: "t".into(),
            ..GradeRow::default()
        });
        let p = d.check();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("more than once"));
        assert!(p[1].contains("\"r2\""));
    }
}
