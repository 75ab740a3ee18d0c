//! The bash agent (mini-swe-agent behaviour). The main type is [`BashAgent`].
//!
//! Each reply must hold exactly one command: one fenced block tagged `bash-action` (kind
//! `bash`; the tag is configurable) or exactly one call of the `bash` tool (kind
//! `bash-tools`). Anything else is a format error: the malformed reply stays in the history
//! (as in mini-swe-agent v1), a rendered `format_error` message answers it, and after
//! `max_format_errors` (3) in a row the rollout ends with `RepeatedFormatError`.
//!
//! Every command runs as a fresh `bash -c` (`shell = "plain"`), `bash -lc` (`"login"`, the
//! reference profile: SWE-bench images activate the testbed environment in `~/.bashrc`) or
//! `bash -c` with `BASH_ENV=$HOME/.bashrc` (`"bash-env"`) in the task's working directory
//! (`/testbed` on SWE-bench) with `PAGER=cat`-style variables, stderr merged into stdout. The observation
//! shows the exit code and the output, cut to head and tail past 10,000 characters; a command
//! killed at the per-command timeout is reported through the `timeout` template. When the
//! first line of a command's output is exactly `COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT` and it
//! exited 0, the rest of the output is the submitted patch. On SWE-bench a rollout that ends
//! without a (non-empty) submitted patch yields the container's `git diff` instead
//! (`PatchSource::GitDiff`) when `fallback_git_diff` is on, else an empty patch (the
//! reference profile, as mini-swe-agent).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use regex::Regex;
use serde_json::{Value, json};

use agentscale_core::Task;
use agentscale_core::model::{FinishReason, Message, Model, ToolSpec};
use agentscale_core::sandbox::{ExecOutput, ExecRequest, Sandbox};
use agentscale_core::trajectory::{Action, AgentExit, ExitStatus, Trajectory};

use crate::config::{AgentKind, AgentSettings, Limits, ShellMode};
use crate::context::RolloutContext;
use crate::observe::{Elided, elide};
use crate::prompts::{PromptSet, Which, bash_common, with};
use crate::recorder::{Recorder, exit, ms_since, sandbox_exit, step_for, submitted};
use crate::sink::TrajectorySink;
use crate::submit::final_submission;
use crate::{Agent, AgentError, SUBMIT_SENTINEL};

/// Bytes of output kept per stream by the sandbox for a command that may submit (it names the
/// sentinel): large, so that a submitted patch arrives whole.
pub const EXEC_OUTPUT_CAP: usize = 64 << 20;

/// Bytes of output kept per stream for other commands (the model sees at most
/// `observation_max_chars` characters of it anyway).
pub const OBSERVED_OUTPUT_CAP: usize = 1 << 20;

/// Prefix that merges stderr into stdout for the rest of the command, like a terminal (and
/// mini-swe-agent's `stderr=STDOUT`), without shifting bash's line numbers.
const MERGE_STDERR: &str = "exec 2>&1; ";

/// The bash agent; built by [`crate::AgentConfig::build`] with kind `bash` or `bash-tools`.
#[derive(Debug, Clone)]
pub struct BashAgent {
    settings: AgentSettings,
    prompts: PromptSet,
    fence: Regex,
}

impl BashAgent {
    pub(crate) fn new(settings: AgentSettings, prompts: PromptSet) -> Self {
        let fence = fence_regex(&settings.action_fence);
        Self {
            settings,
            prompts,
            fence,
        }
    }

    fn tool_mode(&self) -> bool {
        self.settings.kind == AgentKind::BashTools
    }
}

/// The regex of a fenced command block with this tag: the tag, optional spaces and a newline,
/// the command, a newline and the closing fence.
pub(crate) fn fence_regex(tag: &str) -> Regex {
    // The tag is escaped, so the pattern is always valid.
    #[allow(clippy::expect_used)]
    Regex::new(&format!(r"(?s)```{}\s*\n(.*?)\n```", regex::escape(tag)))
        .expect("an escaped tag always makes a valid regex")
}

