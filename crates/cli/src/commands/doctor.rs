//! `agentscale doctor`: check the Docker engine, the base image, disk space, cgroup limits and
//! stale containers (removed, and reported); print each problem with its fix. Exit 3 when an
//! engine cannot be reached (infrastructure unavailable, as for every command), 1 when the
//! engines answer but another problem is found.

use clap::Args;

use crate::cli::GlobalArgs;
use crate::exit;

/// Arguments of `agentscale doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `agentscale doctor`.
pub async fn run(args: DoctorArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    agentscale_sandbox::install_signal_handler().map_err(super::images::coded)?;
    let provider = agentscale_sandbox::DockerProvider::from_env().map_err(super::images::coded)?;
    let base = agentscale_core::testenv::base_image();
    let report = agentscale_sandbox::doctor::run(&provider, &base).await;
    agentscale_sandbox::hold_if_interrupted().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for h in &report.hosts {
            println!("host {} ({})", h.host, h.endpoint);
            for c in &h.checks {
                let mark = if c.ok { "ok     " } else { "PROBLEM" };
                println!("  {mark} {:<17} {}", c.name, c.detail);
                if let Some(fix) = &c.fix {
                    println!("          fix: {fix}");
                }
            }
        }
        if report.problems == 0 {
            println!("no problems found");
        } else {
            println!("{} problem(s) found", report.problems);
        }
    }
    let engine_down = report
        .hosts
        .iter()
        .flat_map(|h| &h.checks)
        .any(|c| c.name == "engine" && !c.ok);
    Ok(if engine_down {
        exit::INFRA
    } else if report.problems == 0 {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}
