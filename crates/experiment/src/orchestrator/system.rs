//! Systems: one agent model under one configuration of the sweep, with everything its
//! pipeline needs built (agents, judge, summarizer, tournament and PDR settings).
//!
//! The main type is [`System`]; [`build_systems`] makes them from a loaded config, and the
//! `to_*` functions map the experiment config onto the agents' and scaling crates' own
//! configuration types.

use std::sync::Arc;

use agentscale_agents::{
    Agent, AgentConfig, AgentKind as AKind, AgentProfile as AProfile, ShellMode as AShell,
    TemplatePaths,
};
use agentscale_core::Benchmark;
use agentscale_core::model::Model;
use agentscale_scaling::rtv::{
    DisplayOrder as SDisplay, Leftover, Pairing as SPairing, TieBreak as STieBreak,
};
use agentscale_scaling::{
    ContextMode as SContext, LlmJudge, LlmSummarizer, PdrConfig, SelectionMethod, SummarizerConfig,
    TournamentConfig,
};

use super::records::ModelIdentity;
use super::{Backends, RunError};
use crate::config::{
    AgentKind, AgentProfile, AgentSection, Byes, ContextMode, DisplayOrder, ExperimentConfig,
    LoadedConfig, Method, ModelSection, Pairing, ScalingSection, Selector, ShellMode, TieBreak,
};