/// A reply that does not hold exactly one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormatError {
    /// What was wrong, for the model and the trajectory.
    pub message: String,
    /// How many command blocks or tool calls the reply had.
    pub n_actions: usize,
    /// Tool-call ids that need a tool result in the history (tool mode).
    pub call_ids: Vec<String>,
}

/// The one command of a text reply.
pub(crate) fn parse_text_action(
    content: &str,
    fence: &Regex,
    tag: &str,
) -> Result<String, FormatError> {
    let blocks: Vec<&str> = fence
        .captures_iter(content)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let err = |message: String, n: usize| FormatError {
        message,
        n_actions: n,
        call_ids: Vec::new(),
    };
    match blocks.as_slice() {
        [] => Err(err(
            format!("no ```{tag} block was found; every reply must contain exactly one"),
            0,
        )),
        [one] => {
            let cmd = one.trim();
            if cmd.is_empty() {
                Err(err(format!("the ```{tag} block is empty"), 1))
            } else {
                Ok(cmd.to_string())
            }
        }
        many => Err(err(
            format!(
                "found {} ```{tag} blocks; put exactly one command block in each reply",
                many.len()
            ),
            many.len(),
        )),
    }
}

/// The one `bash` tool call of a tool-calling reply: `(call id, command)`.
pub(crate) fn parse_tool_action(msg: &Message) -> Result<(String, String), FormatError> {
    let ids: Vec<String> = msg.tool_calls.iter().map(|c| c.id.clone()).collect();
    let err = |message: String| FormatError {
        message,
        n_actions: msg.tool_calls.len(),
        call_ids: ids.clone(),
    };
    let call = match msg.tool_calls.as_slice() {
        [] => {
            return Err(err(
                "no tool call was found; call the `bash` tool exactly once in every reply".into(),
            ));
        }
        [one] => one,
        many => {
            return Err(err(format!(
                "found {} tool calls, and none was run; make exactly one `bash` call per reply",
                many.len()
            )));
        }
    };
    if call.name != "bash" {
        return Err(err(format!(
            "unknown tool `{}`; the only tool is `bash`",
            call.name
        )));
    }
    let args: Value = serde_json::from_str(&call.arguments).map_err(|e| {
        err(format!(
            "the arguments of the `bash` call are not valid JSON ({e})"
        ))
    })?;
    let Some(cmd) = args.get("command").and_then(Value::as_str) else {
        return Err(err(
            "the `bash` call needs a string argument `command`".into()
        ));
    };
    let cmd = cmd.trim();
    if cmd.is_empty() {
        return Err(err("the `command` argument is empty".into()));
    }
    Ok((call.id.clone(), cmd.to_string()))
}

/// If `out` submits (first non-blank line is exactly the sentinel, exit 0), the rest of the
/// output after that line.
pub fn submitted_output(out: &ExecOutput) -> Option<String> {
    if !out.success() {
        return None;
    }
    let s = out.stdout.trim_start();
    let (first, rest) = s.split_once('\n').unwrap_or((s, ""));
    (first.trim() == SUBMIT_SENTINEL).then(|| rest.to_string())
}

/// The working directory of commands for a task: the config's `cwd`, else `/testbed`
/// (SWE-bench) or the task's workdir (Terminal-Bench; `None`: the image's WORKDIR).
pub(crate) fn workdir_for(task: &Task, cwd: Option<&String>) -> Option<String> {
    cwd.cloned().or_else(|| match task {
        Task::SweBench(_) => Some("/testbed".to_string()),
        Task::TerminalBench(t) => t.config.workdir.clone(),
    })
}

/// The output as the model sees it: stdout then stderr, and the bytes the sandbox dropped.
fn merged_output(out: &ExecOutput) -> (String, u64) {
    (out.combined(), out.stdout_elided + out.stderr_elided)
}

