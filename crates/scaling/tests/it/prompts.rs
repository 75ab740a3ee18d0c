//! The prompts as the models see them (snapshots), and user template overrides.

use std::sync::Arc;

use agentscale_core::Benchmark;
use agentscale_core::model::{Message, ModelResponse, ScriptedModel};
use agentscale_scaling::judge::{Judge, JudgeSettings};
use agentscale_scaling::summary::SummaryInput;
use agentscale_scaling::{
    Candidate, LlmJudge, LlmSummarizer, PromptPaths, Prompts, ScalingError, SelectionTask,
    Summarizer, SummarizerConfig, TournamentConfig,
};

use crate::common::{summary_json, task, trajectory};

fn show(messages: &[Message]) -> String {
    messages
        .iter()
        .map(|m| format!("=== {:?}\n{}", m.role, m.content))
        .collect::<Vec<_>>()
        .join("\n")
}

fn two() -> Vec<Candidate> {
    vec![
        Candidate {
            id: "r0".into(),
            summary_id: "r0/summary".into(),
            summary: "{\n  \"requirements\": {\"objective\": \"include the bound\"}\n}".into(),
            summary_valid: true,
            patch: Some(
                "--- a/src/m.py\n+++ b/src/m.py\n@@ -1 +1 @@\n-range(a, b)\n+range(a, b + 1)\n"
                    .into(),
            ),
        },
        Candidate {
            id: "r1".into(),
            summary_id: "r1/summary".into(),
            summary: "FALLBACK DIGEST: no structured summary could be produced.".into(),
            summary_valid: false,
            patch: Some(String::new()),
        },
    ]
}

#[test]
fn judge_prompt_swe_bench() {
    let j = LlmJudge::offline("judge-model", Arc::new(Prompts::embedded()));
    let c = two();
    let settings = JudgeSettings::from_config(&TournamentConfig::default());
    let req = j.prepare(&task(), &[&c[0], &c[1]], &settings).unwrap();
    assert_eq!(req.sampling.temperature, Some(1.0));
    insta::assert_snapshot!(show(&req.messages));
}

#[test]
fn judge_reads_summaries_only_unless_the_patch_is_opted_in() {
    let j = LlmJudge::offline("judge-model", Arc::new(Prompts::embedded()));
    let c = two();
    let patch = c[0].patch.clone().unwrap();
    let line = patch
        .lines()
        .find(|l| l.starts_with('+') && l.len() > 4)
        .unwrap();
    let default = JudgeSettings::from_config(&TournamentConfig::default());
    assert!(
        !default.show_patch,
        "the paper's comparator reads summaries"
    );
    let req = j.prepare(&task(), &[&c[0], &c[1]], &default).unwrap();
    let text = show(&req.messages);
    assert!(!text.contains("## Patch") && !text.contains(line), "{text}");
    assert!(text.contains(&c[0].summary));
    let opted = JudgeSettings::from_config(&TournamentConfig {
        judge_sees_patch: true,
        ..TournamentConfig::default()
    });
    let with_patch = j.prepare(&task(), &[&c[0], &c[1]], &opted).unwrap();
    let text = show(&with_patch.messages);
    assert!(text.contains("## Patch") && text.contains(line), "{text}");
    assert_ne!(req.prompt_hash, with_patch.prompt_hash);
    insta::assert_snapshot!("judge_prompt_swe_bench_with_patch", text);
}

#[test]
fn judge_prompt_terminal_bench_shows_no_patches() {
    let j = LlmJudge::offline("judge-model", Arc::new(Prompts::embedded()));
    let c = two();
    let t = SelectionTask::new(
        "fix-git",
        Benchmark::TerminalBench,
        "Recover the lost commit.",
    );
    let settings = JudgeSettings::from_config(&TournamentConfig::default());
    let req = j.prepare(&t, &[&c[1], &c[0]], &settings).unwrap();
    let text = show(&req.messages);
    assert!(!text.contains("## Patch") && !text.contains("range(a, b + 1)"));
    insta::assert_snapshot!(text);
}

