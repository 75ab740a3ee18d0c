//! Recursive Tournament Voting through the LLM judge on a scripted model.

use std::collections::BTreeSet;
use std::time::Duration;

use agentscale_core::model::{ModelResponse, ScriptedModel};
use agentscale_core::vote::{GroupDecision, VoteKind};
use agentscale_scaling::rtv::{Leftover, TieBreak, planned_calls, schedule};
use agentscale_scaling::{
    MemoryStore, NoStore, ScalingError, TournamentConfig, TournamentInput, TournamentResult,
    run_tournament,
};
use proptest::prelude::*;

use crate::common::{block_on, cand, cands, hashed_choice, judge, judge_model, task, verdict_for};

fn config(g: usize, v: u32, k: usize) -> TournamentConfig {
    TournamentConfig {
        group_size: g,
        votes: v,
        survivors: k,
        ..TournamentConfig::default()
    }
}

/// The lowest id shown always wins every vote: unanimous groups, no ties.
fn lowest_wins(shown: &[String], _: u32, _: usize) -> String {
    let best = shown
        .iter()
        .min_by_key(|s| s[1..].parse::<u32>().unwrap_or(u32::MAX))
        .cloned()
        .unwrap_or_default();
    verdict_for(shown, &best)
}

async fn play(n: usize, cfg: &TournamentConfig) -> (TournamentResult, usize) {
    let model = judge_model(lowest_wins);
    let t = task();
    let c = cands(n);
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "iter0/final",
        seed: 7,
    };
    let r = run_tournament(&input, cfg, &judge(&model), &NoStore)
        .await
        .unwrap();
    (r, model.call_count())
}

#[tokio::test]
async fn paper_schedules_and_vote_counts_for_n16() {
    for (g, sizes) in [
        (16, vec![16, 1]),
        (8, vec![16, 2, 1]),
        (4, vec![16, 4, 1]),
        (2, vec![16, 8, 4, 2, 1]),
    ] {
        let (r, calls) = play(16, &config(g, 8, 1)).await;
        assert_eq!(r.sizes, sizes, "G={g}");
        assert_eq!(
            r.winner(),
            Some("r0"),
            "the best candidate wins a unanimous judge"
        );
        assert_eq!(r.stats.regular_votes, r.stats.decisions * 8);
        assert_eq!(calls, r.stats.regular_votes);
        assert_eq!(r.stats.ties, 0);
    }
    let (full, calls) = play(16, &config(2, 8, 1)).await;
    assert_eq!(
        (full.stats.decisions, full.stats.regular_votes, calls),
        (15, 120, 120)
    );
    let (select_k, calls) = play(16, &config(2, 8, 4)).await;
    assert_eq!(select_k.sizes, vec![16, 8, 4]);
    assert_eq!(
        (
            select_k.stats.decisions,
            select_k.stats.regular_votes,
            calls
        ),
        (12, 96, 96)
    );
    assert_eq!(select_k.survivors.len(), 4);
    assert!(select_k.winner().is_none());
    // Every vote is recorded with its place, display order and prompt hash.
    for v in &full.votes {
        assert_eq!(v.shown.len(), 2);
        assert_eq!(v.prompt_hash.len(), 64);
        assert!(v.valid && v.chosen.is_some() && !v.reused);
    }
}

#[tokio::test]
async fn a_four_four_split_triggers_the_tie_break_and_records_it() {
    // Votes 0-3 name r0, votes 4-7 name r1, the tie-break vote names r1.
    let split = |shown: &[String], vote: u32, _: usize| {
        let id = if vote < 4 { "r0" } else { "r1" };
        verdict_for(shown, id)
    };
    let t = task();
    let c = cands(2);
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "l",
        seed: 1,
    };
    let model = judge_model(split);
    let r = run_tournament(&input, &config(2, 8, 1), &judge(&model), &NoStore)
        .await
        .unwrap();
    let g = &r.rounds[0].groups[0];
    assert_eq!(g.counts, vec![4, 4]);
    assert_eq!(g.decision, GroupDecision::TieBreakVote);
    let tie = g.tie_break.as_ref().unwrap();
    assert_eq!(tie.tied, vec!["r0", "r1"]);
    assert_eq!(tie.votes_each, 4);
    assert!(tie.extra_vote_asked);
    assert_eq!(tie.extra_vote.as_deref(), Some("r1"));
    assert_eq!(r.winner(), Some("r1"));
    assert_eq!(model.call_count(), 9);
    let extra: Vec<_> = r
        .votes
        .iter()
        .filter(|v| v.kind == VoteKind::TieBreak)
        .collect();
    assert_eq!(extra.len(), 1);
    assert_eq!(extra[0].vote_index, 8);
    assert_eq!(extra[0].chosen.as_deref(), Some("r1"));
    assert_eq!(
        (r.stats.ties, r.stats.tie_break_votes, r.stats.coin_flips),
        (1, 1, 0)
    );

    // With the coin policy there is no extra vote; the coin is recorded and seeded.
    let coin = TournamentConfig {
        tie_break: TieBreak::Coin,
        ..config(2, 8, 1)
    };
    let model = judge_model(split);
    let a = run_tournament(&input, &coin, &judge(&model), &NoStore)
        .await
        .unwrap();
    assert_eq!(model.call_count(), 8);
    let g = &a.rounds[0].groups[0];
    assert_eq!(g.decision, GroupDecision::Coin);
    let tie = g.tie_break.as_ref().unwrap();
    assert!(!tie.extra_vote_asked);
    assert_eq!(tie.coin.as_deref(), a.winner());
    let b = run_tournament(&input, &coin, &judge(&judge_model(split)), &NoStore)
        .await
        .unwrap();
    assert_eq!(a, b);
}

