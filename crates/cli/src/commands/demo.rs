//! `agentscale demo`: the embedded default, end to end.
//!
//! ```text
//! agentscale demo [--set KEY=VALUE]... [--json]
//! ```
//!
//! It prepares what it needs — the offline base image (built from Debian packages when it is
//! missing: that needs root or sudo, debootstrap and a reachable Debian mirror) and the demo
//! task images (built on the base image with no network) — then runs `configs/demo.toml`
//! (embedded in the binary): a scripted agent on the demo dataset with N=8 rollouts, two PDR
//! iterations, RTV with G=2 and V=3, real containers, real grading. It prints where the
//! results are. Running it again resumes (and then just reprints) the same run.

use std::path::PathBuf;

use agentscale_experiment::run::RunRequest;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::exit;

/// The demo's config, as shipped in `configs/demo.toml`.
pub const DEMO_CONFIG: &str = include_str!("../../../../configs/demo.toml");

/// Arguments of `agentscale demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Override a value of the demo config (repeatable), e.g. `--set experiment.output=DIR`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Do not try to build the base image when it is missing.
    #[arg(long)]
    pub no_build: bool,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn image_present(image: &str) -> bool {
    std::process::Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Fail with the engine's own error (exit 3) when a Docker engine of the default pool cannot
/// be reached, so that an engine that is down is not mistaken for a missing base image.
async fn require_engine() -> anyhow::Result<()> {
    let config = agentscale_sandbox::DockerConfig {
        sweep_on_start: false,
        ..agentscale_sandbox::DockerConfig::default()
    };
    let provider =
        agentscale_sandbox::DockerProvider::from_config(config).map_err(super::images::coded)?;
    for host in provider.host_names() {
        provider.client(&host).await.map_err(super::images::coded)?;
    }
    Ok(())
}

/// Run `agentscale demo`.
pub async fn run(args: DemoArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    require_engine().await?;
    let base = agentscale_core::testenv::base_image();
    if !image_present(&base) {
        if args.no_build {
            return Err(exit::with_code(
                exit::INFRA,
                anyhow::anyhow!(
                    "the base image {base} is missing; build it with `agentscale images \
                     build-base` (needs root or sudo, debootstrap and a reachable Debian mirror)"
                ),
            ));
        }
        eprintln!(
            "the base image {base} is missing: building it from Debian packages (first time \
             only; needs root or sudo, debootstrap and a reachable Debian mirror)"
        );
        agentscale_sandbox::images::base::build_base_image(
            &agentscale_sandbox::images::base::BaseImageOptions::default(),
        )
        .await
        .map_err(super::images::coded)?;
    }
    let req = RunRequest {
        target: PathBuf::from("configs/demo.toml"),
        profiles: Vec::new(),
        overrides: args.set,
        run_id: None,
        config_text: Some(DEMO_CONFIG.to_string()),
        first_tasks: None,
    };
    let code = super::run::execute(&req, global, args.json).await?;
    if !args.json && !global.quiet {
        eprintln!(
            "\nthe demo's results are above; its tables (CSV and Parquet) and report.html are in \
             the run directory printed there. `agentscale report <run dir>` rebuilds them."
        );
    }
    Ok(code)
}
