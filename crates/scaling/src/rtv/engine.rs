//! The round loop shared by the real tournament and the simulation.
//!
//! [`drive`] plays rounds until the wanted number of survivors is left: it plans each round
//! ([`super::schedule::plan_round`]), pairs the population with the round's seeded stream,
//! and collects every group's pending votes into one wave, which the caller's `exec` answers
//! (asynchronously for the real judge, immediately for the synthetic one). Candidates are
//! plain indices here; names and records are the caller's business.

use std::future::Future;

use agentscale_core::rng::Rng;

use super::config::{Leftover, Pairing, TournamentConfig};
use super::group::{Decision, GroupRules, GroupState, PlannedVote};
use super::schedule::{pair, plan_round};

/// Everything the loop needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct EngineRules {
    /// G.
    pub group_size: usize,
    /// Stop at this many survivors.
    pub survivors: usize,
    /// Leftover policy.
    pub leftover: Leftover,
    /// Pairing policy.
    pub pairing: Pairing,
    /// Per-group rules.
    pub group: GroupRules,
}

impl EngineRules {
    /// The rules of a tournament configuration.
    pub fn from_config(c: &TournamentConfig) -> Self {
        Self {
            group_size: c.group_size,
            survivors: c.survivors,
            leftover: c.leftover,
            pairing: c.pairing,
            group: GroupRules {
                votes: c.votes,
                early_stop: c.early_stop_enabled(),
                tie_break: c.tie_break,
                display: c.display_order,
            },
        }
    }
}

/// What names the random streams: the run's seed, the task, the tournament's label, and the
/// candidates' ids (groups are keyed by their members' ids).
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    /// The run's seed.
    pub seed: u64,
    /// The task id.
    pub task: &'a str,
    /// The tournament label.
    pub label: &'a str,
    /// Candidate ids, by index.
    pub ids: &'a [String],
}

impl Keys<'_> {
    fn group_key(&self, members: &[usize]) -> String {
        let mut names: Vec<&str> = members
            .iter()
            .map(|&m| self.ids.get(m).map_or("?", String::as_str))
            .collect();
        names.sort_unstable();
        format!("{}/{}", self.task, names.join("|"))
    }
}

/// One vote of a wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveItem {
    /// The round.
    pub round: u32,
    /// The group within the round.
    pub group: u32,
    /// The vote.
    pub vote: PlannedVote,
}

/// A played group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayedGroup {
    /// Members in group order.
    pub members: Vec<usize>,
    /// The outcome.
    pub decision: Decision,
}

/// A played round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayedRound {
    /// The round number.
    pub round: u32,
    /// The population at the start (ascending indices).
    pub population: Vec<usize>,
    /// The groups.
    pub groups: Vec<PlayedGroup>,
    /// Candidates with a bye.
    pub byes: Vec<usize>,
    /// Winners and byes (ascending indices).
    pub survivors: Vec<usize>,
}

/// Play rounds from `population` (numbered from `start_round`) until at most
/// `rules.survivors` remain. `exec` answers a wave: for each item, in order, the chosen
/// candidate index (or `None` for an invalid vote) and a payload collected in order.
pub async fn drive<P, E, F, Fut>(
    population: Vec<usize>,
    start_round: u32,
    rules: &EngineRules,
    keys: &Keys<'_>,
    mut exec: F,
) -> Result<(Vec<PlayedRound>, Vec<P>), E>
where
    F: FnMut(Vec<WaveItem>) -> Fut,
    Fut: Future<Output = Result<Vec<(Option<usize>, P)>, E>>,
{
    let mut pop = population;
    pop.sort_unstable();
    let mut round = start_round;
    let mut rounds = Vec::new();
    let mut payloads = Vec::new();
    while let Some(plan) = plan_round(pop.len(), rules.group_size, rules.survivors, rules.leftover)
    {
        let mut rng = Rng::derive(
            keys.seed,
            &format!("rtv-pairing/{}/{}/round-{round}", keys.task, keys.label),
        );
        let (groups, byes) = pair(&pop, &plan, rules.pairing, &mut rng);
        let mut states: Vec<GroupState> = groups
            .into_iter()
            .map(|m| {
                let key = keys.group_key(&m);
                GroupState::new(m, rules.group, keys.seed, key)
            })
            .collect();
        loop {
            let mut items = Vec::new();
            for (g, st) in states.iter_mut().enumerate() {
                for vote in st.pending() {
                    items.push(WaveItem {
                        round,
                        group: g as u32,
                        vote,
                    });
                }
            }
            if items.is_empty() {
                break;
            }
            let index: Vec<(usize, u32)> = items
                .iter()
                .map(|i| (i.group as usize, i.vote.vote_index))
                .collect();
            let answers = exec(items).await?;
            debug_assert_eq!(answers.len(), index.len());
            for ((g, vote_index), (chosen, payload)) in index.into_iter().zip(answers) {
                if let Some(st) = states.get_mut(g) {
                    st.record(vote_index, chosen);
                }
                payloads.push(payload);
            }
        }
        let mut played = Vec::with_capacity(states.len());
        let mut survivors = byes.clone();
        for st in states {
            // Every group is decided once it has no pending vote.
            if let Some(d) = st.decision().cloned() {
                survivors.push(d.winner);
                played.push(PlayedGroup {
                    members: st.members().to_vec(),
                    decision: d,
                });
            }
        }
        survivors.sort_unstable();
        rounds.push(PlayedRound {
            round,
            population: pop.clone(),
            groups: played,
            byes,
            survivors: survivors.clone(),
        });
        pop = survivors;
        round += 1;
    }
    Ok((rounds, payloads))
}