/// Observation variables: exit code and output, whole or as head and tail.
fn observation_vars(out: &ExecOutput, max_chars: usize) -> Value {
    let (text, dropped) = merged_output(out);
    match elide(&text, max_chars) {
        Elided::Full(t) if dropped == 0 => json!({
            "returncode": out.code_or_minus_one(), "elided": false, "output": t,
            "output_head": "", "output_tail": "", "elided_chars": 0,
        }),
        Elided::Full(t) => {
            let half = t.len() / 2;
            let cut = (0..=half)
                .rev()
                .find(|&i| t.is_char_boundary(i))
                .unwrap_or(0);
            json!({
                "returncode": out.code_or_minus_one(), "elided": true, "output": "",
                "output_head": &t[..cut], "output_tail": &t[cut..], "elided_chars": dropped,
            })
        }
        Elided::Cut {
            head,
            tail,
            elided_chars,
        } => json!({
            "returncode": out.code_or_minus_one(), "elided": true, "output": "",
            "output_head": head, "output_tail": tail,
            "elided_chars": elided_chars as u64 + dropped,
        }),
    }
}

/// Output as one string, cut in the middle with a marker when too long.
pub(crate) fn elided_text(text: &str, max_chars: usize) -> String {
    match elide(text, max_chars) {
        Elided::Full(t) => t.to_string(),
        Elided::Cut {
            head,
            tail,
            elided_chars,
        } => format!("{head}\n[... {elided_chars} characters elided ...]\n{tail}"),
    }
}

/// How the loop ended: the exit, and the patch text the agent submitted, if any.
struct LoopEnd {
    exit: AgentExit,
    submitted: Option<String>,
}

impl BashAgent {
    fn exec_request(
        &self,
        command: &str,
        workdir: Option<&String>,
        timeout: Duration,
    ) -> ExecRequest {
        let cap = if command.contains(SUBMIT_SENTINEL) {
            EXEC_OUTPUT_CAP
        } else {
            OBSERVED_OUTPUT_CAP.max(self.settings.observation_max_chars.saturating_mul(8))
        };
        let line = format!("{MERGE_STDERR}{command}");
        let mut req = match self.settings.shell {
            ShellMode::Plain | ShellMode::BashEnv => ExecRequest::shell(line, timeout),
            ShellMode::Login => {
                ExecRequest::argv(["bash".to_string(), "-lc".to_string(), line], timeout)
            }
        }
        .output_cap(cap);
        if self.settings.shell == ShellMode::BashEnv {
            // bash expands $HOME in BASH_ENV before reading it
            req = req.env("BASH_ENV", "$HOME/.bashrc");
        }
        if let Some(wd) = workdir {
            req = req.workdir(wd.clone());
        }
        for (k, v) in &self.settings.env {
            req = req.env(k.clone(), v.clone());
        }
        req
    }

    /// The messages answering a reply: tool results for tool calls, else one user message.
    fn answer(rec: &mut Recorder<'_>, call_ids: &[String], text: &str) {
        if call_ids.is_empty() {
            rec.push_message(Message::user(text));
        } else {
            for id in call_ids {
                rec.push_message(Message::tool_result(id.clone(), text));
            }
        }
    }

