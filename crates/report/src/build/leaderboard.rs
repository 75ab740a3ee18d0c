//! Answers, the leaderboard (rates with bootstrap CIs and McNemar tests against the best),
//! the per-configuration summary, pass@k and the failure counts.

use std::collections::{BTreeMap, BTreeSet};

use agentscale_core::rng::Rng;

use super::BuildOptions;
use super::index::Index;
use crate::stats::{bootstrap_mean, mcnemar, paired_bootstrap_diff, pass_at_k, pass_hat_k};
use crate::tables::derived::{AnswerRow, ConfigRow, FailureRow, LeaderboardRow, PassAtKRow};

/// The grade status of a verifier that could not run to a verdict: not scored, counted apart.
pub const VERIFIER_ERROR: &str = "verifier_error";

/// Grade statuses that are neither resolved nor unresolved but still the model's outcome.
fn is_model_error(status: &str) -> bool {
    !matches!(
        status,
        "resolved" | "unresolved" | "ungraded" | "no_answer" | "infra_error" | VERIFIER_ERROR
    )
}

/// Each system's answer on each of its tasks.
pub fn answers(ix: &Index) -> Vec<AnswerRow> {
    let mut out = Vec::new();
    for system in ix.systems() {
        let mut tasks: BTreeSet<&str> = BTreeSet::new();
        if let Some(p) = ix.pools.get(system) {
            tasks.extend(p.keys().copied());
        }
        tasks.extend(
            ix.data
                .grades
                .iter()
                .filter(|g| g.system == system)
                .map(|g| g.task_id.as_str()),
        );
        for task in tasks {
            let sel = ix
                .selections
                .get(system)
                .and_then(|m| m.get(task))
                .and_then(|rows| {
                    rows.iter()
                        .filter(|s| s.answer)
                        .max_by_key(|s| (s.iteration, s.round))
                });
            let pools = ix.pools.get(system).and_then(|m| m.get(task));
            let chosen: Option<&str> = match sel {
                Some(s) => s.winner.as_deref(),
                None => pools.and_then(|p| {
                    // One rollout: it; several without a selection: the first of the last
                    // iteration (the first-sample rule).
                    p.values()
                        .next_back()
                        .and_then(|v| v.first())
                        .map(|r| r.rollout_id.as_str())
                }),
            };
            let grade_only = if pools.is_none() {
                ix.data
                    .grades
                    .iter()
                    .find(|g| g.system == system && g.task_id == task)
            } else {
                None
            };
            let rid = chosen.or(grade_only.map(|g| g.rollout_id.as_str()));
            let mut row = AnswerRow {
                system: system.to_string(),
                task_id: task.to_string(),
                repo: ix.repo.get(task).copied().flatten().map(str::to_string),
                rollout_id: rid.map(str::to_string),
                ..AnswerRow::default()
            };
            match rid {
                None => row.status = "no_answer".into(),
                Some(id) => {
                    let rollout_infra = ix.rollout.get(id).is_some_and(|r| r.infra);
                    match ix.grade.get(id).copied().or(grade_only) {
                        Some(g) => {
                            row.status.clone_from(&g.status);
                            row.resolved = g.resolved && !g.infra && !rollout_infra;
                            row.reward = g.reward;
                            row.infra = g.infra || rollout_infra;
                            row.exception.clone_from(&g.exception);
                        }
                        None if rollout_infra => {
                            row.status = "infra_error".into();
                            row.infra = true;
                        }
                        None => row.status = "ungraded".into(),
                    }
                }
            }
            out.push(row);
        }
    }
    out
}

