//! Preparing a run: config (or an existing run directory) → tasks → runtime objects → the
//! run store → an [`Orchestrator`] ready to run. Everything that can fail because of the
//! user's input fails here, before any work starts: config errors, unknown or missing
//! datasets, an unreachable Docker engine.
//!
//! The main entry point is [`prepare`]; [`Prepared::run`] runs it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agentscale_core::Task;
use agentscale_datasets::{Registry, Selection, default_data_dir};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::{
    self, ConfigError, ExperimentConfig, Issue, LoadOptions, LoadedConfig, OneOrMany,
};
use crate::orchestrator::{Orchestrator, Progress, ProgressEvent, RunError, RunSummary};
use crate::store::{RunStore, StoreError};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// A config file, or an existing run directory (which resumes with its own `run.toml`).
    pub target: PathBuf,
    /// Profiles to apply (config files only).
    pub profiles: Vec<String>,
    /// `--set` overrides (config files only).
    pub overrides: Vec<String>,
    /// Use this run id instead of the config's hash (to continue a run under a changed
    /// config, reusing its stored work).
    pub run_id: Option<String>,
    /// A config given as text instead of a file (`agentscale demo`), named by `target`.
    pub config_text: Option<String>,
    /// Run only the first this many of the selected tasks (a pilot of `--dry-run --pilot K`;
    /// the run directory is the full run's, so the full run reuses the pilot's work).
    pub first_tasks: Option<usize>,
}

/// Why a run could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The config has problems.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The command line is not usable as given.
    #[error("{0}")]
    Usage(String),
    /// The dataset cannot be found or read.
    #[error("{0}")]
    Dataset(String),
    /// The infrastructure is not reachable (Docker engine, ...).
    #[error("{0}")]
    Infra(String),
    /// The run directory cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run cannot be built from the config.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// A run ready to start.
#[derive(Debug)]
pub struct Prepared {
    /// The orchestrator.
    pub orchestrator: Orchestrator,
    /// The run id.
    pub run_id: String,
    /// The run directory.
    pub run_dir: PathBuf,
    /// True when the run directory already held work.
    pub resumed: bool,
    /// Config warnings.
    pub warnings: Vec<Issue>,
}

impl Prepared {
    /// Run (or resume) it to the end and write the tables.
    pub async fn run(&self) -> Result<RunSummary, RunError> {
        self.orchestrator.run().await
    }
}

/// `run.json`: what a run directory is.
#[derive(Debug, Serialize)]
struct RunJson<'a> {
    format: &'a str,
    run_id: &'a str,
    experiment: &'a str,
    agentscale: &'a str,
    systems: Vec<String>,
}

/// Load the config of a request.
pub fn load_config(req: &RunRequest) -> Result<(LoadedConfig, PathBuf, String), PrepareError> {
    load_config_with(req, LoadOptions::default())
}

/// Load the config of a request for a dry run: API keys need not be set (nothing calls a
/// model).
pub fn load_config_without_keys(
    req: &RunRequest,
) -> Result<(LoadedConfig, PathBuf, String), PrepareError> {
    load_config_with(
        req,
        LoadOptions {
            env_has: Arc::new(|_| true),
            ..LoadOptions::default()
        },
    )
}

fn load_config_with(
    req: &RunRequest,
    base: LoadOptions,
) -> Result<(LoadedConfig, PathBuf, String), PrepareError> {
    let t = &req.target;
    if req.config_text.is_none() && t.is_dir() {
        let run_toml = t.join("run.toml");
        if !run_toml.is_file() {
            return Err(PrepareError::Usage(format!(
                "{} is a folder without run.toml: give a config file (TOML) or a run directory \
                 to resume",
                t.display()
            )));
        }
        if !req.overrides.is_empty() || !req.profiles.is_empty() {
            return Err(PrepareError::Usage(format!(
                "{} is a run directory: it resumes with its own run.toml, so --set and \
                 --profile do not apply (run the config file with them instead)",
                t.display()
            )));
        }
        let cfg = config::load(&run_toml, &base)?;
        let run_id = t
            .file_name()
            .map_or_else(|| cfg.run_id(), |n| n.to_string_lossy().into_owned());
        return Ok((cfg, t.clone(), run_id));
    }
    let opts = LoadOptions {
        profiles: req.profiles.clone(),
        overrides: req.overrides.clone(),
        ..base
    };
    let cfg = match &req.config_text {
        Some(text) => config::load_str(t, text, &opts)?,
        None => config::load(t, &opts)?,
    };
    let run_id = req.run_id.clone().unwrap_or_else(|| cfg.run_id());
    if run_id.is_empty()
        || run_id.starts_with('.')
        || !run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(PrepareError::Usage(format!(
            "--run-id {run_id:?} must be letters, digits, '.', '_' or '-' (it names a folder)"
        )));
    }
    let dir = cfg.run_dir(&run_id);
    Ok((cfg, dir, run_id))
}

