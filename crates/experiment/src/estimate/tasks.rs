//! How many tasks of each benchmark a config selects, for the estimate.
//!
//! The selection is applied to the dataset when a copy is on this machine. When a registry
//! dataset has not been fetched yet, its published size is used instead (SWE-bench Verified:
//! 500, Terminal-Bench 2.0: 89), provided the `[dataset]` table filters nothing but a
//! `sample` — any other filter needs the data, and the error says to fetch it.

use std::collections::BTreeMap;

use agentscale_core::Benchmark;
use agentscale_datasets::{Registry, default_data_dir};

use crate::config::ExperimentConfig;
use crate::run::{PrepareError, load_tasks};

/// Published sizes of the registry's datasets, for configs whose data is not fetched yet.
pub const PUBLISHED_SIZES: &[(&str, usize)] =
    &[("swe-bench-verified", 500), ("terminal-bench-2.0", 89)];

/// The tasks a run would make.
#[derive(Debug, Clone, Default)]
pub struct TaskCount {
    /// Tasks per benchmark.
    pub by_benchmark: BTreeMap<Benchmark, usize>,
    /// The benchmark of each task id (empty when the count is a published size).
    pub ids: BTreeMap<String, Benchmark>,
    /// Where the count comes from.
    pub basis: String,
}

impl TaskCount {
    /// All tasks.
    pub fn total(&self) -> usize {
        self.by_benchmark.values().sum()
    }
}

/// Count the tasks `cfg` selects.
pub fn count(cfg: &ExperimentConfig) -> Result<TaskCount, PrepareError> {
    match load_tasks(cfg) {
        Ok(tasks) => {
            let mut out = TaskCount {
                basis: "the dataset's selected tasks".into(),
                ..TaskCount::default()
            };
            for t in &tasks {
                *out.by_benchmark.entry(t.benchmark()).or_insert(0) += 1;
                out.ids.insert(t.id().to_string(), t.benchmark());
            }
            Ok(out)
        }
        Err(PrepareError::Dataset(msg)) => published(cfg).ok_or(PrepareError::Dataset(msg)),
        Err(e) => Err(e),
    }
}

/// The published size of every named dataset that is not on this machine, when the
/// selection can be applied without the data.
fn published(cfg: &ExperimentConfig) -> Option<TaskCount> {
    let d = &cfg.dataset;
    let filtered = d.path.is_some()
        || !d.ids.is_empty()
        || !d.repos.is_empty()
        || !d.regex.is_empty()
        || !d.difficulty.is_empty()
        || !d.exclude.is_empty()
        || d.slice.is_some();
    if filtered {
        return None;
    }
    let registry = Registry::load(None).ok()?;
    let data_dir = default_data_dir();
    let mut out = TaskCount::default();
    let mut named = Vec::new();
    for name in d.name.as_ref()?.to_vec() {
        let entry = registry.get(&name)?;
        if entry.local_path(&data_dir).is_some() {
            // on this machine but unreadable: the load error is the one to show
            return None;
        }
        let size = PUBLISHED_SIZES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)?;
        *out.by_benchmark.entry(entry.benchmark).or_insert(0) += size;
        named.push(format!("{name}: {size}"));
    }
    let total = out.total();
    if let Some(s) = d.sample
        && s < total
    {
        // scale each benchmark's share to the sample, keeping the total exact
        let mut left = s;
        let n = out.by_benchmark.len();
        for (i, v) in out.by_benchmark.values_mut().enumerate() {
            let share = if i + 1 == n { left } else { (*v * s) / total };
            *v = share;
            left -= share;
        }
        named.push(format!("dataset.sample = {s}"));
    }
    out.basis = format!(
        "published size, the dataset is not fetched here ({}; `agentscale dataset fetch` \
         for the exact selection)",
        named.join(", ")
    );
    Some(out)
}
