//! The `reference` profile: the config keys where agentscale and mini-swe-agent 1.x's SWE-bench
//! config (`swebench.yaml`, the agent of the paper's iteration 0) can differ, and
//! [`reference_diff`], the list of every setting of a config that differs from
//! mini-swe-agent's, each with its reason (`agentscale run CONFIG --show-reference-diff`).
//!
//! `agent.profile = "reference"` gives every unset knob below mini-swe-agent's value; a key
//! set in the file wins and shows up in the list.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::types::{AgentKind, ExperimentConfig, ModelSection, Provider};

/// Which set of defaults the unset agent knobs take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AgentProfile {
    /// agentscale's own choices: our prompts with the `bash-action` fence, `bash -c`, three
    /// format errors in a row end a rollout, the provider's temperature, the container's `git
    /// diff` as the patch of a rollout that submitted none, no network in rollouts, and an
    /// unpriced model runs with a warning.
    #[default]
    Agentscale,
    /// mini-swe-agent 1.x's SWE-bench config step for step: prompts of the same structure and
    /// rules (our own text) with the ```` ```bash ```` fence, `bash -lc` (so `~/.bashrc`
    /// activates the testbed environment), format errors ended only by the step limit,
    /// temperature 0, an empty patch when nothing was submitted, the engine's default network
    /// in rollouts, and a model without a price is refused (its cost limit could not hold).
    Reference,
}

/// How the bash agent starts each command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ShellMode {
    /// `bash -c`: the image's environment only.
    Plain,
    /// `bash -lc` (mini-swe-agent 1.x): a login shell, which reads `~/.profile` and through
    /// it `~/.bashrc`, where SWE-bench images activate the testbed environment.
    Login,
    /// `bash -c` with `BASH_ENV=$HOME/.bashrc` (mini-swe-agent 2.x).
    BashEnv,
}

/// What to do when an agent model has no price while a cost limit is set (the limit could
/// never be reached: calls of unknown cost count nothing toward it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UnpricedPolicy {
    /// Refuse the config, naming the model and the fixes (`[models.prices]`, `cost_limit = 0`
    /// or `unpriced = "warn"`).
    Error,
    /// Run uncapped and say so in a warning.
    Warn,
}

/// The order in which the judge is shown a group's candidates, vote by vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DisplayOrder {
    /// Each member is shown first (and in every position) equally often across a group's
    /// votes: a seeded base order rotated vote by vote.
    Counterbalanced,
    /// An independent seeded shuffle for every vote (one member may be shown first in most
    /// votes by chance).
    Shuffled,
    /// Rollout-index order for every vote.
    Fixed,
}

impl ExperimentConfig {
    /// The agent profile (`agentscale` unless set).
    pub fn profile(&self) -> AgentProfile {
        self.agent.profile.unwrap_or_default()
    }

    /// True when rollout containers get the engine's default network: `sandbox.network`,
    /// else on with the reference profile and off otherwise. Grading never has it.
    pub fn rollout_network(&self) -> bool {
        self.sandbox
            .network
            .unwrap_or(self.profile() == AgentProfile::Reference)
    }

    /// What happens to an unpriced agent model under a cost limit: `agent.unpriced`, else
    /// `error` with the reference profile and `warn` otherwise.
    pub fn unpriced_policy(&self) -> UnpricedPolicy {
        self.agent.unpriced.unwrap_or(match self.profile() {
            AgentProfile::Reference => UnpricedPolicy::Error,
            AgentProfile::Agentscale => UnpricedPolicy::Warn,
        })
    }

    /// The judge's display order: `scaling.display_order`, else `fixed` when the older
    /// `scaling.shuffle = false` is set, else `counterbalanced`.
    pub fn display_order(&self) -> DisplayOrder {
        self.scaling
            .display_order
            .unwrap_or(if self.scaling.shuffle {
                DisplayOrder::Counterbalanced
            } else {
                DisplayOrder::Fixed
            })
    }
}

