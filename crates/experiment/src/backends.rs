//! Building a run's runtime objects from its config: the sandbox provider (a Docker pool, or
//! the in-process fake), the model stacks (with the run's reply cache and accounting), and the
//! grader. The main entry point is [`build`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agentscale_core::grade::{Grade, GradeStatus};
use agentscale_core::model::Model;
use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_core::sandbox::{Command, ExecOutput, ExecRequest, Sandbox, SandboxProvider};
use agentscale_core::submission::Submission;
use agentscale_core::{Benchmark, Task};
use agentscale_models::{
    Accounted, CacheConfig, Cached, Ledger, LimiterRegistry, Limits, ModelConfig, PriceTable,
    Provider as MProvider, ResponseCache, Shared, StackOptions,
};
use async_trait::async_trait;

use crate::config::{ExperimentConfig, GradingMode, ModelSection, Provider, SandboxBackend};
use crate::orchestrator::grading::Graded;
use crate::orchestrator::{Backends, GradeBackend, MarkerGrader};

/// Why the runtime objects could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// A model cannot be built (a bad header, URL, ...).
    #[error("{0}")]
    Model(String),
    /// The sandbox configuration cannot be built.
    #[error("{0}")]
    Sandbox(String),
}

/// The Docker backend's configuration for an experiment config.
pub fn docker_config(cfg: &ExperimentConfig) -> agentscale_sandbox::DockerConfig {
    let s = &cfg.sandbox;
    agentscale_sandbox::DockerConfig {
        hosts: s
            .hosts
            .iter()
            .map(|h| agentscale_sandbox::HostConfig {
                name: h.name.clone(),
                endpoint: h.endpoint.clone(),
                concurrency: h.concurrency.map(|c| c as usize),
                tls: h.tls.as_ref().map(|t| agentscale_sandbox::TlsFiles {
                    ca: t.ca.clone(),
                    cert: t.cert.clone(),
                    key: t.key.clone(),
                }),
                ssh_key: h.ssh_key.clone(),
            })
            .collect(),
        concurrency: s.concurrency as usize,
        output_cap: s.output_cap_bytes,
        ..agentscale_sandbox::DockerConfig::default()
    }
}

/// The sandbox provider of a run. For Docker, the engine is reached (and containers left by
/// dead runs are swept) before anything else happens, so an unreachable engine is a clear
/// error before any work.
pub async fn provider(
    cfg: &ExperimentConfig,
    run_id: &str,
) -> Result<Arc<dyn SandboxProvider>, BackendError> {
    match cfg.sandbox.backend {
        SandboxBackend::Fake => Ok(Arc::new(FakeProvider::new(fake_shell))),
        SandboxBackend::Docker => {
            let dc = docker_config(cfg);
            dc.validate().map_err(BackendError::Sandbox)?;
            let p = dc
                .build_for_run(run_id)
                .map_err(|e| BackendError::Sandbox(e.to_string()))?;
            let swept = p.sweep().await.map_err(|e| {
                BackendError::Sandbox(format!(
                    "{e}. agentscale needs a running Docker engine: start dockerd (or set \
                     DOCKER_HOST / [[sandbox.hosts]]), check it with `agentscale doctor`, or \
                     use sandbox.backend = \"fake\" for a dry run"
                ))
            })?;
            if swept > 0 {
                tracing::info!("removed {swept} containers left by runs that died");
            }
            Ok(Arc::new(p))
        }
    }
}

