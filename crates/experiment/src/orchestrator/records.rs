//! The artifacts the orchestrator stores, and what their keys are made of.
//!
//! - [`RolloutSpec`] → key of a rollout; [`RolloutRecord`] in `rollouts/`.
//! - [`GradeRecord`] in `grades/`, keyed by the rollout key and the grading settings.
//! - [`PipelineRecord`] in `selections/`: what one system did on one task (its rollouts per
//!   iteration, their summaries, the contexts, every tournament with its groups and votes, and
//!   the answer). Tables are built from these records.

use agentscale_core::grade::Grade;
use agentscale_core::summary::SummaryRecord;
use agentscale_core::trajectory::Trajectory;
use agentscale_core::vote::{GroupRecord, VoteRecord};
use agentscale_core::{Task, TaskId};
use serde::{Deserialize, Serialize};

use crate::config::{ModelSection, Provider};
use crate::store::keys::content_key;

/// What changes a model's replies (not limits, keys, URLs or retries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// The configured name.
    pub name: String,
    /// The API.
    pub provider: Provider,
    /// The model id sent to the API.
    pub model: String,
    /// Temperature, if set.
    pub temperature: Option<f64>,
    /// Top-p, if set.
    pub top_p: Option<f64>,
    /// Max output tokens, if set.
    pub max_tokens: Option<u32>,
    /// The built-in script of a scripted model.
    pub script: Option<String>,
    /// Whether a per-call seed is sent.
    pub send_seed: bool,
}

impl From<&ModelSection> for ModelIdentity {
    fn from(m: &ModelSection) -> Self {
        Self {
            name: m.name.clone(),
            provider: m.provider,
            model: m.api_model().to_string(),
            temperature: m.temperature,
            top_p: m.top_p,
            max_tokens: m.max_tokens,
            script: m.script.clone(),
            send_seed: m.send_seed,
        }
    }
}

/// A hash of a task's content (a changed dataset row gives new rollouts). The task folder's
/// location on disk is not part of it.
pub fn task_hash(task: &Task) -> String {
    let mut t = task.clone();
    if let Task::TerminalBench(tb) = &mut t {
        tb.dir = std::path::PathBuf::new();
    }
    if let Task::SweBench(i) = &mut t {
        i.extra.remove(agentscale_core::task::IMAGE_CONTEXT_COLUMN);
    }
    agentscale_core::hash::short(&agentscale_core::hash::json_hash(&t), 16).to_string()
}

/// Everything that makes a rollout what it is. Its hash is the rollout's key: independent of
/// the selection config, so sweeps over G, V or the selection method reuse rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSpec {
    /// The task.
    pub task_id: TaskId,
    /// [`task_hash`] of the task.
    pub task_hash: String,
    /// The agent's model.
    pub model: ModelIdentity,
    /// The agent's resolved configuration (as JSON).
    pub agent: serde_json::Value,
    /// The iteration (0: independent rollouts).
    pub iteration: u32,
    /// The rollout's index among the N of its iteration.
    pub index: u32,
    /// Ids of the summaries given as refinement context, in display order.
    pub context: Vec<String>,
    /// Hashes of the texts of those summaries, in the same order: the agent sees the text,
    /// so a summary with the same id but another text (a sweep over the summarizer) gives
    /// another rollout. Empty without a context (keys of iteration 0 are unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_text: Vec<String>,
    /// The experiment's seed.
    pub seed: u64,
}

impl RolloutSpec {
    /// The context fields of a spec: the summaries' ids and the hashes of their texts.
    pub fn context_fields(context: &[(String, String)]) -> (Vec<String>, Vec<String>) {
        context
            .iter()
            .map(|(id, text)| {
                (
                    id.clone(),
                    agentscale_core::hash::short(&agentscale_core::hash::json_hash(text), 16)
                        .to_string(),
                )
            })
            .unzip()
    }

    /// The rollout's key: `<task>-i<iteration>-r<index>-<hash>`.
    pub fn key(&self) -> String {
        content_key(
            "rollout",
            &format!("{}-i{}-r{}", self.task_id, self.iteration, self.index),
            self,
        )
    }
}

/// A finished rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutRecord {
    /// The key ([`RolloutSpec::key`]).
    pub key: String,
    /// What made it.
    pub spec: RolloutSpec,
    /// The trajectory of the last attempt.
    pub trajectory: Trajectory,
    /// Attempts made (1 + retries after infrastructure failures).
    pub attempts: u32,
    /// The errors of the attempts that failed because of the infrastructure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub infra_failures: Vec<String>,
    /// True when the rollout was given up on after repeated infrastructure failures (its
    /// trajectory is the last failed attempt): counted apart, never a candidate.
    pub infra: bool,
    /// The sandbox host the last attempt ran on (snapshots live there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Wall time of the last attempt in milliseconds (timing only).
    pub duration_ms: u64,
}