/// True when prompt caching is on for this model: `prompt_cache`, else on for Anthropic (as
/// mini-swe-agent marks Anthropic requests with cache control).
pub fn prompt_cache(m: &ModelSection) -> bool {
    m.prompt_cache.unwrap_or(m.provider == Provider::Anthropic)
}

/// Agent models (index, message) whose cost cannot be known while `agent.cost_limit` is set:
/// no `prices` and no entry in the price table. Calls of unknown cost count nothing toward the
/// limit, so such a rollout would run uncapped.
pub fn unpriced_agents(cfg: &ExperimentConfig) -> Vec<(usize, String)> {
    let limit = cfg.agent.cost_limit.unwrap_or(3.0);
    if limit <= 0.0 || cfg.agent.kind == AgentKind::Oracle {
        return Vec::new();
    }
    let table = agentscale_models::PriceTable::embedded();
    cfg.models
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.agent
                && m.provider != Provider::Scripted
                && m.prices.is_none()
                && table.lookup(m.api_model()).is_none()
        })
        .map(|(i, m)| {
            (
                i,
                format!(
                    "model {:?} ({}) is not in the price table, so agent.cost_limit = {} can \
                    never be reached (calls of unknown cost count nothing): give it \
                    [models.prices], set agent.cost_limit = 0 to run without a cost limit, or \
                    agent.unpriced = \"warn\" to run uncapped anyway",
                    m.name,
                    m.api_model(),
                    fmt_f64(limit)
                ),
            )
        })
        .collect()
}

/// One setting that differs from mini-swe-agent's SWE-bench config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceDiff {
    /// The dotted key (`agent.shell`, `models[0].prompt_cache`, ...).
    pub key: String,
    /// Our value.
    pub ours: String,
    /// mini-swe-agent's.
    pub mini: String,
    /// Why the difference is deliberate; `None` when it is not explained (a config choice
    /// to review).
    pub reason: Option<&'static str>,
}