#[tokio::test]
async fn invalid_replies_are_reasked_then_recorded_invalid_and_never_default() {
    let t = task();
    let c = cands(2);
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "l",
        seed: 3,
    };
    // Never a valid verdict: every vote takes 1 + 2 re-asks, the tie-break vote too.
    // (`**Final verdict: Solution 1**` is a valid verdict; a negated one never is.)
    let model = judge_model(|_, _, _| "Final verdict: not Solution 1".to_string());
    let r = run_tournament(&input, &config(2, 4, 1), &judge(&model), &NoStore)
        .await
        .unwrap();
    assert_eq!(model.call_count(), (4 + 1) * 3);
    assert!(
        r.votes
            .iter()
            .all(|v| !v.valid && v.verdict.is_none() && v.chosen.is_none())
    );
    assert!(r.votes.iter().all(|v| v.attempts.len() == 3));
    assert!(
        r.votes[0].attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("not of the form")
    );
    let g = &r.rounds[0].groups[0];
    assert_eq!((g.invalid_votes, g.counts.clone()), (4, vec![0, 0]));
    assert_eq!(
        g.decision,
        GroupDecision::Coin,
        "all-invalid groups go to the seeded coin"
    );
    assert_eq!(r.stats.invalid_votes, 5);
    // The re-ask carries the reason back to the judge.
    let reask = &model.requests()[1];
    let last = &reask.messages.last().unwrap().content;
    assert!(
        last.contains("not of the form") && last.contains("Final verdict: Solution N"),
        "{last}"
    );

    // A valid reply on the re-ask counts.
    let model = judge_model(|shown, _, attempt| {
        if attempt == 0 {
            "I prefer the first one.".to_string()
        } else {
            verdict_for(shown, "r1")
        }
    });
    let r = run_tournament(&input, &config(2, 4, 1), &judge(&model), &NoStore)
        .await
        .unwrap();
    assert_eq!(r.winner(), Some("r1"));
    assert!(r.votes.iter().all(|v| v.valid && v.attempts.len() == 2));
    assert_eq!(r.stats.judge_calls, 8);
}

#[tokio::test]
async fn results_do_not_depend_on_concurrency_or_latency() {
    let t = task();
    let c = cands(11);
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "l",
        seed: 11,
    };
    let slow = |limit: usize, ms: u64| {
        let cfg = TournamentConfig {
            max_concurrent_calls: limit,
            ..config(3, 5, 1)
        };
        let model = std::sync::Arc::new(
            ScriptedModel::from_fn("judge-model", |req| {
                let shown = crate::common::shown_ids(req);
                let id = hashed_choice(&shown, req.sample_index);
                Ok(ModelResponse::text("judge-model", verdict_for(&shown, &id)))
            })
            .with_latency(Duration::from_millis(ms)),
        );
        (cfg, model)
    };
    let (cfg1, m1) = slow(1, 0);
    let (cfg16, m16) = slow(16, 2);
    let a = run_tournament(&input, &cfg1, &judge(&m1), &NoStore)
        .await
        .unwrap();
    let mut b = run_tournament(&input, &cfg16, &judge(&m16), &NoStore)
        .await
        .unwrap();
    b.config.max_concurrent_calls = 1;
    assert_eq!(a, b);
}

