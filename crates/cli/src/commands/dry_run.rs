//! `agentscale run CONFIG --dry-run`: the priced estimate of a run, without starting it.
//!
//! ```text
//! agentscale run CONFIG.toml --dry-run [--json]          # counts, tokens, cost, wall clock
//! agentscale run CONFIG.toml --dry-run --from RUN...     # token figures from earlier runs
//! agentscale run CONFIG.toml --dry-run --pilot 5         # run 5 tasks for real, extrapolate
//! ```
//!
//! No API key is read and no Docker engine is contacted unless `--pilot` runs tasks. Token
//! figures come, in this order, from the calls stored in the run's own directory (a pilot's,
//! or an interrupted run's), from the `--from` runs, and from the documented defaults
//! ([`agentscale_experiment::estimate::basis`]); each stage's `cost_basis` says which.

use std::path::PathBuf;

use agentscale_experiment::estimate::basis::{Source, load_source};
use agentscale_experiment::estimate::{self, EstimateInput};
use agentscale_experiment::run::{PrepareError, RunRequest, load_config_without_keys, prepare};
use agentscale_models::prices::PriceTable;

use super::run::{prepare_error, run_with_progress};
use crate::cli::GlobalArgs;
use crate::exit;

/// The dry run's options.
#[derive(Debug, Clone, Default)]
pub struct DryRunArgs {
    /// Earlier runs to take token figures from.
    pub from: Vec<PathBuf>,
    /// Run this many tasks for real first.
    pub pilot: Option<usize>,
    /// Print JSON.
    pub json: bool,
}

/// Run `agentscale run --dry-run`.
pub async fn run(req: &RunRequest, args: &DryRunArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let (cfg, run_dir, run_id) = load_config_without_keys(req).map_err(prepare_error)?;
    let tasks = estimate::tasks::count(&cfg.base).map_err(prepare_error)?;
    if let Some(k) = args.pilot {
        if k == 0 {
            return Err(exit::with_code(
                exit::USAGE,
                anyhow::anyhow!(
                    "--pilot 0 runs nothing: give the number of tasks to run (1 or more)"
                ),
            ));
        }
        pilot(req, &run_id, k, global).await?;
    }
    let mut sources: Vec<Source> = Vec::new();
    if run_dir.join("run.toml").is_file() {
        match load_source(&run_dir) {
            Ok(s) => sources.push(s),
            Err(e) => tracing::warn!(
                "the run directory {} holds calls that cannot be read ({e}); they are not used \
                 for the estimate",
                run_dir.display()
            ),
        }
    }
    for dir in &args.from {
        let s = load_source(dir).map_err(|e| {
            exit::with_code(
                exit::USAGE,
                anyhow::anyhow!(
                    "--from {}: {e} (give an agentscale run directory, or a folder with tables/)",
                    dir.display()
                ),
            )
        })?;
        sources.push(s);
    }
    let prices = PriceTable::embedded();
    let e = estimate::estimate(&EstimateInput {
        config: &cfg,
        tasks: &tasks,
        sources: &sources,
        prices: &prices,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", estimate::render_text(&e));
    }
    Ok(exit::SUCCESS)
}

/// Run the first `k` tasks for real in the run's own directory.
async fn pilot(
    req: &RunRequest,
    run_id: &str,
    k: usize,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let mut preq = req.clone();
    preq.first_tasks = Some(k);
    if !req.target.is_dir() {
        preq.run_id = Some(run_id.to_string());
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let prepared = prepare(&preq, Some(tx))
        .await
        .map_err(|e: PrepareError| prepare_error(e))?;
    agentscale_sandbox::install_signal_handler().map_err(super::images::coded)?;
    if !global.quiet {
        eprintln!("pilot: running the first {k} task(s) for real");
    }
    let summary = run_with_progress(&prepared, rx, global.quiet).await?;
    if !global.quiet {
        eprintln!(
            "pilot: {} task(s) {} in {}; the full run reuses their work",
            summary.tasks,
            if summary.complete {
                "finished"
            } else {
                "stopped with failures"
            },
            summary.run_dir.display()
        );
    }
    Ok(())
}
