//! `agentscale images build-swe` and the image options `agentscale grade` shares with it: the
//! image of every SWE-bench instance, official (on the engine or pulled) or built offline in
//! the official layout from a folder of repository mirrors.

use std::path::PathBuf;
use std::sync::Arc;

use agentscale_core::SweInstance;
use agentscale_experiment::swe_images::{
    ImageOrigin, OFFICIAL_REGISTRY, PreparedImage, SweImageOptions, prepare_swe_images,
};
use agentscale_grader::spec::SpecTable;
use agentscale_sandbox::DockerProvider;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::exit;

/// Where SWE-bench instance images come from (shared by `images build-swe` and `grade`).
#[derive(Debug, Clone, Args)]
pub struct SweImageArgs {
    /// A folder of repository mirrors (`<owner>__<name>.git`, bare, holding each base and
    /// environment-setup commit) to build missing instance images from, offline.
    #[arg(long, value_name = "DIR")]
    pub repos: Option<PathBuf>,
    /// The registry prefix of the official images (`swebench` on Docker Hub, or
    /// `HOST:PORT/swebench`); credentials from the variables named by --registry-user-env and
    /// --registry-password-env.
    #[arg(long, value_name = "PREFIX", default_value = OFFICIAL_REGISTRY)]
    pub registry: String,
    /// The variable holding the registry user name.
    #[arg(long, value_name = "VAR", requires = "registry_password_env")]
    pub registry_user_env: Option<String>,
    /// The variable holding the registry password or token.
    #[arg(long, value_name = "VAR", requires = "registry_user_env")]
    pub registry_password_env: Option<String>,
    /// Never pull: use an image already on the engine or build one from --repos.
    #[arg(long)]
    pub no_pull: bool,
    /// Resolve Python packages as of this date while building images (ISO 8601), or `none`
    /// for today's index.
    #[arg(long, value_name = "DATE", default_value = agentscale_grader::images::DEFAULT_INDEX_CUTOFF)]
    pub index_cutoff: String,
    /// A CA bundle for pip inside the images (default: the one the host's pip uses, from
    /// PIP_CERT or pip.conf).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
}

impl SweImageArgs {
    /// The options these arguments give.
    pub fn options(&self, concurrency: usize) -> SweImageOptions {
        SweImageOptions {
            repos: self.repos.clone(),
            registry: self.registry.clone(),
            pull: !self.no_pull,
            index_cutoff: Some(self.index_cutoff.clone()).filter(|c| c != "none"),
            ca_bundle: self.ca_bundle.clone(),
            concurrency,
            ..SweImageOptions::default()
        }
    }

    /// A Docker provider that pulls with the registry credentials these arguments name.
    pub fn provider(&self, run_id: Option<&str>) -> anyhow::Result<Arc<DockerProvider>> {
        let mut config = agentscale_sandbox::DockerConfig::default();
        if let (Some(u), Some(p)) = (&self.registry_user_env, &self.registry_password_env) {
            for v in [u, p] {
                if std::env::var_os(v).is_none() {
                    return Err(exit::with_code(
                        exit::USAGE,
                        anyhow::anyhow!("the registry credential variable {v} is not set"),
                    ));
                }
            }
            config.registry_auth_env = Some(agentscale_sandbox::config::RegistryAuthEnv {
                username: u.clone(),
                password: p.clone(),
            });
        }
        let p = match run_id {
            Some(id) => config.build_for_run(id),
            None => DockerProvider::from_config(config),
        }
        .map_err(super::images::coded)?;
        Ok(Arc::new(p))
    }
}

/// `images build-swe`.
#[derive(Debug, Args)]
pub struct BuildSweArgs {
    /// The SWE-bench dataset (file, folder or registry name).
    #[arg(long, value_name = "DATASET")]
    pub dataset: String,
    /// Only these instances (space- or comma-separated).
    #[arg(long, value_name = "ID", num_args = 1.., value_delimiter = ',')]
    pub instance_ids: Vec<String>,
    /// The split of a Hugging Face export folder.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// A spec table whose repositories replace or extend the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub specs: Option<PathBuf>,
    /// Images prepared at once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub concurrency: usize,
    /// Where the images come from.
    #[command(flatten)]
    pub images: SweImageArgs,
    /// Print one JSON row per instance.
    #[arg(long)]
    pub json: bool,
}

/// The origin as a word.
pub fn origin_word(o: Option<ImageOrigin>) -> &'static str {
    match o {
        Some(ImageOrigin::Local) => "local",
        Some(ImageOrigin::Pulled) => "pulled",
        Some(ImageOrigin::Built) => "built",
        Some(ImageOrigin::Reused) => "reused",
        None => "failed",
    }
}

fn row_line(r: &PreparedImage) -> String {
    format!(
        "{:<34} {:<7} {:>7.1}s  {}",
        r.instance_id,
        origin_word(r.origin),
        r.seconds,
        r.image
            .clone()
            .or_else(|| r.error.clone())
            .unwrap_or_default()
    )
}

/// Prepare the images of `instances` (progress on stderr); the rows in dataset order.
pub async fn prepare(
    provider: &Arc<DockerProvider>,
    specs: &SpecTable,
    instances: &[SweInstance],
    opts: &SweImageOptions,
    global: &GlobalArgs,
) -> anyhow::Result<Vec<PreparedImage>> {
    let total = instances.len();
    let mut done = 0usize;
    let quiet = global.quiet;
    prepare_swe_images(provider, specs, instances, opts, |r| {
        done += 1;
        if !quiet {
            eprintln!("[images {done}/{total}] {}", row_line(r));
            if let (Some(ImageOrigin::Built), Some(n)) = (r.origin, &r.pull_note) {
                eprintln!("    (built offline: the official image could not be pulled: {n})");
            }
        }
    })
    .await
    .map_err(super::images::coded)
}

/// Run `images build-swe`.
pub async fn run(args: BuildSweArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let specs = super::grade::load_specs(args.specs.as_deref())?;
    let instances =
        super::grade::load_swe_instances(&args.dataset, &args.split, &args.instance_ids)?;
    agentscale_sandbox::install_signal_handler().map_err(super::images::coded)?;
    let provider = args.images.provider(None)?;
    let rows = prepare(
        &provider,
        &specs,
        &instances,
        &args.images.options(args.concurrency),
        global,
    )
    .await?;
    let failed = rows.iter().filter(|r| r.image.is_none()).count();
    if args.json {
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "instance_id": r.instance_id,
                    "image": r.image,
                    "status": origin_word(r.origin),
                    "seconds": (r.seconds * 10.0).round() / 10.0,
                    "error": r.error,
                    "pull_note": r.pull_note,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "images": out,
                "failed": failed,
            }))?
        );
    } else {
        for r in &rows {
            println!("{}", row_line(r));
        }
    }
    Ok(if failed == 0 {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}
