//! Oracle agents: the reference solution instead of a model. The main type is
//! [`OracleAgent`].
//!
//! - SWE-bench: the gold patch is written into the container and applied in the working
//!   directory (`git apply --verbose`, then `patch --batch --fuzz=5 -p1`); the submission is
//!   the container's `git diff` afterwards (`PatchSource::Gold`). A gold patch that does not
//!   apply is submitted verbatim, with the failure in the exit message, so the grader reports
//!   it.
//! - Terminal-Bench: `solution/` is uploaded to `/solution` and `bash /solution/solve.sh` runs
//!   in the task's working directory under the task's agent timeout (or `command_timeout_sec`
//!   when set); the submission is the container state. A script killed by the timeout ends
//!   the rollout with `TimeLimit`.
//!
//! The trajectory has one step (no model call: zero usage, zero cost) whose reply names what
//! was run, and whose action is `Action::Oracle`. Its model is `"none"`.

use std::time::Instant;

use async_trait::async_trait;

use agentscale_core::Task;
use agentscale_core::model::{FinishReason, Message, Model};
use agentscale_core::sandbox::{ExecRequest, Sandbox, shell_quote};
use agentscale_core::submission::{PatchSource, Submission};
use agentscale_core::trajectory::{Action, AgentExit, ExitStatus, Step, Trajectory};
use agentscale_core::usage::{Cost, Usage};

use crate::bash::{EXEC_OUTPUT_CAP, elided_text, workdir_for};
use crate::config::{AgentKind, AgentSettings, Limits};
use crate::context::RolloutContext;
use crate::recorder::{Recorder, ms_since, sandbox_exit, submitted};
use crate::sink::TrajectorySink;
use crate::submit::container_state;
use crate::{Agent, AgentError};

/// Where the gold patch is written in the container.
pub const GOLD_PATCH_PATH: &str = "/tmp/agentscale-gold.patch";

/// Timeout of applying a gold patch when `command_timeout_sec` is 0.
const APPLY_TIMEOUT_SEC: f64 = 300.0;

/// The oracle agent; built by [`crate::AgentConfig::build`] with kind `oracle`.
#[derive(Debug, Clone)]
pub struct OracleAgent {
    settings: AgentSettings,
}

impl OracleAgent {
    pub(crate) fn new(settings: AgentSettings) -> Self {
        Self { settings }
    }

    fn step(command: &str, exit_code: Option<i64>, observation: String, exec_ms: u64) -> Step {
        Step {
            index: 0,
            reply: Message::assistant(format!("(oracle) {command}")),
            finish_reason: FinishReason::Stop,
            action: Some(Action::Oracle {
                command: command.to_string(),
                exit_code,
            }),
            observation,
            format_error: None,
            usage: Usage::default(),
            cost: Cost::Usd(0.0),
            model_ms: 0,
            exec_ms,
            retries: 0,
        }
    }

    fn request(&self, command: &str, workdir: Option<&String>, timeout_sec: f64) -> ExecRequest {
        let mut req = ExecRequest::shell(
            format!("exec 2>&1; {command}"),
            agentscale_core::time::secs(timeout_sec),
        )
        .output_cap(EXEC_OUTPUT_CAP);
        if let Some(wd) = workdir {
            req = req.workdir(wd.clone());
        }
        for (k, v) in &self.settings.env {
            req = req.env(k.clone(), v.clone());
        }
        req
    }

    async fn swe(
        &self,
        patch: &str,
        workdir: &str,
        sandbox: &dyn Sandbox,
        rec: &mut Recorder<'_>,
    ) -> Result<(AgentExit, Submission), AgentError> {
        let t0 = Instant::now();
        if let Err(e) = sandbox
            .write_file(GOLD_PATCH_PATH, patch.as_bytes(), 0o644)
            .await
        {
            return Ok((
                sandbox_exit(&e, "writing the gold patch"),
                Submission::patch(patch, PatchSource::Gold),
            ));
        }
        let p = GOLD_PATCH_PATH;
        let command = format!(
            "git apply --verbose {p} || patch --batch --fuzz=5 -p1 -i {p}; rc=$?; rm -f {p}; exit $rc"
        );
        let timeout = if self.settings.limits.command_timeout_sec > 0.0 {
            self.settings.limits.command_timeout_sec
        } else {
            APPLY_TIMEOUT_SEC
        };
        let wd = workdir.to_string();
        let out = match sandbox
            .exec(&self.request(&command, Some(&wd), timeout))
            .await
        {
            Ok(o) => o,
            Err(e) => {
                return Ok((
                    sandbox_exit(&e, "applying the gold patch"),
                    Submission::patch(patch, PatchSource::Gold),
                ));
            }
        };
        let observation = elided_text(&out.combined(), self.settings.observation_max_chars);
        let step = Self::step(&command, out.exit_code, observation, ms_since(t0));
        rec.traj.steps.push(step);
        rec.save()?;
        if !out.success() {
            let mut e = submitted();
            e.message = Some(format!(
                "the gold patch did not apply in {workdir} (exit {:?}{}); it is submitted verbatim",
                out.exit_code,
                if out.timed_out { ", timed out" } else { "" }
            ));
            return Ok((e, Submission::patch(patch, PatchSource::Gold)));
        }
        match sandbox.diff(workdir).await {
            Ok(d) => Ok((submitted(), Submission::patch(d, PatchSource::Gold))),
            Err(e) => Ok((
                sandbox_exit(&e, "taking the diff after the gold patch"),
                Submission::patch(patch, PatchSource::Gold),
            )),
        }
    }

