//! Simulating RTV's selection accuracy with synthetic candidates and a synthetic judge.
//!
//! [`simulate`] plays many tournaments through the same round loop, pairing and group state
//! machine as the real tournament ([`crate::rtv::engine::drive`]), with candidates that pass
//! with probability p and a judge of accuracy q on mixed groups whose votes are correlated
//! (ρ; see [`exact`] for the model). Each row reports the Monte Carlo accuracy next to the
//! exact value and, for pairwise knockouts with independent votes, Chen et al.'s bound on the
//! failure probability. Results depend only on the seed: rows are independent streams, so
//! running them on several threads changes nothing.

pub mod exact;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentscale_core::rng::Rng;
use agentscale_core::vote::VoteKind;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};

use crate::rtv::engine::{EngineRules, Keys, WaveItem, drive};
use crate::rtv::group::GroupRules;
use crate::rtv::{Leftover, Pairing, TieBreak, planned_calls};

/// One simulated setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimSetting {
    /// N: candidates.
    pub n: usize,
    /// G.
    pub group_size: usize,
    /// V.
    pub votes: u32,
    /// Pass probability of a candidate.
    pub p: f64,
    /// Judge accuracy on mixed groups (one vote).
    pub q: f64,
    /// Correlation of two votes' correctness in a group.
    pub rho: f64,
}

/// One row of the simulation table (the setting's fields, then the figures, flat in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimRow {
    /// The setting simulated.
    #[serde(flatten)]
    pub setting: SimSetting,
    /// Tournaments played.
    pub trials: u64,
    /// Share of tournaments whose winner passes.
    pub accuracy: f64,
    /// Its standard error.
    pub stderr: f64,
    /// The exact accuracy, when the schedule has equal groups and no byes.
    pub exact: Option<f64>,
    /// accuracy − exact, in percentage points.
    pub diff_pp: Option<f64>,
    /// pass@N: the chance that some candidate passes.
    pub oracle: f64,
    /// Failure probability (1 − accuracy).
    pub failure: f64,
    /// Chen et al.'s bound on the failure probability (G = 2, independent votes only).
    pub chen_bound: Option<f64>,
    /// failure ≤ bound (G = 2, independent votes only).
    pub within_bound: Option<bool>,
    /// Mean judge votes per tournament (tie-break votes included).
    pub judge_calls: f64,
    /// Regular votes per tournament by the schedule (15 groups × 8 = 120 for N=16, G=2, V=8).
    pub scheduled_calls: u64,
    /// Mean tie-break votes per tournament.
    pub tie_votes: f64,
}

struct SynthJudge<'a> {
    pass: &'a [bool],
    q: f64,
    copy: f64,
    rng: Rng,
    shared: BTreeMap<(u32, u32), usize>,
}

impl SynthJudge<'_> {
    /// One fresh verdict on `shown`: right with probability q on a mixed set (uniformly among
    /// the passing candidates), uniform otherwise.
    fn draw(&mut self, shown: &[usize]) -> usize {
        let pass = self.pass;
        let passing = shown.iter().filter(|&&c| pass[c]).count();
        let failing = shown.len() - passing;
        if passing == 0 || failing == 0 {
            return shown[self.rng.below(shown.len() as u64) as usize];
        }
        let want = self.rng.chance(self.q);
        let k = if want { passing } else { failing };
        let nth = self.rng.below(k as u64) as usize;
        shown
            .iter()
            .copied()
            .filter(|&c| pass[c] == want)
            .nth(nth)
            .unwrap_or(shown[0])
    }

    fn vote(&mut self, item: &WaveItem) -> usize {
        if item.vote.kind == VoteKind::TieBreak {
            return self.draw(&item.vote.shown);
        }
        if self.copy > 0.0 && self.rng.chance(self.copy) {
            if let Some(&c) = self.shared.get(&(item.round, item.group)) {
                return c;
            }
            let c = self.draw(&item.vote.shown);
            self.shared.insert((item.round, item.group), c);
            return c;
        }
        self.draw(&item.vote.shown)
    }
}

