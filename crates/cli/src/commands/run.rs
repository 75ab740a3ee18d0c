//! `agentscale run`: run an experiment from a config file; on an existing run directory (or
//! the same config again), resume it.
//!
//! ```text
//! agentscale run CONFIG.toml [--set KEY=VALUE]... [--profile NAME]... [--run-id ID] [--json]
//! agentscale run CONFIG.toml --show-reference-diff   # settings unlike mini-swe-agent's, why
//! agentscale run results/<experiment>/<run-id>        # resume with the run's own run.toml
//! agentscale run CONFIG.toml --dry-run [--from RUN]... [--pilot K] [--json]
//! ```
//!
//! `--dry-run` starts nothing: it prints the calls, tokens, cost and wall-clock time the run
//! would take (see [`super::dry_run`]).
//!
//! Progress goes to stderr (a bar per stage: rollouts, summaries, votes, grading, with counts,
//! rates and the running cost); the summary goes to stdout (`--json`: one JSON object).
//!
//! Exit codes: 0 every task finished; 1 some tasks failed (run again to retry them); 2 the
//! config or the command line is wrong (nothing was started); 3 the infrastructure is not
//! reachable (no Docker engine; nothing was started); 130 interrupted (containers removed).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use agentscale_experiment::orchestrator::progress::{ProgressEvent, ProgressSnapshot, Stage};
use agentscale_experiment::run::{PrepareError, Prepared, RunRequest, prepare};
use agentscale_experiment::{RunError, RunSummary};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;
use crate::exit;

/// Arguments of `agentscale run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment config (TOML), or a run directory to resume.
    #[arg(value_name = "CONFIG|RUN_DIR")]
    pub target: PathBuf,
    /// Override a config value, typed by the config's schema (repeatable):
    /// `--set scaling.group_size=4`, `--set experiment.output=/tmp/out`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Merge a `[profiles.NAME]` table of the config over it (repeatable, in order).
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Put the run in this run directory name instead of the config's hash (to continue a
    /// run under a changed config, reusing its stored work).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print every agent setting that differs from mini-swe-agent 1.x's SWE-bench config,
    /// with its reason, and exit without running anything (exit 1 when one is unexplained).
    #[arg(long)]
    pub show_reference_diff: bool,
    /// Start nothing: print per system and stage the rollouts, summaries and judge calls the
    /// run would make, their tokens, cost and the wall-clock time (no API key, no Docker).
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: take token figures from the calls stored in these earlier runs (run
    /// directories or folders with tables/) of the same models (repeatable).
    #[arg(long, value_name = "RUN", requires = "dry_run")]
    pub from: Vec<PathBuf>,
    /// With --dry-run: run the first K tasks for real (in the run's own directory, so the
    /// full run reuses them), then extrapolate from their calls with an interval.
    #[arg(long, value_name = "K", requires = "dry_run")]
    pub pilot: Option<usize>,
}

/// Map a preparation error to its exit code.
pub fn prepare_error(e: PrepareError) -> anyhow::Error {
    let code = match &e {
        PrepareError::Config(_) | PrepareError::Usage(_) | PrepareError::Dataset(_) => exit::USAGE,
        PrepareError::Infra(_) => exit::INFRA,
        PrepareError::Store(_) | PrepareError::Run(_) => exit::FAILURE,
    };
    exit::with_code(code, e)
}

/// Run `agentscale run`.
pub async fn run(args: RunArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    if args.show_reference_diff {
        return show_reference_diff(&args);
    }
    let req = RunRequest {
        target: args.target,
        profiles: args.profile,
        overrides: args.set,
        run_id: args.run_id,
        config_text: None,
        first_tasks: None,
    };
    if args.dry_run {
        let opts = super::dry_run::DryRunArgs {
            from: args.from,
            pilot: args.pilot,
            json: args.json,
        };
        return super::dry_run::run(&req, &opts, global).await;
    }
    execute(&req, global, args.json).await
}

