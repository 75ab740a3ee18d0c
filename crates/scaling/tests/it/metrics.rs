//! Selection metrics on a tournament whose every decision is known by hand.

use std::collections::BTreeMap;

use agentscale_core::TaskId;
use agentscale_scaling::metrics::{
    Outcome, TaskOutcomes, judge_accuracy, position_bias, score_selection, survivor_curve,
};
use agentscale_scaling::rtv::Pairing;
use agentscale_scaling::{NoStore, TournamentConfig, TournamentInput, run_tournament};

use crate::common::{cands, judge, judge_model, task, verdict_for};

#[tokio::test]
async fn accuracy_by_round_pooled_position_bias_and_scores() {
    // A fixed bracket in rollout order, no display shuffle, and a judge that always names the
    // lowest id, which is always shown first: (r0 r1) (r2 r3) (r4 r5) (r6 r7) -> r0 r2 r4 r6
    // -> (r0 r2) (r4 r6) -> r0 r4 -> r0.
    let cfg = TournamentConfig {
        votes: 1,
        pairing: Pairing::InOrder,
        display_order: agentscale_scaling::rtv::DisplayOrder::Fixed,
        ..TournamentConfig::default()
    };
    let model = judge_model(|shown, _, _| {
        let best = shown.iter().min().cloned().unwrap_or_default();
        verdict_for(shown, &best)
    });
    let t = task();
    let c = cands(8);
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "l",
        seed: 0,
    };
    let r = run_tournament(&input, &cfg, &judge(&model), &NoStore)
        .await
        .unwrap();
    assert_eq!(r.winner(), Some("r0"));
    assert_eq!(r.rounds[1].population, vec!["r0", "r2", "r4", "r6"]);

    // r1, r2 and r5 pass; r7's grading failed in the infrastructure.
    let mut outcomes: BTreeMap<String, Outcome> =
        (0..8).map(|i| (format!("r{i}"), Outcome::Fail)).collect();
    for p in ["r1", "r2", "r5"] {
        outcomes.insert(p.into(), Outcome::Pass);
    }
    outcomes.insert("r7".into(), Outcome::Infra);
    let task_outcomes = TaskOutcomes {
        task_id: TaskId::new("demo__demo-1"),
        outcomes,
    };
    let by_task = BTreeMap::from([(task_outcomes.task_id.clone(), task_outcomes.clone())]);
    let acc = judge_accuracy(&[&r], &by_task);
    // Round 0: (r0 F, r1 P) wrong, (r2 P, r3 F) right, (r4 F, r5 P) wrong; (r6, r7) has an
    // infrastructure failure. Round 1: (r0 F, r2 P) wrong; (r4, r6) not mixed. Round 2: none.
    assert_eq!((acc.by_round[0].mixed, acc.by_round[0].correct), (3, 1));
    assert_eq!((acc.by_round[1].mixed, acc.by_round[1].correct), (1, 0));
    assert_eq!(acc.by_round.len(), 2);
    assert_eq!((acc.pooled.mixed, acc.pooled.correct), (4, 1));
    assert_eq!(acc.pooled.accuracy, Some(0.25));
    assert_eq!((acc.votes.mixed, acc.votes.correct), (4, 1));
    assert_eq!(acc.groups_with_infra, 1);

    // Position bias: every vote named Solution 1.
    let bias = position_bias(&[&r]);
    assert_eq!(bias.len(), 1);
    assert_eq!((bias[0].group_size, bias[0].votes), (2, 7));
    assert_eq!(bias[0].named, vec![7, 0]);
    assert!((bias[0].rate[0] - 1.0).abs() < 1e-12);

    // The survivors' pass rates round by round (r7 left out of the first stage).
    let curve = survivor_curve(&r, &task_outcomes);
    let stages: Vec<(usize, bool)> = curve.iter().map(|p| (p.candidates, p.any_pass)).collect();
    assert_eq!(stages, vec![(7, true), (4, true), (2, false), (1, false)]);
    assert!((curve[0].mean_pass - 3.0 / 7.0).abs() < 1e-12);
    assert!((curve[1].mean_pass - 0.25).abs() < 1e-12);

    // Scores: the failing r0 was chosen although passing candidates existed.
    let s = score_selection("rtv", &[(&task_outcomes, r.winner())]);
    assert_eq!((s.tasks, s.pool_infra), (1, 1));
    assert!((s.random - 3.0 / 7.0).abs() < 1e-12);
    assert!((s.oracle - 1.0).abs() < 1e-12 && s.selected.abs() < 1e-12);
    assert!((s.gap_closed.unwrap() + 0.75).abs() < 1e-12);
    assert!((s.regret - 1.0).abs() < 1e-12);
    assert_eq!(s.wrong_rejection_rate, Some(1.0));
}