/// Every setting of `cfg`'s agent (SWE-bench) that differs from mini-swe-agent 1.x's SWE-bench
/// config, with its reason. Empty for a config that reproduces mini-swe-agent exactly; the
/// deliberate differences of the reference profile are listed with their reasons.
pub fn reference_diff(cfg: &ExperimentConfig) -> Vec<ReferenceDiff> {
    let a = &cfg.agent;
    let reference = cfg.profile() == AgentProfile::Reference;
    let mut out = Vec::new();
    let mut diff = |key: &str, ours: String, mini: &str, reason: Option<&'static str>| {
        if ours != mini {
            out.push(ReferenceDiff {
                key: key.to_string(),
                ours,
                mini: mini.to_string(),
                reason,
            });
        }
    };
    let kind = match a.kind {
        AgentKind::Auto | AgentKind::Bash => "bash",
        AgentKind::BashTools => "bash-tools",
        AgentKind::Tmux => "tmux",
        AgentKind::Oracle => "oracle",
    };
    diff("agent.kind", kind.into(), "bash", None);
    diff(
        "agent.profile",
        cfg.profile_name().into(),
        "reference",
        None,
    );
    let shell = a.shell.unwrap_or(if reference {
        ShellMode::Login
    } else {
        ShellMode::Plain
    });
    diff("agent.shell", kebab(&shell), "login", None);
    diff(
        "agent.step_limit",
        a.step_limit.unwrap_or(250).to_string(),
        "250",
        None,
    );
    diff(
        "agent.cost_limit",
        fmt_f64(a.cost_limit.unwrap_or(3.0)),
        "3",
        None,
    );
    diff(
        "agent.command_timeout_sec",
        a.command_timeout_sec.unwrap_or(60).to_string(),
        "60",
        None,
    );
    diff(
        "agent.observation_limit",
        a.observation_limit.unwrap_or(10_000).to_string(),
        "10000",
        None,
    );
    let fmt_errors = match (a.max_format_errors, reference) {
        (Some(n), _) => n.to_string(),
        (None, true) => "step limit".into(),
        (None, false) => "3".into(),
    };
    diff("agent.max_format_errors", fmt_errors, "step limit", None);
    let temperature = a
        .temperature
        .or(if reference { Some(0.0) } else { None })
        .map_or_else(|| "provider default".to_string(), fmt_f64);
    let reasoning_models = cfg.models.iter().filter(|m| m.agent).all(|m| {
        m.provider == Provider::Openai
            && m.max_tokens_param == agentscale_models::MaxTokensParam::MaxCompletionTokens
    });
    let reason = (temperature == "1" && reasoning_models).then_some(
        "the model takes only its default temperature (OpenAI's reasoning models); \
        mini-swe-agent's 0 is dropped by LiteLLM's drop_params, so it samples at 1 too",
    );
    diff("agent.temperature", temperature, "0", reason);
    let fallback = a.fallback_git_diff.unwrap_or(!reference);
    diff(
        "agent.fallback_git_diff",
        fallback.to_string(),
        "false",
        None,
    );
    let fence = a
        .action_fence
        .clone()
        .unwrap_or_else(|| if reference { "bash" } else { "bash-action" }.into());
    diff("agent.action_fence", fence, "bash", None);
    diff(
        "agent.prompts",
        if reference {
            "reference (own text, mini's structure and rules)"
        } else {
            "agentscale"
        }
        .into(),
        "reference (own text, mini's structure and rules)",
        None,
    );
    let templates = &a.templates;
    if templates.system.is_some()
        || templates.instance.is_some()
        || templates.format_error.is_some()
        || templates.timeout.is_some()
        || templates.observation.is_some()
    {
        diff("agent.templates", "custom files".into(), "none", None);
    }
    if templates.refinement.is_some() || cfg.scaling.iterations > 1 {
        diff(
            "agent.refinement_context",
            "summaries of earlier rollouts in the first prompt (iterations > 0)".into(),
            "none",
            Some("the method itself: PDR's refined rollouts start from earlier summaries"),
        );
    }
    if let Some(t) = a.time_limit_sec.filter(|t| *t > 0) {
        diff("agent.time_limit_sec", t.to_string(), "none", None);
    }
    diff(
        "sandbox.network",
        if cfg.rollout_network() {
            "engine default"
        } else {
            "none"
        }
        .into(),
        "engine default",
        None,
    );
    for (i, m) in cfg.models.iter().enumerate().filter(|(_, m)| m.agent) {
        let key = |k: &str| format!("models[{i}].{k}");
        if m.provider == Provider::Anthropic {
            diff(
                &key("prompt_cache"),
                prompt_cache(m).to_string(),
                "true",
                None,
            );
        }
        if m.top_p.is_some() {
            diff(&key("top_p"), format!("{:?}", m.top_p), "unset", None);
        }
        let max_tokens = a
            .max_tokens
            .or(m.max_tokens)
            .map_or_else(|| "model maximum".to_string(), |n| n.to_string());
        diff(&key("max_tokens"), max_tokens, "model maximum", None);
    }
    diff(
        "agent.unpriced",
        kebab(&cfg.unpriced_policy()),
        "error",
        Some(
            "mini-swe-agent fails every call of an unpriced model; we refuse such a config up \
             front (same effect: no uncapped rollout), or warn when set to `warn`",
        ),
    );
    for d in &mut out {
        if d.reason.is_none() {
            d.reason = explained(&d.key, &d.ours);
        }
    }
    if matches!(a.kind, AgentKind::Auto | AgentKind::Bash) {
        out.extend(
            BEHAVIOUR
                .iter()
                .map(|&(key, ours, mini, reason)| ReferenceDiff {
                    key: key.into(),
                    ours: ours.into(),
                    mini: mini.into(),
                    reason: Some(reason),
                }),
        );
    }
    out
}

