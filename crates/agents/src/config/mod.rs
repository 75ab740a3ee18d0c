//! [`AgentConfig`]: the `[agent]` table of an experiment, which builds an [`Agent`].
//!
//! Every field but `kind` is optional; a missing one takes the default of its kind and
//! [`AgentProfile`] (for `bash`: mini-swe-agent's SWE-bench config, with the `reference`
//! profile matching it step for step; Terminus 1 for `tmux`), and [`AgentConfig::resolved`]
//! writes every default out. Unknown keys are errors.
//!
//! ```toml
//! [agent]
//! kind = "bash"              # bash | bash-tools | tmux | oracle
//! step_limit = 250           # model calls (tmux: episodes); 0 = no limit
//! cost_limit = 3.0           # US dollars of known cost; 0 = no limit
//! command_timeout_sec = 60
//! [agent.templates]
//! instance = "prompts/my_instance.j2"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use agentscale_core::model::Sampling;
use agentscale_core::template::TemplateError;

use crate::Agent;
use crate::bash::BashAgent;
use crate::oracle::OracleAgent;
use crate::prompts::{PromptKind, PromptSet};
use crate::tmux::TmuxAgent;

/// Which agent to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentKind {
    /// mini-swe-agent style: one fenced shell command per reply.
    Bash,
    /// The same loop with the `bash` tool (tool calling) instead of fenced blocks.
    BashTools,
    /// Terminus 1 style: JSON keystroke batches sent to a tmux session.
    Tmux,
    /// Applies the gold patch (SWE-bench) or runs `solution/solve.sh` (Terminal-Bench).
    Oracle,
}

impl AgentKind {
    /// The name used in configs, trajectories and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bash => "bash",
            Self::BashTools => "bash-tools",
            Self::Tmux => "tmux",
            Self::Oracle => "oracle",
        }
    }
}

impl std::fmt::Display for AgentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which set of defaults the unset knobs of a bash agent take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentProfile {
    /// agentscale's own choices: our prompts with the `bash-action` fence, `bash -c`, at most
    /// 3 format errors in a row, the provider's temperature, and the container's `git diff` as
    /// the patch of a rollout that submitted none.
    #[default]
    Agentscale,
    /// mini-swe-agent 1.x's SWE-bench config (`swebench.yaml`) step for step: prompts of the
    /// same structure and rules with the ```` ```bash ```` fence, `bash -lc` (so `~/.bashrc`
    /// activates the testbed environment), format errors ended only by the step limit,
    /// temperature 0, and an empty patch when nothing was submitted.
    Reference,
}

impl AgentProfile {
    /// The name used in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agentscale => "agentscale",
            Self::Reference => "reference",
        }
    }
}

/// How the bash agent's commands are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShellMode {
    /// `bash -c COMMAND`: the image's environment only.
    Plain,
    /// `bash -lc COMMAND` (mini-swe-agent 1.x): a login shell, which reads `/etc/profile`
    /// and `~/.profile` (and through it `~/.bashrc`), where SWE-bench images activate the
    /// testbed conda environment.
    Login,
    /// `bash -c COMMAND` with `BASH_ENV=$HOME/.bashrc` (mini-swe-agent 2.x): `~/.bashrc` is
    /// read without the login files (which may reset `PATH`).
    BashEnv,
}

impl ShellMode {
    /// The name used in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Login => "login",
            Self::BashEnv => "bash-env",
        }
    }
}

/// Paths of user prompt templates that replace the embedded ones. Relative paths are resolved
/// against the folder given to [`AgentConfig::build`] (the config file's folder).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatePaths {
    /// The system prompt (empty output: no system message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<PathBuf>,
    /// The first user message (the task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<PathBuf>,
    /// The reply to a malformed model reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_error: Option<PathBuf>,
    /// The observation after a command that timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<PathBuf>,
    /// The observation after a command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<PathBuf>,
    /// The refinement context (summaries of earlier attempts) put into the first prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refinement_context: Option<PathBuf>,
}