#[test]
fn long_patches_are_clipped_for_the_judge() {
    let j = LlmJudge::offline("judge-model", Arc::new(Prompts::embedded()));
    let mut c = two();
    c[0].patch = Some(format!(
        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n{}",
        "+line\n".repeat(10_000)
    ));
    let settings = JudgeSettings {
        max_patch_chars: 1_000,
        show_patch: true,
        ..JudgeSettings::from_config(&TournamentConfig::default())
    };
    let req = j.prepare(&task(), &[&c[0], &c[1]], &settings).unwrap();
    let user = &req.messages[1].content;
    assert!(user.contains("characters omitted"));
    assert!(user.contains("This patch is longer than 1000 characters"));
    assert!(user.len() < 10_000);
}

#[tokio::test]
async fn summary_prompt_and_retry() {
    let traj = trajectory("demo__demo-1", Benchmark::SweBench, 3, 30);
    let model = Arc::new(ScriptedModel::from_results(
        "sum-model",
        [
            Ok(ModelResponse::text("sum-model", "{\"requirements\": {}}")),
            Ok(ModelResponse::text(
                "sum-model",
                summary_json(Benchmark::SweBench),
            )),
        ],
    ));
    let s = LlmSummarizer::new(
        model.clone(),
        Arc::new(Prompts::embedded()),
        SummarizerConfig::default(),
    );
    let t = task();
    let input = SummaryInput {
        task: &t,
        rollout_id: "r0",
        trajectory: &traj,
    };
    let rec = s.summarize(&input).await.unwrap();
    assert!(rec.is_valid());
    let reqs = model.requests();
    insta::assert_snapshot!("summary_prompt", show(&reqs[0].messages));
    insta::assert_snapshot!("summary_retry", reqs[1].messages[3].content.clone());
}

#[tokio::test]
async fn user_templates_replace_the_embedded_ones_and_are_checked_early() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("judge_user.j2");
    std::fs::write(
        &good,
        "Task: {{ task }}\n{% for s in solutions %}[{{ s.number }}] {{ s.summary }}\n{% endfor %}Final verdict: Solution N\n",
    )
    .unwrap();
    let p = Prompts::load(&PromptPaths {
        judge_user: Some(good.clone()),
        ..PromptPaths::default()
    })
    .unwrap();
    let model = Arc::new(ScriptedModel::from_replies(
        "j",
        ["Final verdict: Solution 2"],
    ));
    let j = LlmJudge::new(model.clone(), Arc::new(p));
    let c = two();
    let settings = JudgeSettings::from_config(&TournamentConfig::default());
    let req = j.prepare(&task(), &[&c[0], &c[1]], &settings).unwrap();
    assert!(
        req.messages[1]
            .content
            .starts_with("Task: Fix the off-by-one")
    );
    assert_eq!(j.vote(&req, 0).await.unwrap().verdict, Some(2));

    // A template using a variable the judge does not provide fails at load time.
    let bad = dir.path().join("bad.j2");
    std::fs::write(&bad, "{{ task }} {{ grade }}\n").unwrap();
    let e = Prompts::load(&PromptPaths {
        judge_user: Some(bad.clone()),
        ..PromptPaths::default()
    })
    .unwrap_err();
    assert!(matches!(e, ScalingError::Template(_)));
    assert!(
        e.to_string().contains("bad.j2") && e.to_string().contains("grade"),
        "{e}"
    );
    // A missing file names its path.
    let missing = dir.path().join("nope.j2");
    let e = Prompts::load(&PromptPaths {
        summary_user: Some(missing),
        ..PromptPaths::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("nope.j2"), "{e}");
    // Unknown keys in the paths table are rejected.
    let e = serde_json::from_str::<PromptPaths>(r#"{"judge_usr": "x"}"#).unwrap_err();
    assert!(e.to_string().contains("judge_usr"), "{e}");
}