    async fn terminal_bench(
        &self,
        task: &agentscale_core::TbTask,
        workdir: Option<&String>,
        sandbox: &dyn Sandbox,
        rec: &mut Recorder<'_>,
    ) -> Result<AgentExit, AgentError> {
        let t0 = Instant::now();
        let solution = task.dir.join("solution");
        if let Err(e) = sandbox.upload_dir(&solution, "/solution").await {
            return Ok(sandbox_exit(&e, "uploading solution/ to /solution"));
        }
        let command = format!("bash {}", shell_quote("/solution/solve.sh"));
        let timeout = if self.settings.limits.command_timeout_sec > 0.0 {
            self.settings.limits.command_timeout_sec
        } else {
            task.config.agent_timeout_sec.max(1.0)
        };
        let out = match sandbox
            .exec(&self.request(&command, workdir, timeout))
            .await
        {
            Ok(o) => o,
            Err(e) => return Ok(sandbox_exit(&e, "running solution/solve.sh")),
        };
        let observation = elided_text(&out.combined(), self.settings.observation_max_chars);
        rec.traj.steps.push(Self::step(
            &command,
            out.exit_code,
            observation,
            ms_since(t0),
        ));
        rec.save()?;
        Ok(if out.timed_out {
            AgentExit {
                status: ExitStatus::TimeLimit,
                message: Some(format!("solution/solve.sh was killed after {timeout} s")),
                error_kind: None,
                infra: false,
            }
        } else if out.success() {
            submitted()
        } else {
            let mut e = submitted();
            e.message = Some(format!("solution/solve.sh exited {:?}", out.exit_code));
            e
        })
    }
}

#[async_trait]
impl Agent for OracleAgent {
    fn kind(&self) -> AgentKind {
        AgentKind::Oracle
    }

    fn limits(&self) -> Limits {
        self.settings.limits
    }

    async fn run(
        &self,
        task: &Task,
        sandbox: &dyn Sandbox,
        model: &dyn Model,
        ctx: &RolloutContext,
        sink: &mut dyn TrajectorySink,
    ) -> Result<Trajectory, AgentError> {
        let unsupported = |message: &str| AgentError::Unsupported {
            task_id: task.id().to_string(),
            agent: "oracle".into(),
            message: message.to_string(),
        };
        match task {
            Task::SweBench(i) if i.patch.trim().is_empty() => {
                return Err(unsupported(
                    "the instance has no gold patch (its `patch` column is empty)",
                ));
            }
            Task::TerminalBench(t) if !t.dir.join("solution/solve.sh").is_file() => {
                return Err(unsupported(&format!(
                    "{} has no solution/solve.sh",
                    t.dir.display()
                )));
            }
            _ => {}
        }
        let mut rec = Recorder::new(
            task,
            AgentKind::Oracle,
            model,
            ctx,
            self.settings.limits,
            self.settings.sampling.clone(),
            sink,
        );
        "none".clone_into(&mut rec.traj.model);
        rec.save()?;
        let workdir = workdir_for(task, self.settings.cwd.as_ref());
        let (exit, submission) = match task {
            Task::SweBench(i) => {
                let wd = workdir.unwrap_or_else(|| "/testbed".to_string());
                self.swe(&i.patch, &wd, sandbox, &mut rec).await?
            }
            Task::TerminalBench(t) => {
                let e = self
                    .terminal_bench(t, workdir.as_ref(), sandbox, &mut rec)
                    .await?;
                (e, container_state())
            }
        };
        rec.finish(exit, Some(submission))
    }
}
