//! PDR contexts (single, random-K, select-K), the iteration driver and offline re-selection.

use std::collections::BTreeSet;
use std::sync::Arc;

use agentscale_scaling::offline::reselect;
use agentscale_scaling::{
    ContextMode, LlmJudge, MemoryStore, NoStore, PdrConfig, PdrDriver, Prompts, ScalingError,
    SelectionMethod, TournamentConfig, TournamentInput, run_tournament,
};
use proptest::prelude::*;

use crate::common::{block_on, cands, hashed_choice, judge, judge_model, task, verdict_for};

fn hashed_judge() -> Arc<agentscale_core::model::ScriptedModel> {
    judge_model(|shown, vote, _| verdict_for(shown, &hashed_choice(shown, vote)))
}

fn driver<'a>(
    mode: ContextMode,
    k: usize,
    seed: u64,
    j: &'a LlmJudge,
    store: &'a dyn agentscale_scaling::CallStore,
) -> PdrDriver<'a> {
    PdrDriver {
        pdr: PdrConfig {
            mode,
            k,
            play_to_one: true,
        },
        tournament: TournamentConfig::default(),
        final_method: SelectionMethod::Rtv,
        prompts: crate::common::prompts(),
        judge: j,
        store,
        seed,
    }
}

#[tokio::test]
async fn select_k_hands_the_same_k_summaries_to_every_new_rollout() {
    let model = hashed_judge();
    let j = judge(&model);
    let c = cands(16);
    let t = task();
    let next = driver(ContextMode::SelectK, 4, 9, &j, &NoStore)
        .next_contexts(&t, &c, 0, 16)
        .await
        .unwrap();
    assert_eq!(next.contexts.len(), 16);
    let first = next.contexts[0].summary_ids.clone();
    assert_eq!(first.len(), 4);
    assert!(next.contexts.iter().all(|x| x.summary_ids == first));
    let sk = next.select_k.as_ref().unwrap();
    assert_eq!(sk.sizes, vec![16, 8, 4]);
    assert_eq!(sk.stats.regular_votes, 96);
    let expected: Vec<String> = sk
        .survivors
        .iter()
        .map(|s| format!("{s}/summary"))
        .collect();
    assert_eq!(first, expected);
    // The diagnostic continuation plays 4 -> 2 -> 1 (24 more votes) without changing the K.
    let diag = next.diagnostics.as_ref().unwrap();
    assert_eq!(diag.sizes, vec![4, 2, 1]);
    assert_eq!(diag.rounds[0].round, 2);
    assert_eq!(diag.stats.regular_votes, 24);
    assert_eq!(
        model.call_count(),
        120 + sk.stats.tie_break_votes + diag.stats.tie_break_votes
    );
    // It ends where a straight 16 -> 1 tournament with the same label and seed ends.
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "iter0/select-k",
        seed: 9,
    };
    let straight = run_tournament(
        &input,
        &TournamentConfig::default(),
        &judge(&hashed_judge()),
        &NoStore,
    )
    .await
    .unwrap();
    assert_eq!(straight.winner(), diag.winner());
    // Contexts carry the summaries' texts, nothing else.
    let ctx = &next.contexts[3];
    for (s, cand_id) in ctx.summaries.iter().zip(&sk.survivors) {
        assert_eq!(&s.rollout_id, cand_id);
        assert!(s.text.contains(&format!("CANDIDATE {cand_id} END")));
    }
}

#[tokio::test]
async fn single_gives_each_rollout_its_own_summary() {
    let model = hashed_judge();
    let j = judge(&model);
    let c = cands(5);
    let next = driver(ContextMode::Single, 4, 1, &j, &NoStore)
        .next_contexts(&task(), &c, 0, 7)
        .await
        .unwrap();
    let ids: Vec<Vec<String>> = next
        .contexts
        .iter()
        .map(|x| x.summary_ids.clone())
        .collect();
    assert_eq!(ids[0], vec!["r0/summary"]);
    assert_eq!(ids[4], vec!["r4/summary"]);
    assert_eq!(
        ids[6],
        vec!["r1/summary"],
        "more new rollouts than old wrap around"
    );
    assert_eq!(model.call_count(), 0);
    assert!(next.select_k.is_none());
}

