//! Progress of a run, as typed data: the orchestrator never prints.
//!
//! The main type is [`Progress`]: lock-free counters per [`Stage`] (planned, done, reused from
//! the store, running, infrastructure failures, given up), read as a [`ProgressSnapshot`] by
//! whoever renders them (the CLI draws progress bars on stderr from snapshots), plus a stream
//! of [`ProgressEvent`]s for the things worth a line (warnings, a task finished, a failure).

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

/// A stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Agent rollouts.
    Rollouts,
    /// Structured summaries.
    Summaries,
    /// Judge votes.
    Votes,
    /// Grading.
    Grading,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 4] = [
        Stage::Rollouts,
        Stage::Summaries,
        Stage::Votes,
        Stage::Grading,
    ];

    /// The stage's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rollouts => "rollouts",
            Self::Summaries => "summaries",
            Self::Votes => "votes",
            Self::Grading => "grading",
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct Counters {
    planned: AtomicU64,
    done: AtomicU64,
    reused: AtomicU64,
    running: AtomicI64,
    infra_failures: AtomicU64,
    given_up: AtomicU64,
    interrupted: AtomicU64,
}

/// Counters of one stage at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StageSnapshot {
    /// The stage.
    pub stage: Stage,
    /// Items expected (an estimate while selection decides what later iterations need).
    pub planned: u64,
    /// Items finished (made now or reused).
    pub done: u64,
    /// Of those, items found in the store (made by an earlier process or another sweep
    /// configuration).
    pub reused: u64,
    /// Items in progress.
    pub running: u64,
    /// Attempts that failed because of the infrastructure (each was retried or given up).
    pub infra_failures: u64,
    /// Items given up after repeated infrastructure failures (recorded, counted apart),
    /// those found so in the store included.
    pub given_up: u64,
    /// Items cut off by a stop of the run (signal, budget): not stored, redone on resume.
    pub interrupted: u64,
}

/// Model-call totals at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CallSnapshot {
    /// Logical model calls (cache hits included).
    pub calls: u64,
    /// Calls served from the run's reply cache (no provider call).
    pub cache_hits: u64,
    /// Retries made by the retry layer (rate limits, server errors, timeouts).
    pub retries: u64,
    /// Calls that failed in the end.
    pub failed: u64,
    /// Dollars of known cost spent so far.
    pub cost_usd: f64,
    /// Calls whose cost is unknown.
    pub unknown_cost_calls: u64,
    /// Tokens spent (input and output, cache hits excluded).
    pub tokens: u64,
}

/// Everything at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressSnapshot {
    /// Milliseconds since the run started.
    pub elapsed_ms: u64,
    /// Per stage, in pipeline order.
    pub stages: Vec<StageSnapshot>,
    /// Model calls.
    pub calls: CallSnapshot,
    /// Tasks whose pipeline and grading finished.
    pub tasks_done: u64,
    /// Tasks in the run.
    pub tasks: u64,
}

impl ProgressSnapshot {
    /// The snapshot of one stage.
    pub fn stage(&self, s: Stage) -> StageSnapshot {
        self.stages
            .iter()
            .copied()
            .find(|x| x.stage == s)
            .unwrap_or(StageSnapshot {
                stage: s,
                planned: 0,
                done: 0,
                reused: 0,
                running: 0,
                infra_failures: 0,
                given_up: 0,
                interrupted: 0,
            })
    }
}

/// Something worth a line on the console.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProgressEvent {
    /// A warning (config, resume, infrastructure).
    Warning {
        /// The text.
        message: String,
    },
    /// An infrastructure failure that will be retried.
    InfraRetry {
        /// The stage.
        stage: Stage,
        /// What was being done (task, rollout).
        item: String,
        /// The error.
        error: String,
    },
    /// A task's pipeline and grading finished.
    TaskFinished {
        /// The task.
        task_id: String,
    },
    /// A task's pipeline failed (the run continues with the other tasks).
    TaskFailed {
        /// The task.
        task_id: String,
        /// Why.
        error: String,
    },
}

/// The progress of one run.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    stages: [Counters; 4],
    tasks: AtomicU64,
    tasks_done: AtomicU64,
    calls: Mutex<CallSnapshot>,
    events: Option<UnboundedSender<ProgressEvent>>,
}

impl Progress {
    /// Progress that sends events to `events` (or nowhere).
    pub fn new(events: Option<UnboundedSender<ProgressEvent>>) -> Self {
        Self {
            started: Instant::now(),
            stages: Default::default(),
            tasks: AtomicU64::new(0),
            tasks_done: AtomicU64::new(0),
            calls: Mutex::new(CallSnapshot::default()),
            events,
        }
    }

