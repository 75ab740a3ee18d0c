//! The bash agent's `reference` profile (mini-swe-agent 1.x's SWE-bench config) against the
//! fake sandbox: the `bash` fence, `bash -lc`, format errors ended only by the step limit,
//! temperature 0, cut-off replies parsed like any other, and an empty patch (never the
//! container's `git diff`) when nothing was submitted.

use std::sync::{Arc, Mutex};

use agentscale_agents::{AgentConfig, AgentKind, AgentProfile, MemorySink, RolloutContext};
use agentscale_core::model::{FinishReason, ModelResponse, ScriptedModel};
use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_core::sandbox::{Command, ExecRequest, SandboxProvider, SandboxSpec};
use agentscale_core::submission::{PatchSource, Submission};
use agentscale_core::trajectory::{ExitStatus, Trajectory};

use crate::util::{SUBMIT, out, swe_task};

const PATCH: &str = "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-1\n+2\n";

/// A reply in mini-swe-agent's format.
fn mini(thought: &str, command: &str) -> String {
    format!("THOUGHT: {thought}\n\n```bash\n{command}\n```\n")
}

fn reference() -> AgentConfig {
    let mut c = AgentConfig::new(AgentKind::Bash);
    c.profile = Some(AgentProfile::Reference);
    c
}

/// The login shell's command line of a request (`bash -lc LINE`), without the stderr prefix.
fn login_line(req: &ExecRequest) -> Option<String> {
    match &req.command {
        Command::Argv(v) if v.len() == 3 && v[0] == "bash" && v[1] == "-lc" => {
            Some(v[2].trim_start_matches("exec 2>&1; ").to_string())
        }
        _ => None,
    }
}

fn repo() -> (FakeProvider, Arc<Mutex<Vec<ExecRequest>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let p = FakeProvider::new(move |req: &ExecRequest| {
        s.lock().unwrap().push(req.clone());
        match login_line(req).as_deref() {
            Some(SUBMIT) => out(
                &format!("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n{PATCH}"),
                0,
            ),
            Some("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT") => {
                out("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n", 0)
            }
            Some(_) => out("ok\n", 0),
            // the git diff fallback (never asked by the reference profile) and anything else
            None => out("diff --git a/GITDIFF b/GITDIFF\n", 0),
        }
    });
    (p, seen)
}

async fn run(config: &AgentConfig, provider: &FakeProvider, model: &ScriptedModel) -> Trajectory {
    let agent = config.build(None).unwrap();
    let sb = provider.start(&SandboxSpec::default()).await.unwrap();
    let task = swe_task("demo__calc-1", "x should be 2", PATCH);
    let ctx = RolloutContext::default();
    agent
        .run(&task, sb.as_ref(), model, &ctx, &mut MemorySink::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn reference_runs_bash_blocks_in_a_login_shell_at_temperature_zero() {
    let (p, seen) = repo();
    let model = ScriptedModel::from_replies("m", [mini("look", "ls"), mini("submit", SUBMIT)]);
    let t = run(&reference(), &p, &model).await;
    assert_eq!(t.exit.as_ref().unwrap().status, ExitStatus::Submitted);
    assert_eq!(
        t.submission,
        Some(Submission::patch(PATCH, PatchSource::Submitted))
    );
    let lines: Vec<Option<String>> = seen.lock().unwrap().iter().map(login_line).collect();
    assert_eq!(
        lines,
        vec![Some("ls".to_string()), Some(SUBMIT.to_string())]
    );
    for r in model.requests() {
        assert_eq!(r.sampling.temperature, Some(0.0));
    }
    // the prompts follow mini-swe-agent's structure and rules, in our own words
    let first = &t.messages[1].content;
    assert!(first.starts_with("<pr_description>"), "{first}");
    assert!(first.contains("<instructions>") && first.contains("```bash\n"));
    assert!(first.contains(SUBMIT));
    assert!(t.messages[0].content.contains("THOUGHT"));
    assert!(
        t.messages[3]
            .content
            .starts_with("<returncode>0</returncode>\n<output>\nok\n</output>")
    );
}

#[tokio::test]
async fn reference_format_errors_end_only_at_the_step_limit_with_an_empty_patch() {
    let (p, seen) = repo();
    // our own fence is no command for the reference profile; nor are two blocks
    let bad = "THOUGHT: x\n\n```bash-action\nls\n```\n".to_string();
    let two = format!("{}{}", mini("a", "ls"), mini("b", "pwd"));
    let model = ScriptedModel::from_replies("m", [bad.clone(), two, bad.clone(), bad.clone(), bad]);
    let mut c = reference();
    c.step_limit = Some(5);
    let t = run(&c, &p, &model).await;
    assert_eq!(
        t.steps.len(),
        5,
        "five format errors in a row did not end the rollout"
    );
    assert_eq!(t.exit.as_ref().unwrap().status, ExitStatus::StepLimit);
    assert_eq!(
        t.submission,
        Some(Submission::patch("", PatchSource::Empty))
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "no command, and no git diff fallback"
    );
    let msg = &t.steps[1].observation;
    assert!(
        msg.contains("EXACTLY ONE action") && msg.contains("held 2"),
        "{msg}"
    );
    assert!(t.steps[0].observation.contains("held 0"));
}

#[tokio::test]
async fn reference_submits_an_empty_patch_when_the_submission_is_empty() {
    let (p, seen) = repo();
    let model = ScriptedModel::from_replies(
        "m",
        [mini("done", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")],
    );
    let t = run(&reference(), &p, &model).await;
    assert_eq!(t.exit.as_ref().unwrap().status, ExitStatus::Submitted);
    assert_eq!(
        t.submission,
        Some(Submission::patch("", PatchSource::Empty))
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "no git diff after the empty submission"
    );
    // the knob brings the fallback back
    let mut c = reference();
    c.fallback_git_diff = Some(true);
    let model = ScriptedModel::from_replies(
        "m",
        [mini("done", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")],
    );
    let t = run(&c, &p, &model).await;
    assert_eq!(
        t.submission.as_ref().and_then(Submission::patch_text),
        Some("diff --git a/GITDIFF b/GITDIFF\n")
    );
}

#[tokio::test]
async fn reference_runs_the_one_block_of_a_cut_off_reply() {
    let (p, seen) = repo();
    let mut cut = ModelResponse::text("m", mini("look", "ls") + "And then I will");
    cut.finish_reason = FinishReason::Length;
    let model = ScriptedModel::from_results(
        "m",
        [
            Ok(cut),
            Ok(ModelResponse::text("m", mini("submit", SUBMIT))),
        ],
    );
    let t = run(&reference(), &p, &model).await;
    assert!(t.steps[0].format_error.is_none());
    assert_eq!(
        login_line(&seen.lock().unwrap()[0]).as_deref(),
        Some("ls"),
        "mini-swe-agent parses a cut-off reply like any other"
    );
    assert_eq!(t.exit.as_ref().unwrap().status, ExitStatus::Submitted);
}
