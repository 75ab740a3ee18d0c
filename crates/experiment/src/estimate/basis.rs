//! Token and time figures per kind of call, and where they come from.
//!
//! In order of preference (the first with data wins, per kind of call):
//! 1. calls stored in the run directory, or in earlier runs given with `--from RUN...` (or a
//!    pilot's run directory), of the same model (agent, summarizer or judge) and benchmark;
//! 2. the documented defaults of [`defaults`], taken from published figures.
//!
//! The defaults (README, "Dry run"):
//! - a SWE-bench rollout in iteration 0: 27.5 model calls, 264,152 input and 4,906 output
//!   tokens — the mean of the 10 mini-swe-agent v1.15.0 (Gemini 3 Pro) trajectories published
//!   with the SWE-bench bash-only leaderboard; ~10 s per step;
//! - a refined rollout (iteration ≥ 1): the same scaled by 14.3 / 41.2, the paper's mean steps
//!   per rollout in iteration 1 vs 0 (Claude 4.5 Opus, SWE-bench Verified);
//! - a Terminal-Bench rollout: no published per-rollout token figure is at hand, so the
//!   SWE-bench figure is used (the output says so);
//! - a summary: 25,000 input tokens (the serialized trajectory, truncated) and 1,500 output
//!   tokens (the summary JSON), ~40 s;
//! - a judge vote: 1,500 tokens of instructions plus 1,500 per candidate summary in the group,
//!   800 output tokens (reasoning and verdict), ~20 s;
//! - grading: ~120 s per SWE-bench rollout, ~60 s per Terminal-Bench rollout.

use std::collections::BTreeMap;

use agentscale_core::Benchmark;
use agentscale_report::RunData;
use serde::Serialize;

/// Mean figures of one kind of call (one rollout, one summary, one vote).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Figure {
    /// Uncached input tokens.
    pub input: f64,
    /// Input tokens read from the prompt cache.
    pub cached_input: f64,
    /// Output tokens.
    pub output: f64,
    /// Model calls per item (steps of a rollout; 1 for summaries and votes).
    pub calls: f64,
    /// Seconds per item.
    pub seconds: f64,
    /// Items the means come from (0: a default).
    pub samples: usize,
    /// The standard deviation of the items' total tokens (input + output), when measured.
    pub tokens_sd: Option<f64>,
}

/// The figures for one system on one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// A rollout of iteration 0.
    pub rollout_first: Figure,
    /// A refined rollout (iteration ≥ 1).
    pub rollout_refined: Figure,
    /// A summary.
    pub summary: Figure,
    /// A judge vote.
    pub vote: Figure,
    /// Seconds to grade one rollout.
    pub grade_seconds: f64,
    /// Where each figure comes from, one phrase per kind.
    pub basis: BTreeMap<&'static str, String>,
}

/// The paper's mean steps per rollout in iteration 1 over iteration 0 (Opus, SWE-V).
const REFINED_RATIO: f64 = 14.3 / 41.2;

