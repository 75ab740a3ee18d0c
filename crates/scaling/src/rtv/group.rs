//! One group's vote as a pure state machine: [`GroupState`].
//!
//! The group hands out the votes to ask in waves ([`GroupState::next_wave`]); the caller asks
//! them (concurrently, from a store, or from a synthetic judge) and records each verdict
//! ([`GroupState::record`]) by vote index, so the outcome does not depend on the order in
//! which answers arrive. Without early stop the first wave is all V votes. With early stop a
//! wave is the fewest votes after which the winner could be settled, so no vote is asked that
//! full voting would not also have asked, and the group stops once the leader is ahead of
//! every other candidate by more than the votes left (its winner is then the same as with
//! all V votes). After the V votes, a tie among the top candidates is settled by the
//! configured [`TieBreak`].
//!
//! Randomness comes from streams derived from the run's seed and a key naming the group's
//! members, so a group of the same candidates gets the same display orders wherever it is
//! played, whatever the scheduling.

use agentscale_core::rng::Rng;
use agentscale_core::vote::{GroupDecision, VoteKind};

use super::config::{DisplayOrder, TieBreak};

/// One vote to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVote {
    /// 0-based index within the group (the tie-break vote is index V).
    pub vote_index: u32,
    /// Regular or tie-break.
    pub kind: VoteKind,
    /// Candidate indices in display order ("Solution 1" first).
    pub shown: Vec<usize>,
}

/// The tie and how it was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieOutcome {
    /// Tied candidates (candidate indices, ascending).
    pub tied: Vec<usize>,
    /// Their vote count.
    pub votes_each: u32,
    /// True when an extra vote was asked.
    pub extra_vote_asked: bool,
    /// The extra vote's valid verdict.
    pub extra_vote: Option<usize>,
    /// The coin's pick, if the coin was used.
    pub coin: Option<usize>,
}

/// A group's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The winner (candidate index).
    pub winner: usize,
    /// How it was decided.
    pub how: GroupDecision,
    /// Valid regular votes per member, in member order.
    pub counts: Vec<u32>,
    /// Regular votes asked.
    pub votes_asked: u32,
    /// Regular votes that stayed invalid.
    pub invalid: u32,
    /// Regular votes not asked thanks to early stop.
    pub saved: u32,
    /// The tie, if any.
    pub tie: Option<TieOutcome>,
}

/// The state of one vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Handed out, not recorded yet.
    Pending,
    /// Recorded without a valid verdict.
    Invalid,
    /// Recorded: this candidate was named.
    Chose(usize),
}

impl Slot {
    fn from_choice(chosen: Option<usize>) -> Self {
        chosen.map_or(Self::Invalid, Self::Chose)
    }
}

#[derive(Debug, Clone)]
enum Phase {
    Voting,
    TieVote { tied: Vec<usize> },
    Decided(Decision),
}

/// The knobs a group needs.
#[derive(Debug, Clone, Copy)]
pub struct GroupRules {
    /// V.
    pub votes: u32,
    /// Stop once the winner cannot change.
    pub early_stop: bool,
    /// Tie-break policy.
    pub tie_break: TieBreak,
    /// The display order, vote by vote.
    pub display: DisplayOrder,
}

/// One group's vote in progress.
#[derive(Debug, Clone)]
pub struct GroupState {
    members: Vec<usize>,
    rules: GroupRules,
    seed: u64,
    key: String,
    display_rng: Option<Rng>,
    results: Vec<Slot>,
    tie_result: Slot,
    issued: u32,
    phase: Phase,
}

impl GroupState {
    /// A group of `members` (candidate indices, at least two). `key` names the group for its
    /// random streams (the task and the members' ids).
    pub fn new(members: Vec<usize>, rules: GroupRules, seed: u64, key: String) -> Self {
        let display_rng = (rules.display != DisplayOrder::Fixed)
            .then(|| Rng::derive(seed, &format!("rtv-display/{key}")));
        Self {
            members,
            rules,
            seed,
            key,
            display_rng,
            results: Vec::new(),
            tie_result: Slot::Pending,
            issued: 0,
            phase: Phase::Voting,
        }
    }