/// The tasks a config selects (every dataset source, concatenated, then the selection).
pub fn load_tasks(cfg: &ExperimentConfig) -> Result<Vec<Task>, PrepareError> {
    let registry = Registry::load(None).map_err(|e| PrepareError::Dataset(e.to_string()))?;
    let data_dir = default_data_dir();
    let mut paths: Vec<(String, PathBuf)> = Vec::new();
    if let Some(names) = &cfg.dataset.name {
        for n in names.to_vec() {
            let r = registry
                .resolve(&n, &data_dir)
                .map_err(|e| PrepareError::Dataset(format!("dataset.name {n:?}: {e}")))?;
            paths.push((format!("dataset.name {n:?}"), r.path));
        }
    }
    if let Some(p) = &cfg.dataset.path {
        let list = match p {
            OneOrMany::One(p) => vec![p.clone()],
            OneOrMany::Many(v) => v.clone(),
        };
        for p in list {
            paths.push((format!("dataset.path {}", p.display()), p));
        }
    }
    let opts = agentscale_datasets::LoadOptions {
        split: cfg.dataset.split.clone(),
    };
    let mut tasks: Vec<Task> = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for (what, path) in &paths {
        let ds = agentscale_datasets::load(path, &opts)
            .map_err(|e| PrepareError::Dataset(format!("{what}: {e}")))?;
        for t in ds.tasks {
            let id = t.id().to_string();
            if let Some(prev) = seen.insert(id.clone(), what.clone()) {
                return Err(PrepareError::Dataset(format!(
                    "task {id} is in both {prev} and {what}; task ids must be unique in a run"
                )));
            }
            tasks.push(t);
        }
    }
    let d = &cfg.dataset;
    let selection = Selection {
        ids: d.ids.clone(),
        repos: d.repos.clone(),
        regex: d.regex.clone(),
        difficulty: d.difficulty.clone(),
        exclude: d.exclude.clone(),
        slice: match &d.slice {
            Some(s) => Some(
                s.parse()
                    .map_err(|e: String| PrepareError::Dataset(format!("dataset.slice: {e}")))?,
            ),
            None => None,
        },
        sample: d.sample,
        seed: Some(cfg.experiment.seed),
    };
    let keep = selection
        .apply(&tasks)
        .map_err(|e| PrepareError::Dataset(format!("[dataset] selection: {e}")))?;
    let selected: Vec<Task> = keep
        .into_iter()
        .filter_map(|i| tasks.get(i).cloned())
        .collect();
    if selected.is_empty() {
        return Err(PrepareError::Dataset(
            "the [dataset] selection keeps no task; loosen the filters, slice or sample".into(),
        ));
    }
    Ok(selected)
}

/// Prepare a run: everything that can fail on bad input fails here, before any work.
pub async fn prepare(
    req: &RunRequest,
    events: Option<UnboundedSender<ProgressEvent>>,
) -> Result<Prepared, PrepareError> {
    let (mut cfg, run_dir, run_id) = load_config(req)?;
    let mut tasks = load_tasks(&cfg.base)?;
    if let Some(k) = req.first_tasks {
        tasks.truncate(k.max(1));
    }
    if cfg.base.sandbox.backend == crate::config::SandboxBackend::Docker
        && cfg.base.swe_images.repos.is_some()
    {
        prepare_swe_images(&cfg.base, &run_id, &mut tasks).await?;
    }
    if cfg.base.sandbox.backend == crate::config::SandboxBackend::Docker {
        let cannot: Vec<String> = tasks
            .iter()
            .filter(|t| t.image_source().is_none())
            .map(|t| t.id().to_string())
            .collect();
        if !cannot.is_empty() {
            let shown: Vec<&str> = cannot.iter().take(10).map(String::as_str).collect();
            return Err(PrepareError::Dataset(format!(
                "{} task(s) have neither environment/Dockerfile nor a docker_image and cannot be \
                 run: {}{} (a Terminal-Bench checkout with its task folders complete is needed; \
                 `agentscale dataset validate` lists what each task lacks)",
                cannot.len(),
                shown.join(", "),
                if cannot.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            )));
        }
    }
    let ledger = Arc::new(agentscale_models::Ledger::new());
    let backends = crate::backends::build(&cfg.base, &run_id, &tasks, &run_dir, ledger)
        .await
        .map_err(|e| match e {
            crate::backends::BackendError::Sandbox(m) => PrepareError::Infra(m),
            crate::backends::BackendError::Model(m) => PrepareError::Usage(m),
        })?;
    let store = RunStore::open(&run_dir)?;
    let resumed = store.resume_info().events > 0;
    cfg.agents = crate::orchestrator::system::resolved_agents(&cfg.base);
    let warnings = cfg.warnings.clone();
    write_run_files(&cfg, &run_dir, &run_id)?;
    let progress = Arc::new(Progress::new(events));
    for w in &warnings {
        progress.warn(w.to_string());
    }
    let orchestrator = Orchestrator::new(
        cfg,
        run_id.clone(),
        Arc::new(store),
        tasks,
        backends,
        progress,
    )?;
    Ok(Prepared {
        orchestrator,
        run_id,
        run_dir,
        resumed,
        warnings,
    })
}

