//! The bookkeeping every agent loop shares: the trajectory being built, the sink it is written
//! to after every step, limit checks before every model call, and the typed exits of model and
//! sandbox failures. The main type is [`Recorder`].

use std::time::{Duration, Instant};

use agentscale_core::Task;
use agentscale_core::model::{
    CallRole, Message, Model, ModelError, ModelRequest, ModelResponse, Sampling, ToolSpec,
};
use agentscale_core::sandbox::SandboxError;
use agentscale_core::submission::Submission;
use agentscale_core::trajectory::{AgentExit, ExitStatus, Step, Trajectory};

use crate::AgentError;
use crate::config::{AgentKind, Limits};
use crate::context::RolloutContext;
use crate::sink::TrajectorySink;

/// True when a model error is the infrastructure's fault, so that the rollout is counted
/// apart (and retried), never scored as a model failure.
///
/// Infrastructure: errors that remain after the retry layer gave up on a retryable kind
/// (rate limits, server errors, timeouts, dropped connections, malformed bodies: an outage),
/// authentication failures (a configuration problem) and cancellation (the run is shutting
/// down). The model's own failure: a context window exceeded (its history grew too long), a
/// request the provider rejects as invalid (deterministic for this conversation), and a
/// scripted test model running out of replies.
pub fn model_error_is_infra(e: &ModelError) -> bool {
    e.is_retryable() || matches!(e, ModelError::Authentication(_) | ModelError::Cancelled)
}

/// The exit of a rollout whose model call failed.
pub(crate) fn model_error_exit(e: &ModelError) -> AgentExit {
    AgentExit {
        status: ExitStatus::ModelError,
        message: Some(e.to_string()),
        error_kind: Some(e.kind().to_string()),
        infra: model_error_is_infra(e),
    }
}

/// The exit of a rollout whose sandbox failed (always infrastructure).
pub(crate) fn sandbox_exit(e: &SandboxError, during: &str) -> AgentExit {
    AgentExit {
        status: ExitStatus::SandboxError,
        message: Some(format!("{during}: {e}")),
        error_kind: None,
        infra: true,
    }
}

/// The exit of a rollout that handed in its work.
pub(crate) fn submitted() -> AgentExit {
    AgentExit {
        status: ExitStatus::Submitted,
        message: None,
        error_kind: None,
        infra: false,
    }
}

/// An exit with a status and a message, not an infrastructure failure.
pub(crate) fn exit(status: ExitStatus, message: impl Into<String>) -> AgentExit {
    AgentExit {
        status,
        message: Some(message.into()),
        error_kind: None,
        infra: false,
    }
}

/// A step for a model reply, before its action and observation are known.
pub(crate) fn step_for(index: usize, resp: &ModelResponse, model_ms: u64) -> Step {
    Step {
        index: index as u32,
        reply: resp.message.clone(),
        finish_reason: resp.finish_reason,
        action: None,
        observation: String::new(),
        format_error: None,
        usage: resp.usage,
        cost: resp.cost,
        model_ms,
        exec_ms: 0,
        retries: resp.retries,
    }
}

/// Milliseconds elapsed since `t`.
pub(crate) fn ms_since(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// The trajectory of one rollout while it runs, and where it is written.
pub(crate) struct Recorder<'s> {
    pub traj: Trajectory,
    sink: &'s mut dyn TrajectorySink,
    pub limits: Limits,
    started: Instant,
    label: String,
    sample_index: u32,
    sampling: Sampling,
    /// Malformed replies in a row.
    pub format_errors_in_a_row: u32,
}

impl<'s> Recorder<'s> {
    pub fn new(
        task: &Task,
        kind: AgentKind,
        model: &dyn Model,
        ctx: &RolloutContext,
        limits: Limits,
        sampling: Sampling,
        sink: &'s mut dyn TrajectorySink,
    ) -> Self {
        let mut traj = Trajectory::start(task.id(), task.benchmark(), kind.as_str(), model.name());
        if let Some(r) = &ctx.refinement {
            traj.context_summary_ids = r.ids();
        }
        let label = if ctx.rollout_id.is_empty() {
            format!("{}#{}", task.id(), ctx.sample_index)
        } else {
            ctx.rollout_id.clone()
        };
        let mut limits = ctx.limits.unwrap_or(limits);
        if let Task::TerminalBench(t) = task
            && limits.wall_time_limit_sec <= 0.0
        {
            // Terminal-Bench tasks carry their own agent time limit.
            limits.wall_time_limit_sec = t.config.agent_timeout_sec.max(0.0);
        }
        Self {
            traj,
            sink,
            limits,
            started: Instant::now(),
            label,
            sample_index: ctx.sample_index,
            sampling,
            format_errors_in_a_row: 0,
        }
    }

    fn task_id(&self) -> String {
        self.traj.task_id.to_string()
    }

    /// Write the trajectory as it is now.
    pub fn save(&mut self) -> Result<(), AgentError> {
        self.sink
            .record(&self.traj)
            .map_err(|source| AgentError::Sink {
                task_id: self.task_id(),
                source,
                trajectory: Box::new(self.traj.clone()),
            })
    }