/// The deliberate differences of the bash agent's behaviour that no setting changes: (key,
/// ours, mini-swe-agent's, reason). The README lists the same.
pub const BEHAVIOUR: &[(&str, &str, &str, &str)] = &[
    (
        "behaviour.prompt_text",
        "our own words",
        "mini-swe-agent's text",
        "the reference prompts keep mini-swe-agent's structure, sections, rules, examples and \
        fence, in text written for this project",
    ),
    (
        "behaviour.command_timeout",
        "the command's process group is killed in the container",
        "the docker exec client is killed; the command may keep running",
        "a runaway command must not keep using the container's CPU and files during later \
        steps; the model sees the same timeout message",
    ),
    (
        "behaviour.empty_command_block",
        "format error",
        "runs an empty command (exit 0, no output)",
        "an empty block carries no action; both count the step",
    ),
    (
        "behaviour.output_capture",
        "first and last 512 KiB kept per stream before the 10,000-character cut",
        "the whole output read, then cut",
        "bounds memory on commands that print gigabytes; the model sees the same head and tail",
    ),
    (
        "behaviour.cost",
        "agentscale's price table (with [models.prices] overrides)",
        "LiteLLM's price table",
        "one table for every provider and run; the limits compare the same kind of number",
    ),
];

/// The reasons of the deliberate differences a config may carry.
fn explained(key: &str, ours: &str) -> Option<&'static str> {
    match (key, ours) {
        ("agent.shell", "bash-env") => Some(
            "mini-swe-agent 2.x activates the environment through BASH_ENV instead of a login \
             shell; the same ~/.bashrc is read",
        ),
        ("agent.time_limit_sec", _) => Some("a wall-time bound mini-swe-agent 1.x does not have"),
        _ => None,
    }
}

impl ExperimentConfig {
    fn profile_name(&self) -> &'static str {
        match self.profile() {
            AgentProfile::Agentscale => "agentscale",
            AgentProfile::Reference => "reference",
        }
    }
}