#[tokio::test]
async fn single_pairs_by_rollout_identity_after_an_infrastructure_failure() {
    let model = hashed_judge();
    let j = judge(&model);
    // Earlier rollouts 0..4; rollout 1 failed through the infrastructure: candidates are
    // r0, r2, r3 (their ids are rN, their origins N).
    let all = cands(4);
    let c = vec![all[0].clone(), all[2].clone(), all[3].clone()];
    let next = driver(ContextMode::Single, 4, 1, &j, &NoStore)
        .next_contexts_from(&task(), &c, &[0, 2, 3], 4, 0, 6)
        .await
        .unwrap();
    let ids: Vec<Vec<String>> = next
        .contexts
        .iter()
        .map(|x| x.summary_ids.clone())
        .collect();
    assert_eq!(ids[0], vec!["r0/summary"]);
    assert!(
        ids[1].is_empty(),
        "rollout 1 has no summary of its own: {ids:?}"
    );
    assert_eq!(ids[2], vec!["r2/summary"], "not r3's (the old i % usable)");
    assert_eq!(ids[3], vec!["r3/summary"]);
    assert_eq!(
        ids[4],
        vec!["r0/summary"],
        "wraps over the 4 earlier rollouts"
    );
    assert!(ids[5].is_empty());
    for (i, ctx) in next.contexts.iter().enumerate() {
        for s in &ctx.summaries {
            assert_eq!(s.rollout_id, format!("r{}", i % 4));
        }
    }
    // Origins that do not match the candidates are an input error, not a wrong pairing.
    let e = driver(ContextMode::Single, 4, 1, &j, &NoStore)
        .next_contexts_from(&task(), &c, &[0, 2], 4, 0, 6)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("rollout indices"), "{e}");
    let e = driver(ContextMode::Single, 4, 1, &j, &NoStore)
        .next_contexts_from(&task(), &c, &[0, 2, 4], 4, 0, 6)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("below 4"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// random-K: each new rollout draws its own K distinct summaries with the run's seed.
    #[test]
    fn random_k_draws_per_rollout_with_the_runs_seed(n in 2usize..20, k in 1usize..6, seed: u64) {
        let model = hashed_judge();
        let j = judge(&model);
        let c = cands(n);
        let t = task();
        let d = driver(ContextMode::RandomK, k, seed, &j, &NoStore);
        let a = block_on(d.next_contexts(&t, &c, 0, 16)).unwrap();
        let again = block_on(d.next_contexts(&t, &c, 0, 16)).unwrap();
        prop_assert_eq!(&a, &again);
        for x in &a.contexts {
            let ids = &x.summary_ids;
            prop_assert_eq!(ids.len(), k.min(n));
            prop_assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len());
        }
        if k < n {
            // Draws differ between rollouts (16 identical draws would be a shared draw) ...
            let distinct: BTreeSet<Vec<String>> = a.contexts.iter().map(|x| x.summary_ids.clone()).collect();
            prop_assert!(distinct.len() > 1);
            // ... and between seeds, while another iteration draws afresh.
            let other = driver(ContextMode::RandomK, k, seed ^ 0x9e37, &j, &NoStore);
            let b = block_on(other.next_contexts(&t, &c, 0, 16)).unwrap();
            prop_assert_ne!(&a.contexts, &b.contexts);
        }
        prop_assert_eq!(model.call_count(), 0, "random-K asks no judge");
    }
}