impl TemplatePaths {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Settings of the tmux session (tmux agent only).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmuxSettings {
    /// Screen width in columns (Terminus: 160).
    #[serde(default = "default_width")]
    pub width: u16,
    /// Screen height in rows (Terminus: 40).
    #[serde(default = "default_height")]
    pub height: u16,
    /// Scroll-back lines kept (Terminus: 50000).
    #[serde(default = "default_history")]
    pub history_limit: u32,
    /// Seconds to wait after a non-blocking command before the next one (Terminus: 0).
    #[serde(default)]
    pub settle_sec: f64,
}

fn default_width() -> u16 {
    160
}
fn default_height() -> u16 {
    40
}
fn default_history() -> u32 {
    50_000
}

impl Default for TmuxSettings {
    fn default() -> Self {
        Self {
            width: default_width(),
            height: default_height(),
            history_limit: default_history(),
            settle_sec: 0.0,
        }
    }
}

/// The serde configuration of an agent. See the module docs for the TOML shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Which agent.
    pub kind: AgentKind,
    /// The defaults of the unset bash knobs below. Default `agentscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<AgentProfile>,
    /// How bash commands are started. Default: `login` (reference profile), `plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<ShellMode>,
    /// Maximum model calls (tmux: episodes), format errors included; 0 = no limit.
    /// Default: 250 (bash, bash-tools), 50 (tmux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_limit: Option<u32>,
    /// Maximum known cost in US dollars; 0 = no limit. Default 3.0. Calls whose cost is
    /// unknown (unpriced models) do not count toward it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_limit: Option<f64>,
    /// Maximum wall time of the rollout in seconds; 0 = no limit on SWE-bench and the task's
    /// own `agent.timeout_sec` on Terminal-Bench. Default 0. It also bounds each model call
    /// and shortens the last commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_limit_sec: Option<f64>,
    /// Per-command timeout in seconds. Default 60 (bash); for tmux the cap on a blocking
    /// wait, default 900; for the oracle, 0 = the task's agent timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_timeout_sec: Option<f64>,
    /// Observations longer than this many characters keep only their first and last halves.
    /// Default 10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation_max_chars: Option<usize>,
    /// Malformed replies in a row that end the rollout. Default 3; with the reference
    /// profile one more than the step limit (mini-swe-agent 1.x lets only the step limit end
    /// them), or 1,000,000 without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_format_errors: Option<u32>,
    /// Sampling temperature. Default: unset (bash, the provider's default; 0 with the
    /// reference profile, as mini-swe-agent's SWE-bench config), 0.7 (tmux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Maximum output tokens per call. Default: unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Working directory of commands. Default: /testbed (SWE-bench), the task's workdir or
    /// the image's WORKDIR (Terminal-Bench).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Environment variables of every command (replaces the default set). Default for bash:
    /// PAGER=cat MANPAGER=cat LESS=-R PIP_PROGRESS_BAR=off TQDM_DISABLE=1; none for tmux.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// On SWE-bench, take the container's `git diff` as the patch when the agent ends without
    /// submitting one (or submits an empty one). Default true; false with the reference
    /// profile (mini-swe-agent submits an empty patch then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_git_diff: Option<bool>,
    /// The tag of the fenced block holding the command (bash). Default `bash-action`; `bash`
    /// with the reference profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_fence: Option<String>,
    /// tmux session settings (tmux only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux: Option<TmuxSettings>,
    /// User prompt templates replacing the embedded ones.
    #[serde(default, skip_serializing_if = "TemplatePaths::is_empty")]
    pub templates: TemplatePaths,
}

/// The limits a rollout runs under (resolved: no unset fields).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Maximum model calls; 0 = no limit.
    pub step_limit: u32,
    /// Maximum known cost in US dollars; 0 = no limit.
    pub cost_limit_usd: f64,
    /// Maximum wall time in seconds; 0 = no limit.
    pub wall_time_limit_sec: f64,
    /// Per-command timeout in seconds (tmux: the cap on a blocking wait; oracle: 0 = the
    /// task's agent timeout).
    pub command_timeout_sec: f64,
    /// Malformed replies in a row that end the rollout.
    pub max_format_errors: u32,
}

/// A configuration that cannot build an agent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is out of range or malformed.
    #[error("agent.{key}: {message}")]
    Invalid {
        /// The key (`cost_limit`, `env.OPENAI_API_KEY`, ...).
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A template file could not be read.
    #[error("agent.templates.{key}: cannot read {}: {message}", path.display())]
    TemplateRead {
        /// The template key.
        key: String,
        /// The resolved path.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// A template does not parse, or uses a variable the agent does not provide.
    #[error("agent.templates.{key}: {source}")]
    Template {
        /// The template key.
        key: String,
        /// The template error (names the file and line).
        source: TemplateError,
    },
}

/// The fully resolved settings an agent runs with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgentSettings {
    pub kind: AgentKind,
    pub profile: AgentProfile,
    pub shell: ShellMode,
    pub limits: Limits,
    pub observation_max_chars: usize,
    pub sampling: Sampling,
    pub cwd: Option<String>,
    pub env: BTreeMap<String, String>,
    pub fallback_git_diff: bool,
    pub action_fence: String,
    pub tmux: TmuxSettings,
}

/// The default tag of the fenced block holding a bash command.
pub const DEFAULT_ACTION_FENCE: &str = "bash-action";

/// The tag of the reference profile (mini-swe-agent's).
pub const REFERENCE_ACTION_FENCE: &str = "bash";

/// Format errors in a row allowed by the reference profile without a step limit.
pub const REFERENCE_UNLIMITED_FORMAT_ERRORS: u32 = 1_000_000;

