//! Prompt templates: the embedded defaults under `crates/agents/prompts/`, user overrides,
//! and the variables each template receives. The main type is [`PromptSet`].
//!
//! Templates are Jinja (minijinja) rendered strictly by
//! [`agentscale_core::template::render_strict`]: a variable the agent does not provide is an
//! error, caught when the agent is built (every template is rendered once with sample values
//! of every variable, for both benchmarks). Rendered messages have trailing whitespace removed.
//!
//! Variables (all templates of a kind also get the common ones):
//!
//! | template | bash / bash-tools | tmux |
//! |---|---|---|
//! | common | `task_id`, `benchmark` (`swe-bench`/`terminal-bench`), `workdir`, `action_fence`, `submit_sentinel`, `tool_mode`, `step_limit`, `command_timeout_sec` | `task_id`, `benchmark`, `workdir`, `width`, `height`, `step_limit` |
//! | system | — | — |
//! | instance | `task`, `refinement_context` (rendered text or "") | `task`, `refinement_context`, `response_schema`, `screen` |
//! | format_error | `error`, `finish_reason`, `n_actions` | `error`, `finish_reason` |
//! | timeout | `command`, `output`, `timeout_sec` | `command`, `timeout_sec`, `screen`, `dropped` |
//! | observation | `returncode`, `elided`, `output`, `output_head`, `output_tail`, `elided_chars` | `screen`, `note` |
//! | refinement_context | `k`, `summaries` (list of `index`, `id`, `text`), `task_id`, `benchmark` | the same |

use std::path::Path;

use serde_json::{Map, Value, json};

use agentscale_core::Task;
use agentscale_core::model::{Message, Role};
use agentscale_core::template::{TemplateError, render_strict};

use crate::config::{AgentKind, AgentSettings, ConfigError, TemplatePaths};
use crate::context::RolloutContext;
use crate::recorder::Recorder;
use crate::{AgentError, SUBMIT_SENTINEL};

/// The JSON schema of a tmux agent reply, shown to the model in the first prompt.
pub const TMUX_RESPONSE_SCHEMA: &str = include_str!("../prompts/tmux_response_schema.json");

/// Which agent family a prompt set is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// The bash agent (both the text and the tool-calling variant).
    Bash,
    /// The bash agent's reference profile: our own text with the structure and rules of
    /// mini-swe-agent's SWE-bench config.
    BashReference,
    /// The tmux agent.
    Tmux,
}

/// One template of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The system prompt.
    System,
    /// The first user message.
    Instance,
    /// The reply to a malformed model reply.
    FormatError,
    /// The observation after a timeout.
    Timeout,
    /// The observation after a command or batch.
    Observation,
    /// The summaries of earlier attempts.
    RefinementContext,
}

impl Which {
    const ALL: [Which; 6] = [
        Which::System,
        Which::Instance,
        Which::FormatError,
        Which::Timeout,
        Which::Observation,
        Which::RefinementContext,
    ];

    /// The key under `[agent.templates]`.
    pub fn key(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Instance => "instance",
            Self::FormatError => "format_error",
            Self::Timeout => "timeout",
            Self::Observation => "observation",
            Self::RefinementContext => "refinement_context",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The embedded default source of a template.
pub fn embedded_source(kind: PromptKind, which: Which) -> &'static str {
    match (kind, which) {
        (PromptKind::Bash, Which::System) => include_str!("../prompts/bash_system.j2"),
        (PromptKind::Bash, Which::Instance) => include_str!("../prompts/bash_instance.j2"),
        (PromptKind::Bash, Which::FormatError) => include_str!("../prompts/bash_format_error.j2"),
        (PromptKind::Bash, Which::Timeout) => include_str!("../prompts/bash_timeout.j2"),
        (PromptKind::Bash, Which::Observation) => include_str!("../prompts/bash_observation.j2"),
        (PromptKind::BashReference, Which::System) => {
            include_str!("../prompts/reference/bash_system.j2")
        }
        (PromptKind::BashReference, Which::Instance) => {
            include_str!("../prompts/reference/bash_instance.j2")
        }
        (PromptKind::BashReference, Which::FormatError) => {
            include_str!("../prompts/reference/bash_format_error.j2")
        }
        (PromptKind::BashReference, Which::Timeout) => {
            include_str!("../prompts/reference/bash_timeout.j2")
        }
        (PromptKind::BashReference, Which::Observation) => {
            include_str!("../prompts/reference/bash_observation.j2")
        }
        (PromptKind::Tmux, Which::System) => include_str!("../prompts/tmux_system.j2"),
        (PromptKind::Tmux, Which::Instance) => include_str!("../prompts/tmux_instance.j2"),
        (PromptKind::Tmux, Which::FormatError) => include_str!("../prompts/tmux_format_error.j2"),
        (PromptKind::Tmux, Which::Timeout) => include_str!("../prompts/tmux_timeout.j2"),
        (PromptKind::Tmux, Which::Observation) => include_str!("../prompts/tmux_observation.j2"),
        (_, Which::RefinementContext) => include_str!("../prompts/refinement_context.j2"),
    }
}

fn embedded_name(kind: PromptKind, which: Which) -> String {
    match (kind, which) {
        (_, Which::RefinementContext) => "refinement_context.j2".to_string(),
        (PromptKind::Bash, w) => format!("bash_{}.j2", w.key()),
        (PromptKind::BashReference, w) => format!("reference/bash_{}.j2", w.key()),
        (PromptKind::Tmux, w) => format!("tmux_{}.j2", w.key()),
    }
}

#[derive(Debug, Clone)]
struct Template {
    name: String,
    source: String,
}

/// The six templates an agent renders its messages from.
#[derive(Debug, Clone)]
pub struct PromptSet {
    kind: PromptKind,
    templates: Vec<Template>,
}

impl PromptSet {
    /// The embedded defaults.
    pub fn embedded(kind: PromptKind) -> Self {
        Self {
            kind,
            templates: Which::ALL
                .iter()
                .map(|&w| Template {
                    name: embedded_name(kind, w),
                    source: embedded_source(kind, w).to_string(),
                })
                .collect(),
        }
    }