    async fn run_loop(
        &self,
        task: &Task,
        sandbox: &dyn Sandbox,
        model: &dyn Model,
        rec: &mut Recorder<'_>,
        common: &Value,
        workdir: Option<&String>,
    ) -> Result<LoopEnd, AgentError> {
        let render_err = AgentError::template(task);
        let tools = if self.tool_mode() {
            vec![ToolSpec::bash()]
        } else {
            Vec::new()
        };
        let max_chars = self.settings.observation_max_chars;
        loop {
            if let Some(e) = rec.limit_exit() {
                return Ok(LoopEnd {
                    exit: e,
                    submitted: None,
                });
            }
            let req = rec.request(tools.clone());
            let (resp, model_ms) = match rec.query(model, &req).await {
                Ok(r) => r,
                Err(e) => {
                    return Ok(LoopEnd {
                        exit: e,
                        submitted: None,
                    });
                }
            };
            let mut step = step_for(rec.traj.steps.len(), &resp, model_ms);
            rec.push_message(resp.message.clone());

            let parsed = if self.tool_mode() {
                parse_tool_action(&resp.message)
            } else {
                parse_text_action(
                    &resp.message.content,
                    &self.fence,
                    &self.settings.action_fence,
                )
                .map(|c| (String::new(), c))
            };
            let (call_id, command) = match parsed {
                Ok(a) => a,
                Err(fe) => {
                    rec.format_errors_in_a_row += 1;
                    let finish = match resp.finish_reason {
                        FinishReason::Length => "length",
                        _ => "stop",
                    };
                    let text = self
                        .prompts
                        .render(
                            Which::FormatError,
                            &with(
                                common,
                                json!({"error": fe.message, "finish_reason": finish, "n_actions": fe.n_actions}),
                            ),
                        )
                        .map_err(render_err)?;
                    step.format_error = Some(fe.message.clone());
                    step.observation.clone_from(&text);
                    let limit = rec.limits.max_format_errors;
                    if rec.format_errors_in_a_row >= limit {
                        rec.push_step(step)?;
                        return Ok(LoopEnd {
                            exit: exit(
                                ExitStatus::RepeatedFormatError,
                                format!(
                                    "{} malformed replies in a row (limit {limit}); last: {}",
                                    rec.format_errors_in_a_row, fe.message
                                ),
                            ),
                            submitted: None,
                        });
                    }
                    Self::answer(rec, &fe.call_ids, &text);
                    rec.push_step(step)?;
                    continue;
                }
            };
            rec.format_errors_in_a_row = 0;
            let call_ids: Vec<String> = if call_id.is_empty() {
                Vec::new()
            } else {
                vec![call_id]
            };

            let timeout = rec.command_timeout();
            let t0 = Instant::now();
            let result = sandbox
                .exec(&self.exec_request(&command, workdir, timeout))
                .await;
            step.exec_ms = ms_since(t0);
            let out = match result {
                Ok(out) => out,
                Err(e) if e.is_infra() => {
                    step.action = Some(Action::Bash {
                        command: command.clone(),
                        exit_code: None,
                        timed_out: false,
                    });
                    step.observation = format!("the sandbox failed: {e}");
                    rec.push_step(step)?;
                    return Ok(LoopEnd {
                        exit: sandbox_exit(&e, "running a command"),
                        submitted: None,
                    });
                }
                Err(e) => ExecOutput {
                    stderr: format!("the command could not be run: {e}"),
                    exit_code: None,
                    ..ExecOutput::default()
                },
            };
            step.action = Some(Action::Bash {
                command: command.clone(),
                exit_code: out.exit_code,
                timed_out: out.timed_out,
            });
            let text = if out.timed_out {
                let (merged, _) = merged_output(&out);
                self.prompts.render(
                    Which::Timeout,
                    &with(
                        common,
                        json!({"command": command, "output": elided_text(&merged, max_chars),
                               "timeout_sec": crate::prompts::seconds(rec.limits.command_timeout_sec)}),
                    ),
                )
            } else {
                self.prompts.render(
                    Which::Observation,
                    &with(common, observation_vars(&out, max_chars)),
                )
            }
            .map_err(render_err)?;
            step.observation.clone_from(&text);
            if let Some(patch) = submitted_output(&out) {
                rec.push_step(step)?;
                let mut e = submitted();
                let submitted = if out.stdout_elided > 0 {
                    e.message = Some(format!(
                        "the submitted output was cut by the sandbox ({} bytes dropped); \
                         the patch is taken from git diff instead",
                        out.stdout_elided
                    ));
                    None
                } else {
                    Some(patch)
                };
                return Ok(LoopEnd { exit: e, submitted });
            }
            Self::answer(rec, &call_ids, &text);
            rec.push_step(step)?;
        }
    }
}