#[tokio::test]
async fn final_selection_with_every_method() {
    let t = task();
    let mut c = cands(6);
    // r1, r3 and r5 make the same change (with other spacing): the majority.
    for i in [1, 3, 5] {
        c[i].patch = Some(format!(
            "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+{}same\n",
            " ".repeat(i)
        ));
    }
    for (method, expect) in [
        (SelectionMethod::First, Some("r0")),
        (SelectionMethod::Majority, Some("r1")),
        (SelectionMethod::Rtv, None),
        (SelectionMethod::Listwise, None),
        (SelectionMethod::Random, None),
    ] {
        let model = hashed_judge();
        let j = judge(&model);
        let d = PdrDriver {
            final_method: method,
            ..driver(ContextMode::SelectK, 4, 3, &j, &NoStore)
        };
        let s = d.final_selection(&t, &c, 1).await.unwrap();
        assert_eq!(s.method, method);
        let w = s.winner().unwrap();
        if let Some(e) = expect {
            assert_eq!(w, e, "{method:?}");
        }
        match method {
            SelectionMethod::Listwise => {
                let tr = s.tournament.as_ref().unwrap();
                assert_eq!(tr.sizes, vec![6, 1]);
                assert_eq!(model.call_count(), 8 + tr.stats.tie_break_votes);
            }
            SelectionMethod::Rtv => {
                assert_eq!(s.tournament.as_ref().unwrap().label, "iter1/final");
            }
            SelectionMethod::Majority => {
                assert_eq!(s.majority.as_ref().unwrap().class_sizes, vec![3]);
            }
            _ => assert_eq!(model.call_count(), 0),
        }
    }
}

#[tokio::test]
async fn offline_reselection_reuses_every_stored_vote() {
    let t = task();
    let c = cands(16);
    let store = MemoryStore::new();
    let model = hashed_judge();
    let j = judge(&model);
    let paper = TournamentConfig::default();
    let first = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &paper,
        "iter0/final",
        5,
        &j,
        &store,
    )
    .await
    .unwrap();
    let ties = first
        .selection
        .tournament
        .as_ref()
        .unwrap()
        .stats
        .tie_break_votes;
    assert_eq!((first.votes_made, first.votes_reused), (120 + ties, 0));
    assert_eq!(model.call_count(), 120 + ties);

    // The same selection again: every vote from the store, no call.
    let again = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &paper,
        "iter0/final",
        5,
        &j,
        &store,
    )
    .await
    .unwrap();
    assert_eq!(
        (again.votes_made, again.votes_reused, again.judge_calls),
        (0, 120 + ties, 0)
    );
    assert_eq!(again.selection.survivors, first.selection.survivors);
    assert_eq!(model.call_count(), 120 + ties);

    // A judge that cannot call succeeds on stored votes only ...
    let offline = LlmJudge::offline("judge-model", Arc::new(Prompts::embedded()));
    let off = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &paper,
        "iter0/final",
        5,
        &offline,
        &store,
    )
    .await
    .unwrap();
    assert_eq!(off.selection.survivors, first.selection.survivors);
    // ... and names the first missing call otherwise.
    let v16 = TournamentConfig {
        votes: 16,
        ..paper.clone()
    };
    let e = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &v16,
        "iter0/final",
        5,
        &offline,
        &store,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ScalingError::MissingCall { .. }));
    assert!(e.to_string().contains("judge vote 8"), "{e}");

    // V=16: the first 8 votes of every round-0 pair are the stored ones; only new ones are made.
    let more = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &v16,
        "iter0/final",
        5,
        &j,
        &store,
    )
    .await
    .unwrap();
    assert!(more.votes_reused >= 64, "{}", more.votes_reused);
    assert_eq!(
        more.votes_reused + more.votes_made,
        more.selection.tournament.as_ref().unwrap().votes.len()
    );
    assert_eq!(model.call_count(), 120 + ties + more.judge_calls);

    // Another seed re-pairs; votes on pairs already judged are still reused.
    let reseeded = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &paper,
        "iter0/final",
        6,
        &j,
        &store,
    )
    .await
    .unwrap();
    assert_eq!(
        reseeded.votes_reused + reseeded.votes_made,
        120 + reseeded
            .selection
            .tournament
            .as_ref()
            .unwrap()
            .stats
            .tie_break_votes
    );
    // G=4 asks new questions (groups of four were never shown).
    let g4 = TournamentConfig {
        group_size: 4,
        ..paper
    };
    let g = reselect(
        &t,
        &c,
        SelectionMethod::Rtv,
        &g4,
        "iter0/final",
        5,
        &j,
        &store,
    )
    .await
    .unwrap();
    assert!(g.votes_made > 0);
}
