//! Terminal-Bench rollouts are verified where they ran, right after the agent stops (as
//! Harbor does): the verifier needs the container's running services and the task's
//! network, which a snapshot has neither of.
//!
//! The result is a [`LiveVerification`], written to `verifications/<rollout key>.json`. Only
//! grading reads it ([`Orchestrator::live_grade`]), after every selection of the task is
//! frozen, and turns it into the rollout's grade; the rollout record, its trajectory and
//! everything built from them for selection (summaries, candidates, contexts) never carry it.

use agentscale_core::grade::Grade;
use agentscale_core::sandbox::Sandbox;
use agentscale_core::trajectory::Trajectory;
use agentscale_core::{Benchmark, Task};
use serde::{Deserialize, Serialize};

use super::grading::Graded;
use super::{Orchestrator, RunError};
use crate::store::Kind;

/// A verifier result taken in a rollout's own container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveVerification {
    /// The rollout verified.
    pub rollout_key: String,
    /// [`trajectory_hash`] of the trajectory verified: a later attempt of the same rollout
    /// (after a crash) does not take an earlier attempt's verdict.
    pub trajectory_hash: String,
    /// The grading settings it was made under (the grader's identity).
    pub grader: serde_json::Value,
    /// The grade.
    pub grade: Grade,
    /// The verifier's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// How long verifying took, in milliseconds.
    pub duration_ms: u64,
}

/// A hash of a trajectory's JSON.
pub fn trajectory_hash(t: &Trajectory) -> String {
    agentscale_core::hash::short(&agentscale_core::hash::json_hash(t), 16).to_string()
}

/// Why an attempt's live verification failed through the infrastructure.
pub(crate) struct VerifyInfra(pub String);

impl Orchestrator {
    /// Verify a finished Terminal-Bench rollout in its container and store the result for
    /// grading. Nothing happens when the grader does not verify live (it grades from the
    /// submission later). An infrastructure failure is returned (the attempt is retried).
    pub(crate) async fn verify_live(
        &self,
        task: &Task,
        key: &str,
        trajectory: &Trajectory,
        sandbox: &dyn Sandbox,
    ) -> Result<Result<(), VerifyInfra>, RunError> {
        if task.benchmark() != Benchmark::TerminalBench {
            return Ok(Ok(()));
        }
        let started = std::time::Instant::now();
        let Some(Graded { grade, log }) = self.backends.grader.verify_live(task, sandbox).await
        else {
            return Ok(Ok(()));
        };
        if grade.status.is_infra() {
            return Ok(Err(VerifyInfra(format!(
                "verifying in the rollout's container: {}",
                grade.message.as_deref().unwrap_or("infra_error")
            ))));
        }
        let rec = LiveVerification {
            rollout_key: key.to_string(),
            trajectory_hash: trajectory_hash(trajectory),
            grader: self.backends.grader.identity(),
            grade,
            log,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        self.store.write(Kind::Verification, key, &rec).await?;
        Ok(Ok(()))
    }

    /// The live verification of a rollout, if one was made of this very trajectory under
    /// the current grading settings.
    pub(crate) fn live_grade(
        &self,
        key: &str,
        trajectory: &Trajectory,
    ) -> Option<LiveVerification> {
        let v = self
            .store
            .peek::<LiveVerification>(Kind::Verification, key)?;
        (v.rollout_key == key
            && v.trajectory_hash == trajectory_hash(trajectory)
            && v.grader == self.backends.grader.identity())
        .then_some(v)
    }
}