#[async_trait]
impl Agent for BashAgent {
    fn kind(&self) -> AgentKind {
        self.settings.kind
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
            self.settings.kind,
            model,
            ctx,
            self.settings.limits,
            self.settings.sampling.clone(),
            sink,
        );
        let workdir = workdir_for(task, self.settings.cwd.as_ref());
        let shown_workdir = workdir
            .clone()
            .unwrap_or_else(|| "the task's working directory".to_string());
        let mut common = bash_common(
            &self.settings,
            task.id().as_str(),
            task.benchmark().as_str(),
            &shown_workdir,
        );
        if let Some(obj) = common.as_object_mut() {
            obj.insert("step_limit".into(), rec.limits.step_limit.into());
            obj.insert(
                "command_timeout_sec".into(),
                crate::prompts::seconds(rec.limits.command_timeout_sec),
            );
        }
        self.prompts
            .open_conversation(&mut rec, task, ctx, &common, json!({}))?;

        let end = self
            .run_loop(task, sandbox, model, &mut rec, &common, workdir.as_ref())
            .await?;
        let mut exit = end.exit;
        let submission = final_submission(
            task,
            sandbox,
            workdir,
            end.submitted,
            &mut exit,
            self.settings.fallback_git_diff,
        )
        .await;
        rec.finish(exit, Some(submission))
    }
}

#[cfg(test)]
mod tests {
    use agentscale_core::model::ToolCall;

    use super::*;

    fn fence() -> Regex {
        fence_regex("bash-action")
    }

    #[test]
    fn exactly_one_block_is_accepted() {
        let r = parse_text_action(
            "THOUGHT: look\n\n```bash-action\nls -la\n```\n",
            &fence(),
            "bash-action",
        );
        assert_eq!(r.unwrap(), "ls -la");
        let multi = "x\n```bash-action\ncat <<'EOF' > a.py\nprint(1)\nEOF\n```";
        assert_eq!(
            parse_text_action(multi, &fence(), "bash-action").unwrap(),
            "cat <<'EOF' > a.py\nprint(1)\nEOF"
        );
    }

    #[test]
    fn other_fences_and_counts_are_format_errors() {
        let e = parse_text_action("```bash\nls\n```", &fence(), "bash-action").unwrap_err();
        assert_eq!(e.n_actions, 0);
        assert!(
            e.message.contains("no ```bash-action block"),
            "{}",
            e.message
        );
        let two = "```bash-action\nls\n```\nand\n```bash-action\npwd\n```";
        let e = parse_text_action(two, &fence(), "bash-action").unwrap_err();
        assert_eq!(e.n_actions, 2);
        let e = parse_text_action("```bash-action\n   \n```", &fence(), "bash-action").unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
        // A quoted python block next to the command is fine.
        let ok = "```python\nx=1\n```\n```bash-action\npython3 a.py\n```";
        assert_eq!(
            parse_text_action(ok, &fence(), "bash-action").unwrap(),
            "python3 a.py"
        );
    }

