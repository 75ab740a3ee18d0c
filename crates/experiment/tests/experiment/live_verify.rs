//! Terminal-Bench rollouts are verified in their own container right after the agent, and
//! selection still never sees the result: with a canary in every live verdict (message,
//! reward keys, verifier log), no prompt of the agent, summarizer or judge carries it, nor any
//! rollout, summary, vote or selection record, while the grades (and the tables) do.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentscale_core::grade::{Grade, GradeStatus};
use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_core::sandbox::{ExecRequest, Sandbox};
use agentscale_core::submission::Submission;
use agentscale_core::{Benchmark, Task};
use agentscale_experiment::orchestrator::GradeBackend;
use agentscale_experiment::orchestrator::grading::Graded;
use agentscale_models::mock::{MockReply, MockRequest};
use async_trait::async_trait;

use super::common::{config, mock, orchestrator_with, reply, role_of};

const CANARY: &str = "CANARY-live-verdict-93b1";

/// Verifies live only (grading from a submission fails), every verdict carrying the canary.
#[derive(Default)]
struct CanaryGrader {
    verified: AtomicUsize,
}

#[async_trait]
impl GradeBackend for CanaryGrader {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"grader": "canary"})
    }

    async fn grade(&self, _: &Task, _: &Submission, _: Option<&str>) -> Result<Graded, String> {
        Err("this grader only verifies in the live container".into())
    }

    async fn verify_live(&self, task: &Task, sandbox: &dyn Sandbox) -> Option<Graded> {
        // the rollout's container is still open
        let out = sandbox
            .exec(&ExecRequest::shell("echo live", Duration::from_secs(5)))
            .await
            .ok()?;
        assert_eq!(out.stdout, "live\n");
        let n = self.verified.fetch_add(1, Ordering::SeqCst);
        let status = if n.is_multiple_of(2) {
            GradeStatus::Resolved
        } else {
            GradeStatus::Unresolved
        };
        let mut g = Grade::new(
            task.id(),
            Benchmark::TerminalBench,
            status,
            Some(format!("verifier: {CANARY}")),
        );
        g.rewards.insert(
            "reward".into(),
            if status == GradeStatus::Resolved {
                1.0
            } else {
                0.0
            },
        );
        g.rewards.insert(format!("reward_{CANARY}"), 1.0);
        Some(Graded {
            grade: g,
            log: Some(format!("PASSED test_{CANARY}\n")),
        })
    }
}

/// A Terminal-Bench task folder (2.0 layout) under `dir`.
fn write_tb_task(dir: &Path) -> std::path::PathBuf {
    let t = dir.join("tb").join("live-task");
    std::fs::create_dir_all(t.join("environment")).unwrap();
    std::fs::create_dir_all(t.join("tests")).unwrap();
    std::fs::write(
        t.join("task.toml"),
        "version = \"1.0\"\n[verifier]\ntimeout_sec = 30.0\n[agent]\ntimeout_sec = 60.0\n\
         [environment]\nallow_internet = false\n",
    )
    .unwrap();
    std::fs::write(t.join("instruction.md"), "Create /app/done.txt.\n").unwrap();
    std::fs::write(
        t.join("environment/Dockerfile"),
        "FROM agentscale/base:bookworm\n",
    )
    .unwrap();
    std::fs::write(
        t.join("tests/test.sh"),
        "echo 1 > /logs/verifier/reward.txt\n",
    )
    .unwrap();
    dir.join("tb")
}

/// The agent finishes at once with a valid keystroke batch; the rest as [`reply`].
fn tb_reply(r: &MockRequest) -> MockReply {
    if role_of(r) == "agent" {
        return MockReply::text(
            serde_json::json!({"state_analysis": "empty", "explanation": "create the file",
                "commands": [{"keystrokes": "touch /app/done.txt\n", "is_blocking": false,
                "timeout_sec": 1.0}], "is_task_complete": true})
            .to_string(),
        );
    }
    reply(r)
}

fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap_or_default(),
            ));
        }
    }
    out
}

#[tokio::test]
async fn live_verdicts_reach_the_grades_and_never_selection() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_tb_task(dir.path());
    let server = mock().await;
    server.set_replier(tb_reply);
    let text = config(&data, &server.openai_base_url(), "");
    let grader = Arc::new(CanaryGrader::default());
    let o = orchestrator_with(
        dir.path(),
        &text,
        Arc::new(FakeProvider::new(
            agentscale_experiment::backends::fake_shell,
        )),
        grader.clone(),
    );
    let s = o.run().await.unwrap();
    assert!(s.complete, "{:?}", s.failed_tasks);
    // N=4 x T=2 rollouts, each verified once in its own container, each graded from that
    let grading = s
        .progress
        .stages
        .iter()
        .find(|x| x.stage.as_str() == "grading")
        .copied()
        .unwrap();
    assert_eq!(grader.verified.load(Ordering::SeqCst), 8);
    assert_eq!(grading.done, 8, "{grading:?}");
    assert_eq!(grading.given_up, 0, "a grade came from the submission path");
    let run = o.store().dir();

    // nothing selection reads, and no prompt, carries the canary
    assert!(server.request_count() > 8);
    let roles: std::collections::BTreeSet<_> = server.requests().iter().map(role_of).collect();
    assert!(
        roles.contains("judge") && roles.contains("summarizer"),
        "{roles:?}"
    );
    for r in server.requests() {
        assert!(
            !r.raw_body.contains(CANARY),
            "the canary reached a {} prompt",
            role_of(&r)
        );
    }
    for folder in [
        "rollouts",
        "summaries",
        "votes",
        "selections",
        "partial",
        "calls",
    ] {
        for (path, text) in files_under(&run.join(folder)) {
            assert!(!text.contains(CANARY), "the canary is in {path}");
        }
    }
    // control: the verdicts are in the grades, their logs and the tables
    let grades: String = files_under(&run.join("grades"))
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert!(grades.matches(CANARY).count() >= 8 * 3, "{grades:.400}");
    assert_eq!(files_under(&run.join("verifications")).len(), 8);
    let table = std::fs::read_to_string(run.join("tables/grades.csv")).unwrap();
    assert!(table.contains(CANARY), "{table}");
    assert!(
        table.contains("resolved") && table.contains("unresolved"),
        "{table}"
    );
}
