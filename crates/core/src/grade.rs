//! Grades: whether a submission solves its task.
//!
//! A grade separates model failures (unresolved, empty patch, a patch that does not apply)
//! from infrastructure failures (the sandbox or engine failed, the environment could not be
//! built). An infrastructure failure is never scored as a model failure: callers retry or
//! report it apart, and [`GradeStatus::is_infra`] tells which is which.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::TaskId;
use crate::task::Benchmark;

/// The outcome of grading one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeStatus {
    /// Every FAIL_TO_PASS and PASS_TO_PASS test passes (SWE-bench), or reward 1
    /// (Terminal-Bench).
    Resolved,
    /// The tests ran and the task is not solved.
    Unresolved,
    /// The submission was an empty patch; nothing ran (official: `empty_patch_ids`).
    EmptyPatch,
    /// The model's patch was rejected before any container started (it leaves the
    /// repository, or it cannot be parsed).
    PatchRejected,
    /// The model's patch did not apply (official: `error_ids`; a model failure).
    PatchApplyFailed,
    /// The test patch did not apply after the model's patch (e.g. the model pre-created a file
    /// the test patch adds). Counted as an error, never as a test run on the model's file.
    TestPatchApplyFailed,
    /// The evaluation or verifier exceeded its time limit (official: `error_ids`).
    Timeout,
    /// The grading log could not be read as a test run (no markers, spoofed output, ...).
    LogUnparseable,
    /// The infrastructure failed (engine, image, container); not the model's fault.
    InfraError,
    /// Terminal-Bench: the verifier could not run to a verdict (its download failed, it
    /// timed out, it wrote no readable reward). Neither a reward of 0 nor the model's
    /// failure: counted apart in every table.
    VerifierError,
}

impl GradeStatus {
    /// True when the failure is the infrastructure's, not the model's.
    pub fn is_infra(self) -> bool {
        matches!(self, Self::InfraError)
    }

    /// True when the verifier could not run to a verdict (counted apart from reward 0).
    pub fn is_verifier_error(self) -> bool {
        matches!(self, Self::VerifierError)
    }

    /// True when the grade counts in the official `error_ids` list.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Self::PatchRejected
                | Self::PatchApplyFailed
                | Self::TestPatchApplyFailed
                | Self::Timeout
                | Self::LogUnparseable
                | Self::InfraError
                | Self::VerifierError
        )
    }

    /// The name used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Unresolved => "unresolved",
            Self::EmptyPatch => "empty_patch",
            Self::PatchRejected => "patch_rejected",
            Self::PatchApplyFailed => "patch_apply_failed",
            Self::TestPatchApplyFailed => "test_patch_apply_failed",
            Self::Timeout => "timeout",
            Self::LogUnparseable => "log_unparseable",
            Self::InfraError => "infra_error",
            Self::VerifierError => "verifier_error",
        }
    }
}

/// Success and failure lists of one test category, as in the official `report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TestResults {
    /// Tests that met the category's expectation.
    pub success: Vec<String>,
    /// Tests that did not.
    pub failure: Vec<String>,
}

/// The four categories of the official report's `tests_status`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TestsStatus {
    /// FAIL_TO_PASS results.
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: TestResults,
    /// PASS_TO_PASS results.
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: TestResults,
    /// FAIL_TO_FAIL (always empty for SWE-bench Verified).
    #[serde(rename = "FAIL_TO_FAIL", default)]
    pub fail_to_fail: TestResults,
    /// PASS_TO_FAIL (always empty for SWE-bench Verified).
    #[serde(rename = "PASS_TO_FAIL", default)]
    pub pass_to_fail: TestResults,
}

/// The grade of one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// The task graded.
    pub task_id: TaskId,
    /// Its benchmark.
    pub benchmark: Benchmark,
    /// The outcome.
    pub status: GradeStatus,
    /// `status == Resolved`, spelled out for readers of the JSON.
    pub resolved: bool,
    /// Terminal-Bench: the verifier's reward (reward.txt, or every key of reward.json).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rewards: BTreeMap<String, f64>,
    /// SWE-bench: the test results in the official nested shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests_status: Option<TestsStatus>,
    /// A human-readable reason for anything but a plain resolved/unresolved outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Strict-mode findings (e.g. a model-added conftest.py), empty in v4.1 mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

impl Grade {
    /// A grade with only a status and a reason.
    pub fn new(
        task_id: TaskId,
        benchmark: Benchmark,
        status: GradeStatus,
        message: Option<String>,
    ) -> Self {
        Self {
            task_id,
            benchmark,
            resolved: status == GradeStatus::Resolved,
            status,
            rewards: BTreeMap::new(),
            tests_status: None,
            message,
            flags: Vec::new(),
        }
    }

    /// The main reward: `rewards["reward"]`, else 1.0 / 0.0 from `resolved`.
    pub fn reward(&self) -> f64 {
        self.rewards
            .get("reward")
            .copied()
            .unwrap_or(if self.resolved { 1.0 } else { 0.0 })
    }
}
