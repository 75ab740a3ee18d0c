//! [`TournamentConfig`]: every knob of Recursive Tournament Voting, with METHOD.md's defaults.

use serde::{Deserialize, Serialize};

use crate::error::ScalingError;

/// How a tied group is settled. The paper does not say; recorded in every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// One extra vote among the tied candidates only; if it is invalid, a seeded coin
    /// (default).
    #[default]
    ExtraVoteThenCoin,
    /// A seeded coin among the tied candidates, without an extra vote.
    Coin,
}

/// How survivors are grouped in each round. The paper does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// A seeded shuffle before every round (default; a knockout is order-dependent, so a
    /// fixed bracket could drop the best candidate early every time).
    #[default]
    SeededRandom,
    /// Consecutive candidates in rollout order (a fixed bracket).
    InOrder,
}

/// What happens to candidates left over when the population does not divide by G.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Leftover {
    /// They advance without a vote (a bye; default).
    #[default]
    Bye,
    /// Two or more leftovers form one smaller group; a single leftover gets a bye.
    SmallGroup,
}

/// The order in which a group's members are shown to the judge, vote by vote. The paper
/// does not say; recorded in every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DisplayOrder {
    /// Vote `i` shows a seeded base order rotated by `i` places, so that across a group's
    /// votes every member is shown first (and in every other position) equally often, and
    /// in any prefix of the votes (early stop) the counts differ by at most one (default).
    #[default]
    Counterbalanced,
    /// An independent seeded shuffle for every vote (one member may be shown first in most
    /// votes by chance).
    Shuffled,
    /// The group's own order for every vote (position bias goes straight into the result).
    Fixed,
}

/// The configuration of one tournament (config: `[scaling.tournament]`).
///
/// N is the number of candidates given; `survivors` is how many the tournament stops at
/// (1 for a final selection, K for select-K). `exact = true` (the default) is the paper's
/// method; the two additions beyond the paper, `early_stop` and
/// `collapse_identical_patches`, follow `!exact` unless set, and setting either to true while
/// `exact = true` is a config error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TournamentConfig {
    /// G: candidates per group (paper: 2).
    pub group_size: usize,
    /// V: judge votes per group (paper: 8).
    pub votes: u32,
    /// How many survivors to stop at (1: final selection; K: select-K).
    pub survivors: usize,
    /// Tie-break policy.
    pub tie_break: TieBreak,
    /// Pairing between rounds.
    pub pairing: Pairing,
    /// The display order inside a group, vote by vote (cancels position bias).
    pub display_order: DisplayOrder,
    /// Leftover candidates when the population does not divide by G.
    pub leftover: Leftover,
    /// Judge sampling temperature (> 0 so that the V votes are independent samples).
    pub judge_temperature: f64,
    /// Judge output-token limit (`None`: the provider's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_max_tokens: Option<u32>,
    /// Re-asks after a reply without a valid verdict; then the vote is recorded invalid.
    pub invalid_vote_reasks: u32,
    /// Longest patch shown to the judge per solution (head and tail kept).
    pub max_patch_chars: usize,
    /// Show the judge each solution's patch next to its summary (SWE-bench). Off by default:
    /// the paper's comparator reads the summaries only.
    pub judge_sees_patch: bool,
    /// The paper's method exactly: no early stop, no collapse of identical patches.
    pub exact: bool,
    /// Stop voting in a group once no remaining vote can change its winner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<bool>,
    /// Collapse candidates with identical normalized patches before the tournament.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collapse_identical_patches: Option<bool>,
    /// Judge calls in flight at once (does not change any result).
    pub max_concurrent_calls: usize,
}

impl Default for TournamentConfig {
    fn default() -> Self {
        Self {
            group_size: 2,
            votes: 8,
            survivors: 1,
            tie_break: TieBreak::default(),
            pairing: Pairing::default(),
            display_order: DisplayOrder::default(),
            leftover: Leftover::default(),
            judge_temperature: 1.0,
            judge_max_tokens: None,
            invalid_vote_reasks: 2,
            max_patch_chars: 30_000,
            judge_sees_patch: false,
            exact: true,
            early_stop: None,
            collapse_identical_patches: None,
            max_concurrent_calls: 8,
        }
    }
}

impl TournamentConfig {
    /// The paper's main setting: G=2, V=8, one survivor (the defaults).
    pub fn paper() -> Self {
        Self::default()
    }

    /// The same configuration stopping at `k` survivors (select-K).
    #[must_use]
    pub fn with_survivors(&self, k: usize) -> Self {
        Self {
            survivors: k,
            ..self.clone()
        }
    }

