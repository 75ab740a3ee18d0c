//! `agentscale grade`: grade SWE-bench predictions the way the official harness does, or
//! re-grade existing logs without Docker.
//!
//! ```text
//! agentscale grade --dataset D --predictions P|gold|empty [--mode v4.1|strict] [--run-id R]
//!                  [--instance-ids ID...] [--concurrency N] [--timeout S] [--output DIR] [--json]
//! agentscale grade --from-logs DIR --dataset D [--mode v4.1|strict] [--json]
//! ```
//!
//! Each instance gets a folder `<output>/<run-id>/<instance_id>/` with the official files
//! (`report.json`, `test_output.txt`, `eval.sh`, `patch.diff`, `run_instance.log`) and
//! `grade.json` (the full record). The run folder holds `run.json` (the settings),
//! `summary.json` and the same summary under the official name `<model>.<run-id>.json`.
//! A run is resumable: an instance whose record exists for the same patch and mode is not
//! graded again (infrastructure errors are retried).
//!
//! Exit codes: 0 graded (whatever the verdicts); 2 bad usage (unknown instance id, bad
//! predictions file, a run id used with another mode); 3 some instances hit infrastructure
//! errors (the summary is still printed; run again with the same run id to retry them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentscale_core::grade::Grade;
use agentscale_core::{Benchmark, SweInstance, fsutil, hash};
use agentscale_grader::from_logs::{regrade, scan_log_dir};
use agentscale_grader::predictions::{
    check_known_ids, empty_predictions, gold_predictions, read_predictions,
};
use agentscale_grader::report::{RunSummary, to_json_indent4};
use agentscale_grader::spec::SpecTable;
use agentscale_grader::swe::{
    SweGradeOptions, SweGradeRecord, grade_swe, grade_without_container, read_record, write_record,
};
use agentscale_grader::{GradeMode, GraderError};
use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};

use crate::cli::GlobalArgs;
use crate::exit;

/// Arguments of `agentscale grade`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The SWE-bench dataset: a file or folder (JSONL, JSON, Parquet, Hugging Face export,
    /// `datasets/demo/swe-bench`) or a registry name.
    #[arg(long, value_name = "DATASET")]
    pub dataset: String,
    /// Predictions to grade: a JSONL file, a JSON list, a JSON object keyed by instance id
    /// (mini-swe-agent's preds.json), or `gold` / `empty`.
    #[arg(
        long,
        value_name = "FILE|gold|empty",
        required_unless_present = "from_logs",
        conflicts_with = "from_logs"
    )]
    pub predictions: Option<String>,
    /// Re-grade existing logs instead: DIR/<instance_id>/test_output.txt (the official layout
    /// works too). No Docker needed.
    #[arg(long, value_name = "DIR")]
    pub from_logs: Option<PathBuf>,
    /// `v4.1` reproduces published numbers; `strict` adds harness 5.0's and agentscale's
    /// hardening (see the README).
    #[arg(long, default_value = "v4.1", value_parser = parse_mode)]
    pub mode: GradeMode,
    /// The run's id; grading again with the same id resumes it (refused while another
    /// process grades it) [default: a new id from the time to the millisecond and the pid].
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Grade only these instances (space- or comma-separated).
    #[arg(long, value_name = "ID", num_args = 1.., value_delimiter = ',')]
    pub instance_ids: Vec<String>,
    /// Instances graded at once [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Time limit of one instance's eval script, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,
    /// Where run folders are written.
    #[arg(long, value_name = "DIR", default_value = "results/grading")]
    pub output: PathBuf,
    /// A spec table (same shape as crates/grader/specs/swe-bench.toml) whose repositories
    /// replace or extend the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub specs: Option<PathBuf>,
    /// The split of a Hugging Face export folder.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Where instance images come from (official, pulled, or built from mirrors).
    #[command(flatten)]
    pub images: super::images_swe::SweImageArgs,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_mode(s: &str) -> Result<GradeMode, String> {
    s.parse()
}

fn usage(e: impl Into<anyhow::Error>) -> anyhow::Error {
    exit::with_code(exit::USAGE, e)
}

fn grader_error(e: GraderError) -> anyhow::Error {
    match e {
        GraderError::Sandbox(_) | GraderError::Io { .. } => exit::with_code(exit::FAILURE, e),
        _ => usage(e),
    }
}

/// Run `agentscale grade`.
pub async fn run(args: GradeArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let specs = load_specs(args.specs.as_deref())?;
    let instances = load_swe_instances(&args.dataset, &args.split, &args.instance_ids)?;
    if let Some(dir) = &args.from_logs {
        return from_logs(&args, global, &specs, &instances, dir);
    }
    grade_predictions(&args, global, specs, instances).await
}