fn kebab<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn fmt_f64(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// [`reference_diff`] as a table for the terminal: one line per setting, then the count of
/// unexplained differences.
pub fn render_reference_diff(cfg: &ExperimentConfig) -> String {
    use std::fmt::Write as _;
    let diffs = reference_diff(cfg);
    let mut s = format!(
        "settings that differ from mini-swe-agent 1.x's SWE-bench config (agent profile: {}):\n",
        cfg.profile_name()
    );
    if diffs.is_empty() {
        s.push_str("  none\n");
    }
    let width = diffs.iter().map(|d| d.key.len()).max().unwrap_or(0);
    for d in &diffs {
        let _ = writeln!(
            s,
            "  {:width$}  ours: {}  mini-swe-agent: {}  — {}",
            d.key,
            d.ours,
            d.mini,
            d.reason
                .unwrap_or("UNEXPLAINED: set it to mini-swe-agent's value or say why")
        );
    }
    let unexplained = diffs.iter().filter(|d| d.reason.is_none()).count();
    let _ = writeln!(s, "unexplained differences: {unexplained}");
    s
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::super::load::{LoadOptions, load_str};
    use super::*;

    fn load(extra: &str) -> Result<ExperimentConfig, String> {
        let text = format!("[experiment]\nname = \"t\"\n[dataset]\nname = \"demo-swe\"\n{extra}");
        let opts = LoadOptions {
            env_has: Arc::new(|_| true),
            check_files: false,
            ..LoadOptions::default()
        };
        load_str(Path::new("t.toml"), &text, &opts)
            .map(|c| c.base)
            .map_err(|e| e.to_string())
    }

    const CLAUDE: &str = "[[models]]\nname = \"c\"\nprovider = \"anthropic\"\nmodel = \
                          \"claude-opus-4-5-20251101\"\n";
    const UNPRICED: &str = "[[models]]\nname = \"g\"\nprovider = \"openai\"\nmodel = \
                            \"gemini-3.1-pro-preview\"\n";

    #[test]
    fn the_reference_profile_leaves_only_explained_differences() {
        let c = load(&format!("{CLAUDE}[agent]\nprofile = \"reference\"\n")).unwrap();
        assert!(
            c.rollout_network(),
            "mini-swe-agent's containers have a network"
        );
        assert!(prompt_cache(&c.models[0]), "cache control on for Anthropic");
        let diffs = reference_diff(&c);
        assert!(diffs.iter().all(|d| d.reason.is_some()), "{diffs:?}");
        assert!(diffs.iter().all(|d| !d.key.starts_with("agent.shell")));
        assert!(render_reference_diff(&c).ends_with("unexplained differences: 0\n"));
        // a knob set against the profile is listed, unexplained
        let c = load(&format!(
            "{CLAUDE}[agent]\nprofile = \"reference\"\nfallback_git_diff = true\n\
             [sandbox]\nnetwork = false\n"
        ))
        .unwrap();
        let keys: Vec<(String, bool)> = reference_diff(&c)
            .into_iter()
            .filter(|d| d.reason.is_none())
            .map(|d| (d.key, d.reason.is_some()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("agent.fallback_git_diff".to_string(), false),
                ("sandbox.network".to_string(), false)
            ]
        );
    }

    #[test]
    fn the_agentscale_profile_lists_every_difference() {
        let c = load(CLAUDE).unwrap();
        assert!(!c.rollout_network());
        let unexplained: Vec<String> = reference_diff(&c)
            .into_iter()
            .filter(|d| d.reason.is_none())
            .map(|d| d.key)
            .collect();
        for key in [
            "agent.profile",
            "agent.shell",
            "agent.max_format_errors",
            "agent.temperature",
            "agent.fallback_git_diff",
            "agent.action_fence",
            "agent.prompts",
            "sandbox.network",
        ] {
            assert!(
                unexplained.iter().any(|k| k == key),
                "{key}: {unexplained:?}"
            );
        }
        let mut m = c.models[0].clone();
        m.prompt_cache = Some(false);
        assert!(!prompt_cache(&m));
        m.provider = Provider::Openai;
        m.prompt_cache = None;
        assert!(!prompt_cache(&m));
    }

    #[test]
    fn an_unpriced_agent_model_is_never_silently_uncapped() {
        let e = load(&format!("{UNPRICED}[agent]\nprofile = \"reference\"\n")).unwrap_err();
        assert!(
            e.contains("gemini-3.1-pro-preview") && e.contains("[models.prices]"),
            "{e}"
        );
        // the fixes named in the message each work
        for fix in [
            "[agent]\nprofile = \"reference\"\nunpriced = \"warn\"\n",
            "[agent]\nprofile = \"reference\"\ncost_limit = 0\n",
            "[models.prices]\ninput = 2.0\noutput = 12.0\n[agent]\nprofile = \"reference\"\n",
        ] {
            load(&format!("{UNPRICED}{fix}")).unwrap();
        }
        // the agentscale profile warns (the warning names the model too)
        let c = load(UNPRICED).unwrap();
        assert_eq!(c.unpriced_policy(), UnpricedPolicy::Warn);
        assert_eq!(unpriced_agents(&c).len(), 1);
        assert!(unpriced_agents(&load(CLAUDE).unwrap()).is_empty());
    }

    #[test]
    fn display_order_defaults_to_counterbalanced_and_shuffle_false_is_fixed() {
        let c = load(CLAUDE).unwrap();
        assert_eq!(c.display_order(), DisplayOrder::Counterbalanced);
        let c = load(&format!("{CLAUDE}[scaling]\nshuffle = false\n")).unwrap();
        assert_eq!(c.display_order(), DisplayOrder::Fixed);
        let c = load(&format!(
            "{CLAUDE}[scaling]\ndisplay_order = \"shuffled\"\n"
        ))
        .unwrap();
        assert_eq!(c.display_order(), DisplayOrder::Shuffled);
    }
}
