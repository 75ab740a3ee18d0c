//! Agentic Parallel-Distill-Refine: refinement contexts and the iteration driver.
//!
//! Iteration t+1's rollout i starts with a context C_i made of the summaries of a set J_i of
//! iteration-t rollouts ([`ContextMode`]):
//! - `single`: J_i is rollout i's own earlier summary (rollout i mod N when more new rollouts
//!   than earlier ones are started), paired by rollout identity: when earlier rollout i has no
//!   candidate (an infrastructure failure), new rollout i starts without a context rather
//!   than with another rollout's summary ([`PdrDriver::next_contexts_from`]);
//! - `random_k`: each new rollout draws its own K of the N with the run's seed (stream keyed
//!   by task, iteration and rollout, so the draw does not depend on scheduling);
//! - `select_k`: RTV N→K; every new rollout gets the same K summaries (and, with
//!   [`PdrConfig::play_to_one`], the tournament goes on K→1 for diagnostics without changing
//!   the K).
//!
//! [`PdrDriver`] is what the experiment crate calls: [`PdrDriver::next_contexts`] turns
//! iteration t's candidates into iteration t+1's contexts, and [`PdrDriver::final_selection`]
//! picks the answer from the last iteration. Only summaries cross iterations: a context holds
//! summary ids and texts (what the judge sees: the summary as JSON, or its fallback
//! rendering), never a patch, a file or a grade. The agent renders them into its first prompt
//! with its own refinement template (`agentscale_agents::RefinementContext::new(
//! context.pairs())`).

use agentscale_core::rng::Rng;
use serde::{Deserialize, Serialize};

use crate::baselines::{MethodSelector, Selection, SelectionMethod, Selector};
use crate::candidate::{Candidate, SelectionTask, check_candidates};
use crate::error::ScalingError;
use crate::judge::Judge;
use crate::prompts::Prompts;
use crate::rtv::{
    TournamentConfig, TournamentInput, TournamentResult, continue_tournament, run_tournament,
};
use crate::store::CallStore;

/// How a refined rollout's context is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContextMode {
    /// K = 1: the rollout's own earlier summary.
    Single,
    /// Each new rollout draws its own K summaries.
    RandomK,
    /// RTV N→K; every new rollout gets the same K (default).
    #[default]
    SelectK,
}

impl ContextMode {
    /// The name used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::RandomK => "random_k",
            Self::SelectK => "select_k",
        }
    }
}

/// PDR settings (config: `[scaling.pdr]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PdrConfig {
    /// How contexts are chosen.
    pub mode: ContextMode,
    /// K: summaries per context (`single` always uses 1).
    pub k: usize,
    /// With `select_k`, keep playing the tournament K→1 for diagnostics.
    pub play_to_one: bool,
}

impl Default for PdrConfig {
    fn default() -> Self {
        Self {
            mode: ContextMode::SelectK,
            k: 4,
            play_to_one: true,
        }
    }
}

impl PdrConfig {
    /// Check every value; `prefix` is the config path of this table (`scaling.pdr`).
    pub fn validate(&self, prefix: &str) -> Result<(), ScalingError> {
        if self.k < 1 {
            return Err(ScalingError::config(
                format!("{prefix}.k"),
                "must be at least 1 (the paper uses 4)",
            ));
        }
        Ok(())
    }

    /// The K actually used.
    pub fn effective_k(&self) -> usize {
        if self.mode == ContextMode::Single {
            1
        } else {
            self.k
        }
    }
}

/// One summary given as context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextSummary {
    /// The summary's id (goes to `Trajectory::context_summary_ids`).
    pub id: String,
    /// The earlier rollout it summarizes.
    pub rollout_id: String,
    /// Its text: the summary as JSON, or the fallback rendering of an invalid one.
    pub text: String,
}

/// The context of one new rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutContext {
    /// 0-based index of the new rollout.
    pub rollout: usize,
    /// The ids of the summaries given, in order (`Trajectory::context_summary_ids`).
    pub summary_ids: Vec<String>,
    /// The summaries given, in the order to show them.
    pub summaries: Vec<ContextSummary>,
}

impl RolloutContext {
    /// `(id, text)` pairs, the shape `agentscale_agents::RefinementContext::new` takes.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.summaries
            .iter()
            .map(|s| (s.id.clone(), s.text.clone()))
            .collect()
    }
}

/// What the next iteration needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextIteration {
    /// The context mode used.
    pub mode: ContextMode,
    /// One context per new rollout.
    pub contexts: Vec<RolloutContext>,
    /// The select-K tournament (N→K), for `select_k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_k: Option<TournamentResult>,
    /// Its continuation K→1 (diagnostics only), with `play_to_one`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<TournamentResult>,
}

