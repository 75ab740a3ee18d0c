//! [`Index`]: the run's rows arranged for lookups (grades by rollout, pools by system, task and
//! iteration, selections by system and task), shared by every table builder.

use std::collections::{BTreeMap, HashMap};

use crate::tables::{GradeRow, RolloutRow, RunData, SelectionRow};

/// Rollouts of one (system, task), by iteration, each sorted by index.
pub type Pools<'a> = BTreeMap<u32, Vec<&'a RolloutRow>>;

/// Lookups over a [`RunData`].
pub struct Index<'a> {
    /// The data.
    pub data: &'a RunData,
    /// Grades by rollout id.
    pub grade: HashMap<&'a str, &'a GradeRow>,
    /// Rollouts by id.
    pub rollout: HashMap<&'a str, &'a RolloutRow>,
    /// system → task → iteration → rollouts.
    pub pools: BTreeMap<&'a str, BTreeMap<&'a str, Pools<'a>>>,
    /// system → task → selection rows.
    pub selections: BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a SelectionRow>>>,
    /// task → repository.
    pub repo: HashMap<&'a str, Option<&'a str>>,
}

impl<'a> Index<'a> {
    /// Build the index.
    pub fn new(data: &'a RunData) -> Self {
        let mut grade = HashMap::with_capacity(data.grades.len());
        for g in &data.grades {
            grade.insert(g.rollout_id.as_str(), g);
        }
        let mut rollout = HashMap::with_capacity(data.rollouts.len());
        let mut pools: BTreeMap<&str, BTreeMap<&str, Pools>> = BTreeMap::new();
        let mut repo = HashMap::new();
        for r in &data.rollouts {
            rollout.insert(r.rollout_id.as_str(), r);
            pools
                .entry(r.system.as_str())
                .or_default()
                .entry(r.task_id.as_str())
                .or_default()
                .entry(r.iteration)
                .or_default()
                .push(r);
            let e = repo.entry(r.task_id.as_str()).or_insert(None);
            if e.is_none() {
                *e = r.repo.as_deref();
            }
        }
        for tasks in pools.values_mut() {
            for iters in tasks.values_mut() {
                for v in iters.values_mut() {
                    v.sort_by(|a, b| (a.index, &a.rollout_id).cmp(&(b.index, &b.rollout_id)));
                }
            }
        }
        let mut selections: BTreeMap<&str, BTreeMap<&str, Vec<&SelectionRow>>> = BTreeMap::new();
        for s in &data.selections {
            selections
                .entry(s.system.as_str())
                .or_default()
                .entry(s.task_id.as_str())
                .or_default()
                .push(s);
        }
        Self {
            data,
            grade,
            rollout,
            pools,
            selections,
            repo,
        }
    }

    /// The outcome of a rollout for scoring: `Some(resolved)` when it is graded and neither
    /// it nor its grade is an infrastructure failure or a verifier error; `None` otherwise.
    pub fn pass(&self, rollout_id: &str) -> Option<bool> {
        let g = self.grade.get(rollout_id)?;
        if g.infra
            || g.status == super::leaderboard::VERIFIER_ERROR
            || self.rollout.get(rollout_id).is_some_and(|r| r.infra)
        {
            return None;
        }
        Some(g.resolved)
    }

    /// (scored rollouts, passing rollouts) in a pool.
    pub fn counts(&self, pool: &[&RolloutRow]) -> (u64, u64) {
        let mut n = 0;
        let mut c = 0;
        for r in pool {
            if let Some(p) = self.pass(&r.rollout_id) {
                n += 1;
                c += u64::from(p);
            }
        }
        (n, c)
    }

    /// Every system of the run: those in the metadata and those in the tables, sorted.
    pub fn systems(&self) -> Vec<&'a str> {
        let mut s: Vec<&str> = self
            .data
            .meta
            .systems
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        s.extend(self.pools.keys().copied());
        s.extend(self.data.grades.iter().map(|g| g.system.as_str()));
        s.sort_unstable();
        s.dedup();
        s
    }

    /// True when the tasks' repositories form real clusters (some repository has more than
    /// one task), so the bootstrap resamples repositories.
    pub fn clustered(&self) -> bool {
        let mut count: HashMap<&str, u32> = HashMap::new();
        for r in self.repo.values().flatten() {
            let e = count.entry(r).or_insert(0);
            *e += 1;
            if *e > 1 {
                return true;
            }
        }
        false
    }
}