/// The documented defaults (see the module docs) for `benchmark`, judging groups of `group`.
pub fn defaults(benchmark: Benchmark, group: u32) -> Figures {
    let first = Figure {
        input: 264_152.0,
        cached_input: 0.0,
        output: 4_906.0,
        calls: 27.5,
        seconds: 27.5 * 10.0,
        samples: 0,
        tokens_sd: None,
    };
    let refined = Figure {
        input: first.input * REFINED_RATIO,
        output: first.output * REFINED_RATIO,
        calls: first.calls * REFINED_RATIO,
        seconds: first.seconds * REFINED_RATIO,
        ..first
    };
    let one = |input: f64, output: f64, seconds: f64| Figure {
        input,
        cached_input: 0.0,
        output,
        calls: 1.0,
        seconds,
        samples: 0,
        tokens_sd: None,
    };
    let rollout_basis = match benchmark {
        Benchmark::SweBench => {
            "default: mean of 10 published mini-swe-agent v1.15.0 SWE-bench Verified \
             trajectories; refined rollouts x14.3/41.2 (the paper's steps ratio)"
        }
        Benchmark::TerminalBench => {
            "default: no published Terminal-Bench figure at hand, the SWE-bench one is used \
             (mean of 10 published mini-swe-agent v1.15.0 trajectories)"
        }
    };
    let mut basis = BTreeMap::new();
    basis.insert("rollout", rollout_basis.to_string());
    basis.insert(
        "summary",
        "default: 25,000 input tokens (truncated trajectory), 1,500 output tokens".to_string(),
    );
    basis.insert(
        "vote",
        format!(
            "default: 1,500 input tokens + 1,500 per summary (group of {group}), 800 output \
             tokens"
        ),
    );
    Figures {
        rollout_first: first,
        rollout_refined: refined,
        summary: one(25_000.0, 1_500.0, 40.0),
        vote: one(1_500.0 + 1_500.0 * f64::from(group), 800.0, 20.0),
        grade_seconds: match benchmark {
            Benchmark::SweBench => 120.0,
            Benchmark::TerminalBench => 60.0,
        },
        basis,
    }
}

/// One earlier run's tables, named for the output.
#[derive(Debug)]
pub struct Source {
    /// How the output names it (a path).
    pub label: String,
    /// Its tables.
    pub data: RunData,
}

/// The model names a role may appear under in tables (configured name and API id).
#[derive(Debug, Clone, Default)]
pub struct RoleModels {
    /// The agent model.
    pub agent: Vec<String>,
    /// The summarizer model.
    pub summarizer: Vec<String>,
    /// The judge model.
    pub judge: Vec<String>,
}

#[derive(Default)]
struct Acc {
    input: Vec<f64>,
    cached: Vec<f64>,
    output: Vec<f64>,
    calls: Vec<f64>,
    seconds: Vec<f64>,
    from: Vec<String>,
}

impl Acc {
    fn push(&mut self, input: u64, cached: u64, output: u64, calls: f64, seconds: Option<f64>) {
        self.input.push(input as f64);
        self.cached.push(cached as f64);
        self.output.push(output as f64);
        self.calls.push(calls);
        if let Some(s) = seconds {
            self.seconds.push(s);
        }
    }

    fn note(&mut self, label: &str) {
        if !self.from.iter().any(|f| f == label) {
            self.from.push(label.to_string());
        }
    }