/// The fake backend's commands: `echo` prints its arguments (segments joined by `&&`, `;` or
/// newlines each run in turn); everything else succeeds silently.
pub fn fake_shell(req: &ExecRequest) -> ExecOutput {
    let mut out = String::new();
    let line = match &req.command {
        Command::Shell(line) => Some(line),
        // the bash agent's login shell (`bash -lc LINE`)
        Command::Argv(v) if v.len() == 3 && v[0] == "bash" && v[1] == "-lc" => Some(&v[2]),
        Command::Argv(_) => None,
    };
    if let Some(line) = line {
        for seg in line.split(['\n', ';']).flat_map(|s| s.split("&&")) {
            let seg = seg.trim();
            if let Some(rest) = seg.strip_prefix("echo ") {
                let rest = rest.trim();
                let unquoted = rest
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .or_else(|| rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
                    .unwrap_or(rest);
                out.push_str(unquoted);
                out.push('\n');
            }
        }
    }
    ExecOutput {
        stdout: out,
        exit_code: Some(0),
        ..ExecOutput::default()
    }
}

fn model_config(m: &ModelSection, cache_dir: &Path) -> Result<ModelConfig, BackendError> {
    let provider = match m.provider {
        Provider::Openai => MProvider::Openai,
        Provider::Anthropic => MProvider::Anthropic,
        Provider::Scripted => {
            return Err(BackendError::Model(format!(
                "model {}: scripted models have no HTTP configuration",
                m.name
            )));
        }
    };
    let mut c = ModelConfig::new(&m.name, provider);
    c.model.clone_from(&m.model);
    c.base_url.clone_from(&m.base_url);
    c.api_key_env.clone_from(&m.api_key_env);
    c.extra_headers.clone_from(&m.extra_headers);
    c.timeout_sec = m.timeout_sec as f64;
    c.prices = m.prices;
    c.limits = Limits {
        requests_per_minute: m.limits.requests_per_minute,
        tokens_per_minute: m.limits.tokens_per_minute,
        max_concurrent: Some(m.limits.max_concurrent),
    };
    c.retry = m.retry;
    c.max_tokens_param = m.max_tokens_param;
    c.prompt_cache = crate::config::reference::prompt_cache(m);
    c.cache = CacheConfig {
        enabled: true,
        dir: Some(cache_dir.to_path_buf()),
    };
    c.check().map_err(|e| BackendError::Model(e.to_string()))?;
    Ok(c)
}

/// The models of a run by configured name: HTTP stacks (retry, limits, prices, the run's
/// reply cache in `calls/`, accounting into `ledger`), or the built-in scripted models.
pub fn models(
    cfg: &ExperimentConfig,
    tasks: &[Task],
    cache_dir: &Path,
    ledger: &Arc<Ledger>,
) -> Result<BTreeMap<String, Arc<dyn Model>>, BackendError> {
    let opts = StackOptions {
        ledger: Some(ledger.clone()),
        prices: PriceTable::embedded(),
        limiters: Arc::new(LimiterRegistry::new()),
        seed: cfg.experiment.seed,
    };
    let cache = Arc::new(ResponseCache::new(cache_dir));
    let mut out = BTreeMap::new();
    for m in &cfg.models {
        let model: Arc<dyn Model> = match m.provider {
            Provider::Scripted => {
                let script = m.script.as_deref().unwrap_or_default();
                let inner =
                    crate::demo::scripted_model(script, &m.name, cfg.experiment.seed, tasks)
                        .ok_or_else(|| {
                            BackendError::Model(format!(
                                "model {}: unknown script {script:?}",
                                m.name
                            ))
                        })?;
                let endpoint = format!("scripted:{script}");
                Arc::new(Accounted::new(
                    Cached::new(Shared(inner), Some(cache.clone()), endpoint.clone()),
                    ledger.clone(),
                    endpoint,
                ))
            }
            Provider::Openai | Provider::Anthropic => model_config(m, cache_dir)?
                .build(&opts)
                .map_err(|e| BackendError::Model(e.to_string()))?,
        };
        out.insert(m.name.clone(), model);
    }
    Ok(out)
}

/// The grader of a run: the grader crate in fresh containers (Docker), or [`MarkerGrader`]
/// for the fake backend.
pub fn grader(
    cfg: &ExperimentConfig,
    provider: Arc<dyn SandboxProvider>,
) -> Result<Arc<dyn GradeBackend>, BackendError> {
    Ok(match cfg.sandbox.backend {
        SandboxBackend::Fake => Arc::new(MarkerGrader::default()),
        SandboxBackend::Docker => Arc::new(RealGrader {
            provider,
            specs: agentscale_grader::spec::SpecTable::builtin()
                .map_err(|e| BackendError::Sandbox(e.to_string()))?,
            mode: match cfg.grading.mode {
                GradingMode::V41 => agentscale_grader::GradeMode::V41,
                GradingMode::Strict => agentscale_grader::GradeMode::Strict,
            },
            timeout: cfg.grading.timeout_sec,
            ca_bundle: cfg.terminal_bench.ca_bundle.clone(),
        }),
    })
}

/// Grades with the grader crate: SWE-bench patches with the official eval script in a fresh
/// container of the instance's image, without network; Terminal-Bench tasks by the verifier
/// in the rollout's own container right after the agent ([`GradeBackend::verify_live`]), or,
/// for a rollout without that, in a fresh container from its diagnostic snapshot.
pub struct RealGrader {
    provider: Arc<dyn SandboxProvider>,
    specs: &'static agentscale_grader::spec::SpecTable,
    mode: agentscale_grader::GradeMode,
    timeout: Option<u64>,
    ca_bundle: Option<std::path::PathBuf>,
}

impl RealGrader {
    fn tb_options(&self) -> agentscale_grader::tb::TbVerifyOptions {
        agentscale_grader::tb::TbVerifyOptions {
            timeout: self.timeout.map(Duration::from_secs),
            ca_bundle: self.ca_bundle.clone(),
            ..agentscale_grader::tb::TbVerifyOptions::default()
        }
    }
}

impl std::fmt::Debug for RealGrader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealGrader")
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl GradeBackend for RealGrader {
    fn identity(&self) -> serde_json::Value {
        serde_json::json!({"grader": "agentscale", "mode": self.mode, "timeout_sec": self.timeout})
    }

    async fn grade(
        &self,
        task: &Task,
        submission: &Submission,
        _host: Option<&str>,
    ) -> Result<Graded, String> {
        match task {
            Task::SweBench(i) => {
                let Some(patch) = submission.patch_text() else {
                    return Ok(Graded {
                        grade: Grade::new(
                            task.id(),
                            Benchmark::SweBench,
                            GradeStatus::PatchRejected,
                            Some("the submission is not a patch".into()),
                        ),
                        log: None,
                    });
                };
                let mut opts = agentscale_grader::swe::SweGradeOptions::for_mode(self.mode);
                if let Some(t) = self.timeout {
                    opts.timeout = Duration::from_secs(t);
                }
                opts.labels.insert("agentscale.role".into(), "grade".into());
                let rec = agentscale_grader::swe::grade_swe(
                    self.provider.as_ref(),
                    self.specs,
                    i,
                    patch,
                    &opts,
                )
                .await;
                Ok(Graded {
                    grade: rec.grade,
                    log: rec.test_output,
                })
            }
            Task::TerminalBench(t) => {
                let Submission::ContainerState {
                    snapshot_image: Some(image),
                    snapshot_host,
                    ..
                } = submission
                else {
                    return Err(format!(
                        "task {}: the rollout has no verification from its own container \
                         (made right after the agent, under these grading settings) and no \
                         snapshot of its final state to verify instead; rerun it in a new run \
                         (or with terminal_bench.snapshots = true)",
                        t.name
                    ));
                };
                let opts = agentscale_grader::tb::TbVerifyOptions {
                    host: snapshot_host.clone(),
                    ..self.tb_options()
                };
                let v = agentscale_grader::tb::verify_fresh(
                    self.provider.as_ref(),
                    t,
                    Some(image),
                    &opts,
                )
                .await;
                Ok(Graded {
                    grade: v.grade,
                    log: Some(v.test_output),
                })
            }
        }
    }

    async fn verify_live(&self, task: &Task, sandbox: &dyn Sandbox) -> Option<Graded> {
        let Task::TerminalBench(t) = task else {
            return None;
        };
        let v = agentscale_grader::tb::verify(sandbox, t, &self.tb_options()).await;
        Some(Graded {
            grade: v.grade,
            log: Some(v.test_output),
        })
    }
}

/// Everything a run needs, built from its config.
pub async fn build(
    cfg: &ExperimentConfig,
    run_id: &str,
    tasks: &[Task],
    run_dir: &Path,
    ledger: Arc<Ledger>,
) -> Result<Backends, BackendError> {
    let provider = provider(cfg, run_id).await?;
    let models = models(cfg, tasks, &run_dir.join("calls"), &ledger)?;
    let grader = grader(cfg, provider.clone())?;
    Ok(Backends {
        provider,
        models,
        grader,
        prompts: Arc::new(agentscale_scaling::Prompts::embedded()),
        ledger: Some(ledger),
    })
}