    /// The members (candidate indices) in group order.
    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// The decision, once made.
    pub fn decision(&self) -> Option<&Decision> {
        match &self.phase {
            Phase::Decided(d) => Some(d),
            _ => None,
        }
    }

    fn counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.members.len()];
        for slot in &self.results {
            if let Slot::Chose(chosen) = slot
                && let Some(pos) = self.members.iter().position(|m| m == chosen)
            {
                counts[pos] += 1;
            }
        }
        counts
    }

    /// The display order of regular vote `vote_index`.
    fn display(&mut self, of: &[usize], vote_index: u32) -> Vec<usize> {
        let mut shown = of.to_vec();
        match self.rules.display {
            DisplayOrder::Fixed => {}
            DisplayOrder::Shuffled => {
                if let Some(rng) = &mut self.display_rng {
                    rng.shuffle(&mut shown);
                }
            }
            DisplayOrder::Counterbalanced => {
                // One seeded base order per group (drawn from a fresh stream, so it does not
                // depend on how many votes were handed out), rotated by the vote index.
                Rng::derive(self.seed, &format!("rtv-display-base/{}", self.key))
                    .shuffle(&mut shown);
                if !shown.is_empty() {
                    let len = shown.len();
                    shown.rotate_left(vote_index as usize % len);
                }
            }
        }
        shown
    }

    fn all_recorded(&self) -> bool {
        !self.results.contains(&Slot::Pending)
    }

    /// The votes to ask now. Empty when the group is decided, or when votes handed out
    /// earlier are not all recorded yet.
    pub fn next_wave(&mut self) -> Vec<PlannedVote> {
        loop {
            match &self.phase {
                Phase::Decided(_) => return Vec::new(),
                Phase::TieVote { tied } => {
                    if self.tie_result != Slot::Pending {
                        let tied = tied.clone();
                        self.settle_tie_vote(tied);
                        continue;
                    }
                    return Vec::new();
                }
                Phase::Voting => {}
            }
            if !self.all_recorded() {
                return Vec::new();
            }
            let counts = self.counts();
            let remaining = self.rules.votes - self.issued;
            let (top, second) = top_two(&counts);
            if remaining == 0 || (self.rules.early_stop && top > second + remaining) {
                self.finish_voting(&counts, remaining);
                continue;
            }
            let wave = if self.rules.early_stop {
                // Fewest votes after which the leader could be out of reach.
                let gap = top - second;
                ((remaining.saturating_sub(gap)) / 2 + 1).min(remaining)
            } else {
                remaining
            };
            let members = self.members.clone();
            let mut planned = Vec::with_capacity(wave as usize);
            for _ in 0..wave {
                let shown = self.display(&members, self.issued);
                planned.push(PlannedVote {
                    vote_index: self.issued,
                    kind: VoteKind::Regular,
                    shown,
                });
                self.issued += 1;
                self.results.push(Slot::Pending);
            }
            return planned;
        }
    }

    /// Record the verdict of vote `vote_index`: the chosen candidate index, or `None` for an
    /// invalid vote. A verdict naming a candidate not shown counts as invalid.
    pub fn record(&mut self, vote_index: u32, chosen: Option<usize>) {
        if vote_index < self.rules.votes {
            let chosen = chosen.filter(|c| self.members.contains(c));
            if let Some(slot) = self.results.get_mut(vote_index as usize) {
                *slot = Slot::from_choice(chosen);
            }
        } else if let Phase::TieVote { tied } = &self.phase {
            self.tie_result = Slot::from_choice(chosen.filter(|c| tied.contains(c)));
        }
    }

    /// Settle the group after its regular votes: a strict plurality wins; a tie goes to the
    /// tie-break policy (a coin now, or a wait for the extra vote).
    fn finish_voting(&mut self, counts: &[u32], remaining: u32) {
        let (top, _) = top_two(counts);
        let mut tied: Vec<usize> = self
            .members
            .iter()
            .zip(counts)
            .filter(|&(_, &c)| c == top)
            .map(|(&m, _)| m)
            .collect();
        let invalid = self.invalid_count();
        let base = Decision {
            winner: tied[0],
            how: if remaining > 0 {
                GroupDecision::EarlyStop
            } else {
                GroupDecision::Majority
            },
            counts: counts.to_vec(),
            votes_asked: self.issued,
            invalid,
            saved: remaining,
            tie: None,
        };
        if tied.len() == 1 {
            self.phase = Phase::Decided(base);
            return;
        }
        tied.sort_unstable();
        match self.rules.tie_break {
            TieBreak::Coin => {
                let coin = self.coin(&tied);
                self.phase = Phase::Decided(Decision {
                    winner: coin,
                    how: GroupDecision::Coin,
                    tie: Some(TieOutcome {
                        tied,
                        votes_each: top,
                        extra_vote_asked: false,
                        extra_vote: None,
                        coin: Some(coin),
                    }),
                    ..base
                });
            }
            TieBreak::ExtraVoteThenCoin => {
                self.phase = Phase::TieVote { tied };
            }
        }
    }

    /// The tie-break vote to ask (index V), when the group is waiting for one.
    pub fn tie_vote(&mut self) -> Option<PlannedVote> {
        let Phase::TieVote { tied } = &self.phase else {
            return None;
        };
        if self.tie_result != Slot::Pending {
            return None;
        }
        let mut shown = tied.clone();
        if self.rules.display != DisplayOrder::Fixed {
            Rng::derive(self.seed, &format!("rtv-tie/{}", self.key)).shuffle(&mut shown);
        }
        Some(PlannedVote {
            vote_index: self.rules.votes,
            kind: VoteKind::TieBreak,
            shown,
        })
    }

    fn settle_tie_vote(&mut self, tied: Vec<usize>) {
        let counts = self.counts();
        let (top, _) = top_two(&counts);
        let extra = match self.tie_result {
            Slot::Chose(c) => Some(c),
            Slot::Invalid | Slot::Pending => None,
        };
        let coin = if extra.is_none() {
            Some(self.coin(&tied))
        } else {
            None
        };
        let invalid = self.invalid_count();
        self.phase = Phase::Decided(Decision {
            winner: extra.or(coin).unwrap_or(tied[0]),
            how: if extra.is_some() {
                GroupDecision::TieBreakVote
            } else {
                GroupDecision::Coin
            },
            counts,
            votes_asked: self.issued,
            invalid,
            saved: 0,
            tie: Some(TieOutcome {
                tied,
                votes_each: top,
                extra_vote_asked: true,
                extra_vote: extra,
                coin,
            }),
        });
    }

    fn invalid_count(&self) -> u32 {
        self.results.iter().filter(|r| **r == Slot::Invalid).count() as u32
    }

    fn coin(&self, tied: &[usize]) -> usize {
        let mut rng = Rng::derive(self.seed, &format!("rtv-coin/{}", self.key));
        tied[rng.below(tied.len() as u64) as usize]
    }

    /// Votes to ask now, the tie-break vote included: [`Self::next_wave`], or the tie vote
    /// when the regular votes ended in a tie.
    pub fn pending(&mut self) -> Vec<PlannedVote> {
        let wave = self.next_wave();
        if !wave.is_empty() {
            return wave;
        }
        self.tie_vote().into_iter().collect()
    }
}