    /// The listwise baseline on `n` candidates: one group of all of them (G = N).
    #[must_use]
    pub fn listwise(&self, n: usize) -> Self {
        Self {
            group_size: n.max(2),
            survivors: 1,
            ..self.clone()
        }
    }

    /// True when groups stop voting once their winner cannot change.
    pub fn early_stop_enabled(&self) -> bool {
        self.early_stop.unwrap_or(!self.exact)
    }

    /// True when identical normalized patches are collapsed before the tournament.
    pub fn collapse_enabled(&self) -> bool {
        self.collapse_identical_patches.unwrap_or(!self.exact)
    }

    /// Check every value; `prefix` is the config path of this table (`scaling.tournament`).
    pub fn validate(&self, prefix: &str) -> Result<(), ScalingError> {
        let key = |k: &str| format!("{prefix}.{k}");
        if self.group_size < 2 {
            return Err(ScalingError::config(
                key("group_size"),
                format!("must be at least 2 (got {})", self.group_size),
            ));
        }
        if !(1..=64).contains(&self.votes) {
            return Err(ScalingError::config(
                key("votes"),
                format!("must be between 1 and 64 (got {})", self.votes),
            ));
        }
        if self.survivors < 1 {
            return Err(ScalingError::config(
                key("survivors"),
                "must be at least 1 (1 for a final selection, K for select-K)",
            ));
        }
        if !self.judge_temperature.is_finite() || !(0.0..=2.0).contains(&self.judge_temperature) {
            return Err(ScalingError::config(
                key("judge_temperature"),
                format!("must be between 0 and 2 (got {})", self.judge_temperature),
            ));
        }
        if self.invalid_vote_reasks > 10 {
            return Err(ScalingError::config(
                key("invalid_vote_reasks"),
                format!("must be at most 10 (got {})", self.invalid_vote_reasks),
            ));
        }
        if self.max_patch_chars < 200 {
            return Err(ScalingError::config(
                key("max_patch_chars"),
                format!("must be at least 200 (got {})", self.max_patch_chars),
            ));
        }
        if self.max_concurrent_calls < 1 {
            return Err(ScalingError::config(
                key("max_concurrent_calls"),
                "must be at least 1",
            ));
        }
        if self.exact {
            for (name, v) in [
                ("early_stop", self.early_stop),
                (
                    "collapse_identical_patches",
                    self.collapse_identical_patches,
                ),
            ] {
                if v == Some(true) {
                    return Err(ScalingError::config(
                        key(name),
                        format!(
                            "{name} goes beyond the paper's method; set {prefix}.exact = false \
                             to use it"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Settings that are valid but probably not meant (printed by the caller).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.judge_temperature == 0.0 && self.votes > 1 {
            w.push(format!(
                "judge_temperature = 0 with votes = {}: the votes are near-identical samples, not \
                 independent ones",
                self.votes
            ));
        }
        if self.display_order == DisplayOrder::Fixed {
            w.push(
                "display_order = fixed: the judge's position bias goes straight into the result"
                    .to_string(),
            );
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers_and_round_trip() {
        let c = TournamentConfig::default();
        assert_eq!((c.group_size, c.votes, c.survivors), (2, 8, 1));
        assert!(c.judge_temperature > 0.0);
        assert!(!c.early_stop_enabled() && !c.collapse_enabled());
        let back: TournamentConfig =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let empty: TournamentConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, c);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected_with_their_key() {
        let e = serde_json::from_str::<TournamentConfig>(r#"{"group_sise": 2}"#).unwrap_err();
        assert!(e.to_string().contains("group_sise"), "{e}");
        let c = TournamentConfig {
            group_size: 1,
            ..TournamentConfig::default()
        };
        let e = c.validate("scaling.tournament").unwrap_err().to_string();
        assert!(e.starts_with("scaling.tournament.group_size:"), "{e}");
        let c = TournamentConfig {
            early_stop: Some(true),
            ..TournamentConfig::default()
        };
        let e = c.validate("t").unwrap_err().to_string();
        assert!(e.contains("t.exact = false"), "{e}");
        let c = TournamentConfig {
            exact: false,
            ..TournamentConfig::default()
        };
        c.validate("t").unwrap();
        assert!(c.early_stop_enabled() && c.collapse_enabled());
        let c = TournamentConfig {
            judge_temperature: f64::NAN,
            ..TournamentConfig::default()
        };
        assert!(c.validate("t").is_err());
    }

    #[test]
    fn warns_about_temperature_zero() {
        let c = TournamentConfig {
            judge_temperature: 0.0,
            ..TournamentConfig::default()
        };
        assert!(c.warnings()[0].contains("near-identical"));
        assert!(TournamentConfig::default().warnings().is_empty());
    }
}
