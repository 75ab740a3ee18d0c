//! Agent loops: a mini-swe-agent style bash agent, a Terminus-1 style tmux agent, oracle
//! agents, and the trajectories they record.
//!
//! The main type is the [`Agent`] trait: one rollout of a [`Task`] in a started
//! [`Sandbox`], driven by a [`Model`], returning the finished [`Trajectory`] with a typed
//! exit ([`agentscale_core::trajectory::ExitStatus`]). Agents are built from a serde
//! [`AgentConfig`] (`kind = "bash" | "bash-tools" | "tmux" | "oracle"`):
//!
//! ```text
//!  AgentConfig ──build()──▶ Box<dyn Agent>
//!                              │ run(task, &dyn Sandbox, &dyn Model, &RolloutContext, &mut dyn TrajectorySink)
//!                              ▼
//!    model call ─▶ parse reply ─▶ exec in sandbox ─▶ observation ─▶ sink.record(&trajectory) ─▶ …
//!                              ▼
//!                        Trajectory { steps, exit, submission }
//! ```
//!
//! - [`bash::BashAgent`]: one fenced shell command per reply (or one `bash` tool call), each a
//!   fresh `bash -c` in the task's working directory; submission by the
//!   `COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT` sentinel, with the container's `git diff` as a
//!   fallback.
//! - [`tmux::TmuxAgent`]: JSON keystroke batches sent to a tmux session; the final container
//!   state is the submission.
//! - [`oracle::OracleAgent`]: applies the gold patch or runs `solution/solve.sh`.
//! - [`mini`]: export to and import from mini-swe-agent's `.traj.json`.
//! - [`sink`]: where a trajectory is written after every step ([`sink::FileSink`]).
//!
//! The crate has no Docker or HTTP dependency: it is generic over the core seams, and its unit
//! tests use `FakeProvider` and `ScriptedModel`.

pub mod bash;
pub mod config;
pub mod context;
pub mod mini;
mod observe;
pub mod oracle;
pub mod prompts;
mod recorder;
pub mod sink;
mod submit;
pub mod tmux;

use async_trait::async_trait;

use agentscale_core::Task;
use agentscale_core::model::Model;
use agentscale_core::sandbox::Sandbox;
use agentscale_core::template::TemplateError;
use agentscale_core::trajectory::Trajectory;

pub use config::{
    AgentConfig, AgentKind, AgentProfile, ConfigError, Limits, ShellMode, TemplatePaths,
};
pub use context::{PriorSummary, RefinementContext, RolloutContext};
pub use observe::{Elided, elide};
pub use recorder::model_error_is_infra;
pub use sink::{FileSink, MemorySink, NullSink, SinkError, TrajectorySink};

/// The sentinel that, as the first line of a command's output with exit code 0, submits the
/// rest of the output (mini-swe-agent's convention).
pub const SUBMIT_SENTINEL: &str = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT";

/// An agent: runs one rollout of a task.
#[async_trait]
pub trait Agent: Send + Sync {
    /// Which agent this is.
    fn kind(&self) -> AgentKind;

    /// The limits the agent applies unless a [`RolloutContext`] overrides them.
    fn limits(&self) -> Limits;

    /// Run one rollout of `task` in the started `sandbox` with `model`.
    ///
    /// `sink` is called with the whole trajectory so far at the start, after every step and
    /// at the end, so that a crash keeps what happened. Every outcome of the rollout itself
    /// (submission, limits, malformed replies, model errors, sandbox failures) is an `Ok`
    /// trajectory with a typed exit; `Err` is reserved for failures of the harness around it
    /// (a template that does not render for this task, a sink that cannot write, a task the
    /// agent cannot run).
    async fn run(
        &self,
        task: &Task,
        sandbox: &dyn Sandbox,
        model: &dyn Model,
        ctx: &RolloutContext,
        sink: &mut dyn TrajectorySink,
    ) -> Result<Trajectory, AgentError>;
}

/// A failure of the harness around a rollout (not an outcome of the rollout: those are typed
/// exits in the returned trajectory).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A prompt template failed to render for this task (a user template that uses a filter
    /// the values do not support, ...). Fix the template named in the message.
    #[error("{task_id}: {source}")]
    Template {
        /// The task being run.
        task_id: String,
        /// The template error (names the template and the line).
        source: TemplateError,
    },
    /// The trajectory could not be recorded. The trajectory so far is kept in the error.
    #[error("{task_id}: could not record the trajectory: {source}")]
    Sink {
        /// The task being run.
        task_id: String,
        /// What failed.
        source: SinkError,
        /// The trajectory as it was when recording failed.
        trajectory: Box<Trajectory>,
    },
    /// This agent cannot run this task (an oracle without a gold patch or solution script).
    #[error("{task_id}: the {agent} agent cannot run this task: {message}")]
    Unsupported {
        /// The task.
        task_id: String,
        /// The agent kind.
        agent: String,
        /// Why, and what to do.
        message: String,
    },
}

impl AgentError {
    /// The error of a prompt template that failed to render for `task`.
    pub(crate) fn template(task: &Task) -> impl Fn(TemplateError) -> Self + Copy + '_ {
        move |source| Self::Template {
            task_id: task.id().to_string(),
            source,
        }
    }
}
