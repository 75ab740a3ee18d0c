//! The tmux agent (Terminus 1 behaviour). The main type is [`TmuxAgent`].
//!
//! The first prompt (one user message; the system template is empty by default) holds the
//! task, the response schema and the screen. Every reply is a JSON keystroke batch
//! ([`reply::parse_reply`]); an invalid one is answered with the `format_error` template and
//! counts toward `max_format_errors`. The batch's commands are typed into a tmux session
//! (160×40, 50,000 lines of scroll-back) with `tmux send-keys`; a blocking command is waited
//! for with `tmux wait` under its `timeout_sec` (capped by `command_timeout_sec` and the time
//! left), and when that runs out the rest of the batch is dropped and the model is shown the
//! `timeout` template with the screen. After each batch the visible screen
//! (`tmux capture-pane -p`) is the next observation. `is_task_complete` ends the rollout after
//! its batch ran. The final container state is the submission (on SWE-bench, its `git diff`).
//!
//! If the shell of the session exits (the model typed `exit`), a new session is started and
//! the model is told; if tmux cannot start at all, the rollout ends with `SandboxError`.
//! Images without tmux get it before the rollouts start ([`install::image_with_tmux`]).

pub mod install;
pub mod keys;
pub mod reply;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};

use agentscale_core::Task;
use agentscale_core::model::{FinishReason, Message, Model};
use agentscale_core::sandbox::{ExecOutput, ExecRequest, Sandbox, SandboxError};
use agentscale_core::trajectory::{Action, AgentExit, ExitStatus, Trajectory};

use crate::bash::workdir_for;
use crate::config::{AgentKind, AgentSettings, Limits};
use crate::context::RolloutContext;
use crate::prompts::{PromptSet, TMUX_RESPONSE_SCHEMA, Which, tmux_common, with};
use crate::recorder::{Recorder, exit, ms_since, sandbox_exit, step_for, submitted};
use crate::sink::TrajectorySink;
use crate::submit::final_submission;
use crate::{Agent, AgentError};

use keys::{capture_argv, has_session_argv, new_session_argv, prepare, send_keys_argv, wait_argv};

/// The name of the tmux session in the container.
pub const SESSION: &str = "agentscale";

/// Timeout of the short tmux commands (send-keys, capture-pane, has-session).
const TMUX_CMD_TIMEOUT: Duration = Duration::from_secs(30);

/// The shortest wait for a blocking command (`timeout 0` would wait forever).
const MIN_WAIT_SEC: f64 = 0.1;

/// The tmux agent; built by [`crate::AgentConfig::build`] with kind `tmux`.
#[derive(Debug, Clone)]
pub struct TmuxAgent {
    settings: AgentSettings,
    prompts: PromptSet,
}

/// What running one batch did.
#[derive(Debug, Default)]
struct BatchRun {
    /// Commands sent (the timed-out one included).
    executed: usize,
    /// The blocking command that timed out: (index, keystrokes, seconds waited).
    timed_out: Option<(usize, String, f64)>,
    /// Something the model should be told (the session was restarted, tmux complained).
    note: Option<String>,
}

/// The session handle for one rollout.
struct Session<'a> {
    sandbox: &'a dyn Sandbox,
    settings: &'a AgentSettings,
    workdir: Option<String>,
}

