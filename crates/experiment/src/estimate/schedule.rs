//! The calls one task's pipeline makes, stage by stage, from the scaling config.
//!
//! The tournament shapes come from the RTV code itself ([`agentscale_scaling::rtv::plan_round`]
//! through [`agentscale_scaling::rtv::planned_calls`]) so the estimate cannot drift from what
//! a run does. Counts are the *decisive* calls: the V regular votes of every group. What a run
//! may add on top is bounded in [`StagePlan::extra_calls_max`]: one tie-break vote per group
//! (policy `extra-vote-then-coin`), and up to `invalid_vote_reasks` re-asks of every vote
//! (regular or tie-break), or `summary_retries` re-asks of every summary.

use agentscale_scaling::rtv::{Leftover, planned_calls};
use serde::Serialize;

use crate::config::{ContextMode, Method, ScalingSection, Selector, TieBreak};
use crate::orchestrator::system::{selects, to_tournament};

/// What a stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// An iteration's rollouts and their summaries.
    Rollouts,
    /// RTV N→K whose survivors become the next iteration's context.
    SelectK,
    /// The frozen select-K survivors played on to one (diagnostics only).
    Diagnostic,
    /// The final selection (the answer).
    Final,
}

impl StageKind {
    /// The name used in the output (`rollouts`, `select_k`, `diagnostic`, `final`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rollouts => "rollouts",
            Self::SelectK => "select_k",
            Self::Diagnostic => "diagnostic",
            Self::Final => "final",
        }
    }
}

/// One stage of one task's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagePlan {
    /// What it is.
    pub kind: StageKind,
    /// The iteration it belongs to.
    pub iteration: u32,
    /// Agent rollouts.
    pub rollouts: u64,
    /// Summaries (one per rollout).
    pub summaries: u64,
    /// Tournament groups decided.
    pub decisions: u64,
    /// Decisive judge calls: V per group (listwise: V over the whole pool).
    pub judge_calls: u64,
    /// The most calls the stage can add: tie-break votes and re-asks of invalid votes, or
    /// re-asks of summaries that fail to parse.
    pub extra_calls_max: u64,
}

/// Judge calls of an RTV from `from` to `to` candidates: (decisions, decisive votes).
fn rtv_calls(sc: &ScalingSection, leftover: Leftover, from: u32, to: u32) -> (u64, u64) {
    let (decisions, votes) = planned_calls(
        from as usize,
        sc.group_size as usize,
        to as usize,
        leftover,
        sc.votes,
    );
    (decisions as u64, votes)
}

/// The bound on extra judge calls for `decisions` groups casting `votes` decisive votes.
fn judge_extras(sc: &ScalingSection, decisions: u64, votes: u64) -> u64 {
    let tie_votes = match sc.tie_break {
        TieBreak::ExtraVoteThenCoin => decisions,
        TieBreak::Coin => 0,
    };
    tie_votes + (votes + tie_votes) * u64::from(sc.invalid_vote_reasks)
}

fn judge_stage(
    sc: &ScalingSection,
    kind: StageKind,
    iteration: u32,
    (decisions, votes): (u64, u64),
) -> StagePlan {
    StagePlan {
        kind,
        iteration,
        rollouts: 0,
        summaries: 0,
        decisions,
        judge_calls: votes,
        extra_calls_max: judge_extras(sc, decisions, votes),
    }
}

/// The stages of one task's pipeline under `sc`, in the order a run makes them.
pub fn plan(sc: &ScalingSection) -> Vec<StagePlan> {
    let leftover = to_tournament(sc).leftover;
    let n = sc.n;
    let iterations = sc.effective_iterations();
    let summarize = selects(sc);
    let mut out = Vec::new();
    for it in 0..iterations {
        let summaries = if summarize { u64::from(n) } else { 0 };
        out.push(StagePlan {
            kind: StageKind::Rollouts,
            iteration: it,
            rollouts: u64::from(n),
            summaries,
            decisions: 0,
            judge_calls: 0,
            extra_calls_max: summaries * u64::from(sc.summary_retries),
        });
        if !summarize {
            continue;
        }
        if it + 1 < iterations {
            if sc.context == ContextMode::SelectK {
                let k = sc.effective_k();
                out.push(judge_stage(
                    sc,
                    StageKind::SelectK,
                    it,
                    rtv_calls(sc, leftover, n, k),
                ));
                if sc.diagnostics_to_one && k > 1 {
                    out.push(judge_stage(
                        sc,
                        StageKind::Diagnostic,
                        it,
                        rtv_calls(sc, leftover, k.min(n), 1),
                    ));
                }
            }
        } else {
            let calls = match sc.selector {
                Selector::Rtv => rtv_calls(sc, leftover, n, 1),
                Selector::Listwise if n > 1 => (1, u64::from(sc.votes)),
                _ => (0, 0),
            };
            out.push(judge_stage(sc, StageKind::Final, it, calls));
        }
    }
    if sc.method == Method::None {
        // no summaries, no selection: the rollouts are the result
        out.retain(|s| s.kind == StageKind::Rollouts);
    }
    out
}