/// A stored summary with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSummary {
    /// The summary's artifact key.
    pub key: String,
    /// The rollout summarized.
    pub rollout_key: String,
    /// The summary (valid or with its fallback rendering).
    pub record: SummaryRecord,
    /// True when summarizing failed through the infrastructure.
    pub infra: bool,
    /// Wall time in milliseconds (timing only).
    pub duration_ms: u64,
}

/// A finished grading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeRecord {
    /// The grade's key.
    pub key: String,
    /// The graded rollout.
    pub rollout_key: String,
    /// The task.
    pub task_id: TaskId,
    /// The grade (status `infra_error` when grading was given up on).
    pub grade: Grade,
    /// Attempts made.
    pub attempts: u32,
    /// Errors of the attempts that failed because of the infrastructure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub infra_failures: Vec<String>,
    /// Wall time of the last attempt in milliseconds (timing only).
    pub duration_ms: u64,
}

/// One tournament (or baseline pick) over a pool of candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionOutcome {
    /// `rtv`, `listwise`, `random`, `first`, `majority`.
    pub method: String,
    /// `select_k`, `diagnostic` or `final`.
    pub stage: String,
    /// The iteration whose rollouts are the candidates.
    pub iteration: u32,
    /// The candidates (rollout keys), in rollout-index order.
    pub candidates: Vec<String>,
    /// The survivors (rollout keys): K for select-K, one for a final selection.
    pub winners: Vec<String>,
    /// Every group decided, in order.
    pub groups: Vec<GroupRecord>,
    /// Candidates that advanced without a vote: (round, candidate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byes: Vec<(u32, String)>,
    /// Every vote cast, in order.
    pub votes: Vec<VoteRecord>,
    /// Wall time in milliseconds (timing only).
    pub duration_ms: u64,
}

/// One iteration of a system on a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationRecord {
    /// The iteration.
    pub iteration: u32,
    /// Rollout keys by index.
    pub rollouts: Vec<String>,
    /// Summary artifact keys by index (`None`: no summary, e.g. the rollout failed through
    /// the infrastructure, or the method makes none).
    pub summaries: Vec<Option<String>>,
    /// The tournament that picked the next iteration's contexts (select-K), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_k: Option<SelectionOutcome>,
    /// The same tournament played on to one survivor for the diagnostics, if configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<SelectionOutcome>,
}

/// What one system did on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRecord {
    /// The system's name.
    pub system: String,
    /// The task.
    pub task_id: TaskId,
    /// Its benchmark.
    pub benchmark: agentscale_core::Benchmark,
    /// Its repository (SWE-bench), for the tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Iterations in order.
    pub iterations: Vec<IterationRecord>,
    /// The final selection, if the method selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_selection: Option<SelectionOutcome>,
    /// The answer: the selected rollout's key (`None` when nothing could be selected, or the
    /// method makes no selection and N > 1).
    pub answer: Option<String>,
    /// For a re-selection (`agentscale select`): the system it re-selects for and the
    /// scaling settings it used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<Derived>,
}

/// What a re-selected system derives from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// The system whose rollouts were re-selected.
    pub base: String,
    /// The scaling settings of the re-selection.
    pub scaling: crate::config::ScalingSection,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(context: &[(String, String)]) -> RolloutSpec {
        let (context, context_text) = RolloutSpec::context_fields(context);
        RolloutSpec {
            task_id: TaskId::new("a__b-1"),
            task_hash: "h".into(),
            model: ModelIdentity {
                name: "m".into(),
                provider: Provider::Scripted,
                model: "m".into(),
                temperature: None,
                top_p: None,
                max_tokens: None,
                script: Some("demo".into()),
                send_seed: false,
            },
            agent: serde_json::json!({"kind": "bash"}),
            iteration: 1,
            index: 0,
            context,
            context_text,
            seed: 0,
        }
    }

    #[test]
    fn a_rollout_key_follows_the_context_texts_not_only_their_ids() {
        let ctx = |text: &str| vec![("r0/summary".to_string(), text.to_string())];
        let a = spec(&ctx("Tried A; tests passed."));
        let b = spec(&ctx("Tried B; tests failed."));
        assert_eq!(a.context, b.context, "same summary ids");
        assert_ne!(a.key(), b.key(), "another summary text is another rollout");
        assert_eq!(a.key(), spec(&ctx("Tried A; tests passed.")).key());
        // Without a context the key is what it was before the texts were hashed in.
        let none = spec(&[]);
        let v = serde_json::to_value(&none).unwrap();
        assert!(v.get("context_text").is_none(), "{v}");
    }
}