impl Session<'_> {
    async fn tmux(&self, argv: Vec<String>, timeout: Duration) -> Result<ExecOutput, SandboxError> {
        let mut req = ExecRequest::argv(argv, timeout);
        if let Some(wd) = &self.workdir {
            req = req.workdir(wd.clone());
        }
        for (k, v) in &self.settings.env {
            req = req.env(k.clone(), v.clone());
        }
        self.sandbox.exec(&req).await
    }

    /// Start the session; a failure is an infrastructure failure (no tmux in the image, ...).
    async fn start(&self) -> Result<(), SandboxError> {
        let out = self
            .tmux(
                new_session_argv(SESSION, &self.settings.tmux, self.workdir.as_deref()),
                TMUX_CMD_TIMEOUT,
            )
            .await?;
        if out.success() {
            Ok(())
        } else {
            Err(SandboxError::backend(
                "tmux new-session",
                format!(
                    "exit {:?}: {} (the image needs tmux on its PATH)",
                    out.exit_code,
                    out.combined().trim()
                ),
            ))
        }
    }

    async fn alive(&self) -> Result<bool, SandboxError> {
        Ok(self
            .tmux(has_session_argv(SESSION), TMUX_CMD_TIMEOUT)
            .await?
            .success())
    }

    /// Restart the session if it is gone; `Some(note)` when it was restarted.
    async fn revive(&self) -> Result<Option<String>, SandboxError> {
        if self.alive().await? {
            return Ok(None);
        }
        self.start().await?;
        Ok(Some(
            "The shell in the terminal session exited, so a new session was started; \
             the commands after that point were not sent."
                .to_string(),
        ))
    }

    /// The visible screen, restarting the session first if it is gone.
    async fn capture(&self) -> Result<(String, Option<String>), SandboxError> {
        let out = self.tmux(capture_argv(SESSION), TMUX_CMD_TIMEOUT).await?;
        if out.success() {
            return Ok((out.stdout, None));
        }
        let note = self.revive().await?;
        let out = self.tmux(capture_argv(SESSION), TMUX_CMD_TIMEOUT).await?;
        if out.success() {
            Ok((out.stdout, note))
        } else {
            Err(SandboxError::backend(
                "tmux capture-pane",
                format!("exit {:?}: {}", out.exit_code, out.combined().trim()),
            ))
        }
    }

    /// Send a batch, waiting for blocking commands; stop at the first timeout.
    async fn run_batch(
        &self,
        commands: &[agentscale_core::trajectory::KeystrokeCommand],
        episode: usize,
        cap_sec: f64,
    ) -> Result<BatchRun, SandboxError> {
        let mut run = BatchRun::default();
        for (i, cmd) in commands.iter().enumerate() {
            let channel = format!("agentscale-{episode}-{i}");
            let p = prepare(cmd, &channel);
            run.executed = i + 1;
            if !p.keys.is_empty() {
                let out = self
                    .tmux(send_keys_argv(SESSION, &p.keys), TMUX_CMD_TIMEOUT)
                    .await?;
                if !out.success() {
                    if let Some(note) = self.revive().await? {
                        run.note = Some(note);
                        return Ok(run);
                    }
                    run.note = Some(format!(
                        "tmux rejected the keys of command {}: {}",
                        i + 1,
                        out.combined().trim()
                    ));
                    continue;
                }
            }
            if p.blocking {
                let secs = cmd
                    .timeout_sec
                    .max(MIN_WAIT_SEC)
                    .min(cap_sec.max(MIN_WAIT_SEC));
                let out = self
                    .tmux(
                        wait_argv(&channel, secs),
                        agentscale_core::time::secs(secs).saturating_add(TMUX_CMD_TIMEOUT),
                    )
                    .await?;
                if out.timed_out || out.exit_code == Some(124) {
                    run.timed_out = Some((i, cmd.keystrokes.clone(), secs));
                    return Ok(run);
                }
                if !out.success() {
                    // tmux wait fails when the server went away (the shell exited).
                    if let Some(note) = self.revive().await? {
                        run.note = Some(note);
                        return Ok(run);
                    }
                }
            } else if self.settings.tmux.settle_sec > 0.0 {
                tokio::time::sleep(agentscale_core::time::secs(self.settings.tmux.settle_sec))
                    .await;
            }
        }
        Ok(run)
    }
}

impl TmuxAgent {
    pub(crate) fn new(settings: AgentSettings, prompts: PromptSet) -> Self {
        Self { settings, prompts }
    }

