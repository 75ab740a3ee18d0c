//! The priced dry run (`agentscale run CONFIG --dry-run`): how many rollouts, summaries and
//! judge calls a run will make, the tokens they are expected to use, what that costs at the
//! price table's rates, and the wall-clock time the configured concurrency and rate limits
//! allow. Nothing is started: no API key, no Docker, no network.
//!
//! [`schedule`] counts the calls of one task's pipeline from the RTV code itself, [`basis`]
//! says how many tokens and seconds each kind of call takes (stored calls of earlier runs, or
//! documented defaults), [`tasks`] counts the tasks, and [`estimate`] puts them together.
//! Every figure of a [`StageEstimate`] is a whole-run total for its system; [`PerTask`] holds
//! the same per task. A cost is `None` (JSON `null`) when a price is unknown, never 0.

pub mod basis;
pub mod schedule;
pub mod tasks;

use std::fmt::Write as _;

use agentscale_core::Benchmark;
use agentscale_core::usage::Usage;
use agentscale_models::prices::{Price, PriceTable};
use serde::Serialize;

use crate::config::{ExperimentConfig, LoadedConfig, ModelSection, Provider};
use basis::{Figure, Figures, RoleModels, Source};
use schedule::StagePlan;
use tasks::TaskCount;

/// The estimate of a whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// One entry per system (agent model × sweep configuration).
    pub systems: Vec<SystemEstimate>,
    /// Tasks selected.
    pub tasks: usize,
    /// Where the task count comes from.
    pub tasks_basis: String,
    /// The whole run's cost in USD; `null` when any price is unknown.
    pub cost_usd: Option<f64>,
    /// The whole run's wall-clock time in seconds (systems share the sandbox and endpoints).
    pub wall_clock_s: f64,
    /// What the figures assume.
    pub notes: Vec<String>,
}

/// The estimate of one system.
#[derive(Debug, Clone, Serialize)]
pub struct SystemEstimate {
    /// The system's name (as in the run's tables).
    pub system: String,
    /// Tasks it runs.
    pub tasks: usize,
    /// Its stages in run order; every count is a total over its tasks.
    pub stages: Vec<StageEstimate>,
    /// The same, per task (averaged over benchmarks when the run mixes them).
    pub per_task: PerTask,
    /// Its cost in USD (decisive calls; extras excluded); `null` when a price is unknown.
    pub cost_usd: Option<f64>,
    /// A 95% interval of the cost when token figures were measured on two or more calls.
    pub cost_interval_usd: Option<[f64; 2]>,
    /// The wall-clock seconds the concurrency and rate limits allow.
    pub wall_clock_s: f64,
}

/// One stage of one system, totalled over its tasks.
#[derive(Debug, Clone, Serialize)]
pub struct StageEstimate {
    /// `rollouts` (an iteration's rollouts and their summaries), `select_k`, `diagnostic`
    /// or `final`.
    pub stage: &'static str,
    /// The iteration.
    pub iteration: u32,
    /// Agent rollouts.
    pub rollouts: u64,
    /// Summaries.
    pub summaries: u64,
    /// Decisive judge calls (V per tournament group).
    pub judge_calls: u64,
    /// The most calls tie-breaks and re-asks of invalid replies can add.
    pub extra_calls_max: u64,
    /// Input tokens expected (cached included).
    pub input_tokens: u64,
    /// Output tokens expected.
    pub output_tokens: u64,
    /// USD of the decisive calls; `null` when a price is unknown.
    pub cost_usd: Option<f64>,
    /// Where the token figures and prices come from.
    pub cost_basis: String,
}

/// One system's figures per task.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PerTask {
    /// Agent rollouts.
    pub rollouts: f64,
    /// Summaries.
    pub summaries: f64,
    /// Decisive judge calls.
    pub judge_calls: f64,
    /// The most extra calls (tie-breaks, re-asks).
    pub extra_calls_max: f64,
    /// Input tokens.
    pub input_tokens: f64,
    /// Output tokens.
    pub output_tokens: f64,
    /// USD; `null` when a price is unknown.
    pub cost_usd: Option<f64>,
}

/// A role's price and how the output names it.
#[derive(Debug, Clone)]
struct RolePrice {
    price: Option<Price>,
    label: String,
}