/// Why the counts may be upper bounds for this config (empty when they are exact).
pub fn caveats(sc: &ScalingSection) -> Vec<String> {
    let mut out = Vec::new();
    if sc.early_stop {
        out.push(
            "scaling.early_stop = true: a group stops voting once its winner is settled, so \
             judge_calls is an upper bound"
                .to_string(),
        );
    }
    if sc.collapse_identical {
        out.push(
            "scaling.collapse_identical = true: identical patches play as one candidate, so \
             judge_calls is an upper bound"
                .to_string(),
        );
    }
    out.push(
        "rollouts that fail through the infrastructure are retried (experiment.infra_retries) \
         and, when given up on, are not candidates: counts assume none is given up on"
            .to_string(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper() -> ScalingSection {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../configs/paper/swe-verified-claude-opus-4.5.toml"
        ));
        let opts = crate::config::LoadOptions {
            env_has: std::sync::Arc::new(|_| true),
            ..crate::config::LoadOptions::default()
        };
        crate::config::load(path, &opts).unwrap().base.scaling
    }

    fn judge(p: &[StagePlan], kind: StageKind) -> u64 {
        p.iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.judge_calls)
            .sum()
    }

    #[test]
    fn the_paper_pipeline_makes_216_decisive_judge_calls_per_task() {
        let p = plan(&paper());
        let kinds: Vec<_> = p.iter().map(|s| (s.kind, s.iteration)).collect();
        assert_eq!(
            kinds,
            vec![
                (StageKind::Rollouts, 0),
                (StageKind::SelectK, 0),
                (StageKind::Diagnostic, 0),
                (StageKind::Rollouts, 1),
                (StageKind::Final, 1),
            ]
        );
        assert_eq!(judge(&p, StageKind::SelectK), 96);
        assert_eq!(judge(&p, StageKind::Final), 120);
        assert_eq!(judge(&p, StageKind::Diagnostic), 24);
        assert_eq!(p.iter().map(|s| s.rollouts).sum::<u64>(), 32);
        assert_eq!(p.iter().map(|s| s.summaries).sum::<u64>(), 32);
        // select-K: 12 groups -> at most 12 tie votes, and 2 re-asks of each of 96 + 12 votes
        let sk = p.iter().find(|s| s.kind == StageKind::SelectK).unwrap();
        assert_eq!(sk.decisions, 12);
        assert_eq!(sk.extra_calls_max, 12 + (96 + 12) * 2);
        // summaries: 16 per iteration, each re-asked up to summary_retries times
        assert_eq!(
            p[0].extra_calls_max,
            16 * u64::from(paper().summary_retries)
        );
    }

    #[test]
    fn other_methods_make_the_calls_they_should() {
        let mut sc = paper();
        sc.diagnostics_to_one = false;
        sc.tie_break = TieBreak::Coin;
        sc.invalid_vote_reasks = 0;
        let p = plan(&sc);
        assert_eq!(judge(&p, StageKind::Diagnostic), 0);
        assert!(
            p.iter()
                .filter(|s| s.judge_calls > 0)
                .all(|s| s.extra_calls_max == 0)
        );
        sc.context = ContextMode::RandomK;
        assert_eq!(judge(&plan(&sc), StageKind::SelectK), 0);
        sc.selector = Selector::Listwise;
        assert_eq!(judge(&plan(&sc), StageKind::Final), u64::from(sc.votes));
        sc.selector = Selector::Majority;
        assert_eq!(
            plan(&sc).iter().map(|s| s.judge_calls).sum::<u64>(),
            0,
            "majority vote needs no judge"
        );
        sc.method = Method::None;
        let p = plan(&sc);
        assert_eq!(p.iter().map(|s| s.summaries).sum::<u64>(), 0);
        assert!(p.iter().all(|s| s.kind == StageKind::Rollouts));
        sc.method = Method::Rtv;
        sc.selector = Selector::Rtv;
        sc.group_size = 4;
        let p = plan(&sc);
        // standalone RTV 16 -> 4 -> 1 with G=4: 5 groups
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].decisions, 5);
        assert_eq!(p[1].judge_calls, 5 * u64::from(sc.votes));
    }
}