fn exceptions_text(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Exceptions by kind and the Harbor-style mean reward of a system: over all its graded
/// rollouts when it has no answer selections (each trial counts, as in Harbor's job mean),
/// else over its answers.
fn reward_and_exceptions(
    ix: &Index,
    system: &str,
    answers: &[&AnswerRow],
) -> (Option<f64>, BTreeMap<String, u64>) {
    let has_selection = ix
        .selections
        .get(system)
        .is_some_and(|m| m.values().flatten().any(|s| s.answer));
    let mut rewards: Vec<(Option<f64>, bool)> = Vec::new();
    let mut exc: BTreeMap<String, u64> = BTreeMap::new();
    if has_selection {
        for a in answers {
            if a.status != "ungraded" && a.status != "no_answer" && a.status != VERIFIER_ERROR {
                rewards.push((a.reward, a.resolved));
            }
            if let Some(e) = &a.exception {
                *exc.entry(e.clone()).or_default() += 1;
            }
        }
    } else {
        for g in ix
            .data
            .grades
            .iter()
            .filter(|g| g.system == system && g.status != VERIFIER_ERROR)
        {
            rewards.push((g.reward, g.resolved && !g.infra));
            if let Some(e) = &g.exception {
                *exc.entry(e.clone()).or_default() += 1;
            }
        }
    }
    // A missing reward is 1 for a resolved task and 0 otherwise (`Grade::reward`), so a trial
    // that never reached its verifier counts 0, as in Harbor's job mean.
    let mean = if rewards.iter().any(|r| r.0.is_some()) {
        Some(
            rewards
                .iter()
                .map(|&(r, ok)| r.unwrap_or(if ok { 1.0 } else { 0.0 }))
                .sum::<f64>()
                / rewards.len() as f64,
        )
    } else {
        None
    };
    (mean, exc)
}

/// The leaderboard, sorted by rate (then resolved count, then name).
pub fn leaderboard(
    ix: &Index,
    answers: &[AnswerRow],
    cost: &BTreeMap<String, (Option<f64>, u64)>,
    opts: &BuildOptions,
) -> Vec<LeaderboardRow> {
    let clustered = ix.clustered();
    let mut by_system: BTreeMap<&str, Vec<&AnswerRow>> = BTreeMap::new();
    for a in answers {
        by_system.entry(a.system.as_str()).or_default().push(a);
    }
    let mut rows = Vec::new();
    let mut scored: BTreeMap<String, BTreeMap<&str, (f64, Option<String>)>> = BTreeMap::new();
    for system in ix.systems() {
        let list = by_system.get(system).cloned().unwrap_or_default();
        let mut vals = Vec::new();
        let mut labels = Vec::new();
        let mut per_task = BTreeMap::new();
        let (mut infra, mut none, mut model_err, mut verifier) = (0, 0, 0, 0);
        for a in &list {
            if a.status == "no_answer" || a.status == "ungraded" {
                none += 1;
            } else if a.infra {
                infra += 1;
            } else if a.status == VERIFIER_ERROR {
                verifier += 1;
            } else {
                let v = if a.resolved { 1.0 } else { 0.0 };
                vals.push(v);
                labels.push(a.repo.clone());
                per_task.insert(a.task_id.as_str(), (v, a.repo.clone()));
                if is_model_error(&a.status) {
                    model_err += 1;
                }
            }
        }
        let mut rng = Rng::derive(opts.seed, &format!("leaderboard/ci/{system}"));
        let ci = bootstrap_mean(
            &vals,
            clustered.then_some(labels.as_slice()),
            opts.resamples,
            0.95,
            &mut rng,
        );
        // With few, uneven repositories the clustered interval is wide and lopsided; the plain
        // task-level interval is kept beside it.
        let task_ci = if clustered {
            let mut rng = Rng::derive(opts.seed, &format!("leaderboard/task-ci/{system}"));
            bootstrap_mean(&vals, None, opts.resamples, 0.95, &mut rng)
        } else {
            ci
        };
        let (mean_reward, exc) = reward_and_exceptions(ix, system, &list);
        let resolved = vals.iter().filter(|v| **v > 0.5).count() as u64;
        let (cost_usd, tasks) = cost.get(system).copied().unwrap_or((None, 0));
        rows.push(LeaderboardRow {
            rank: 0,
            system: system.to_string(),
            resolved,
            total: vals.len() as u64,
            rate: ci.map_or(0.0, |c| c.estimate),
            ci_low: ci.map_or(0.0, |c| c.low),
            ci_high: ci.map_or(0.0, |c| c.high),
            ci_method: format!(
                "{} ({} resamples)",
                if clustered {
                    "bootstrap-cluster:repo"
                } else {
                    "bootstrap"
                },
                opts.resamples
            ),
            task_ci_low: task_ci.map_or(0.0, |c| c.low),
            task_ci_high: task_ci.map_or(0.0, |c| c.high),
            infra_errors: infra,
            verifier_errors: verifier,
            no_answer: none,
            model_errors: model_err,
            mean_reward,
            exception_count: exc.values().sum(),
            exceptions: exceptions_text(&exc),
            cost_per_task: cost_usd.filter(|_| tasks > 0).map(|c| c / tasks as f64),
            ..LeaderboardRow::default()
        });
        scored.insert(system.to_string(), per_task);
    }
    rows.sort_by(|a, b| {
        b.rate
            .total_cmp(&a.rate)
            .then(b.resolved.cmp(&a.resolved))
            .then(a.system.cmp(&b.system))
    });
    let best = rows.first().map(|r| r.system.clone());
    for (i, row) in rows.iter_mut().enumerate() {
        row.rank = i as u32 + 1;
        let Some(best) = &best else { continue };
        if &row.system == best {
            continue;
        }
        let (Some(mine), Some(theirs)) = (scored.get(&row.system), scored.get(best)) else {
            continue;
        };
        let (mut a, mut b, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for (task, (v, repo)) in mine {
            if let Some((w, _)) = theirs.get(task) {
                a.push(*v);
                b.push(*w);
                labels.push(repo.clone());
            }
        }
        row.vs = Some(best.clone());
        row.paired_tasks = Some(a.len() as u64);
        if a.is_empty() {
            continue;
        }
        let only_this = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| **x > 0.5 && **y < 0.5)
            .count() as u64;
        let only_best = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| **x < 0.5 && **y > 0.5)
            .count() as u64;
        let t = mcnemar(only_this, only_best);
        row.only_this = Some(only_this);
        row.only_best = Some(only_best);
        row.p_value = Some(t.p_value);
        row.test = Some(t.method.as_str().to_string());
        let mut rng = Rng::derive(
            opts.seed,
            &format!("leaderboard/paired/{}/{best}", row.system),
        );
        if let Some(d) = paired_bootstrap_diff(
            &a,
            &b,
            clustered.then_some(labels.as_slice()),
            opts.resamples,
            0.95,
            &mut rng,
        ) {
            row.diff = Some(d.estimate);
            row.diff_ci_low = Some(d.low);
            row.diff_ci_high = Some(d.high);
        }
    }
    rows
}