fn price_of(m: &ModelSection, table: &PriceTable) -> RolePrice {
    let api = m.model.clone().unwrap_or_else(|| m.name.clone());
    if m.provider == Provider::Scripted {
        return RolePrice {
            price: Some(Price {
                input: 0.0,
                cached_input: None,
                cache_write: None,
                output: 0.0,
            }),
            label: format!("{}: scripted, free", m.name),
        };
    }
    if let Some(p) = m.prices {
        return RolePrice {
            price: Some(p),
            label: format!(
                "{}: ${}/${} per Mtok in/out (config)",
                m.name, p.input, p.output
            ),
        };
    }
    match table.lookup(&api) {
        Some(p) => RolePrice {
            price: Some(p),
            label: format!(
                "{}: ${}/${} per Mtok in/out (price table {})",
                m.name, p.input, p.output, table.date
            ),
        },
        None => RolePrice {
            price: None,
            label: format!(
                "{}: no price for {api:?} (set [models.prices]; cost unknown)",
                m.name
            ),
        },
    }
}

/// The USD of `count` items of figure `f` at `p`.
fn cost(f: &Figure, count: f64, p: Option<Price>) -> Option<f64> {
    if count == 0.0 {
        return Some(0.0);
    }
    let p = p?;
    let usage = Usage {
        input_tokens: f.input.round() as u64,
        cached_input_tokens: f.cached_input.round() as u64,
        cache_write_tokens: 0,
        output_tokens: f.output.round() as u64,
    };
    Some(p.cost(&usage) * count)
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? + b?)
}

/// The roles' models of one system: (agent, summarizer, judge).
fn roles<'a>(
    c: &'a ExperimentConfig,
    agent: &'a ModelSection,
) -> (&'a ModelSection, &'a ModelSection, &'a ModelSection) {
    let find = |n: &Option<String>| {
        n.as_ref()
            .and_then(|n| c.models.iter().find(|m| &m.name == n))
            .unwrap_or(agent)
    };
    (
        agent,
        find(&c.scaling.summarizer_model),
        find(&c.scaling.judge_model),
    )
}

fn names(m: &ModelSection) -> Vec<String> {
    let mut v = vec![m.name.clone()];
    if let Some(api) = &m.model {
        v.push(api.clone());
    }
    v
}

/// Seconds `work` takes on `slots` parallel slots, or under the rate limits of `m`
/// (`calls` requests, `tokens` tokens), whichever is slower.
fn throughput(work_s: f64, slots: u32, calls: f64, tokens: f64, m: &ModelSection) -> f64 {
    let mut t = work_s / f64::from(slots.max(1));
    if let Some(rpm) = m.limits.requests_per_minute {
        t = t.max(calls / f64::from(rpm.max(1)) * 60.0);
    }
    if let Some(tpm) = m.limits.tokens_per_minute {
        t = t.max(tokens / tpm.max(1) as f64 * 60.0);
    }
    t
}

/// The sandbox slots of a config: the hosts' concurrency, else `sandbox.concurrency`.
fn sandbox_slots(c: &ExperimentConfig) -> u32 {
    if c.sandbox.hosts.is_empty() {
        c.sandbox.concurrency
    } else {
        c.sandbox
            .hosts
            .iter()
            .map(|h| h.concurrency.unwrap_or(c.sandbox.concurrency))
            .sum()
    }
}

/// Everything the estimate reads.
#[derive(Debug)]
pub struct EstimateInput<'a> {
    /// The loaded config.
    pub config: &'a LoadedConfig,
    /// The tasks it selects.
    pub tasks: &'a TaskCount,
    /// Earlier calls: the run directory's own, then `--from` runs (and a pilot's).
    pub sources: &'a [Source],
    /// The price table.
    pub prices: &'a PriceTable,
}

/// The agent models of one config (one system each).
fn agent_models(c: &ExperimentConfig) -> Vec<&ModelSection> {
    c.models.iter().filter(|m| m.agent).collect()
}

/// Estimate a run.
pub fn estimate(input: &EstimateInput<'_>) -> Estimate {
    let cfg = input.config;
    let several = cfg.points.len() > 1;
    let mut systems = Vec::new();
    let mut notes = Vec::new();
    for point in &cfg.points {
        let c = &point.config;
        for note in schedule::caveats(&c.scaling) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        for m in agent_models(c) {
            let name = if several {
                format!("{}@{}", m.name, point.label)
            } else {
                m.name.clone()
            };
            systems.push(system(input, c, m, name));
        }
    }
    notes.push(
        "cost_usd counts the decisive calls; extra_calls_max bounds what tie-breaks and \
         re-asks can add (each at most the cost of one judge or summary call)"
            .to_string(),
    );
    notes.push(
        "wall_clock_s: each kind of work divided by its parallel slots (sandbox and model \
         concurrency), or by the rate limits when those are slower, summed over kinds"
            .to_string(),
    );
    let cost_usd = systems
        .iter()
        .try_fold(0.0, |acc, s| s.cost_usd.map(|c| acc + c));
    Estimate {
        tasks: input.tasks.total(),
        tasks_basis: input.tasks.basis.clone(),
        cost_usd,
        wall_clock_s: systems.iter().map(|s| s.wall_clock_s).sum(),
        systems,
        notes,
    }
}