/// One agent model under one sweep configuration.
pub struct System {
    /// The name used in tables: the model's name, with `@<sweep label>` when the sweep has
    /// several configurations.
    pub name: String,
    /// The agent model's configured name.
    pub model: String,
    /// The sweep point's label (`default` without a sweep).
    pub label: String,
    /// The point's full config.
    pub config: ExperimentConfig,
    /// What identifies the agent model in rollout keys.
    pub model_identity: ModelIdentity,
    /// The agent model.
    pub agent_model: Arc<dyn Model>,
    /// The agent for SWE-bench tasks and its resolved config (JSON, part of rollout keys).
    pub swe_agent: (Arc<dyn Agent>, serde_json::Value),
    /// The agent for Terminal-Bench tasks and its resolved config.
    pub tb_agent: (Arc<dyn Agent>, serde_json::Value),
    /// The tournament settings (select-K and the final RTV).
    pub tournament: TournamentConfig,
    /// The PDR settings.
    pub pdr: PdrConfig,
    /// The final selection method.
    pub final_method: SelectionMethod,
    /// The judge.
    pub judge: Arc<LlmJudge>,
    /// The summarizer.
    pub summarizer: Arc<LlmSummarizer>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("name", &self.name)
            .field("model", &self.model)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl System {
    /// The agent (and its resolved config) for a benchmark.
    pub fn agent(&self, b: Benchmark) -> &(Arc<dyn Agent>, serde_json::Value) {
        match b {
            Benchmark::SweBench => &self.swe_agent,
            Benchmark::TerminalBench => &self.tb_agent,
        }
    }
}

/// The agents crate's config for one benchmark.
pub fn to_agent_config(
    a: &AgentSection,
    model: Option<&ModelSection>,
    b: Benchmark,
) -> AgentConfig {
    let kind = match (a.kind, b) {
        (AgentKind::Auto, Benchmark::SweBench) | (AgentKind::Bash, _) => AKind::Bash,
        (AgentKind::Auto, Benchmark::TerminalBench) | (AgentKind::Tmux, _) => AKind::Tmux,
        (AgentKind::BashTools, _) => AKind::BashTools,
        (AgentKind::Oracle, _) => AKind::Oracle,
    };
    let mut c = AgentConfig::new(kind);
    c.step_limit = a.step_limit;
    c.cost_limit = a.cost_limit;
    c.wall_time_limit_sec = a.time_limit_sec.map(|s| s as f64);
    c.command_timeout_sec = a.command_timeout_sec.map(|s| s as f64);
    c.observation_max_chars = a.observation_limit;
    c.max_format_errors = a.max_format_errors;
    c.temperature = a.temperature.or(model.and_then(|m| m.temperature));
    c.max_tokens = a.max_tokens.or(model.and_then(|m| m.max_tokens));
    if matches!(kind, AKind::Bash | AKind::BashTools) {
        c.profile = a.profile.map(|p| match p {
            AgentProfile::Agentscale => AProfile::Agentscale,
            AgentProfile::Reference => AProfile::Reference,
        });
        c.shell = a.shell.map(|s| match s {
            ShellMode::Plain => AShell::Plain,
            ShellMode::Login => AShell::Login,
            ShellMode::BashEnv => AShell::BashEnv,
        });
        c.fallback_git_diff = a.fallback_git_diff;
        c.action_fence.clone_from(&a.action_fence);
    }
    let t = &a.templates;
    c.templates = TemplatePaths {
        system: t.system.clone(),
        instance: t.instance.clone(),
        format_error: t.format_error.clone(),
        timeout: t.timeout.clone(),
        observation: t.observation.clone(),
        refinement_context: t.refinement.clone(),
    };
    c
}

/// The scaling crate's tournament config of an experiment.
pub fn to_tournament_of(c: &ExperimentConfig) -> TournamentConfig {
    TournamentConfig {
        display_order: match c.display_order() {
            DisplayOrder::Counterbalanced => SDisplay::Counterbalanced,
            DisplayOrder::Shuffled => SDisplay::Shuffled,
            DisplayOrder::Fixed => SDisplay::Fixed,
        },
        ..to_tournament(&c.scaling)
    }
}

/// The scaling crate's tournament config (the display order from `shuffle` alone; see
/// [`to_tournament_of`]).
pub fn to_tournament(s: &ScalingSection) -> TournamentConfig {
    TournamentConfig {
        group_size: s.group_size as usize,
        votes: s.votes,
        survivors: 1,
        tie_break: match s.tie_break {
            TieBreak::ExtraVoteThenCoin => STieBreak::ExtraVoteThenCoin,
            TieBreak::Coin => STieBreak::Coin,
        },
        pairing: match s.pairing {
            Pairing::Random => SPairing::SeededRandom,
            Pairing::Sequential => SPairing::InOrder,
        },
        display_order: if s.shuffle {
            SDisplay::Counterbalanced
        } else {
            SDisplay::Fixed
        },
        leftover: match s.byes {
            Byes::Bye => Leftover::Bye,
            Byes::SmallGroup => Leftover::SmallGroup,
        },
        judge_temperature: s.judge_temperature,
        judge_max_tokens: s.judge_max_tokens,
        judge_sees_patch: s.judge_sees_patch.unwrap_or(false),
        invalid_vote_reasks: s.invalid_vote_reasks,
        exact: !(s.early_stop || s.collapse_identical),
        early_stop: Some(s.early_stop),
        collapse_identical_patches: Some(s.collapse_identical),
        ..TournamentConfig::default()
    }
}

/// The scaling crate's PDR config.
pub fn to_pdr(s: &ScalingSection) -> PdrConfig {
    PdrConfig {
        mode: match s.context {
            ContextMode::Single => SContext::Single,
            ContextMode::RandomK => SContext::RandomK,
            ContextMode::SelectK => SContext::SelectK,
        },
        k: s.k as usize,
        play_to_one: s.diagnostics_to_one,
    }
}

/// The final selection method.
pub fn to_method(s: Selector) -> SelectionMethod {
    match s {
        Selector::Rtv => SelectionMethod::Rtv,
        Selector::Random => SelectionMethod::Random,
        Selector::First => SelectionMethod::First,
        Selector::Majority => SelectionMethod::Majority,
        Selector::Listwise => SelectionMethod::Listwise,
    }
}

/// The summarizer's settings.
pub fn to_summarizer(s: &ScalingSection) -> SummarizerConfig {
    SummarizerConfig {
        max_retries: s.summary_retries,
        temperature: s.summarizer_temperature,
        max_tokens: s.summarizer_max_tokens,
        ..SummarizerConfig::default()
    }
}

/// Votes a system's pipeline is expected to make per task (ties excluded).
pub fn planned_votes(system: &System) -> u64 {
    let sc = &system.config.scaling;
    let n = sc.n as usize;
    let group = sc.group_size as usize;
    let iterations = sc.effective_iterations();
    let leftover = system.tournament.leftover;
    let calls = |from: usize, to: usize| {
        agentscale_scaling::rtv::planned_calls(from, group, to, leftover, sc.votes).1
    };
    let mut votes = 0;
    if iterations > 1 && sc.context == ContextMode::SelectK {
        let k = sc.effective_k() as usize;
        let diag = if sc.diagnostics_to_one {
            calls(k, 1)
        } else {
            0
        };
        votes += (calls(n, k) + diag) * u64::from(iterations - 1);
    }
    votes += match sc.selector {
        Selector::Rtv => calls(n, 1),
        Selector::Listwise => u64::from(sc.votes),
        _ => 0,
    };
    votes
}

/// Build every system of a loaded config.
pub fn build_systems(cfg: &LoadedConfig, backends: &Backends) -> Result<Vec<System>, RunError> {
    let mut out = Vec::new();
    let several_points = cfg.points.len() > 1;
    for point in &cfg.points {
        let c = &point.config;
        let tournament = to_tournament_of(c);
        tournament
            .validate("scaling")
            .map_err(|e| RunError::Config(e.to_string()))?;
        let pdr = to_pdr(&c.scaling);
        pdr.validate("scaling")
            .map_err(|e| RunError::Config(e.to_string()))?;
        let summ = to_summarizer(&c.scaling);
        summ.validate("scaling")
            .map_err(|e| RunError::Config(e.to_string()))?;
        let agent_models: Vec<&ModelSection> = c.models.iter().filter(|m| m.agent).collect();
        let oracle_only = agent_models.is_empty() && c.agent.kind == AgentKind::Oracle;
        let entries: Vec<Option<&ModelSection>> = if oracle_only {
            vec![None]
        } else {
            agent_models.into_iter().map(Some).collect()
        };
        for m in entries {
            let model_name = m.map_or_else(|| "oracle".to_string(), |m| m.name.clone());
            let get = |name: &str| -> Result<Arc<dyn Model>, RunError> {
                backends.models.get(name).cloned().ok_or_else(|| {
                    RunError::Config(format!("model {name:?} was not built (internal error)"))
                })
            };
            let agent_model: Arc<dyn Model> = match m {
                Some(m) => get(&m.name)?,
                None => Arc::new(agentscale_core::model::ScriptedModel::from_replies(
                    "oracle",
                    Vec::<String>::new(),
                )),
            };
            let summarizer_model = match &c.scaling.summarizer_model {
                Some(n) => get(n)?,
                None => agent_model.clone(),
            };
            let judge_model = match &c.scaling.judge_model {
                Some(n) => get(n)?,
                None => agent_model.clone(),
            };
            let build_agent =
                |b: Benchmark| -> Result<(Arc<dyn Agent>, serde_json::Value), RunError> {
                    let ac = to_agent_config(&c.agent, m, b);
                    let agent = ac
                        .build(None)
                        .map_err(|e| RunError::Config(format!("[agent] ({b}): {e}")))?;
                    let json = serde_json::to_value(ac.resolved()).unwrap_or_default();
                    Ok((Arc::from(agent), json))
                };
            let name = if several_points {
                format!("{model_name}@{}", point.label)
            } else {
                model_name.clone()
            };
            let identity = m.map_or_else(
                || ModelIdentity {
                    name: "oracle".into(),
                    provider: crate::config::Provider::Scripted,
                    model: "oracle".into(),
                    temperature: None,
                    top_p: None,
                    max_tokens: None,
                    script: None,
                    send_seed: false,
                },
                ModelIdentity::from,
            );
            out.push(System {
                name,
                model: model_name,
                label: point.label.clone(),
                config: c.clone(),
                model_identity: identity,
                agent_model,
                swe_agent: build_agent(Benchmark::SweBench)?,
                tb_agent: build_agent(Benchmark::TerminalBench)?,
                tournament: tournament.clone(),
                pdr: pdr.clone(),
                final_method: to_method(c.scaling.selector),
                judge: Arc::new(LlmJudge::new(judge_model, backends.prompts.clone())),
                summarizer: Arc::new(LlmSummarizer::new(
                    summarizer_model,
                    backends.prompts.clone(),
                    summ.clone(),
                )),
            });
        }
    }
    Ok(out)
}

/// The agents' resolved configs by benchmark, as JSON text (for `run.toml`'s header).
pub fn resolved_agents(cfg: &ExperimentConfig) -> Vec<(String, String)> {
    let m = cfg.models.iter().find(|m| m.agent);
    [Benchmark::SweBench, Benchmark::TerminalBench]
        .into_iter()
        .map(|b| {
            let c = to_agent_config(&cfg.agent, m, b).resolved();
            (b.to_string(), serde_json::to_string(&c).unwrap_or_default())
        })
        .collect()
}

/// True when the method makes summaries and selections.
pub fn selects(s: &ScalingSection) -> bool {
    s.method != Method::None
}
