//! Semantic checks of a typed config: what the schema cannot say (names that must refer to
//! models, API key variables that must be set, files that must exist, K ≤ N, ...).

use std::collections::BTreeSet;

use super::doc::{KeyPath, Origins};
use super::load::{Issue, LoadOptions};
use super::types::{AgentKind, ContextMode, ExperimentConfig, Method, OneOrMany, Provider};

/// The built-in scripts of `provider = "scripted"` models.
pub const SCRIPTS: &[&str] = &["demo"];

/// Check `cfg`; problems are returned, warnings pushed to `warnings`.
pub fn check(
    cfg: &ExperimentConfig,
    origins: &Origins,
    opts: &LoadOptions,
    warnings: &mut Vec<Issue>,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    let root = KeyPath::root();
    let mut at = |path: KeyPath, message: String| {
        issues.push(Issue {
            origin: origins.value(&path),
            path: Some(path),
            message,
        });
    };

    // [experiment]
    let name = &cfg.experiment.name;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        || name.starts_with('.')
    {
        at(
            root.key("experiment").key("name"),
            format!(
                "experiment.name {name:?} must be letters, digits, '.', '_' or '-' (it names a \
                 folder) and must not start with '.'"
            ),
        );
    }

    // [dataset]
    let ds = root.key("dataset");
    if cfg.dataset.name.is_none() && cfg.dataset.path.is_none() {
        at(
            ds.clone(),
            "[dataset] needs `name` (a registry name, see `agentscale dataset list`) or `path` \
             (a dataset file or folder)"
                .into(),
        );
    }
    if opts.check_files
        && let Some(paths) = &cfg.dataset.path
    {
        let list = paths.to_vec();
        for (i, p) in list.iter().enumerate() {
            if !p.exists() {
                let path = match paths {
                    OneOrMany::One(_) => ds.key("path"),
                    OneOrMany::Many(_) => ds.key("path").index(i),
                };
                at(
                    path,
                    format!(
                        "dataset path {} does not exist (relative paths in a config file are \
                         relative to the file's folder)",
                        p.display()
                    ),
                );
            }
        }
    }
    if let Some(s) = &cfg.dataset.slice
        && parse_slice(s).is_none()
    {
        at(
            ds.key("slice"),
            format!(
                "dataset.slice {s:?} must look like \"start:end\" (e.g. \"0:10\", \":5\", \"3:\")"
            ),
        );
    }
    for (i, r) in cfg.dataset.regex.iter().enumerate() {
        if let Err(e) = regex::Regex::new(r) {
            at(
                ds.key("regex").index(i),
                format!("dataset.regex[{i}] is not a valid regular expression: {e}"),
            );
        }
    }

    // [[models]]
    let models = root.key("models");
    let mut names = BTreeSet::new();
    for (i, m) in cfg.models.iter().enumerate() {
        let mp = models.index(i);
        if m.name.trim().is_empty() {
            at(
                mp.key("name"),
                format!("models[{i}].name must not be empty"),
            );
        } else if !names.insert(m.name.as_str()) {
            at(
                mp.key("name"),
                format!(
                    "models[{i}]: the name {:?} is used by another model; names must be unique",
                    m.name
                ),
            );
        }
        if m.provider == Provider::Scripted
            && let Some(var) = &m.api_key_env
        {
            at(
                mp.key("api_key_env"),
                format!(
                    "models[{i}].api_key_env = {var:?} only applies to provider = \"openai\" or \
                     \"anthropic\"; a scripted model reads no key{} (remove it)",
                    if (opts.env_has)(var) {
                        ""
                    } else {
                        ", and the variable is not set anyway"
                    }
                ),
            );
        }
        match m.provider {
            Provider::Openai | Provider::Anthropic => {
                if let Some(var) = m.key_env()
                    && !(opts.env_has)(&var)
                {
                    let key_path = if m.api_key_env.is_some() {
                        mp.key("api_key_env")
                    } else {
                        mp.clone()
                    };
                    at(
                        key_path,
                        format!(
                            "models[{i}] ({}): the API key variable {var} is not set; export it \
                             (keys are read from the environment only) or name another variable \
                             with models[{i}].api_key_env",
                            m.name
                        ),
                    );
                }
                if let Some(u) = &m.base_url
                    && !(u.starts_with("http://") || u.starts_with("https://"))
                {
                    at(
                        mp.key("base_url"),
                        format!("models[{i}].base_url {u:?} must start with http:// or https://"),
                    );
                }
                if m.script.is_some() {
                    at(
                        mp.key("script"),
                        format!("models[{i}].script only applies to provider = \"scripted\""),
                    );
                }
            }
            Provider::Scripted => match &m.script {
                None => at(
                    mp.clone(),
                    format!(
                        "models[{i}] ({}): provider = \"scripted\" needs `script`, one of: {}",
                        m.name,
                        SCRIPTS.join(", ")
                    ),
                ),
                Some(s) if !SCRIPTS.contains(&s.as_str()) => at(
                    mp.key("script"),
                    format!(
                        "models[{i}].script {s:?} is not a built-in script; known: {}",
                        SCRIPTS.join(", ")
                    ),
                ),
                Some(_) => {}
            },
        }
    }
    let agents = cfg.models.iter().filter(|m| m.agent).count();
    if agents == 0 && cfg.agent.kind != AgentKind::Oracle {
        at(
            models.clone(),
            "no agent model: add a [[models]] entry (with agent = true, the default), or use \
             agent.kind = \"oracle\""
                .into(),
        );
    }

    // [scaling]
    let sc = root.key("scaling");
    let s = &cfg.scaling;
    for (key, value) in [
        ("summarizer_model", &s.summarizer_model),
        ("judge_model", &s.judge_model),
    ] {
        if let Some(v) = value
            && !names.contains(v.as_str())
        {
            at(
                sc.key(key),
                format!(
                    "scaling.{key} {v:?} is not the name of a [[models]] entry (known: {})",
                    names.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    if s.method == Method::Rtv
        && s.iterations != 1
        && origins.exact(&sc.key("iterations")).is_some()
    {
        at(
            sc.key("iterations"),
            format!(
                "scaling.iterations = {} conflicts with method = \"rtv\" (standalone selection runs \
                 one iteration); use method = \"pdr\" for several",
                s.iterations
            ),
        );
    }
    if s.method == Method::Pdr && s.iterations > 1 && s.context != ContextMode::Single && s.k > s.n
    {
        at(
            sc.key("k"),
            format!("scaling.k = {} must not exceed scaling.n = {}", s.k, s.n),
        );
    }
    if s.method != Method::None && s.votes > 1 && s.judge_temperature == 0.0 {
        warnings.push(Issue {
            origin: origins.value(&sc.key("judge_temperature")),
            path: Some(sc.key("judge_temperature")),
            message: "scaling.judge_temperature = 0 with several votes: the votes are not \
                      independent samples (the paper's knob; > 0 is recommended)"
                .into(),
        });
    }

    // [agent]
    if opts.check_files {
        let t = &cfg.agent.templates;
        let tp = root.key("agent").key("templates");
        for (name, p) in [
            ("system", &t.system),
            ("instance", &t.instance),
            ("format_error", &t.format_error),
            ("timeout", &t.timeout),
            ("observation", &t.observation),
            ("refinement", &t.refinement),
        ] {
            if let Some(p) = p
                && !p.is_file()
            {
                at(
                    tp.key(name),
                    format!("agent.templates.{name}: no such file {}", p.display()),
                );
            }
        }
    }
    for (i, message) in super::reference::unpriced_agents(cfg) {
        let path = root.key("models").index(i);
        let issue = Issue {
            origin: origins.value(&path),
            path: Some(path),
            message,
        };
        match cfg.unpriced_policy() {
            super::reference::UnpricedPolicy::Error => issues.push(issue),
            super::reference::UnpricedPolicy::Warn => warnings.push(issue),
        }
    }
    if cfg.sandbox.backend == super::types::SandboxBackend::Fake {
        warnings.push(Issue {
            origin: origins.value(&root.key("sandbox").key("backend")),
            path: Some(root.key("sandbox").key("backend")),
            message: "sandbox.backend = \"fake\": commands are not really run and grades are \
                      synthetic (for tests and orchestrator benchmarks only)"
                .into(),
        });
    }
    issues
}

/// Parse a Python-style slice `start:end`.
pub fn parse_slice(s: &str) -> Option<(Option<i64>, Option<i64>)> {
    let (a, b) = s.split_once(':')?;
    let side = |x: &str| -> Option<Option<i64>> {
        let x = x.trim();
        if x.is_empty() {
            Some(None)
        } else {
            x.parse().ok().map(Some)
        }
    };
    Some((side(a)?, side(b)?))
}