/// Per-stage totals of one benchmark's tasks.
struct Part {
    stages: Vec<StageEstimate>,
    half_width: f64,
    wall: f64,
}

fn system(
    input: &EstimateInput<'_>,
    c: &ExperimentConfig,
    agent: &ModelSection,
    name: String,
) -> SystemEstimate {
    let (am, sm, jm) = roles(c, agent);
    let prices = [am, sm, jm].map(|m| price_of(m, input.prices));
    let models = RoleModels {
        agent: names(am),
        summarizer: names(sm),
        judge: names(jm),
    };
    let plan = schedule::plan(&c.scaling);
    let mut parts = Vec::new();
    for (&b, &n) in &input.tasks.by_benchmark {
        let figs = basis::figures(
            b,
            c.scaling.group_size,
            &models,
            input.sources,
            &input.tasks.ids,
        );
        parts.push(part(c, &plan, &figs, &prices, [am, sm, jm], b, n));
    }
    let tasks = input.tasks.total();
    let mut stages: Vec<StageEstimate> = Vec::new();
    for p in &parts {
        for (i, s) in p.stages.iter().enumerate() {
            match stages.get_mut(i) {
                Some(t) => {
                    t.rollouts += s.rollouts;
                    t.summaries += s.summaries;
                    t.judge_calls += s.judge_calls;
                    t.extra_calls_max += s.extra_calls_max;
                    t.input_tokens += s.input_tokens;
                    t.output_tokens += s.output_tokens;
                    t.cost_usd = add(t.cost_usd, s.cost_usd);
                    if !t.cost_basis.contains(&s.cost_basis) {
                        t.cost_basis = format!("{}; {}", t.cost_basis, s.cost_basis);
                    }
                }
                None => stages.push(s.clone()),
            }
        }
    }
    let cost_usd = stages
        .iter()
        .try_fold(0.0, |acc, s| s.cost_usd.map(|c| acc + c));
    let half: f64 = parts.iter().map(|p| p.half_width).sum();
    let per = |f: fn(&StageEstimate) -> u64| {
        stages.iter().map(f).sum::<u64>() as f64 / tasks.max(1) as f64
    };
    SystemEstimate {
        system: name,
        tasks,
        per_task: PerTask {
            rollouts: per(|s| s.rollouts),
            summaries: per(|s| s.summaries),
            judge_calls: per(|s| s.judge_calls),
            extra_calls_max: per(|s| s.extra_calls_max),
            input_tokens: per(|s| s.input_tokens),
            output_tokens: per(|s| s.output_tokens),
            cost_usd: cost_usd.map(|c| c / tasks.max(1) as f64),
        },
        cost_interval_usd: cost_usd
            .filter(|_| half > 0.0)
            .map(|c| [(c - half).max(0.0), c + half]),
        cost_usd,
        wall_clock_s: parts.iter().map(|p| p.wall).sum(),
        stages,
    }
}