fn top_two(counts: &[u32]) -> (u32, u32) {
    let mut top = 0;
    let mut second = 0;
    for &c in counts {
        if c > top {
            second = top;
            top = c;
        } else if c > second {
            second = c;
        }
    }
    (top, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(votes: u32, early_stop: bool, tie_break: TieBreak) -> GroupRules {
        GroupRules {
            votes,
            early_stop,
            tie_break,
            display: DisplayOrder::Shuffled,
        }
    }

    /// Play a group with a verdict function of (vote index, shown) -> chosen.
    fn play(
        g: &mut GroupState,
        mut f: impl FnMut(u32, &[usize]) -> Option<usize>,
    ) -> (Decision, Vec<PlannedVote>) {
        let mut asked = Vec::new();
        loop {
            let wave = g.pending();
            if wave.is_empty() {
                break;
            }
            for v in &wave {
                g.record(v.vote_index, f(v.vote_index, &v.shown));
            }
            asked.extend(wave);
        }
        (g.decision().cloned().unwrap(), asked)
    }

    /// How often each member is shown first in `votes`.
    fn first_counts(members: &[usize], votes: &[PlannedVote]) -> Vec<usize> {
        members
            .iter()
            .map(|m| votes.iter().filter(|v| v.shown.first() == Some(m)).count())
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn counterbalanced_shows_each_member_first_equally_often(
            g in 2usize..9, v in 1u32..40, seed in proptest::prelude::any::<u64>(),
            early_stop in proptest::prelude::any::<bool>(), pick in 0usize..9,
        ) {
            let members: Vec<usize> = (0..g).map(|i| i * 3 + 1).collect();
            let rules = GroupRules {
                votes: v,
                early_stop,
                tie_break: TieBreak::Coin,
                display: DisplayOrder::Counterbalanced,
            };
            let mut group = GroupState::new(members.clone(), rules, seed, format!("t/{seed}"));
            let favourite = members[pick % g];
            let (_, asked) = play(&mut group, |_, _| Some(favourite));
            for (p, vote) in asked.iter().enumerate() {
                // every vote shows every member once
                let mut sorted = vote.shown.clone();
                sorted.sort_unstable();
                proptest::prop_assert_eq!(&sorted, &members);
                // in every prefix (early stop ends anywhere) the counts differ by at most one
                let counts = first_counts(&members, &asked[..=p]);
                let (lo, hi) = (counts.iter().min().copied(), counts.iter().max().copied());
                proptest::prop_assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{counts:?}");
            }
            if !early_stop && (v as usize).is_multiple_of(g) {
                let want = vec![v as usize / g; g];
                proptest::prop_assert_eq!(first_counts(&members, &asked), want);
                // and every member takes every position equally often
                for pos in 0..g {
                    for m in &members {
                        let n = asked.iter().filter(|x| x.shown[pos] == *m).count();
                        proptest::prop_assert_eq!(n, v as usize / g);
                    }
                }
            }
        }
    }

    #[test]
    fn shuffled_can_show_one_member_first_far_more_often_and_fixed_never_moves() {
        let mut worst = 0;
        for seed in 0..200 {
            let rules = GroupRules {
                votes: 8,
                early_stop: false,
                tie_break: TieBreak::Coin,
                display: DisplayOrder::Shuffled,
            };
            let mut group = GroupState::new(vec![0, 1], rules, seed, "t/a|b".into());
            let (_, asked) = play(&mut group, |_, s| Some(s[0]));
            worst = worst.max(first_counts(&[0, 1], &asked)[0]);
        }
        assert!(
            worst >= 6,
            "the old per-vote reshuffle is unbalanced by chance"
        );
        let rules = GroupRules {
            votes: 4,
            early_stop: false,
            tie_break: TieBreak::Coin,
            display: DisplayOrder::Fixed,
        };
        let mut group = GroupState::new(vec![5, 2], rules, 1, "t/a|b".into());
        let (_, asked) = play(&mut group, |_, s| Some(s[0]));
        assert!(asked.iter().all(|v| v.shown == vec![5, 2]));
    }

    #[test]
    fn four_four_split_asks_one_extra_vote_and_records_it() {
        let mut g = GroupState::new(
            vec![3, 7],
            rules(8, false, TieBreak::ExtraVoteThenCoin),
            1,
            "t/a|b".into(),
        );
        let (d, asked) = play(&mut g, |i, shown| match i {
            0..=3 => Some(3),
            4..=7 => Some(7),
            _ => Some(shown[0]),
        });
        assert_eq!(asked.len(), 9);
        assert_eq!(asked[8].kind, VoteKind::TieBreak);
        assert_eq!(asked[8].vote_index, 8);
        assert_eq!(d.how, GroupDecision::TieBreakVote);
        assert_eq!(d.counts, vec![4, 4]);
        let tie = d.tie.unwrap();
        assert_eq!(tie.tied, vec![3, 7]);
        assert_eq!(tie.votes_each, 4);
        assert_eq!(tie.extra_vote, Some(asked[8].shown[0]));
        assert_eq!(d.winner, asked[8].shown[0]);
    }

    #[test]
    fn invalid_tie_vote_falls_to_the_seeded_coin() {
        let run = || {
            let mut g = GroupState::new(
                vec![0, 1],
                rules(2, false, TieBreak::ExtraVoteThenCoin),
                9,
                "k".into(),
            );
            play(&mut g, |i, _| {
                if i == 0 {
                    Some(0)
                } else if i == 1 {
                    Some(1)
                } else {
                    None
                }
            })
            .0
        };
        let d = run();
        assert_eq!(d.how, GroupDecision::Coin);
        let tie = d.tie.clone().unwrap();
        assert!(tie.extra_vote_asked && tie.extra_vote.is_none());
        assert_eq!(tie.coin, Some(d.winner));
        assert_eq!(run(), d, "the coin is seeded");
    }

    #[test]
    fn coin_policy_asks_no_extra_vote_and_all_invalid_is_a_tie() {
        let mut g = GroupState::new(
            vec![0, 1, 2],
            rules(4, false, TieBreak::Coin),
            5,
            "k".into(),
        );
        let (d, asked) = play(&mut g, |_, _| None);
        assert_eq!(asked.len(), 4);
        assert_eq!(d.invalid, 4);
        assert_eq!(d.how, GroupDecision::Coin);
        assert_eq!(d.tie.unwrap().tied, vec![0, 1, 2]);
    }

    #[test]
    fn early_stop_saves_votes_and_keeps_the_winner() {
        let mut full = GroupState::new(
            vec![0, 1],
            rules(8, false, TieBreak::ExtraVoteThenCoin),
            2,
            "k".into(),
        );
        let mut early = GroupState::new(
            vec![0, 1],
            rules(8, true, TieBreak::ExtraVoteThenCoin),
            2,
            "k".into(),
        );
        let f = |i: u32, _: &[usize]| if i == 2 { Some(1) } else { Some(0) };
        let (a, asked_full) = play(&mut full, f);
        let (b, asked_early) = play(&mut early, f);
        assert_eq!(a.winner, b.winner);
        assert_eq!(asked_full.len(), 8);
        // 0,0,1 then 0,0: 4-1 with 3 left is not settled; 5-1 with 2 left is.
        assert_eq!(asked_early.len(), 6);
        assert_eq!(b.saved, 2);
        assert_eq!(b.how, GroupDecision::EarlyStop);
        // Display orders are the same for the votes both asked.
        assert_eq!(&asked_full[..6], &asked_early[..]);
    }

    #[test]
    fn a_verdict_for_someone_not_in_the_group_is_invalid() {
        let mut g = GroupState::new(vec![0, 1], rules(1, false, TieBreak::Coin), 5, "k".into());
        let (d, _) = play(&mut g, |_, _| Some(42));
        assert_eq!(d.invalid, 1);
        assert_eq!(d.how, GroupDecision::Coin);
    }
}