/// Play `trials` tournaments of `setting` (exact paper rules: seeded random pairing, display
/// shuffle, byes, one extra vote then a coin on ties, no early stop).
pub fn simulate(setting: &SimSetting, trials: u64, seed: u64) -> SimRow {
    let SimSetting {
        n,
        group_size,
        votes,
        p,
        q,
        rho,
    } = *setting;
    let n = n.max(1);
    let rules = EngineRules {
        group_size,
        survivors: 1,
        leftover: Leftover::Bye,
        pairing: Pairing::SeededRandom,
        group: GroupRules {
            votes,
            early_stop: false,
            tie_break: TieBreak::ExtraVoteThenCoin,
            display: crate::rtv::DisplayOrder::Shuffled,
        },
    };
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let mut rng = Rng::derive(
        seed,
        &format!("sim/n{n}/g{group_size}/v{votes}/p{p}/q{q}/rho{rho}"),
    );
    let copy = rho.clamp(0.0, 1.0).sqrt();
    let (mut wins, mut calls, mut ties, mut played_trials) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..trials {
        let pass: Vec<bool> = (0..n).map(|_| rng.chance(p)).collect();
        let keys = Keys {
            seed: rng.next_u64(),
            task: "sim",
            label: "sim",
            ids: &ids,
        };
        let mut judge = SynthJudge {
            pass: &pass,
            q,
            copy,
            rng: Rng::new(rng.next_u64()),
            shared: BTreeMap::new(),
        };
        let played = drive(
            (0..n).collect(),
            0,
            &rules,
            &keys,
            |items: Vec<WaveItem>| {
                let out: Vec<(Option<usize>, bool)> = items
                    .iter()
                    .map(|it| (Some(judge.vote(it)), it.vote.kind == VoteKind::TieBreak))
                    .collect();
                std::future::ready(Ok::<_, Infallible>(out))
            },
        )
        .now_or_never();
        // The synthetic judge answers at once, so the loop finishes in one poll; a trial that
        // did not would not be counted (`trials` reports the tournaments actually played).
        let Some(Ok((rounds, asked))) = played else {
            continue;
        };
        played_trials += 1;
        let winner = rounds
            .last()
            .and_then(|r| r.survivors.first().copied())
            .unwrap_or(0);
        wins += u64::from(pass[winner]);
        calls += asked.len() as u64;
        ties += asked.iter().filter(|t| **t).count() as u64;
    }
    let t = played_trials.max(1) as f64;
    let accuracy = wins as f64 / t;
    let exact = exact::exact_accuracy(n, group_size, votes, p, q, rho);
    let independent_pairs = group_size == 2 && rho == 0.0;
    let bound = independent_pairs.then(|| exact::chen_bound(n, votes, p, q));
    SimRow {
        setting: *setting,
        trials: played_trials,
        accuracy,
        stderr: (accuracy * (1.0 - accuracy) / t).sqrt(),
        exact,
        diff_pp: exact.map(|e| 100.0 * (accuracy - e)),
        oracle: 1.0 - exact::powu(1.0 - p, n),
        failure: 1.0 - accuracy,
        chen_bound: bound,
        within_bound: bound.map(|b| 1.0 - accuracy <= b),
        judge_calls: calls as f64 / t,
        scheduled_calls: planned_calls(n, group_size, 1, Leftover::Bye, votes).1,
        tie_votes: ties as f64 / t,
    }
}

/// The default table: N=16 with G in {2,4,8,16} and V in {1,2,4,8,16}, with independent and
/// correlated (`rho`) votes; pairwise knockouts (G=2) for N in {2,4,8,32} with V in
/// {1,2,4,8,16} and independent votes; and N=16, G=2 with a stronger judge (`q_strong`),
/// where Chen et al.'s bound is below 1 and so says something. p and q default (in the CLI) to
/// figures close to the paper's SWE-bench ones (pass@1 about 0.6-0.7, judge accuracy on mixed
/// pairs about 0.67).
pub fn default_grid(p: f64, q: f64, rho: f64, q_strong: f64) -> Vec<SimSetting> {
    let mut grid = Vec::new();
    let mut add = |n: usize, group_size: usize, votes: u32, q: f64, rho: f64| {
        grid.push(SimSetting {
            n,
            group_size,
            votes,
            p,
            q,
            rho,
        });
    };
    for rho in [0.0, rho] {
        for group_size in [2, 4, 8, 16] {
            for votes in [1, 2, 4, 8, 16] {
                add(16, group_size, votes, q, rho);
            }
        }
    }
    for n in [2, 4, 8, 32] {
        for votes in [1, 2, 4, 8, 16] {
            add(n, 2, votes, q, 0.0);
        }
    }
    for votes in [1, 2, 4, 8, 16] {
        add(16, 2, votes, q_strong, 0.0);
    }
    grid
}

/// Simulate every setting on up to `threads` threads; rows come back in the settings' order
/// and do not depend on the thread count.
pub fn run_grid(settings: &[SimSetting], trials: u64, seed: u64, threads: usize) -> Vec<SimRow> {
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<SimRow>>> = Mutex::new(vec![None; settings.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, settings.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(s) = settings.get(i) else { break };
                    let row = simulate(s, trials, seed);
                    if let Ok(mut rows) = rows.lock() {
                        rows[i] = Some(row);
                    }
                }
            });
        }
    });
    rows.into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_close_to_exact() {
        let s = SimSetting {
            n: 16,
            group_size: 2,
            votes: 8,
            p: 0.5,
            q: 0.7,
            rho: 0.0,
        };
        let a = simulate(&s, 3_000, 1);
        assert_eq!(a, simulate(&s, 3_000, 1));
        let e = a.exact.unwrap();
        assert!((a.accuracy - e).abs() < 5.0 * a.stderr.max(0.004), "{a:?}");
        assert_eq!(a.scheduled_calls, 120);
        assert!(
            a.judge_calls >= 120.0 && a.judge_calls <= 135.0,
            "{}",
            a.judge_calls
        );
        assert!((a.judge_calls - 120.0 - a.tie_votes).abs() < 1e-9);
        assert_eq!(a.within_bound, Some(true));
    }

    #[test]
    fn correlated_votes_and_wide_groups_match_exact() {
        for (g, rho) in [(4, 0.3), (8, 0.0), (16, 0.3)] {
            let s = SimSetting {
                n: 16,
                group_size: g,
                votes: 4,
                p: 0.4,
                q: 0.65,
                rho,
            };
            let a = simulate(&s, 4_000, 3);
            let e = a.exact.unwrap();
            assert!(
                (a.accuracy - e).abs() < 5.0 * a.stderr.max(0.004),
                "{a:?} vs {e}"
            );
        }
    }

    #[test]
    fn grid_rows_do_not_depend_on_threads() {
        let grid: Vec<SimSetting> = default_grid(0.6, 0.67, 0.3, 0.85)
            .into_iter()
            .step_by(9)
            .collect();
        assert_eq!(run_grid(&grid, 200, 5, 1), run_grid(&grid, 200, 5, 3));
    }
}