/// `--show-reference-diff`: load the config (no keys or files needed) and print
/// [`agentscale_experiment::config::render_reference_diff`] for each sweep point.
fn show_reference_diff(args: &RunArgs) -> anyhow::Result<u8> {
    use agentscale_experiment::config::{LoadOptions, load, reference_diff, render_reference_diff};
    let opts = LoadOptions {
        profiles: args.profile.clone(),
        overrides: args.set.clone(),
        env_has: std::sync::Arc::new(|_| true),
        check_files: false,
        ..LoadOptions::default()
    };
    let cfg = load(&args.target, &opts).map_err(|e| exit::with_code(exit::USAGE, e))?;
    let mut unexplained = 0;
    for point in &cfg.points {
        if cfg.points.len() > 1 {
            println!("[{}]", point.label);
        }
        print!("{}", render_reference_diff(&point.config));
        unexplained += reference_diff(&point.config)
            .iter()
            .filter(|d| d.reason.is_none())
            .count();
    }
    Ok(if unexplained == 0 {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}

/// Prepare and run a request with progress on stderr and the summary on stdout.
pub async fn execute(req: &RunRequest, global: &GlobalArgs, json: bool) -> anyhow::Result<u8> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let prepared = prepare(req, Some(tx)).await.map_err(prepare_error)?;
    agentscale_sandbox::install_signal_handler().map_err(super::images::coded)?;
    let summary = run_with_progress(&prepared, rx, global.quiet).await?;
    print_summary(&summary, json)?;
    Ok(if summary.complete {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}

/// Run a prepared run while drawing its progress; returns its summary.
pub async fn run_with_progress(
    prepared: &Prepared,
    mut events: tokio::sync::mpsc::UnboundedReceiver<ProgressEvent>,
    quiet: bool,
) -> anyhow::Result<RunSummary> {
    let info = prepared.orchestrator.store().resume_info().clone();
    if !quiet {
        if prepared.resumed {
            let done: Vec<String> = info
                .finished
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            eprintln!(
                "resuming run {} in {} ({} events; stored: {})",
                prepared.run_id,
                prepared.run_dir.display(),
                info.events,
                if done.is_empty() {
                    "nothing yet".into()
                } else {
                    done.join(", ")
                }
            );
        } else {
            eprintln!("run {} in {}", prepared.run_id, prepared.run_dir.display());
        }
    }
    let progress = prepared.orchestrator.progress().clone();
    let mp = MultiProgress::with_draw_target(if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos:>6}/{len:<6} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bars: Vec<(Stage, ProgressBar)> = Stage::ALL
        .iter()
        .map(|&s| {
            let b = mp.add(ProgressBar::new(0));
            b.set_style(style.clone());
            b.set_prefix(s.as_str());
            (s, b)
        })
        .collect();
    let cost = mp.add(ProgressBar::new_spinner());
    let tty = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let draw = {
        let mp = mp.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            let mut last_plain = std::time::Instant::now();
            loop {
                tokio::select! {
                    e = events.recv() => match e {
                        Some(e) => {
                            if !quiet {
                                let line = event_line(&e);
                                if tty {
                                    let _ = mp.println(line);
                                } else {
                                    eprintln!("{line}");
                                }
                            }
                        }
                        None => break,
                    },
                    _ = tick.tick() => {
                        let snap = progress.snapshot();
                        for (s, b) in &bars {
                            let st = snap.stage(*s);
                            b.set_length(st.planned.max(st.done));
                            b.set_position(st.done);
                            b.set_message(stage_message(&snap, *s));
                        }
                        cost.set_message(calls_line(&snap));
                        if !tty && !quiet && last_plain.elapsed() >= Duration::from_secs(30) {
                            last_plain = std::time::Instant::now();
                            eprintln!("{}", plain_line(&snap));
                        }
                    }
                }
            }
        }
    };
    let drawer = tokio::spawn(draw);
    let result = prepared.run().await;
    drawer.abort();
    let _ = mp.clear();
    let summary = result.map_err(|e| {
        let code = match &e {
            RunError::Infra(_) => exit::INFRA,
            RunError::Config(_) => exit::USAGE,
            RunError::Interrupted(_) => exit::INTERRUPTED,
            _ => exit::FAILURE,
        };
        exit::with_code(code, e)
    })?;
    Ok(summary)
}

fn event_line(e: &ProgressEvent) -> String {
    match e {
        ProgressEvent::Warning { message } => format!("warning: {message}"),
        ProgressEvent::InfraRetry { stage, item, error } => {
            format!(
                "infrastructure failure ({}; {item}): {error}",
                stage.as_str()
            )
        }
        ProgressEvent::TaskFinished { task_id } => format!("done: {task_id}"),
        ProgressEvent::TaskFailed { task_id, error } => format!("FAILED: {task_id}: {error}"),
    }
}

fn stage_message(snap: &ProgressSnapshot, s: Stage) -> String {
    let st = snap.stage(s);
    let secs = (snap.elapsed_ms as f64 / 1000.0).max(0.001);
    let made = st.done.saturating_sub(st.reused);
    let mut m = format!("{:.1}/s", made as f64 / secs);
    if st.running > 0 {
        let _ = write!(m, ", {} running", st.running);
    }
    if st.reused > 0 {
        let _ = write!(m, ", {} reused", st.reused);
    }
    if st.infra_failures > 0 {
        let _ = write!(m, ", {} infra failures", st.infra_failures);
    }
    if st.given_up > 0 {
        let _ = write!(m, ", {} given up", st.given_up);
    }
    m
}

fn calls_line(snap: &ProgressSnapshot) -> String {
    let c = &snap.calls;
    format!(
        "tasks {}/{} | model calls {} ({} cached, {} retries) | cost ${:.4}{}",
        snap.tasks_done,
        snap.tasks,
        c.calls,
        c.cache_hits,
        c.retries,
        c.cost_usd,
        if c.unknown_cost_calls > 0 {
            format!(" + {} calls of unknown cost", c.unknown_cost_calls)
        } else {
            String::new()
        }
    )
}

fn plain_line(snap: &ProgressSnapshot) -> String {
    let parts: Vec<String> = Stage::ALL
        .iter()
        .map(|&s| {
            let st = snap.stage(s);
            format!("{} {}/{}", s.as_str(), st.done, st.planned.max(st.done))
        })
        .collect();
    format!("progress: {} | {}", parts.join(", "), calls_line(snap))
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Print a run's summary on stdout (human text, or one JSON object).
pub fn print_summary(s: &RunSummary, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(s)?);
        return Ok(());
    }
    let secs = s.progress.elapsed_ms / 1000;
    println!(
        "run {} {} in {}m{:02}s: {} tasks, {} system{}",
        s.run_id,
        if s.complete {
            "finished"
        } else {
            "stopped with failures"
        },
        secs / 60,
        secs % 60,
        s.tasks,
        s.systems.len(),
        if s.systems.len() == 1 { "" } else { "s" }
    );
    println!("results: {}", s.run_dir.display());
    println!();
    println!(
        "{:<32} {:>8} {:>7} {:>7} {:>12} {:>6} {:>9} {:>10}",
        "system", "resolved", "scored", "rate", "mean pass@1", "infra", "verifier", "no answer"
    );
    for r in &s.systems {
        println!(
            "{:<32} {:>8} {:>7} {:>7} {:>12} {:>6} {:>9} {:>10}",
            r.system,
            r.resolved,
            r.scored,
            pct(r.rate),
            r.mean_pass1.map_or_else(|| "-".into(), pct),
            r.infra,
            r.verifier_errors,
            r.no_answer
        );
    }
    println!();
    for st in &s.progress.stages {
        println!(
            "{:<10} {} done ({} reused from the store), {} infrastructure failures ({} given up)",
            st.stage.as_str(),
            st.done,
            st.reused,
            st.infra_failures,
            st.given_up
        );
    }
    println!("{}", calls_line(&s.progress));
    for (task, e) in &s.failed_tasks {
        println!("FAILED {task}: {e}");
    }
    if !s.failed_tasks.is_empty() {
        println!("run the same command again to retry the failed tasks (finished work is kept)");
    }
    println!(
        "tables: {} (CSV and Parquet); report: {}",
        s.run_dir.join("tables").display(),
        s.run_dir.join("report.html").display()
    );
    Ok(())
}