    /// The embedded defaults with the templates named in `paths` read from files (relative
    /// paths against `base_dir`).
    pub fn load(
        kind: PromptKind,
        paths: &TemplatePaths,
        base_dir: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let mut set = Self::embedded(kind);
        let chosen = [
            (Which::System, &paths.system),
            (Which::Instance, &paths.instance),
            (Which::FormatError, &paths.format_error),
            (Which::Timeout, &paths.timeout),
            (Which::Observation, &paths.observation),
            (Which::RefinementContext, &paths.refinement_context),
        ];
        for (which, path) in chosen {
            let Some(p) = path else { continue };
            let full = match base_dir {
                Some(b) if p.is_relative() => b.join(p),
                _ => p.clone(),
            };
            let source = std::fs::read_to_string(&full).map_err(|e| ConfigError::TemplateRead {
                key: which.key().to_string(),
                path: full.clone(),
                message: e.to_string(),
            })?;
            set.templates[which.index()] = Template {
                name: full.display().to_string(),
                source,
            };
        }
        Ok(set)
    }

    /// Render one template with `vars`, strictly; trailing whitespace is removed.
    pub(crate) fn render(&self, which: Which, vars: &Value) -> Result<String, TemplateError> {
        let t = &self.templates[which.index()];
        let mut s = render_strict(&t.name, &t.source, vars)?;
        s.truncate(s.trim_end().len());
        Ok(s)
    }

    /// Open a rollout's conversation: the system message (when the template renders to
    /// something) and the first user message, with the task, the rendered refinement context
    /// ("" without one) and `instance_extra`'s variables; then the trajectory is saved.
    pub(crate) fn open_conversation(
        &self,
        rec: &mut Recorder<'_>,
        task: &Task,
        ctx: &RolloutContext,
        common: &Value,
        instance_extra: Value,
    ) -> Result<(), AgentError> {
        let render_err = AgentError::template(task);
        let refinement = match &ctx.refinement {
            Some(r) => {
                let pairs: Vec<(String, String)> = r
                    .summaries
                    .iter()
                    .map(|s| (s.id.clone(), s.text.clone()))
                    .collect();
                self.render(Which::RefinementContext, &refinement_vars(common, &pairs))
                    .map_err(render_err)?
            }
            None => String::new(),
        };
        let system = self.render(Which::System, common).map_err(render_err)?;
        if !system.is_empty() {
            rec.push_message(Message::new(Role::System, system));
        }
        let vars = with(
            &with(
                common,
                json!({"task": task.prompt_text(), "refinement_context": refinement}),
            ),
            instance_extra,
        );
        let instance = self.render(Which::Instance, &vars).map_err(render_err)?;
        rec.push_message(Message::user(instance));
        rec.save()?;
        Ok(())
    }