    fn call(name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: format!("c-{name}"),
            name: name.into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn tool_calls_are_validated() {
        let mut m = Message::assistant("");
        assert!(parse_tool_action(&m).unwrap_err().call_ids.is_empty());
        m.tool_calls = vec![call("bash", r#"{"command":"ls"}"#)];
        assert_eq!(
            parse_tool_action(&m).unwrap(),
            ("c-bash".into(), "ls".into())
        );
        m.tool_calls = vec![call("bash", r#"{"command":"ls"}"#), call("bash", "{}")];
        let e = parse_tool_action(&m).unwrap_err();
        assert_eq!(e.call_ids.len(), 2);
        for bad in [
            call("python", r#"{"command":"ls"}"#),
            call("bash", "{oops"),
            call("bash", r#"{"cmd":"ls"}"#),
            call("bash", r#"{"command":" "}"#),
        ] {
            m.tool_calls = vec![bad];
            let e = parse_tool_action(&m).unwrap_err();
            assert_eq!(e.call_ids.len(), 1, "{}", e.message);
        }
    }

    #[test]
    fn submission_needs_sentinel_first_and_exit_zero() {
        let out = |stdout: &str, code: i64| ExecOutput {
            stdout: stdout.into(),
            exit_code: Some(code),
            ..ExecOutput::default()
        };
        let p = format!("{SUBMIT_SENTINEL}\ndiff --git a/x b/x\n");
        assert_eq!(
            submitted_output(&out(&p, 0)).unwrap(),
            "diff --git a/x b/x\n"
        );
        assert_eq!(
            submitted_output(&out(&format!("\n  {SUBMIT_SENTINEL}  \r\n"), 0)).unwrap(),
            ""
        );
        assert!(submitted_output(&out(&p, 1)).is_none());
        assert!(submitted_output(&out(&format!("x\n{SUBMIT_SENTINEL}\n"), 0)).is_none());
        assert!(submitted_output(&out(&format!("{SUBMIT_SENTINEL}X\n"), 0)).is_none());
        let mut t = out(&p, 0);
        t.timed_out = true;
        assert!(submitted_output(&t).is_none());
    }

    #[test]
    fn observation_vars_elide_long_output() {
        let o = ExecOutput {
            stdout: "a".repeat(30),
            exit_code: Some(2),
            ..ExecOutput::default()
        };
        let v = observation_vars(&o, 10);
        assert_eq!(v["elided"], true);
        assert_eq!(v["elided_chars"], 20);
        assert_eq!(v["returncode"], 2);
        let v = observation_vars(&o, 100);
        assert_eq!(v["elided"], false);
        assert_eq!(v["output"], "a".repeat(30));
    }

    /// Property tests of the reply parsers (model output is outside input): every reply is
    /// one non-empty command or a [`FormatError`] that says why and counts the actions.
    mod props {
        use proptest::prelude::*;

        use super::*;

        fn reply_part() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("```bash\n".to_string()),
                Just("```mswea_bash_command\n".to_string()),
                Just("\n```".to_string()),
                Just("```".to_string()),
                Just("\n".to_string()),
                "[ -~]{0,20}",
                "\\PC{0,8}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn text_replies_are_one_command_or_a_format_error(
                parts in proptest::collection::vec(reply_part(), 0..12),
            ) {
                let reply = parts.concat();
                match parse_text_action(&reply, &fence_regex("bash"), "bash") {
                    Ok(cmd) => {
                        prop_assert!(!cmd.is_empty());
                        prop_assert_eq!(cmd.trim(), cmd.as_str());
                    }
                    Err(e) => {
                        prop_assert!(!e.message.is_empty());
                        prop_assert!(e.call_ids.is_empty());
                    }
                }
            }

            #[test]
            fn tool_calls_are_one_command_or_a_format_error(
                calls in proptest::collection::vec(
                    ("(bash|python|)", "(\\{\"command\": ?\"[ -!#-~]{0,10}\"\\}|[ -~]{0,16})"),
                    0..3,
                ),
            ) {
                let mut m = Message::assistant("");
                m.tool_calls = calls.iter().map(|(n, a)| call(n, a)).collect();
                match parse_tool_action(&m) {
                    Ok((id, cmd)) => {
                        prop_assert_eq!(m.tool_calls.len(), 1);
                        prop_assert_eq!(id, m.tool_calls[0].id.clone());
                        prop_assert!(!cmd.is_empty());
                    }
                    Err(e) => {
                        prop_assert!(!e.message.is_empty());
                        prop_assert_eq!(e.n_actions, m.tool_calls.len());
                        prop_assert_eq!(e.call_ids.len(), m.tool_calls.len());
                    }
                }
            }
        }
    }
}