    async fn run_loop(
        &self,
        task: &Task,
        session: &Session<'_>,
        model: &dyn Model,
        rec: &mut Recorder<'_>,
        common: &Value,
    ) -> Result<AgentExit, AgentError> {
        let render_err = AgentError::template(task);
        loop {
            if let Some(e) = rec.limit_exit() {
                return Ok(e);
            }
            let req = rec.request(Vec::new());
            let (resp, model_ms) = match rec.query(model, &req).await {
                Ok(r) => r,
                Err(e) => return Ok(e),
            };
            let episode = rec.traj.steps.len();
            let mut step = step_for(episode, &resp, model_ms);
            rec.push_message(resp.message.clone());
            let batch = match reply::parse_reply(&resp.message.content) {
                Ok(b) => b,
                Err(msg) => {
                    rec.format_errors_in_a_row += 1;
                    let finish = if resp.finish_reason == FinishReason::Length {
                        "length"
                    } else {
                        "stop"
                    };
                    let text = self
                        .prompts
                        .render(
                            Which::FormatError,
                            &with(common, json!({"error": msg, "finish_reason": finish})),
                        )
                        .map_err(render_err)?;
                    step.format_error = Some(msg.clone());
                    step.observation.clone_from(&text);
                    let limit = rec.limits.max_format_errors;
                    if rec.format_errors_in_a_row >= limit {
                        rec.push_step(step)?;
                        return Ok(exit(
                            ExitStatus::RepeatedFormatError,
                            format!(
                                "{} malformed replies in a row (limit {limit}); last: {msg}",
                                rec.format_errors_in_a_row
                            ),
                        ));
                    }
                    rec.push_message(Message::user(text));
                    rec.push_step(step)?;
                    continue;
                }
            };
            rec.format_errors_in_a_row = 0;
            let cap = match rec.remaining() {
                Some(left) => rec.limits.command_timeout_sec.min(left.as_secs_f64()),
                None => rec.limits.command_timeout_sec,
            };
            let t0 = Instant::now();
            let ran = session.run_batch(&batch.commands, episode, cap).await;
            let screen = match &ran {
                Ok(_) => session.capture().await,
                Err(e) => Err(e.clone()),
            };
            step.exec_ms = ms_since(t0);
            let (run, (screen, capture_note)) = match (ran, screen) {
                (Ok(run), Ok(s)) => (run, s),
                (Err(e), _) | (_, Err(e)) => {
                    step.action = Some(Action::Keystrokes {
                        commands: batch.commands.clone(),
                        executed: 0,
                        task_complete: batch.is_task_complete,
                    });
                    step.observation = format!("the sandbox failed: {e}");
                    rec.push_step(step)?;
                    return Ok(sandbox_exit(&e, "driving the tmux session"));
                }
            };
            step.action = Some(Action::Keystrokes {
                commands: batch.commands.clone(),
                executed: run.executed,
                task_complete: batch.is_task_complete,
            });
            let note = match (run.note, capture_note) {
                (Some(a), Some(b)) => format!("{a}\n{b}"),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => String::new(),
            };
            let text = match &run.timed_out {
                Some((i, keystrokes, secs)) => self.prompts.render(
                    Which::Timeout,
                    &with(
                        common,
                        json!({"command": keystrokes, "timeout_sec": crate::prompts::seconds(*secs), "screen": screen,
                               "dropped": batch.commands.len() - i - 1}),
                    ),
                ),
                None => self.prompts.render(
                    Which::Observation,
                    &with(common, json!({"screen": screen, "note": note})),
                ),
            }
            .map_err(render_err)?;
            step.observation.clone_from(&text);
            if batch.is_task_complete {
                rec.push_step(step)?;
                return Ok(submitted());
            }
            rec.push_message(Message::user(text));
            rec.push_step(step)?;
        }
    }
}

#[async_trait]
impl Agent for TmuxAgent {
    fn kind(&self) -> AgentKind {
        AgentKind::Tmux
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
        let mut rec = Recorder::new(
            task,
            AgentKind::Tmux,
            model,
            ctx,
            self.settings.limits,
            self.settings.sampling.clone(),
            sink,
        );
        let workdir = workdir_for(task, self.settings.cwd.as_ref());
        let session = Session {
            sandbox,
            settings: &self.settings,
            workdir: workdir.clone(),
        };
        let mut common = tmux_common(
            &self.settings,
            task.id().as_str(),
            task.benchmark().as_str(),
            workdir.as_deref().unwrap_or("the task's working directory"),
        );
        if let Some(obj) = common.as_object_mut() {
            obj.insert("step_limit".into(), rec.limits.step_limit.into());
        }
        let started = match session.start().await {
            Ok(()) => session.capture().await.map(|(s, _)| s),
            Err(e) => Err(e),
        };
        let exit = match started {
            Err(e) => sandbox_exit(&e, "starting the tmux session"),
            Ok(screen) => {
                self.prompts.open_conversation(
                    &mut rec,
                    task,
                    ctx,
                    &common,
                    json!({"response_schema": TMUX_RESPONSE_SCHEMA.trim_end(), "screen": screen}),
                )?;
                self.run_loop(task, &session, model, &mut rec, &common)
                    .await?
            }
        };
        let mut exit = exit;
        let submission = final_submission(
            task,
            sandbox,
            workdir,
            None,
            &mut exit,
            self.settings.fallback_git_diff,
        )
        .await;
        rec.finish(exit, Some(submission))
    }
}