/// The stages of `n` tasks of benchmark `b`.
fn part(
    c: &ExperimentConfig,
    plan: &[StagePlan],
    figs: &Figures,
    prices: &[RolePrice; 3],
    models: [&ModelSection; 3],
    b: Benchmark,
    n: usize,
) -> Part {
    let nf = n as f64;
    let [agent_p, summ_p, judge_p] = prices;
    let mut stages = Vec::new();
    let mut half_width = 0.0;
    // work seconds, calls and tokens per role, for the wall clock
    let mut work = [(0.0f64, 0.0f64, 0.0f64); 3];
    let mut graded = 0.0;
    for s in plan {
        let rollout = if s.iteration == 0 {
            &figs.rollout_first
        } else {
            &figs.rollout_refined
        };
        let items = [
            (rollout, s.rollouts as f64 * nf, agent_p.price, 0usize),
            (&figs.summary, s.summaries as f64 * nf, summ_p.price, 1),
            (&figs.vote, s.judge_calls as f64 * nf, judge_p.price, 2),
        ];
        let mut input = 0.0;
        let mut output = 0.0;
        let mut stage_cost = Some(0.0);
        let mut basis = Vec::new();
        for (f, count, price, role) in items {
            if count == 0.0 {
                continue;
            }
            input += (f.input + f.cached_input) * count;
            output += f.output * count;
            let c = cost(f, count, price);
            stage_cost = add(stage_cost, c);
            if let (Some(c), Some(sd)) = (c, f.tokens_sd) {
                let tokens = f.input + f.cached_input + f.output;
                if tokens > 0.0 && f.samples > 1 {
                    // 95% interval of the mean, scaled to the count
                    half_width += 1.96 * sd / (f.samples as f64).sqrt() * c / tokens;
                }
            }
            let w = &mut work[role];
            w.0 += f.seconds * count;
            w.1 += f.calls * count;
            w.2 += (f.input + f.cached_input + f.output) * count;
            let key = ["rollout", "summary", "vote"][role];
            basis.push(format!(
                "{key} tokens {}; {}",
                figs.basis.get(key).map_or("", String::as_str),
                prices[role].label
            ));
        }
        graded += s.rollouts as f64 * nf;
        stages.push(StageEstimate {
            stage: s.kind.as_str(),
            iteration: s.iteration,
            rollouts: s.rollouts * n as u64,
            summaries: s.summaries * n as u64,
            judge_calls: s.judge_calls * n as u64,
            extra_calls_max: s.extra_calls_max * n as u64,
            input_tokens: input.round() as u64,
            output_tokens: output.round() as u64,
            cost_usd: stage_cost,
            cost_basis: if basis.is_empty() {
                "no model calls".to_string()
            } else {
                format!("{b}: {}", basis.join(" | "))
            },
        });
    }
    let rollout_slots = sandbox_slots(c).min(models[0].limits.max_concurrent.max(1));
    let mut wall = 0.0;
    for (role, (secs, calls, tokens)) in work.iter().enumerate() {
        let slots = if role == 0 {
            rollout_slots
        } else {
            models[role].limits.max_concurrent
        };
        wall += throughput(*secs, slots, *calls, *tokens, models[role]);
    }
    if c.grading.scope == crate::config::GradeScope::All {
        wall += graded * figs.grade_seconds / f64::from(c.grading.concurrency.max(1));
    }
    Part {
        stages,
        half_width,
        wall,
    }
}

/// The estimate as text for a terminal.
pub fn render_text(e: &Estimate) -> String {
    let mut out = String::new();
    let usd = |c: Option<f64>| c.map_or_else(|| "unknown".to_string(), |c| format!("${c:.2}"));
    let _ = writeln!(out, "dry run: {} tasks ({})", e.tasks, e.tasks_basis);
    for s in &e.systems {
        let _ = writeln!(
            out,
            "\n{}: {} · {} per task · wall clock ~{}",
            s.system,
            usd(s.cost_usd),
            usd(s.per_task.cost_usd),
            duration(s.wall_clock_s)
        );
        if let Some([lo, hi]) = s.cost_interval_usd {
            let _ = writeln!(out, "  95% interval ${lo:.2} – ${hi:.2}");
        }
        let _ = writeln!(
            out,
            "  {:<18} {:>9} {:>9} {:>11} {:>9} {:>14} {:>12} {:>11}",
            "stage",
            "rollouts",
            "summaries",
            "judge",
            "extra ≤",
            "input tokens",
            "output tok.",
            "cost"
        );
        for st in &s.stages {
            let _ = writeln!(
                out,
                "  {:<18} {:>9} {:>9} {:>11} {:>9} {:>14} {:>12} {:>11}",
                format!("{} (it {})", st.stage, st.iteration),
                st.rollouts,
                st.summaries,
                st.judge_calls,
                st.extra_calls_max,
                st.input_tokens,
                st.output_tokens,
                usd(st.cost_usd)
            );
        }
        let mut bases: Vec<&str> = Vec::new();
        for st in &s.stages {
            for part in st.cost_basis.split(" | ") {
                if !bases.contains(&part) {
                    bases.push(part);
                }
            }
        }
        for b in bases {
            let _ = writeln!(out, "  basis: {b}");
        }
    }
    let _ = writeln!(
        out,
        "\nwhole run: {} · wall clock ~{}",
        usd(e.cost_usd),
        duration(e.wall_clock_s)
    );
    for n in &e.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// `3 d 4 h`, `2 h 5 min`, `40 s`.
fn duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}