async fn try_run(
    c: &[agentscale_scaling::Candidate],
    cfg: &TournamentConfig,
    j: &agentscale_scaling::LlmJudge,
) -> Result<TournamentResult, ScalingError> {
    let t = task();
    let input = TournamentInput {
        task: &t,
        candidates: c,
        label: "l",
        seed: 0,
    };
    run_tournament(&input, cfg, j, &NoStore).await
}

#[tokio::test]
async fn bad_input_is_a_clear_error() {
    let model = judge_model(lowest_wins);
    let j = judge(&model);
    let e = try_run(&[], &config(2, 8, 1), &j).await.unwrap_err();
    assert!(matches!(e, ScalingError::Input { .. }));
    assert!(
        e.to_string().contains("demo__demo-1") && e.to_string().contains("no candidates"),
        "{e}"
    );
    let e = try_run(&[cand("a", None), cand("a", None)], &config(2, 8, 1), &j)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("appears twice"), "{e}");
    let bad = TournamentConfig {
        votes: 0,
        ..TournamentConfig::default()
    };
    let e = try_run(&cands(2), &bad, &j).await.unwrap_err();
    assert!(
        e.to_string().starts_with("scaling.tournament.votes:"),
        "{e}"
    );
    assert_eq!(model.call_count(), 0);
    // One candidate needs no vote.
    let r = try_run(&cands(1), &config(2, 8, 1), &j).await.unwrap();
    assert_eq!(r.winner(), Some("r0"));
    assert!(r.rounds.is_empty() && r.votes.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any N and G: byes for leftovers, every round a partition, the schedule followed.
    #[test]
    fn byes_and_uneven_populations(
        n in 1usize..26, g in 2usize..6, v in 1u32..4, k in 1usize..4,
        small in any::<bool>(), seed: u64,
    ) {
        let leftover = if small { Leftover::SmallGroup } else { Leftover::Bye };
        let cfg = TournamentConfig { leftover, ..config(g, v, k) };
        let t = task();
        let c = cands(n);
        let input = TournamentInput { task: &t, candidates: &c, label: "p", seed };
        let model = judge_model(|shown, vote, _| verdict_for(shown, &hashed_choice(shown, vote)));
        let r = block_on(run_tournament(&input, &cfg, &judge(&model), &NoStore)).unwrap();
        prop_assert_eq!(&r.sizes, &schedule(n, g, k, leftover));
        prop_assert_eq!(r.survivors.len(), n.min(k));
        let (decisions, votes) = planned_calls(n, g, k, leftover, v);
        prop_assert_eq!(r.stats.decisions, decisions);
        prop_assert_eq!(r.stats.regular_votes as u64, votes);
        for round in &r.rounds {
            let mut seen: Vec<&String> = round.byes.iter().collect();
            for grp in &round.groups {
                prop_assert!(grp.members.len() >= 2 && grp.members.len() <= g.max(2));
                seen.extend(&grp.members);
                prop_assert!(grp.members.contains(&grp.winner));
            }
            let mut pop: Vec<&String> = round.population.iter().collect();
            seen.sort();
            pop.sort();
            prop_assert_eq!(seen, pop);
            if leftover == Leftover::Bye && round.population.len() > g {
                prop_assert!(round.byes.len() < g || round.groups.len() < k);
            }
        }
        // Each regular vote shows exactly its group's members.
        for vote in r.votes.iter().filter(|v| v.kind == VoteKind::Regular) {
            let grp = &r.rounds.iter().find(|x| x.round == vote.round).unwrap().groups[vote.group as usize];
            let a: BTreeSet<&String> = vote.shown.iter().collect();
            let b: BTreeSet<&String> = grp.members.iter().collect();
            prop_assert_eq!(a, b);
        }
    }

    /// Early stop picks the same winner as full voting, with fewer (never more) calls.
    #[test]
    fn early_stop_never_changes_the_winner(
        n in 2usize..18, g in 2usize..5, v in 1u32..10, k in 1usize..3, seed: u64,
    ) {
        let t = task();
        let c = cands(n);
        let input = TournamentInput { task: &t, candidates: &c, label: "e", seed };
        // Deterministic per (shown, vote): a preference, or now and then an invalid reply.
        let reply = |shown: &[String], vote: u32, _: usize| {
            let h = agentscale_core::hash::json_hash(&(shown, vote));
            if h.starts_with('0') {
                "no verdict here".to_string()
            } else {
                verdict_for(shown, &hashed_choice(shown, vote))
            }
        };
        let exact = TournamentConfig { invalid_vote_reasks: 0, ..config(g, v, k) };
        let early = TournamentConfig {
            exact: false,
            early_stop: Some(true),
            collapse_identical_patches: Some(false),
            ..exact.clone()
        };
        let (ma, mb) = (judge_model(reply), judge_model(reply));
        let a = block_on(run_tournament(&input, &exact, &judge(&ma), &NoStore)).unwrap();
        let b = block_on(run_tournament(&input, &early, &judge(&mb), &NoStore)).unwrap();
        prop_assert_eq!(&a.survivors, &b.survivors);
        prop_assert_eq!(a.stats.votes_saved_early_stop, 0);
        prop_assert_eq!(
            b.stats.votes_saved_early_stop,
            a.stats.regular_votes - b.stats.regular_votes
        );
        prop_assert!(mb.call_count() <= ma.call_count());
        // Every early-stop vote is one full voting also asked (same prompt, same index).
        let full: BTreeSet<(String, u32)> = a.votes.iter().map(|x| (x.prompt_hash.clone(), x.vote_index)).collect();
        for x in &b.votes {
            prop_assert!(full.contains(&(x.prompt_hash.clone(), x.vote_index)));
        }
    }

    /// Collapsing identical normalized patches never changes which patch wins.
    #[test]
    fn identical_patch_collapse_never_changes_the_winning_patch(
        picks in proptest::collection::vec((0usize..5, 0usize..3), 2..16),
        g in 2usize..5, v in 1u32..5, seed: u64,
    ) {
        // Five distinct changes; spacing variants of one change normalize to the same patch.
        let patch = |k: usize, pad: usize| format!(
            "--- a/src/m.py\n+++ b/src/m.py\n@@ -1 +1 @@\n-old\n+{}value = {k}\n", " ".repeat(pad)
        );
        let c: Vec<_> = picks.iter().enumerate()
            .map(|(i, &(k, pad))| cand(&format!("r{i}"), Some(&patch(k, pad))))
            .collect();
        let quality: std::collections::BTreeMap<String, usize> =
            picks.iter().enumerate().map(|(i, &(k, _))| (format!("r{i}"), k)).collect();
        // The judge always names a candidate with the best change shown.
        let q = quality.clone();
        let reply = move |shown: &[String], vote: u32, _: usize| {
            let best = shown.iter().map(|s| q[s]).max().unwrap_or(0);
            let tied: Vec<&String> = shown.iter().filter(|s| q[*s] == best).collect();
            verdict_for(shown, tied[(vote as usize) % tied.len()])
        };
        let t = task();
        let input = TournamentInput { task: &t, candidates: &c, label: "c", seed };
        let plain = config(g, v, 1);
        let collapse = TournamentConfig {
            exact: false,
            early_stop: Some(false),
            collapse_identical_patches: Some(true),
            ..plain.clone()
        };
        let a = block_on(run_tournament(&input, &plain, &judge(&judge_model(reply.clone())), &NoStore)).unwrap();
        let b = block_on(run_tournament(&input, &collapse, &judge(&judge_model(reply)), &NoStore)).unwrap();
        let win = |r: &TournamentResult| quality[r.winner().unwrap()];
        prop_assert_eq!(win(&a), win(&b));
        let distinct: BTreeSet<usize> = picks.iter().map(|p| p.0).collect();
        prop_assert_eq!(b.sizes[0], distinct.len());
        let dropped: usize = b.collapsed.iter().map(|x| x.dropped.len()).sum();
        prop_assert_eq!(dropped, picks.len() - distinct.len());
    }
}