    /// Append a message to the conversation.
    pub fn push_message(&mut self, m: Message) {
        self.traj.messages.push(m);
    }

    /// The per-command timeout, shortened to the time left (at least one second).
    pub fn command_timeout(&self) -> Duration {
        let t = agentscale_core::time::secs(self.limits.command_timeout_sec);
        match self.remaining() {
            Some(left) => t.min(left.max(Duration::from_secs(1))),
            None => t,
        }
    }

    /// The time left before the wall-time limit, if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        (self.limits.wall_time_limit_sec > 0.0).then(|| {
            agentscale_core::time::secs(self.limits.wall_time_limit_sec)
                .saturating_sub(self.started.elapsed())
        })
    }

    /// The exit due now, if a limit is reached (checked before every model call).
    pub fn limit_exit(&self) -> Option<AgentExit> {
        let l = &self.limits;
        let steps = self.traj.steps.len();
        if l.step_limit > 0 && steps >= l.step_limit as usize {
            return Some(exit(
                ExitStatus::StepLimit,
                format!(
                    "step limit reached: {steps} model calls (limit {})",
                    l.step_limit
                ),
            ));
        }
        let cost = self.traj.cost.known_usd;
        if l.cost_limit_usd > 0.0 && cost >= l.cost_limit_usd {
            return Some(exit(
                ExitStatus::CostLimit,
                format!(
                    "cost limit reached: ${cost:.4} (limit ${})",
                    l.cost_limit_usd
                ),
            ));
        }
        if self.remaining().is_some_and(|r| r.is_zero()) {
            return Some(exit(
                ExitStatus::TimeLimit,
                format!("wall-time limit of {} s reached", l.wall_time_limit_sec),
            ));
        }
        None
    }

    /// The request for the next model call: the conversation so far, this rollout's sampling,
    /// sample index and purpose label.
    pub fn request(&self, tools: Vec<ToolSpec>) -> ModelRequest {
        ModelRequest {
            messages: self.traj.messages.clone(),
            sampling: self.sampling.clone(),
            tools,
            sample_index: self.sample_index,
            role: CallRole::Agent,
            purpose: format!("rollout:{}:step:{}", self.label, self.traj.steps.len()),
        }
    }

    /// Call the model, bounded by the time left; a failure becomes the rollout's exit.
    pub fn query<'m>(
        &self,
        model: &'m dyn Model,
        req: &'m ModelRequest,
    ) -> impl std::future::Future<Output = Result<(ModelResponse, u64), AgentExit>> + Send + 'm
    {
        let remaining = self.remaining();
        let wall = self.limits.wall_time_limit_sec;
        async move {
            let t0 = Instant::now();
            let result = match remaining {
                Some(left) => match tokio::time::timeout(left, model.complete(req)).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(exit(
                            ExitStatus::TimeLimit,
                            format!("wall-time limit of {wall} s reached during a model call"),
                        ));
                    }
                },
                None => model.complete(req).await,
            };
            match result {
                Ok(resp) => Ok((resp, ms_since(t0))),
                Err(e) => Err(model_error_exit(&e)),
            }
        }
    }

    /// Add a finished step (usage and cost go into the totals) and write the trajectory.
    pub fn push_step(&mut self, step: Step) -> Result<(), AgentError> {
        self.traj.usage += step.usage;
        self.traj.cost.add(step.cost);
        self.traj.steps.push(step);
        self.save()
    }

    /// Set the exit and submission, stamp the end time and write the final trajectory.
    pub fn finish(
        mut self,
        exit: AgentExit,
        submission: Option<Submission>,
    ) -> Result<Trajectory, AgentError> {
        self.traj.exit = Some(exit);
        self.traj.submission = submission;
        self.traj.finished_at_ms = Some(agentscale_core::time::now_ms());
        self.save()?;
        Ok(self.traj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infra_classification_of_model_errors() {
        let infra = [
            ModelError::RateLimited {
                endpoint: "e".into(),
                retry_after_ms: None,
            },
            ModelError::Server {
                endpoint: "e".into(),
                status: 503,
                message: String::new(),
            },
            ModelError::Timeout {
                endpoint: "e".into(),
                message: String::new(),
            },
            ModelError::MalformedResponse {
                endpoint: "e".into(),
                message: String::new(),
            },
            ModelError::Authentication("no key".into()),
            ModelError::Cancelled,
        ];
        for e in &infra {
            assert!(model_error_is_infra(e), "{e}");
            let x = model_error_exit(e);
            assert!(x.infra && x.status == ExitStatus::ModelError);
            assert_eq!(x.error_kind.as_deref(), Some(e.kind()));
        }
        let model = [
            ModelError::ContextTooLong {
                model: "m".into(),
                message: String::new(),
            },
            ModelError::BadRequest {
                status: 400,
                message: String::new(),
            },
            ModelError::Script("out of replies".into()),
        ];
        for e in &model {
            assert!(!model_error_is_infra(e), "{e}");
        }
    }
}