fn mini_env() -> BTreeMap<String, String> {
    [
        ("PAGER", "cat"),
        ("MANPAGER", "cat"),
        ("LESS", "-R"),
        ("PIP_PROGRESS_BAR", "off"),
        ("TQDM_DISABLE", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl AgentConfig {
    /// A config of this kind with every default.
    pub fn new(kind: AgentKind) -> Self {
        Self {
            kind,
            profile: None,
            shell: None,
            step_limit: None,
            cost_limit: None,
            wall_time_limit_sec: None,
            command_timeout_sec: None,
            observation_max_chars: None,
            max_format_errors: None,
            temperature: None,
            max_tokens: None,
            cwd: None,
            env: None,
            fallback_git_diff: None,
            action_fence: None,
            tmux: None,
            templates: TemplatePaths::default(),
        }
    }

    /// The same config with every default written out (for `run.toml`).
    #[must_use]
    pub fn resolved(&self) -> Self {
        let s = self.settings();
        let bash = matches!(self.kind, AgentKind::Bash | AgentKind::BashTools);
        Self {
            kind: self.kind,
            profile: bash.then_some(s.profile),
            shell: bash.then_some(s.shell),
            step_limit: Some(s.limits.step_limit),
            cost_limit: Some(s.limits.cost_limit_usd),
            wall_time_limit_sec: Some(s.limits.wall_time_limit_sec),
            command_timeout_sec: Some(s.limits.command_timeout_sec),
            observation_max_chars: Some(s.observation_max_chars),
            max_format_errors: Some(s.limits.max_format_errors),
            temperature: s.sampling.temperature,
            max_tokens: s.sampling.max_tokens,
            cwd: s.cwd,
            env: Some(s.env),
            fallback_git_diff: Some(s.fallback_git_diff),
            action_fence: Some(s.action_fence),
            tmux: (self.kind == AgentKind::Tmux).then_some(s.tmux),
            templates: self.templates.clone(),
        }
    }

    /// The limits this config resolves to.
    pub fn limits(&self) -> Limits {
        self.settings().limits
    }

    pub(crate) fn settings(&self) -> AgentSettings {
        let tmux = self.kind == AgentKind::Tmux;
        let profile = self.profile.unwrap_or_default();
        let reference = profile == AgentProfile::Reference;
        let step_limit = self.step_limit.unwrap_or(match self.kind {
            AgentKind::Tmux => 50,
            AgentKind::Oracle => 0,
            AgentKind::Bash | AgentKind::BashTools => 250,
        });
        let limits = Limits {
            step_limit,
            cost_limit_usd: self.cost_limit.unwrap_or(3.0),
            wall_time_limit_sec: self.wall_time_limit_sec.unwrap_or(0.0),
            command_timeout_sec: self.command_timeout_sec.unwrap_or(match self.kind {
                AgentKind::Tmux => 900.0,
                AgentKind::Oracle => 0.0,
                AgentKind::Bash | AgentKind::BashTools => 60.0,
            }),
            max_format_errors: self
                .max_format_errors
                .unwrap_or(match (reference, step_limit) {
                    (false, _) => 3,
                    (true, 0) => REFERENCE_UNLIMITED_FORMAT_ERRORS,
                    (true, n) => n.saturating_add(1),
                }),
        };
        AgentSettings {
            kind: self.kind,
            profile,
            shell: self.shell.unwrap_or(if reference {
                ShellMode::Login
            } else {
                ShellMode::Plain
            }),
            limits,
            observation_max_chars: self.observation_max_chars.unwrap_or(10_000),
            sampling: Sampling {
                temperature: self.temperature.or(match (tmux, reference) {
                    (true, _) => Some(0.7),
                    (false, true) => Some(0.0),
                    (false, false) => None,
                }),
                max_tokens: self.max_tokens,
                ..Sampling::default()
            },
            cwd: self.cwd.clone(),
            env: self.env.clone().unwrap_or_else(|| {
                if matches!(self.kind, AgentKind::Bash | AgentKind::BashTools) {
                    mini_env()
                } else {
                    BTreeMap::new()
                }
            }),
            fallback_git_diff: self.fallback_git_diff.unwrap_or(!reference),
            action_fence: self.action_fence.clone().unwrap_or_else(|| {
                if reference {
                    REFERENCE_ACTION_FENCE
                } else {
                    DEFAULT_ACTION_FENCE
                }
                .to_string()
            }),
            tmux: self.tmux.unwrap_or_default(),
        }
    }

    /// Check every value and return the resolved settings.
    pub(crate) fn validate(&self) -> Result<AgentSettings, ConfigError> {
        let s = self.settings();
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        let non_negative = |key: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(invalid(
                    key,
                    format!("must be a finite number >= 0 (0 = no limit), got {v}"),
                ))
            }
        };
        non_negative("cost_limit", s.limits.cost_limit_usd)?;
        non_negative("wall_time_limit_sec", s.limits.wall_time_limit_sec)?;
        non_negative("command_timeout_sec", s.limits.command_timeout_sec)?;
        if self.kind != AgentKind::Oracle && s.limits.command_timeout_sec <= 0.0 {
            return Err(invalid(
                "command_timeout_sec",
                format!(
                    "must be > 0 seconds for the {} agent, got {}",
                    self.kind, s.limits.command_timeout_sec
                ),
            ));
        }
        if s.limits.max_format_errors == 0 {
            return Err(invalid(
                "max_format_errors",
                "must be at least 1 (the number of malformed replies in a row that ends a rollout)"
                    .into(),
            ));
        }
        if s.observation_max_chars < 2 {
            return Err(invalid(
                "observation_max_chars",
                format!("must be at least 2, got {}", s.observation_max_chars),
            ));
        }
        if let Some(t) = s.sampling.temperature
            && !(t.is_finite() && (0.0..=2.0).contains(&t))
        {
            return Err(invalid(
                "temperature",
                format!("must be between 0 and 2, got {t}"),
            ));
        }
        if s.action_fence.is_empty()
            || !s
                .action_fence
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "action_fence",
                format!(
                    "must be a non-empty tag of letters, digits, '-' and '_' (like {DEFAULT_ACTION_FENCE}), got {:?}",
                    s.action_fence
                ),
            ));
        }
        if let Some(cwd) = &s.cwd
            && !cwd.starts_with('/')
        {
            return Err(invalid(
                "cwd",
                format!("must be an absolute path in the container, got {cwd:?}"),
            ));
        }
        for (k, v) in &s.env {
            let valid_name = !k.is_empty()
                && !k.starts_with(|c: char| c.is_ascii_digit())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                return Err(invalid(
                    &format!("env.{k}"),
                    "is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)".into(),
                ));
            }
            if looks_secret(k) {
                return Err(invalid(
                    &format!("env.{k}"),
                    "looks like a credential; API keys and tokens must never reach a container: \
                     remove it"
                        .into(),
                ));
            }
            if v.contains('\0') {
                return Err(invalid(&format!("env.{k}"), "contains a NUL byte".into()));
            }
        }
        let t = s.tmux;
        if self.kind == AgentKind::Tmux {
            if t.width < 20 || t.height < 5 {
                return Err(invalid(
                    "tmux",
                    format!(
                        "the screen must be at least 20x5, got {}x{}",
                        t.width, t.height
                    ),
                ));
            }
            non_negative("tmux.settle_sec", t.settle_sec)?;
        } else if self.tmux.is_some() {
            return Err(invalid(
                "tmux",
                format!(
                    "only the tmux agent has tmux settings (kind = {})",
                    self.kind
                ),
            ));
        }
        if !matches!(self.kind, AgentKind::Bash | AgentKind::BashTools) {
            for (key, set) in [
                ("profile", self.profile.is_some()),
                ("shell", self.shell.is_some()),
            ] {
                if set {
                    return Err(invalid(
                        key,
                        format!("only the bash agents have a {key} (kind = {})", self.kind),
                    ));
                }
            }
        }
        if self.kind == AgentKind::Oracle && !self.templates.is_empty() {
            return Err(invalid(
                "templates",
                "the oracle agent uses no prompt templates: remove [agent.templates]".into(),
            ));
        }
        Ok(s)
    }

    /// Validate the config, load and check its templates, and build the agent.
    ///
    /// `base_dir` is the folder relative template paths are resolved against (the config
    /// file's folder); `None` uses the current directory.
    pub fn build(&self, base_dir: Option<&Path>) -> Result<Box<dyn Agent>, ConfigError> {
        let settings = self.validate()?;
        Ok(match self.kind {
            AgentKind::Bash | AgentKind::BashTools => {
                let kind = match settings.profile {
                    AgentProfile::Agentscale => PromptKind::Bash,
                    AgentProfile::Reference => PromptKind::BashReference,
                };
                let prompts = PromptSet::load(kind, &self.templates, base_dir)?;
                prompts.check(&settings)?;
                Box::new(BashAgent::new(settings, prompts))
            }
            AgentKind::Tmux => {
                let prompts = PromptSet::load(PromptKind::Tmux, &self.templates, base_dir)?;
                prompts.check(&settings)?;
                Box::new(TmuxAgent::new(settings, prompts))
            }
            AgentKind::Oracle => Box::new(OracleAgent::new(settings)),
        })
    }
}

/// True for environment variable names that look like credentials.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "API_KEY",
        "APIKEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
    ]
    .iter()
    .any(|s| n.contains(s))
}

#[cfg(test)]
mod tests;