    fn c(&self, s: Stage) -> &Counters {
        &self.stages[s.idx()]
    }

    /// Expect `n` more items of a stage.
    pub fn plan(&self, s: Stage, n: u64) {
        self.c(s).planned.fetch_add(n, Ordering::Relaxed);
    }

    /// An item of a stage started.
    pub fn start(&self, s: Stage) {
        self.c(s).running.fetch_add(1, Ordering::Relaxed);
    }

    /// An item of a stage that was started finished (`given_up`: after repeated
    /// infrastructure failures).
    pub fn finish(&self, s: Stage, given_up: bool) {
        let c = self.c(s);
        c.running.fetch_sub(1, Ordering::Relaxed);
        c.done.fetch_add(1, Ordering::Relaxed);
        if given_up {
            c.given_up.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An item of a stage was found in the store.
    pub fn reused(&self, s: Stage) {
        let c = self.c(s);
        c.done.fetch_add(1, Ordering::Relaxed);
        c.reused.fetch_add(1, Ordering::Relaxed);
    }

    /// An item of a stage was found in the store as given up after `failures`
    /// infrastructure failures (its retries are spent): counted with the failures of this
    /// process, so that the totals match what the tables hold.
    pub fn reused_given_up(&self, s: Stage, failures: u64) {
        self.reused(s);
        let c = self.c(s);
        c.given_up.fetch_add(1, Ordering::Relaxed);
        c.infra_failures.fetch_add(failures, Ordering::Relaxed);
    }

    /// An item of a stage that was started was cut off by a stop of the run (not done, not
    /// a failure).
    pub fn interrupted(&self, s: Stage) {
        let c = self.c(s);
        c.running.fetch_sub(1, Ordering::Relaxed);
        c.interrupted.fetch_add(1, Ordering::Relaxed);
    }

    /// An attempt failed because of the infrastructure.
    pub fn infra_failure(&self, s: Stage, item: &str, error: &str) {
        self.c(s).infra_failures.fetch_add(1, Ordering::Relaxed);
        self.emit(ProgressEvent::InfraRetry {
            stage: s,
            item: item.to_string(),
            error: error.to_string(),
        });
    }

    /// Set the number of tasks.
    pub fn set_tasks(&self, n: u64) {
        self.tasks.store(n, Ordering::Relaxed);
    }

    /// A task finished.
    pub fn task_done(&self, task_id: &str) {
        self.tasks_done.fetch_add(1, Ordering::Relaxed);
        self.emit(ProgressEvent::TaskFinished {
            task_id: task_id.to_string(),
        });
    }

    /// Replace the model-call totals.
    pub fn set_calls(&self, calls: CallSnapshot) {
        if let Ok(mut c) = self.calls.lock() {
            *c = calls;
        }
    }

    /// Send an event.
    pub fn emit(&self, e: ProgressEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(e);
        }
    }

    /// A warning.
    pub fn warn(&self, message: impl Into<String>) {
        self.emit(ProgressEvent::Warning {
            message: message.into(),
        });
    }

    /// The counters now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            stages: Stage::ALL
                .iter()
                .map(|&s| {
                    let c = self.c(s);
                    StageSnapshot {
                        stage: s,
                        planned: c.planned.load(Ordering::Relaxed),
                        done: c.done.load(Ordering::Relaxed),
                        reused: c.reused.load(Ordering::Relaxed),
                        running: c.running.load(Ordering::Relaxed).max(0) as u64,
                        infra_failures: c.infra_failures.load(Ordering::Relaxed),
                        given_up: c.given_up.load(Ordering::Relaxed),
                        interrupted: c.interrupted.load(Ordering::Relaxed),
                    }
                })
                .collect(),
            calls: self.calls.lock().map(|c| *c).unwrap_or_default(),
            tasks_done: self.tasks_done.load(Ordering::Relaxed),
            tasks: self.tasks.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let p = Progress::new(Some(tx));
        p.plan(Stage::Rollouts, 3);
        p.start(Stage::Rollouts);
        p.infra_failure(Stage::Rollouts, "t/0", "container gone");
        p.finish(Stage::Rollouts, false);
        p.reused(Stage::Rollouts);
        p.reused_given_up(Stage::Rollouts, 3);
        p.start(Stage::Rollouts);
        p.interrupted(Stage::Rollouts);
        let s = p.snapshot().stage(Stage::Rollouts);
        assert_eq!(
            (s.planned, s.done, s.reused, s.running, s.infra_failures),
            (3, 3, 2, 0, 4)
        );
        assert_eq!((s.given_up, s.interrupted), (1, 1));
        assert!(matches!(
            rx.try_recv(),
            Ok(ProgressEvent::InfraRetry { .. })
        ));
    }
}