    fn figure(&self, default: Figure) -> Option<Figure> {
        let n = self.input.len();
        if n == 0 {
            return None;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let totals: Vec<f64> = (0..n)
            .map(|i| self.input[i] + self.cached[i] + self.output[i])
            .collect();
        let m = mean(&totals);
        let sd = (n > 1)
            .then(|| (totals.iter().map(|t| (t - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
        Some(Figure {
            input: mean(&self.input),
            cached_input: mean(&self.cached),
            output: mean(&self.output),
            calls: mean(&self.calls),
            seconds: if self.seconds.is_empty() {
                default.seconds
            } else {
                mean(&self.seconds)
            },
            samples: n,
            tokens_sd: sd,
        })
    }
}

fn benchmark_matches(
    data: &RunData,
    b: Benchmark,
    task_benchmarks: &BTreeMap<String, Benchmark>,
) -> impl Fn(&str) -> bool {
    let run_b = data.meta.benchmark;
    let map = task_benchmarks.clone();
    move |task: &str| match map.get(task) {
        Some(tb) => *tb == b,
        None => run_b.is_none_or(|rb| rb == b),
    }
}

/// Figures for one system on `benchmark`: stored calls of the same models where there are
/// some, else the defaults. `task_benchmarks` maps task ids to their benchmark, for runs that
/// mix benchmarks.
pub fn figures(
    benchmark: Benchmark,
    group: u32,
    models: &RoleModels,
    sources: &[Source],
    task_benchmarks: &BTreeMap<String, Benchmark>,
) -> Figures {
    let mut out = defaults(benchmark, group);
    let (mut first, mut refined, mut summ, mut vote) = (
        Acc::default(),
        Acc::default(),
        Acc::default(),
        Acc::default(),
    );
    for s in sources {
        let d = &s.data;
        let on_benchmark = benchmark_matches(d, benchmark, task_benchmarks);
        let durations: BTreeMap<(&str, &str), f64> = d
            .timing
            .iter()
            .map(|t| {
                (
                    (t.stage.as_str(), t.id.as_str()),
                    t.duration_ms as f64 / 1000.0,
                )
            })
            .collect();
        for r in &d.rollouts {
            if r.infra || !models.agent.contains(&r.model) || !on_benchmark(&r.task_id) {
                continue;
            }
            let (Some(input), Some(output)) = (r.input_tokens, r.output_tokens) else {
                continue;
            };
            let acc = if r.iteration == 0 {
                &mut first
            } else {
                &mut refined
            };
            let seconds = durations.get(&("rollout", r.rollout_id.as_str())).copied();
            acc.push(
                input,
                r.cached_input_tokens.unwrap_or(0),
                output,
                f64::from(r.steps.unwrap_or(0)),
                seconds,
            );
            acc.note(&s.label);
        }
        for r in &d.summaries {
            if r.infra || !models.summarizer.contains(&r.model) || !on_benchmark(&r.task_id) {
                continue;
            }
            let seconds = durations.get(&("summary", r.summary_id.as_str())).copied();
            summ.push(
                r.input_tokens,
                r.cached_input_tokens,
                r.output_tokens,
                f64::from(r.attempts),
                seconds,
            );
            summ.note(&s.label);
        }
        for r in &d.votes {
            if r.infra || !models.judge.contains(&r.model) || !on_benchmark(&r.task_id) {
                continue;
            }
            vote.push(
                r.input_tokens,
                r.cached_input_tokens,
                r.output_tokens,
                f64::from(r.attempts),
                None,
            );
            vote.note(&s.label);
        }
    }
    let stored =
        |acc: &Acc, what: &str, n: usize| format!("stored: {n} {what} in {}", acc.from.join(", "));
    if let Some(f) = first.figure(out.rollout_first) {
        out.rollout_first = f;
        // refined rollouts measured, or scaled from the first ones by the paper's ratio
        out.rollout_refined = refined.figure(out.rollout_refined).unwrap_or(Figure {
            input: f.input * REFINED_RATIO,
            cached_input: f.cached_input * REFINED_RATIO,
            output: f.output * REFINED_RATIO,
            calls: f.calls * REFINED_RATIO,
            seconds: f.seconds * REFINED_RATIO,
            ..f
        });
        let refined_note = if refined.input.is_empty() {
            "; refined ones x14.3/41.2 (the paper's steps ratio)".to_string()
        } else {
            format!(" and {} refined ones", refined.input.len())
        };
        out.basis.insert(
            "rollout",
            format!("{}{refined_note}", stored(&first, "rollouts", f.samples)),
        );
    }
    if let Some(f) = summ.figure(out.summary) {
        out.summary = f;
        out.basis
            .insert("summary", stored(&summ, "summaries", f.samples));
    }
    if let Some(f) = vote.figure(out.vote) {
        out.vote = f;
        out.basis.insert("vote", stored(&vote, "votes", f.samples));
    }
    out
}

/// Load an earlier run's tables: an agentscale run directory (rebuilt from its store), or
/// any folder with `tables/`.
pub fn load_source(dir: &std::path::Path) -> Result<Source, String> {
    let data = if dir.join("run.toml").is_file() {
        crate::tables::load_run(dir).map_err(|e| e.to_string())?
    } else {
        agentscale_report::io::read_run_dir(dir).map_err(|e| e.to_string())?
    };
    Ok(Source {
        label: dir.display().to_string(),
        data,
    })
}