/// The per-configuration summary.
pub fn configs(
    ix: &Index,
    board: &[LeaderboardRow],
    totals: &BTreeMap<String, (Option<f64>, u64, u64)>,
) -> Vec<ConfigRow> {
    let mut out = Vec::new();
    for system in ix.systems() {
        let meta = ix.data.meta.systems.iter().find(|m| m.name == system);
        let lb = board.iter().find(|r| r.system == system);
        let pools = ix.pools.get(system);
        let tasks = pools.map_or(0, |p| p.len() as u64);
        let (mut rollouts, mut infra, mut verifier) = (0u64, 0u64, 0u64);
        let (mut sum, mut n) = (0.0, 0u64);
        for iters in pools.into_iter().flat_map(|p| p.values()) {
            for (it, pool) in iters {
                rollouts += pool.len() as u64;
                infra += pool.iter().filter(|r| r.infra).count() as u64;
                verifier += pool
                    .iter()
                    .filter(|r| {
                        ix.grade
                            .get(r.rollout_id.as_str())
                            .is_some_and(|g| g.status == VERIFIER_ERROR)
                    })
                    .count() as u64;
                if *it == 0 {
                    let (k, c) = ix.counts(pool);
                    if k > 0 {
                        sum += c as f64 / k as f64;
                        n += 1;
                    }
                }
            }
        }
        let (cost_usd, unknown, tokens) = totals.get(system).copied().unwrap_or((None, 0, 0));
        out.push(ConfigRow {
            system: system.to_string(),
            model: meta.and_then(|m| m.model.clone()),
            method: meta.and_then(|m| m.method.clone()),
            n: meta.and_then(|m| m.n),
            iterations: meta.and_then(|m| m.iterations),
            k: meta.and_then(|m| m.k),
            group_size: meta.and_then(|m| m.group_size),
            votes: meta.and_then(|m| m.votes),
            tasks,
            rollouts,
            infra_rollouts: infra,
            verifier_errors: verifier,
            pass1_iter0: (n > 0).then(|| sum / n as f64),
            rate: lb.map_or(0.0, |r| r.rate),
            ci_low: lb.map_or(0.0, |r| r.ci_low),
            ci_high: lb.map_or(0.0, |r| r.ci_high),
            cost_usd,
            unknown_cost_calls: unknown,
            total_tokens: tokens,
        });
    }
    out
}

