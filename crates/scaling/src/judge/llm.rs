//! [`LlmJudge`]: the judge backed by a [`Model`].

use std::sync::Arc;

use agentscale_core::Benchmark;
use agentscale_core::hash::json_hash;
use agentscale_core::model::{CallRole, Message, Model, ModelRequest, Sampling};
use agentscale_core::usage::{CostTotal, Usage};
use agentscale_core::vote::VoteAttempt;
use async_trait::async_trait;
use serde::Serialize;

use super::{Judge, JudgeRequest, JudgeSettings, JudgeVote, parse_verdict};
use crate::candidate::{Candidate, SelectionTask};
use crate::error::ScalingError;
use crate::prompts::Prompts;
use crate::render::clip;

/// A judge that asks a model.
pub struct LlmJudge {
    model: Option<Arc<dyn Model>>,
    model_name: String,
    prompts: Arc<Prompts>,
}

impl std::fmt::Debug for LlmJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmJudge")
            .field("model", &self.model_name)
            .field("offline", &self.model.is_none())
            .finish_non_exhaustive()
    }
}

impl LlmJudge {
    /// A judge asking `model` with these templates.
    pub fn new(model: Arc<dyn Model>, prompts: Arc<Prompts>) -> Self {
        Self {
            model_name: model.name().to_string(),
            model: Some(model),
            prompts,
        }
    }

    /// A judge that renders requests as `model_name` would get them but makes no call: every
    /// vote must come from the store ([`ScalingError::MissingCall`] otherwise). For offline
    /// re-selection.
    pub fn offline(model_name: &str, prompts: Arc<Prompts>) -> Self {
        Self {
            model: None,
            model_name: model_name.to_string(),
            prompts,
        }
    }

    /// The model's name (part of every prompt hash).
    pub fn model_name(&self) -> &str {
        &self.model_name
    }
}

#[derive(Serialize)]
struct SolutionCtx {
    number: usize,
    summary: String,
    patch: String,
    patch_empty: bool,
    patch_note: String,
}

#[derive(Serialize)]
struct JudgeCtx<'a> {
    benchmark: &'a str,
    task: &'a str,
    n: usize,
    /// True when the solutions' patches are shown (SWE-bench with `judge_sees_patch`).
    show_patch: bool,
    solutions: Vec<SolutionCtx>,
}

#[derive(Serialize)]
struct RetryCtx<'a> {
    error: &'a str,
    n: usize,
}

fn solution_ctx(number: usize, c: &Candidate, max_patch_chars: usize) -> SolutionCtx {
    let patch = c.patch.as_deref().unwrap_or("");
    let (shown, clipped) = clip(patch.trim_end(), max_patch_chars);
    SolutionCtx {
        number,
        summary: c.summary.clone(),
        patch_empty: patch.trim().is_empty(),
        patch: shown,
        patch_note: if clipped {
            format!(
                "(This patch is longer than {max_patch_chars} characters; its middle is omitted \
                 above.)"
            )
        } else {
            String::new()
        },
    }
}

fn render_messages(
    prompts: &Prompts,
    task: &SelectionTask,
    shown: &[&Candidate],
    max_patch_chars: usize,
    show_patch: bool,
) -> Result<Vec<Message>, ScalingError> {
    let ctx = JudgeCtx {
        benchmark: task.benchmark.as_str(),
        task: &task.text,
        n: shown.len(),
        show_patch: show_patch && task.benchmark == Benchmark::SweBench,
        solutions: shown
            .iter()
            .enumerate()
            .map(|(i, c)| solution_ctx(i + 1, c, max_patch_chars))
            .collect(),
    };
    Ok(vec![
        Message::system(prompts.judge_system.render(&ctx)?),
        Message::user(prompts.judge_user.render(&ctx)?),
    ])
}

/// Render the judge templates with a sample context (config-time check).
pub(crate) fn check_templates(prompts: &Prompts) -> Result<(), ScalingError> {
    let c = Candidate {
        id: "r0".into(),
        summary_id: "r0/summary".into(),
        summary: "{}".into(),
        summary_valid: true,
        patch: Some("diff --git a/x b/x\n".into()),
    };
    for benchmark in [Benchmark::SweBench, Benchmark::TerminalBench] {
        let task = SelectionTask::new("t", benchmark, "do it");
        for show_patch in [false, true] {
            render_messages(prompts, &task, &[&c, &c], 1000, show_patch)?;
        }
    }
    prompts.judge_retry.render(&RetryCtx { error: "e", n: 2 })?;
    Ok(())
}

#[async_trait]
impl Judge for LlmJudge {
    fn prepare(
        &self,
        task: &SelectionTask,
        shown: &[&Candidate],
        settings: &JudgeSettings,
    ) -> Result<JudgeRequest, ScalingError> {
        let messages = render_messages(
            &self.prompts,
            task,
            shown,
            settings.max_patch_chars,
            settings.show_patch,
        )?;
        let sampling = Sampling {
            temperature: Some(settings.temperature),
            max_tokens: settings.max_tokens,
            ..Sampling::default()
        };
        let prompt_hash = json_hash(&(&self.model_name, &sampling, &messages));
        Ok(JudgeRequest {
            task_id: task.task_id.clone(),
            messages,
            sampling,
            n_shown: shown.len(),
            max_reasks: settings.max_reasks,
            prompt_hash,
        })
    }

    async fn vote(
        &self,
        request: &JudgeRequest,
        vote_index: u32,
    ) -> Result<JudgeVote, ScalingError> {
        let Some(model) = &self.model else {
            return Err(ScalingError::MissingCall {
                task: request.task_id.clone(),
                what: format!(
                    "judge vote {vote_index} (prompt {})",
                    agentscale_core::hash::short(&request.prompt_hash, 12)
                ),
            });
        };
        let mut messages = request.messages.clone();
        let mut attempts = Vec::new();
        let mut usage = Usage::default();
        let mut cost = CostTotal::default();
        for attempt in 0..=request.max_reasks {
            let req = ModelRequest {
                messages: messages.clone(),
                sampling: request.sampling.clone(),
                tools: Vec::new(),
                sample_index: vote_index,
                role: CallRole::Judge,
                purpose: format!(
                    "judge:{}:{}:vote-{vote_index}:attempt-{attempt}",
                    request.task_id,
                    agentscale_core::hash::short(&request.prompt_hash, 12)
                ),
            };
            let resp = model
                .complete(&req)
                .await
                .map_err(|e| ScalingError::model(&request.task_id, "judge", &e))?;
            usage += resp.usage;
            cost.add(resp.cost);
            let reply = resp.message.content;
            match parse_verdict(&reply, request.n_shown) {
                Ok(k) => {
                    attempts.push(VoteAttempt { reply, error: None });
                    return Ok(JudgeVote {
                        verdict: Some(k),
                        attempts,
                        usage,
                        cost,
                    });
                }
                Err(error) => {
                    let retry = self.prompts.judge_retry.render(&RetryCtx {
                        error: &error,
                        n: request.n_shown,
                    })?;
                    messages.push(Message::assistant(reply.clone()));
                    messages.push(Message::user(retry));
                    attempts.push(VoteAttempt {
                        reply,
                        error: Some(error),
                    });
                }
            }
        }
        Ok(JudgeVote {
            verdict: None,
            attempts,
            usage,
            cost,
        })
    }
}