    /// Render every template with sample values of every variable, for both benchmarks, so
    /// that a template using an unknown variable fails when the agent is built.
    pub(crate) fn check(&self, settings: &AgentSettings) -> Result<(), ConfigError> {
        let err = |which: Which| {
            move |source| ConfigError::Template {
                key: which.key().to_string(),
                source,
            }
        };
        for benchmark in ["swe-bench", "terminal-bench"] {
            let common = match self.kind {
                PromptKind::Bash | PromptKind::BashReference => {
                    bash_common(settings, "sample__task-1", benchmark, "/testbed")
                }
                PromptKind::Tmux => tmux_common(settings, "sample-task", benchmark, "/app"),
            };
            let summaries = vec![(
                "sample-summary".to_string(),
                "An earlier attempt did X.".to_string(),
            )];
            self.render(
                Which::RefinementContext,
                &refinement_vars(&common, &summaries),
            )
            .map_err(err(Which::RefinementContext))?;
            self.render(Which::System, &common)
                .map_err(err(Which::System))?;
            for ctx in ["", "<earlier_attempts>...</earlier_attempts>"] {
                let vars = match self.kind {
                    PromptKind::Bash | PromptKind::BashReference => with(
                        &common,
                        json!({"task": "Fix the bug.", "refinement_context": ctx}),
                    ),
                    PromptKind::Tmux => with(
                        &common,
                        json!({"task": "Do it.", "refinement_context": ctx,
                               "response_schema": TMUX_RESPONSE_SCHEMA, "screen": "$ "}),
                    ),
                };
                self.render(Which::Instance, &vars)
                    .map_err(err(Which::Instance))?;
            }
            for finish_reason in ["stop", "length"] {
                let vars = with(
                    &common,
                    json!({"error": "no command found", "finish_reason": finish_reason, "n_actions": 0}),
                );
                self.render(Which::FormatError, &vars)
                    .map_err(err(Which::FormatError))?;
            }
            let timeout = with(
                &common,
                json!({"command": "sleep 100", "output": "partial", "timeout_sec": 60, "screen": "$ ", "dropped": 1}),
            );
            self.render(Which::Timeout, &timeout)
                .map_err(err(Which::Timeout))?;
            for elided in [false, true] {
                let obs = with(
                    &common,
                    json!({"returncode": 0, "elided": elided, "output": "out", "output_head": "h",
                           "output_tail": "t", "elided_chars": 5, "screen": "$ ", "note": "n"}),
                );
                self.render(Which::Observation, &obs)
                    .map_err(err(Which::Observation))?;
            }
        }
        Ok(())
    }
}

/// `base` with the keys of `extra` added (both JSON objects).
pub(crate) fn with(base: &Value, extra: Value) -> Value {
    let mut m: Map<String, Value> = base.as_object().cloned().unwrap_or_default();
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    Value::Object(m)
}

/// The variables every bash template receives.
pub(crate) fn bash_common(
    settings: &AgentSettings,
    task_id: &str,
    benchmark: &str,
    workdir: &str,
) -> Value {
    json!({
        "task_id": task_id,
        "benchmark": benchmark,
        "workdir": workdir,
        "action_fence": settings.action_fence,
        "submit_sentinel": SUBMIT_SENTINEL,
        "tool_mode": settings.kind == AgentKind::BashTools,
        "step_limit": settings.limits.step_limit,
        "command_timeout_sec": seconds(settings.limits.command_timeout_sec),
    })
}

/// Seconds as a JSON number: an integer when whole (`60`, not `60.0`).
pub(crate) fn seconds(s: f64) -> Value {
    if s.fract() == 0.0 && (0.0..9e15).contains(&s) {
        json!(s as u64)
    } else {
        json!(s)
    }
}

/// The variables every tmux template receives.
pub(crate) fn tmux_common(
    settings: &AgentSettings,
    task_id: &str,
    benchmark: &str,
    workdir: &str,
) -> Value {
    json!({
        "task_id": task_id,
        "benchmark": benchmark,
        "workdir": workdir,
        "width": settings.tmux.width,
        "height": settings.tmux.height,
        "step_limit": settings.limits.step_limit,
    })
}

/// The variables of the refinement-context template: `(id, text)` pairs numbered from 1.
pub(crate) fn refinement_vars(common: &Value, summaries: &[(String, String)]) -> Value {
    let list: Vec<Value> = summaries
        .iter()
        .enumerate()
        .map(|(i, (id, text))| json!({"index": i + 1, "id": id, "text": text}))
        .collect();
    json!({
        "k": summaries.len(),
        "summaries": list,
        "task_id": common.get("task_id").cloned().unwrap_or(Value::Null),
        "benchmark": common.get("benchmark").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AgentConfig;

    #[test]
    fn embedded_templates_pass_the_check() {
        for kind in [AgentKind::Bash, AgentKind::BashTools, AgentKind::Tmux] {
            let s = AgentConfig::new(kind).settings();
            let pk = if kind == AgentKind::Tmux {
                PromptKind::Tmux
            } else {
                PromptKind::Bash
            };
            PromptSet::embedded(pk).check(&s).unwrap();
        }
    }

    #[test]
    fn schema_is_valid_json_and_closed() {
        let v: Value = serde_json::from_str(TMUX_RESPONSE_SCHEMA).unwrap();
        assert_eq!(v["additionalProperties"], false);
        assert_eq!(v["$defs"]["Command"]["additionalProperties"], false);
        assert_eq!(v["required"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn bash_prompts_render_for_both_benchmarks() {
        let s = AgentConfig::new(AgentKind::Bash).settings();
        let p = PromptSet::embedded(PromptKind::Bash);
        let swe = with(
            &bash_common(&s, "a__b-1", "swe-bench", "/testbed"),
            json!({"task": "The parser drops the last line.", "refinement_context": ""}),
        );
        let text = p.render(Which::Instance, &swe).unwrap();
        assert!(text.contains("The parser drops the last line."));
        assert!(text.contains(
            "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached"
        ));
        assert!(!text.contains("earlier_attempts"));
        let sys = p.render(Which::System, &swe).unwrap();
        assert!(sys.contains("```bash-action"), "{sys}");
        let tb = with(
            &bash_common(&s, "t", "terminal-bench", "/app"),
            json!({"task": "Make hello.txt.", "refinement_context": "CTX"}),
        );
        let text = p.render(Which::Instance, &tb).unwrap();
        assert!(text.contains("Make hello.txt.") && text.contains("CTX"));
        assert!(!text.contains("git diff --cached"));
        insta::assert_snapshot!("bash_system_prompt", sys);
        insta::assert_snapshot!(
            "bash_instance_swe",
            p.render(Which::Instance, &swe).unwrap()
        );
    }

    #[test]
    fn reference_prompts_keep_mini_swe_agents_structure_and_rules() {
        let c: AgentConfig =
            serde_json::from_value(json!({"kind": "bash", "profile": "reference"})).unwrap();
        let s = c.settings();
        let p = PromptSet::embedded(PromptKind::BashReference);
        p.check(&s).unwrap();
        let swe = with(
            &bash_common(&s, "a__b-1", "swe-bench", "/testbed"),
            json!({"task": "The parser drops the last line.", "refinement_context": ""}),
        );
        let sys = p.render(Which::System, &swe).unwrap();
        let inst = p.render(Which::Instance, &swe).unwrap();
        // the same sections, in the same order, as mini-swe-agent's swebench.yaml
        let mut at = 0;
        for part in [
            "<pr_description>",
            "The parser drops the last line.",
            "</pr_description>",
            "<instructions>",
            "## Overview",
            "## Boundaries",
            "## Suggested workflow",
            "## How commands run",
            "<format_example>",
            "**RULES THAT MUST BE FOLLOWED:**",
            "A CORRECT reply:",
            "An INCORRECT reply:",
            "## The environment",
            "## Command examples",
            "nl -ba filename.py | sed -n '10,20p'",
            "## Submitting",
            "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached",
            "</instructions>",
        ] {
            let found = inst[at..].find(part);
            assert!(found.is_some(), "{part:?} missing or out of order");
            at += found.unwrap_or(0) + part.len();
        }
        assert!(sys.contains("exactly ONE ```bash code block") && sys.contains("THOUGHT"));
        let fe = p
            .render(
                Which::FormatError,
                &with(
                    &swe,
                    json!({"error": "e", "finish_reason": "length", "n_actions": 2}),
                ),
            )
            .unwrap();
        assert!(
            fe.contains("EXACTLY ONE action") && fe.contains("held 2"),
            "{fe}"
        );
        assert!(
            !fe.contains("cut off"),
            "mini-swe-agent says nothing about cut-off replies"
        );
        insta::assert_snapshot!("reference_system_prompt", sys);
        insta::assert_snapshot!("reference_instance_swe", inst);
        insta::assert_snapshot!("reference_format_error", fe);
    }

    #[test]
    fn refinement_context_lists_every_summary() {
        let common = json!({"task_id": "t", "benchmark": "swe-bench"});
        let p = PromptSet::embedded(PromptKind::Bash);
        let text = p
            .render(
                Which::RefinementContext,
                &refinement_vars(
                    &common,
                    &[
                        ("s1".into(), "Tried A; tests failed.".into()),
                        ("s2".into(), "Tried B; claims it works.".into()),
                    ],
                ),
            )
            .unwrap();
        assert!(text.contains("summaries of 2 earlier attempts"), "{text}");
        assert!(text.contains("new, independent attempt"));
        assert!(text.contains("evidence, not as truth"));
        assert!(text.contains("id=\"s1\"") && text.contains("Tried B; claims it works."));
        insta::assert_snapshot!("refinement_context", text);
    }
}