fn pass_rows(
    scope: &str,
    system: &str,
    iteration: u32,
    tasks: &[(u64, u64)],
    out: &mut Vec<PassAtKRow>,
) {
    let max_n = tasks.iter().map(|t| t.0).max().unwrap_or(0);
    for k in 1..=max_n {
        let (mut at, mut hat, mut m) = (0.0, 0.0, 0u64);
        for &(n, c) in tasks {
            if let (Some(a), Some(h)) = (pass_at_k(n, c, k), pass_hat_k(n, c, k)) {
                at += a;
                hat += h;
                m += 1;
            }
        }
        if m > 0 {
            out.push(PassAtKRow {
                scope: scope.to_string(),
                system: system.to_string(),
                iteration,
                k: k as u32,
                tasks: m,
                pass_at_k: at / m as f64,
                pass_hat_k: hat / m as f64,
            });
        }
    }
}

/// pass@k and pass^k per system and iteration, and pooled over systems (one sample per
/// system's answer) when the run has several systems.
pub fn pass_at_k_rows(ix: &Index, answers: &[AnswerRow]) -> Vec<PassAtKRow> {
    let mut out = Vec::new();
    for (system, tasks) in &ix.pools {
        let mut per_iter: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
        for iters in tasks.values() {
            for (it, pool) in iters {
                let (n, c) = ix.counts(pool);
                if n > 0 {
                    per_iter.entry(*it).or_default().push((n, c));
                }
            }
        }
        for (it, t) in per_iter {
            pass_rows("system", system, it, &t, &mut out);
        }
    }
    let systems: BTreeSet<&str> = answers.iter().map(|a| a.system.as_str()).collect();
    if systems.len() > 1 {
        let mut per_task: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for a in answers {
            if a.infra
                || a.status == "ungraded"
                || a.status == "no_answer"
                || a.status == VERIFIER_ERROR
            {
                continue;
            }
            let e = per_task.entry(a.task_id.as_str()).or_default();
            e.0 += 1;
            e.1 += u64::from(a.resolved);
        }
        let t: Vec<(u64, u64)> = per_task.into_values().collect();
        pass_rows("pooled", "*", 0, &t, &mut out);
    }
    out
}

/// Failures counted apart, by system, stage and kind.
pub fn failures(ix: &Index) -> Vec<FailureRow> {
    let mut m: BTreeMap<(String, &str, String, bool), u64> = BTreeMap::new();
    let d = ix.data;
    for r in &d.rollouts {
        if r.infra || !matches!(r.exit_status.as_str(), "submitted" | "completed") {
            *m.entry((r.system.clone(), "rollout", r.exit_status.clone(), r.infra))
                .or_default() += 1;
        }
    }
    for s in &d.summaries {
        if s.infra || !s.valid {
            let kind = if s.infra { "infra" } else { "invalid" };
            *m.entry((s.system.clone(), "summary", kind.into(), s.infra))
                .or_default() += 1;
        }
    }
    for v in &d.votes {
        if v.infra || !v.valid {
            let kind = if v.infra { "infra" } else { "invalid" };
            *m.entry((v.system.clone(), "vote", kind.into(), v.infra))
                .or_default() += 1;
        }
    }
    for g in &d.grades {
        if g.infra || !matches!(g.status.as_str(), "resolved" | "unresolved") {
            *m.entry((g.system.clone(), "grade", g.status.clone(), g.infra))
                .or_default() += 1;
        }
        if let Some(e) = &g.exception {
            *m.entry((g.system.clone(), "exception", e.clone(), g.infra))
                .or_default() += 1;
        }
    }
    m.into_iter()
        .map(|((system, stage, kind, infra), count)| FailureRow {
            system,
            stage: stage.to_string(),
            kind,
            infra,
            count,
        })
        .collect()
}
