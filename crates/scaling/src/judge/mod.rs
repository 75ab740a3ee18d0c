//! The judge: compares the candidates of one group and names one.
//!
//! [`Judge`] is the seam: [`Judge::prepare`] renders the request for one display order (pure,
//! so its hash is the cache key), and [`Judge::vote`] asks for one vote, re-asking on a reply
//! without a valid verdict up to the configured bound and then returning an invalid vote; it
//! never defaults to a candidate. [`LlmJudge`] is the model-backed implementation: the rubric
//! prompt (disqualifiers first), the candidates as "Solution 1..G" with their summaries and,
//! on SWE-bench with `judge_sees_patch`, their patches (the paper's comparator reads the
//! summaries only, the default), and the parser of [`verdict`].

pub mod llm;
pub mod verdict;

use agentscale_core::TaskId;
use agentscale_core::model::{Message, Sampling};
use agentscale_core::usage::{CostTotal, Usage};
use agentscale_core::vote::VoteAttempt;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use llm::LlmJudge;
pub use verdict::parse_verdict;

use crate::candidate::{Candidate, SelectionTask};
use crate::error::ScalingError;
use crate::rtv::TournamentConfig;

/// The judge settings a tournament passes to [`Judge::prepare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeSettings {
    /// Sampling temperature.
    pub temperature: f64,
    /// Output-token limit.
    pub max_tokens: Option<u32>,
    /// Re-asks after an invalid reply.
    pub max_reasks: u32,
    /// Longest patch shown per solution.
    pub max_patch_chars: usize,
    /// Show each solution's patch (SWE-bench) next to its summary. Off by default: the
    /// paper's comparator reads the summaries only.
    #[serde(default)]
    pub show_patch: bool,
}

impl JudgeSettings {
    /// The settings of a tournament configuration.
    pub fn from_config(c: &TournamentConfig) -> Self {
        Self {
            temperature: c.judge_temperature,
            max_tokens: c.judge_max_tokens,
            max_reasks: c.invalid_vote_reasks,
            max_patch_chars: c.max_patch_chars,
            show_patch: c.judge_sees_patch,
        }
    }
}

/// One rendered judge request (a group in one display order).
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeRequest {
    /// The task.
    pub task_id: TaskId,
    /// The messages of the first call.
    pub messages: Vec<Message>,
    /// Sampling of every call.
    pub sampling: Sampling,
    /// How many solutions are shown.
    pub n_shown: usize,
    /// Re-asks allowed.
    pub max_reasks: u32,
    /// Hash of (model, sampling, messages): the cache key with the task and vote index.
    pub prompt_hash: String,
}

/// The result of one vote: a verdict or none, with every call made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeVote {
    /// The 1-based solution named, when a valid verdict was obtained.
    pub verdict: Option<u32>,
    /// Every call, in order (the first, then re-asks).
    pub attempts: Vec<VoteAttempt>,
    /// Tokens of all calls.
    pub usage: Usage,
    /// Cost of all calls.
    pub cost: CostTotal,
}

/// A judge of groups of candidates.
#[async_trait]
pub trait Judge: Send + Sync {
    /// Render the request for `shown` (in display order). Pure: the same input gives the same
    /// request and hash.
    fn prepare(
        &self,
        task: &SelectionTask,
        shown: &[&Candidate],
        settings: &JudgeSettings,
    ) -> Result<JudgeRequest, ScalingError>;

    /// Ask one vote; `vote_index` tells independent samples of the same request apart.
    /// Returns an invalid vote (not an error) when no valid verdict came within the re-asks;
    /// errors are model or store failures.
    async fn vote(
        &self,
        request: &JudgeRequest,
        vote_index: u32,
    ) -> Result<JudgeVote, ScalingError>;
}