#[tokio::test]
async fn votes_are_stored_as_they_are_made() {
    let t = task();
    let c = cands(4);
    let input = TournamentInput {
        task: &t,
        candidates: &c,
        label: "l",
        seed: 5,
    };
    let store = MemoryStore::new();
    let model = judge_model(lowest_wins);
    let r = run_tournament(&input, &config(2, 3, 1), &judge(&model), &store)
        .await
        .unwrap();
    assert_eq!(store.vote_count(), r.votes.len());
    assert_eq!(r.stats.votes_made, 9);
}

#[tokio::test]
async fn early_stop_reports_the_calls_it_saves() {
    let early = TournamentConfig {
        exact: false,
        ..config(2, 8, 1)
    };
    assert!(early.early_stop_enabled() && early.collapse_enabled());
    let (r, calls) = play(16, &early).await;
    // Unanimous votes: 5-0 with 3 votes left settles a pair.
    assert_eq!(r.winner(), Some("r0"));
    assert_eq!((r.stats.regular_votes, calls), (75, 75));
    assert_eq!(r.stats.votes_saved_early_stop, 45);
    assert!(
        r.rounds
            .iter()
            .flat_map(|x| &x.groups)
            .all(|g| g.votes_saved == 3 && g.decision == GroupDecision::EarlyStop)
    );
}