/// With `[swe_images] repos` set, the image of every SWE-bench task (official, or built offline
/// from the mirrors) is made before any work, and the task is pointed at it; a task without
/// one stops the run here, with the reason.
async fn prepare_swe_images(
    cfg: &crate::config::ExperimentConfig,
    run_id: &str,
    tasks: &mut [Task],
) -> Result<(), PrepareError> {
    let need: Vec<agentscale_core::SweInstance> = tasks
        .iter()
        .filter_map(|t| match t {
            Task::SweBench(i)
                if !i
                    .extra
                    .contains_key(agentscale_core::task::IMAGE_CONTEXT_COLUMN) =>
            {
                Some(i.clone())
            }
            _ => None,
        })
        .collect();
    if need.is_empty() {
        return Ok(());
    }
    let provider = crate::backends::docker_config(cfg)
        .build_for_run(run_id)
        .map_err(|e| PrepareError::Infra(e.to_string()))?;
    let provider = Arc::new(provider);
    let specs = agentscale_grader::spec::SpecTable::builtin()
        .map_err(|e| PrepareError::Usage(e.to_string()))?;
    let rows =
        crate::swe_images::prepare_swe_images(&provider, specs, &need, &cfg.swe_images, |r| {
            tracing::info!(
                instance = %r.instance_id,
                image = r.image.as_deref().unwrap_or("-"),
                origin = ?r.origin,
                "SWE-bench image"
            );
        })
        .await
        .map_err(|e| PrepareError::Infra(e.to_string()))?;
    let mut failed = Vec::new();
    for r in rows {
        match r.image {
            Some(image) => {
                for t in tasks.iter_mut() {
                    if let Task::SweBench(i) = t
                        && i.instance_id == r.instance_id
                    {
                        i.extra.insert(
                            "image_name".into(),
                            serde_json::Value::String(image.clone()),
                        );
                    }
                }
            }
            None => failed.push(format!(
                "{}: {}",
                r.instance_id,
                r.error.unwrap_or_else(|| "no image".into())
            )),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(PrepareError::Infra(format!(
            "{} SWE-bench instance(s) have no image:\n{}",
            failed.len(),
            failed.join("\n")
        )))
    }
}

fn write_run_files(cfg: &LoadedConfig, run_dir: &Path, run_id: &str) -> Result<(), PrepareError> {
    let toml = cfg
        .run_toml(run_id)
        .map_err(|e| PrepareError::Usage(format!("cannot write run.toml: {e}")))?;
    let p = run_dir.join("run.toml");
    agentscale_core::fsutil::atomic_write(&p, toml.as_bytes())
        .map_err(|e| StoreError::io(&p, e))?;
    let systems = cfg
        .points
        .iter()
        .flat_map(|pt| {
            pt.config.models.iter().filter(|m| m.agent).map(move |m| {
                if cfg.points.len() > 1 {
                    format!("{}@{}", m.name, pt.label)
                } else {
                    m.name.clone()
                }
            })
        })
        .collect();
    let j = RunJson {
        format: crate::store::STORE_FORMAT,
        run_id,
        experiment: &cfg.base.experiment.name,
        agentscale: env!("CARGO_PKG_VERSION"),
        systems,
    };
    let p = run_dir.join("run.json");
    agentscale_core::fsutil::write_json_atomic(&p, &j).map_err(|e| StoreError::io(&p, e))?;
    Ok(())
}