/// The built-in spec table with a user's spec file (`--specs`) over it.
pub(crate) fn load_specs(path: Option<&Path>) -> anyhow::Result<SpecTable> {
    let builtin = SpecTable::builtin().map_err(grader_error)?;
    let Some(path) = path else {
        return Ok(builtin.clone());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the spec file {}", path.display()))
        .map_err(usage)?;
    let mine = SpecTable::from_toml(&text, &path.display().to_string()).map_err(usage)?;
    Ok(builtin.with_overrides(&mine))
}

/// The dataset's SWE-bench instances, narrowed to `--instance-ids` (each must exist).
pub(crate) fn load_swe_instances(
    dataset: &str,
    split: &str,
    ids: &[String],
) -> anyhow::Result<Vec<SweInstance>> {
    let ds = agentscale_datasets::open(
        dataset,
        &agentscale_datasets::LoadOptions {
            split: split.to_string(),
        },
    )
    .map_err(|e| {
        let code = if e.is_usage() {
            exit::USAGE
        } else {
            exit::FAILURE
        };
        exit::with_code(code, e)
    })?;
    if ds.benchmark != Benchmark::SweBench {
        return Err(usage(anyhow::anyhow!(
            "{dataset} is a Terminal-Bench dataset; `agentscale grade` grades SWE-bench \
             predictions (Terminal-Bench tasks are verified after the agent by `agentscale run`)"
        )));
    }
    let all: Vec<SweInstance> = ds.swe_instances().cloned().collect();
    if ids.is_empty() {
        return Ok(all);
    }
    let known: BTreeSet<&str> = all.iter().map(|i| i.instance_id.as_str()).collect();
    if let Some(bad) = ids.iter().find(|id| !known.contains(id.as_str())) {
        return Err(usage(anyhow::anyhow!(
            "--instance-ids: {bad} is not in the dataset {} ({} instances)",
            dataset,
            all.len()
        )));
    }
    let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    Ok(all
        .into_iter()
        .filter(|i| wanted.contains(i.instance_id.as_str()))
        .collect())
}

fn progress(global: &GlobalArgs, line: &str) {
    if !global.quiet {
        eprintln!("{line}");
    }
}

// ------------------------------------------------------------------------- predictions

async fn grade_predictions(
    args: &GradeArgs,
    global: &GlobalArgs,
    specs: SpecTable,
    instances: Vec<SweInstance>,
) -> anyhow::Result<u8> {
    let source = args.predictions.as_deref().unwrap_or("gold");
    let mut preds = match source {
        "gold" => gold_predictions(&instances),
        "empty" => empty_predictions(&instances),
        path => {
            // A predictions file that is not there is bad input (2), like any missing input.
            let file = Path::new(path);
            let all = read_predictions(file).map_err(|e| {
                if file.exists() {
                    grader_error(e)
                } else {
                    usage(e)
                }
            })?;
            // Every id must be in the dataset; only the selected instances are graded.
            let full = agentscale_datasets::open(
                &args.dataset,
                &agentscale_datasets::LoadOptions {
                    split: args.split.clone(),
                },
            )
            .map_err(|e| exit::with_code(exit::FAILURE, e))?;
            let full: Vec<SweInstance> = full.swe_instances().cloned().collect();
            check_known_ids(&all, &full, path).map_err(grader_error)?;
            all
        }
    };
    let selected: BTreeSet<&str> = instances.iter().map(|i| i.instance_id.as_str()).collect();
    preds.retain(|p| selected.contains(p.instance_id.as_str()));
    let model = preds
        .first()
        .map(|p| p.model_name_or_path.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let claimed = super::run_folder::claim(
        &args.output,
        args.run_id.as_deref(),
        &fsutil::sanitize_file_name(&model),
    )?;
    let (run_id, run_dir) = (claimed.id.clone(), claimed.dir.clone());
    check_run_settings(&run_dir, args, source, &model)?;
    progress(
        global,
        &format!(
            "grading {} prediction(s) of {model} on {} ({} mode), run {run_id} in {}",
            preds.len(),
            args.dataset,
            args.mode,
            run_dir.display()
        ),
    );

    let by_id: BTreeMap<String, SweInstance> = instances
        .iter()
        .map(|i| (i.instance_id.clone(), i.clone()))
        .collect();
    let opts = SweGradeOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        labels: BTreeMap::from([("agentscale.grading_run".to_string(), run_id.clone())]),
        ..SweGradeOptions::for_mode(args.mode)
    };
    let mut grades: BTreeMap<String, Grade> = BTreeMap::new();
    let mut records: Vec<SweGradeRecord> = Vec::new();
    let mut todo: Vec<(SweInstance, String)> = Vec::new();
    for p in &preds {
        let Some(inst) = by_id.get(&p.instance_id) else {
            continue;
        };
        let patch = p.model_patch.clone().unwrap_or_default();
        let dir = run_dir.join(fsutil::sanitize_file_name(&p.instance_id));
        match read_record(&dir) {
            Some(rec)
                if rec.patch_sha256 == hash::sha256_hex(patch.as_bytes())
                    && rec.mode == args.mode
                    && !rec.grade.status.is_infra() =>
            {
                grades.insert(p.instance_id.clone(), rec.grade.clone());
            }
            _ => todo.push((inst.clone(), patch)),
        }
    }
    let reused = grades.len();
    if reused > 0 {
        progress(
            global,
            &format!(
                "{reused} instance(s) already graded in this run; {} to go",
                todo.len()
            ),
        );
    }

    let started = Instant::now();
    let needs_docker = todo
        .iter()
        .any(|(i, p)| grade_without_container(i, p, args.mode).is_none());
    let provider = if needs_docker {
        agentscale_sandbox::install_signal_handler().map_err(super::images::coded)?;
        let p = args.images.provider(Some(&run_id))?;
        match p.sweep().await {
            Ok(0) => {}
            Ok(n) => progress(
                global,
                &format!("removed {n} container(s) left by dead runs"),
            ),
            Err(e) => tracing::warn!("could not sweep stale containers: {e}"),
        }
        Some(p)
    } else {
        None
    };
    // The image of every instance that needs a container: official (local or pulled) or built
    // offline from --repos; an instance with none is an infrastructure error, not a grade.
    let mut no_image: BTreeMap<String, String> = BTreeMap::new();
    if let Some(p) = &provider {
        let mut need: Vec<SweInstance> = Vec::new();
        for (inst, patch) in &todo {
            if grade_without_container(inst, patch, args.mode).is_none()
                && !inst
                    .extra
                    .contains_key(agentscale_core::task::IMAGE_CONTEXT_COLUMN)
                && !need.iter().any(|n| n.instance_id == inst.instance_id)
            {
                need.push(inst.clone());
            }
        }
        let rows =
            super::images_swe::prepare(p, &specs, &need, &args.images.options(2), global).await?;
        let rows: BTreeMap<String, _> = rows
            .into_iter()
            .map(|r| (r.instance_id.clone(), r))
            .collect();
        for (inst, _) in &mut todo {
            let Some(r) = rows.get(&inst.instance_id) else {
                continue;
            };
            if let Some(image) = &r.image {
                inst.extra
                    .insert("image_name".into(), Value::String(image.clone()));
            } else {
                let why = r.error.clone().unwrap_or_else(|| "no image".into());
                no_image.insert(inst.instance_id.clone(), why);
            }
        }
    }
    let no_image = Arc::new(no_image);
    let concurrency = args
        .concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let specs = Arc::new(specs);
    let opts = Arc::new(opts);
    let mut set = tokio::task::JoinSet::new();
    let total = todo.len();
    for (inst, patch) in todo {
        let (sem, specs, opts) = (Arc::clone(&sem), Arc::clone(&specs), Arc::clone(&opts));
        let provider = provider.clone();
        let no_image = Arc::clone(&no_image);
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            if let Some(rec) = grade_without_container(&inst, &patch, opts.mode) {
                return rec;
            }
            if let Some(why) = no_image.get(&inst.instance_id) {
                return SweGradeRecord::infra_error(&inst, &patch, opts.mode, why.clone());
            }
            match provider {
                Some(p) => grade_swe(p.as_ref(), &specs, &inst, &patch, &opts).await,
                // A patch that needs a container always creates the provider; should that
                // ever fail to hold, the instance is an infrastructure error, not a panic.
                None => SweGradeRecord::infra_error(
                    &inst,
                    &patch,
                    opts.mode,
                    "no Docker provider was set up for a patch that needs one",
                ),
            }
        });
    }
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        let rec = joined.context("a grading task panicked")?;
        done += 1;
        let dir = run_dir.join(fsutil::sanitize_file_name(&rec.instance_id));
        write_record(&dir, &rec).map_err(grader_error)?;
        progress(
            global,
            &format!(
                "[{done}/{total}] {:<32} {:<24} {:>6.1}s{}",
                rec.instance_id,
                rec.grade.status.as_str(),
                rec.timings.total_ms as f64 / 1000.0,
                rec.grade
                    .message
                    .as_deref()
                    .filter(|_| rec.grade.status.is_error())
                    .map(|m| format!("  {}", first_line(m)))
                    .unwrap_or_default()
            ),
        );
        grades.insert(rec.instance_id.clone(), rec.grade.clone());
        records.push(rec);
    }
    if let Some(p) = &provider {
        p.shutdown().await;
    }
    let wall = started.elapsed();

    let submitted: BTreeSet<String> = preds.iter().map(|p| p.instance_id.clone()).collect();
    let summary = summarize_run(
        &run_dir, &instances, &submitted, &grades, args.mode, &model, &run_id,
    )?;
    let timing = timing_json(&records, wall, concurrency);
    print_summary(args.json, &summary, &timing, &run_dir)?;
    Ok(if summary.infra_error_instances > 0 {
        exit::INFRA
    } else {
        exit::SUCCESS
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `run.json`: the settings of a run. Resuming with another mode or dataset is refused, so a
/// run folder never mixes verdicts of different settings.
fn check_run_settings(
    run_dir: &Path,
    args: &GradeArgs,
    predictions: &str,
    model: &str,
) -> anyhow::Result<()> {
    let path = run_dir.join("run.json");
    let settings = json!({
        "mode": args.mode.as_str(),
        "dataset": args.dataset,
        "predictions": predictions,
        "model_name_or_path": model,
        "timeout_sec": args.timeout,
        "specs": args.specs,
    });
    if let Ok(text) = std::fs::read_to_string(&path) {
        let old: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        for key in ["mode", "dataset"] {
            if old.get(key) != settings.get(key) {
                return Err(usage(anyhow::anyhow!(
                    "run {} was graded with {key} {}, not {}; use another --run-id",
                    run_dir.display(),
                    old.get(key).unwrap_or(&Value::Null),
                    settings.get(key).unwrap_or(&Value::Null)
                )));
            }
        }
    }
    fsutil::write_json_atomic(&path, &settings)
        .with_context(|| format!("writing {}", path.display()))
}

/// The official run report of a grading run over the dataset's `instances`, written into
/// `run_dir` as `summary.json` and `<model>.<run id>.json`.
fn summarize_run(
    run_dir: &Path,
    instances: &[SweInstance],
    submitted: &BTreeSet<String>,
    grades: &BTreeMap<String, Grade>,
    mode: GradeMode,
    model: &str,
    run_id: &str,
) -> anyhow::Result<RunSummary> {
    let dataset_ids: Vec<String> = instances.iter().map(|i| i.instance_id.clone()).collect();
    let summary = RunSummary::build(&dataset_ids, submitted, grades, mode.as_str(), run_id);
    let text = to_json_indent4(&summary) + "\n";
    for name in [
        "summary.json".to_string(),
        format!(
            "{}.{}.json",
            model.replace('/', "__"),
            fsutil::sanitize_file_name(run_id)
        ),
    ] {
        let p = run_dir.join(fsutil::sanitize_file_name(&name));
        fsutil::atomic_write(&p, text.as_bytes())
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(summary)
}

/// Wall time and where the time of the graded instances went.
fn timing_json(records: &[SweGradeRecord], wall: Duration, concurrency: usize) -> Value {
    let ran: Vec<&SweGradeRecord> = records
        .iter()
        .filter(|r| r.timings.test_ms.is_some())
        .collect();
    let mean = |f: &dyn Fn(&SweGradeRecord) -> u64| -> Option<u64> {
        (!ran.is_empty()).then(|| ran.iter().map(|r| f(r)).sum::<u64>() / ran.len() as u64)
    };
    json!({
        "wall_ms": u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
        "concurrency": concurrency,
        "graded_now": records.len(),
        "tests_ran": ran.len(),
        "mean_instance_ms": mean(&|r| r.timings.total_ms),
        "mean_test_command_ms": mean(&|r| r.timings.test_ms.unwrap_or(0)),
        "mean_overhead_ms": mean(&|r| r.timings.overhead_ms().unwrap_or(0)),
        "mean_image_ms": mean(&|r| r.timings.image_ms),
        "mean_start_ms": mean(&|r| r.timings.start_ms),
        "mean_close_ms": mean(&|r| r.timings.close_ms),
    })
}

fn print_summary(
    as_json: bool,
    summary: &RunSummary,
    timing: &Value,
    run_dir: &Path,
) -> anyhow::Result<()> {
    if as_json {
        let mut v = serde_json::to_value(summary)?;
        if let Value::Object(m) = &mut v {
            m.insert("timing".into(), timing.clone());
            m.insert("run_dir".into(), json!(run_dir));
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let s = summary;
    println!("run {} ({} mode): {}", s.run_id, s.mode, run_dir.display());
    println!("  total instances      {}", s.total_instances);
    println!("  submitted            {}", s.submitted_instances);
    println!("  completed            {}", s.completed_instances);
    println!("  resolved             {}", s.resolved_instances);
    println!("  unresolved           {}", s.unresolved_instances);
    println!("  empty patch          {}", s.empty_patch_instances);
    println!(
        "  errors               {} (infrastructure: {})",
        s.error_instances, s.infra_error_instances
    );
    if !s.resolved_ids.is_empty() {
        println!("resolved: {}", s.resolved_ids.join(" "));
    }
    for (id, reason) in &s.error_reasons {
        println!("error {id}: {}", first_line(reason));
    }
    let graded_now = timing
        .get("graded_now")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if let Some(ms) = timing.get("wall_ms").and_then(Value::as_u64)
        && graded_now > 0
    {
        println!("wall time {:.1}s", ms as f64 / 1000.0);
    }
    Ok(())
}

// ------------------------------------------------------------------------- from logs

fn from_logs(
    args: &GradeArgs,
    global: &GlobalArgs,
    specs: &SpecTable,
    instances: &[SweInstance],
    dir: &Path,
) -> anyhow::Result<u8> {
    let entries = scan_log_dir(dir).map_err(usage)?;
    if entries.is_empty() {
        return Err(usage(anyhow::anyhow!(
            "no <instance_id>/test_output.txt under {}",
            dir.display()
        )));
    }
    let by_id: BTreeMap<&str, &SweInstance> = instances
        .iter()
        .map(|i| (i.instance_id.as_str(), i))
        .collect();
    let selected: Vec<_> = if args.instance_ids.is_empty() {
        entries.iter().collect()
    } else {
        entries
            .iter()
            .filter(|e| by_id.contains_key(e.instance_id.as_str()))
            .collect()
    };
    if let Some(bad) = selected
        .iter()
        .find(|e| !by_id.contains_key(e.instance_id.as_str()))
    {
        return Err(usage(anyhow::anyhow!(
            "{}: instance {} is not in the dataset {}",
            bad.dir.display(),
            bad.instance_id,
            args.dataset
        )));
    }
    let claimed = super::run_folder::claim(&args.output, args.run_id.as_deref(), "from-logs")?;
    let (run_id, run_dir) = (claimed.id.clone(), claimed.dir.clone());
    progress(
        global,
        &format!(
            "re-grading {} log(s) from {} ({} mode) into {}",
            selected.len(),
            dir.display(),
            args.mode,
            run_dir.display()
        ),
    );
    let started = Instant::now();
    let mut grades = BTreeMap::new();
    for e in &selected {
        let inst = by_id[e.instance_id.as_str()];
        let log = e.read_log().map_err(grader_error)?;
        let mut rec = regrade(inst, specs, &log, e.read_patch().as_deref(), args.mode);
        // The log stays where it is; the run folder gets the verdicts.
        rec.test_output = None;
        let out = run_dir.join(fsutil::sanitize_file_name(&e.instance_id));
        write_record(&out, &rec).map_err(grader_error)?;
        grades.insert(e.instance_id.clone(), rec.grade);
    }
    let submitted: BTreeSet<String> = selected.iter().map(|e| e.instance_id.clone()).collect();
    let summary = summarize_run(
        &run_dir,
        instances,
        &submitted,
        &grades,
        args.mode,
        "from-logs",
        &run_id,
    )?;
    let timing = json!({
        "wall_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "graded_now": selected.len(),
    });
    print_summary(args.json, &summary, &timing, &run_dir)?;
    Ok(exit::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_with_a_clear_error() {
        assert_eq!(parse_mode("v4.1"), Ok(GradeMode::V41));
        assert_eq!(parse_mode("strict"), Ok(GradeMode::Strict));
        assert!(parse_mode("lenient").unwrap_err().contains("v4.1"));
    }

    #[test]
    fn timing_of_no_records() {
        let t = timing_json(&[], Duration::from_millis(1500), 4);
        assert_eq!(t["wall_ms"], 1500);
        assert_eq!(t["mean_overhead_ms"], Value::Null);
    }
}