/// The iteration driver.
pub struct PdrDriver<'a> {
    /// PDR settings.
    pub pdr: PdrConfig,
    /// The tournament configuration (select-K and the final RTV).
    pub tournament: TournamentConfig,
    /// The final selection method.
    pub final_method: SelectionMethod,
    /// The method's templates. Context building renders none of them (the agent renders the
    /// refinement context with its own template); the driver carries them so that one value
    /// describes the whole method.
    pub prompts: &'a Prompts,
    /// The judge.
    pub judge: &'a dyn Judge,
    /// Where votes are reused from and kept.
    pub store: &'a dyn CallStore,
    /// The run's seed.
    pub seed: u64,
}

impl PdrDriver<'_> {
    /// Contexts for `n_next` rollouts of iteration `iteration + 1`, from iteration
    /// `iteration`'s candidates (in rollout order).
    pub async fn next_contexts(
        &self,
        task: &SelectionTask,
        candidates: &[Candidate],
        iteration: u32,
        n_next: usize,
    ) -> Result<NextIteration, ScalingError> {
        let origins: Vec<usize> = (0..candidates.len()).collect();
        self.next_contexts_from(
            task,
            candidates,
            &origins,
            candidates.len(),
            iteration,
            n_next,
        )
        .await
    }

    /// [`Self::next_contexts`] when some of iteration `iteration`'s `n_prev` rollouts have no
    /// candidate: `origins[j]` is the rollout index (0..n_prev) candidate `j` came from. In
    /// `single` mode new rollout `i` gets the summary of earlier rollout `i % n_prev`, or no
    /// context when that rollout has no candidate; the other modes choose among the
    /// candidates.
    pub async fn next_contexts_from(
        &self,
        task: &SelectionTask,
        candidates: &[Candidate],
        origins: &[usize],
        n_prev: usize,
        iteration: u32,
        n_next: usize,
    ) -> Result<NextIteration, ScalingError> {
        self.pdr.validate("scaling.pdr")?;
        check_candidates(task, candidates)?;
        if origins.len() != candidates.len() || origins.iter().any(|&o| o >= n_prev) {
            return Err(ScalingError::Input {
                task: task.task_id.clone(),
                message: format!(
                    "{} candidates came with {} rollout indices (each must be below {n_prev},                      the earlier iteration's rollout count)",
                    candidates.len(),
                    origins.len()
                ),
            });
        }
        let k = self.pdr.effective_k();
        let n = candidates.len();
        let mut select_k = None;
        let mut diagnostics = None;
        let chosen: Vec<Vec<usize>> = match self.pdr.mode {
            ContextMode::Single => (0..n_next)
                .map(|i| {
                    let own = i % n_prev.max(1);
                    origins.iter().position(|&o| o == own).into_iter().collect()
                })
                .collect(),
            ContextMode::RandomK => (0..n_next)
                .map(|i| {
                    let mut rng = Rng::derive(
                        self.seed,
                        &format!("pdr-random-k/{}/iter{iteration}/rollout-{i}", task.task_id),
                    );
                    let mut idx = rng.sample_indices(n, k);
                    idx.sort_unstable();
                    idx
                })
                .collect(),
            ContextMode::SelectK => {
                let label = format!("iter{iteration}/select-k");
                let input = TournamentInput {
                    task,
                    candidates,
                    label: &label,
                    seed: self.seed,
                };
                let t = run_tournament(
                    &input,
                    &self.tournament.with_survivors(k),
                    self.judge,
                    self.store,
                )
                .await?;
                let ids: Vec<usize> = t
                    .survivors
                    .iter()
                    .filter_map(|s| candidates.iter().position(|c| &c.id == s))
                    .collect();
                if self.pdr.play_to_one && t.survivors.len() > 1 {
                    diagnostics = Some(
                        continue_tournament(
                            &t,
                            &input,
                            &self.tournament.with_survivors(1),
                            self.judge,
                            self.store,
                        )
                        .await?,
                    );
                }
                select_k = Some(t);
                vec![ids; n_next]
            }
        };
        let contexts = chosen
            .into_iter()
            .enumerate()
            .map(|(i, idx)| {
                let picked: Vec<&Candidate> =
                    idx.iter().filter_map(|&j| candidates.get(j)).collect();
                RolloutContext {
                    rollout: i,
                    summary_ids: picked.iter().map(|c| c.summary_id.clone()).collect(),
                    summaries: picked
                        .iter()
                        .map(|c| ContextSummary {
                            id: c.summary_id.clone(),
                            rollout_id: c.id.clone(),
                            text: c.summary.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(NextIteration {
            mode: self.pdr.mode,
            contexts,
            select_k,
            diagnostics,
        })
    }

    /// The final selection among iteration `iteration`'s candidates (one survivor).
    pub async fn final_selection(
        &self,
        task: &SelectionTask,
        candidates: &[Candidate],
        iteration: u32,
    ) -> Result<Selection, ScalingError> {
        let label = format!("iter{iteration}/final");
        let input = TournamentInput {
            task,
            candidates,
            label: &label,
            seed: self.seed,
        };
        MethodSelector {
            method: self.final_method,
            config: self.tournament.clone(),
            judge: self.judge,
            store: self.store,
        }
        .select(&input, 1)
        .await
    }
}
