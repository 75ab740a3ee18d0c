//! `agentscale dataset list|show|validate|fetch`.
//!
//! A dataset argument is a path (file or folder) or a name from the registry
//! (`datasets/registry.toml`, compiled in; `--registry FILE` or `$AGENTSCALE_REGISTRY` adds or
//! replaces entries). Names resolve to fetched copies under `--data-dir`
//! (`$AGENTSCALE_DATA_DIR`, default `~/.cache/agentscale/datasets`).
//!
//! Exit codes: 0 fine; 1 the dataset has errors, a checksum mismatch; 2 bad usage (unknown
//! name, missing path, malformed filter); 3 a download or git fetch failed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use agentscale_core::{Task, TbTask};
use agentscale_datasets::{
    Dataset, DatasetError, Downloader, Format, LoadOptions, Registry, Resolved, Selection, Summary,
    Validation, default_data_dir, fetch, tb,
};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::cli::GlobalArgs;
use crate::exit;

/// Arguments of `agentscale dataset`.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// A registry file whose entries replace the built-in ones by name and add new ones.
    #[arg(long, global = true, value_name = "FILE", env = "AGENTSCALE_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Where fetched datasets live [default: ~/.cache/agentscale/datasets].
    #[arg(long, global = true, value_name = "DIR", env = "AGENTSCALE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The dataset subcommand.
    #[command(subcommand)]
    pub command: DatasetCommand,
}

/// Dataset subcommands.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// List the known datasets and whether a copy is on this machine.
    List(ListArgs),
    /// Print one task with all its fields (`NAME:ID` or `PATH:ID`), or a dataset's ids.
    Show(ShowArgs),
    /// Check a dataset: counts by repo, difficulty and missing parts, and every problem with
    /// its file, line, row, id and field. Exits 1 when the dataset has errors.
    Validate(ValidateArgs),
    /// Download a registry dataset into the data folder and verify its checksum.
    Fetch(FetchArgs),
}

/// Arguments of `agentscale dataset list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `agentscale dataset show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// `DATASET:ID`, or `DATASET` alone to list its ids. DATASET is a path or registry name.
    #[arg(value_name = "DATASET[:ID]")]
    pub spec: String,
    /// The instance id or task name (instead of `:ID`).
    pub id: Option<String>,
    /// The split of a Hugging Face export folder.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `agentscale dataset validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A path (file or folder) or a registry name.
    pub dataset: String,
    /// The split of a Hugging Face export folder.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Keep tasks matching KEY=VALUE; KEY is id, repo, regex, difficulty or exclude. Repeat
    /// for more; values other than regex may be comma-separated. Applied before --slice.
    #[arg(long, value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Python-style START:END over the filtered tasks (e.g. 0:50, -10:).
    #[arg(long, value_name = "START:END", allow_hyphen_values = true)]
    pub slice: Option<String>,
    /// Draw N tasks at random (after filters and slice), reproducibly for a given --seed.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of --sample [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `agentscale dataset fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The registry name (`agentscale dataset list` shows them).
    pub name: String,
    /// Download again even when a verified copy is present.
    #[arg(long)]
    pub force: bool,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `agentscale dataset`.
pub async fn run(args: DatasetArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    let registry = Registry::load(args.registry.as_deref()).map_err(coded)?;
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    match args.command {
        DatasetCommand::List(a) => list(&registry, &data_dir, &a),
        DatasetCommand::Show(a) => show(&registry, &data_dir, &a),
        DatasetCommand::Validate(a) => validate(&registry, &data_dir, &a),
        DatasetCommand::Fetch(a) => fetch_cmd(&registry, &data_dir, &a).await,
    }
}

/// Attach the right exit code to a dataset error.
fn coded(e: DatasetError) -> anyhow::Error {
    let code = match &e {
        e if e.is_usage() => exit::USAGE,
        DatasetError::Download { .. } | DatasetError::Git { .. } => exit::INFRA,
        _ => exit::FAILURE,
    };
    exit::with_code(code, e)
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

// ---------------------------------------------------------------------------------- list

fn list(registry: &Registry, data_dir: &Path, a: &ListArgs) -> anyhow::Result<u8> {
    let rows: Vec<(String, Option<PathBuf>)> = registry
        .entries()
        .iter()
        .map(|e| (e.name.clone(), e.local_path(data_dir)))
        .collect();
    if a.json {
        let datasets: Vec<Value> = registry
            .entries()
            .iter()
            .zip(&rows)
            .map(|(e, (_, local))| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("present".into(), Value::Bool(local.is_some()));
                    m.insert("local_path".into(), json!(local));
                }
                v
            })
            .collect();
        print_json(&json!({ "data_dir": data_dir, "datasets": datasets }))?;
        return Ok(exit::SUCCESS);
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(4).max(4);
    println!("{:width$}  {:14}  LOCAL COPY", "NAME", "BENCHMARK");
    for (e, (_, local)) in registry.entries().iter().zip(&rows) {
        let status = match (local, &e.source) {
            (Some(p), _) => p.display().to_string(),
            (None, agentscale_datasets::Source::Path { .. }) => {
                "missing (not found beside this binary or in the current folder)".to_string()
            }
            (None, _) => format!("not fetched (agentscale dataset fetch {})", e.name),
        };
        println!("{:width$}  {:14}  {status}", e.name, e.benchmark.as_str());
        println!("{:width$}  {}", "", e.description);
        println!("{:width$}  from {}", "", e.source_text());
    }
    println!("\ndata folder: {}", data_dir.display());
    Ok(exit::SUCCESS)
}

// ---------------------------------------------------------------------------------- show

fn show(registry: &Registry, data_dir: &Path, a: &ShowArgs) -> anyhow::Result<u8> {
    let (resolved, id_in_spec) = registry.resolve_with_id(&a.spec, data_dir).map_err(coded)?;
    let id = match (id_in_spec, &a.id) {
        (Some(_), Some(_)) => {
            return Err(exit::with_code(
                exit::USAGE,
                anyhow::anyhow!("give the id either as DATASET:ID or as a second argument"),
            ));
        }
        (Some(i), None) => Some(i),
        (None, i) => i.clone(),
    };
    let v = agentscale_datasets::validate(
        &resolved.path,
        &LoadOptions {
            split: a.split.clone(),
        },
    )
    .map_err(coded)?;
    for w in &v.findings.warnings {
        tracing::warn!("{w}");
    }
    if !v.is_ok() {
        tracing::warn!(
            "{} has {} error(s); tasks with errors are left out (`agentscale dataset validate` \
             lists them)",
            resolved.path.display(),
            v.findings.errors.len()
        );
    }
    let ds = v.dataset;
    let Some(id) = id else {
        let ids: Vec<String> = ds.tasks.iter().map(|t| t.id().0).collect();
        if a.json {
            print_json(&ids)?;
        } else {
            for i in ids {
                println!("{i}");
            }
        }
        return Ok(exit::SUCCESS);
    };
    let Some(task) = ds.get(&id) else {
        let similar: Vec<String> = ds
            .tasks
            .iter()
            .map(|t| t.id().0)
            .filter(|t| t.contains(id.as_str()) || id.contains(t.as_str()))
            .take(5)
            .collect();
        // The dataset alone, without the id that was not found (`NAME:ID` → `NAME`).
        let dataset = a
            .spec
            .strip_suffix(id.as_str())
            .and_then(|s| s.strip_suffix(':'))
            .filter(|_| a.id.is_none())
            .unwrap_or(&a.spec);
        let hint = if similar.is_empty() {
            format!("`agentscale dataset show {dataset}` lists the ids")
        } else {
            format!("similar: {}", similar.join(", "))
        };
        return Err(exit::with_code(
            exit::USAGE,
            anyhow::anyhow!(
                "no task `{id}` in {} ({} tasks); {hint}",
                resolved.path.display(),
                ds.len()
            ),
        ));
    };
    if a.json {
        print_json(task)?;
    } else {
        print!("{}", render_task(task));
    }
    Ok(exit::SUCCESS)
}

fn section(out: &mut String, title: &str, body: &str) {
    let _ = writeln!(out, "\n--- {title} ---");
    out.push_str(body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
}

fn render_task(task: &Task) -> String {
    let mut out = String::new();
    match task {
        Task::SweBench(i) => {
            for (k, v) in [
                ("instance_id", i.instance_id.as_str()),
                ("repo", &i.repo),
                ("base_commit", &i.base_commit),
                ("version", &i.version),
                ("created_at", &i.created_at),
                ("environment_setup_commit", &i.environment_setup_commit),
                ("difficulty", i.difficulty.as_deref().unwrap_or("-")),
            ] {
                let _ = writeln!(out, "{k}: {v}");
            }
            for (name, tests) in [
                ("FAIL_TO_PASS", &i.fail_to_pass),
                ("PASS_TO_PASS", &i.pass_to_pass),
            ] {
                let _ = writeln!(out, "{name} ({}):", tests.len());
                for t in tests {
                    let _ = writeln!(out, "  {t}");
                }
            }
            for (k, v) in &i.extra {
                let _ = writeln!(
                    out,
                    "{k}: {}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                );
            }
            section(&mut out, "problem_statement", &i.problem_statement);
            section(&mut out, "hints_text", &i.hints_text);
            section(&mut out, "patch", &i.patch);
            section(&mut out, "test_patch", &i.test_patch);
        }
        Task::TerminalBench(t) => render_tb(&mut out, t),
    }
    out
}

fn render_tb(out: &mut String, t: &TbTask) {
    let c = &t.config;
    let missing = tb::missing_parts(&t.dir, &t.parts);
    let format = match c.format {
        agentscale_core::task::TbFormat::V2_0 => "2.0",
        agentscale_core::task::TbFormat::V2_1 => "2.1",
    };
    for (k, v) in [
        ("name", t.name.clone()),
        ("dir", t.dir.display().to_string()),
        ("format", format.to_string()),
        (
            "difficulty",
            c.difficulty.clone().unwrap_or_else(|| "-".into()),
        ),
        ("category", c.category.clone().unwrap_or_else(|| "-".into())),
        ("tags", c.tags.join(", ")),
        ("agent_timeout_sec", c.agent_timeout_sec.to_string()),
        ("verifier_timeout_sec", c.verifier_timeout_sec.to_string()),
        ("build_timeout_sec", c.build_timeout_sec.to_string()),
        (
            "docker_image",
            c.docker_image.clone().unwrap_or_else(|| "-".into()),
        ),
        ("cpus", c.cpus.to_string()),
        ("memory_mb", c.memory_mb.to_string()),
        ("storage_mb", c.storage_mb.to_string()),
        ("allow_internet", c.allow_internet.to_string()),
        (
            "workdir",
            c.workdir
                .clone()
                .unwrap_or_else(|| "(the image's WORKDIR)".into()),
        ),
        (
            "missing parts",
            if missing.is_empty() {
                "none".into()
            } else {
                missing.join(", ")
            },
        ),
    ] {
        let _ = writeln!(out, "{k}: {v}");
    }
    for (k, v) in &c.metadata {
        let _ = writeln!(
            out,
            "metadata.{k}: {}",
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        );
    }
    section(out, "instruction.md", &t.instruction);
}

// ------------------------------------------------------------------------------ validate

fn selection(a: &ValidateArgs) -> Result<Selection, DatasetError> {
    let mut s = Selection::default();
    for f in &a.filter {
        s.add_filter(f)?;
    }
    if let Some(slice) = &a.slice {
        s.slice = Some(slice.parse().map_err(DatasetError::Selection)?);
    }
    s.sample = a.sample;
    s.seed = a.seed;
    Ok(s)
}

fn validate(registry: &Registry, data_dir: &Path, a: &ValidateArgs) -> anyhow::Result<u8> {
    let sel = selection(a).map_err(coded)?;
    let resolved = registry.resolve(&a.dataset, data_dir).map_err(coded)?;
    let opts = LoadOptions {
        split: a.split.clone(),
    };
    let v = match agentscale_datasets::validate(&resolved.path, &opts) {
        Ok(v) => v,
        Err(e) => {
            if a.json && !e.is_usage() {
                print_json(&json!({
                    "ok": false,
                    "source": resolved.path,
                    "errors": [{ "file": resolved.path, "message": e.to_string() }],
                }))?;
            }
            return Err(coded(e));
        }
    };
    let total = v.dataset.len();
    let selected = if sel.is_everything() {
        None
    } else {
        Some(v.dataset.select(&sel).map_err(coded)?)
    };
    let shown: &Dataset = selected.as_ref().unwrap_or(&v.dataset);
    let summary = shown.summary();
    if a.json {
        print_json(&validate_json(
            &v,
            &resolved,
            &summary,
            selected.as_ref().map(|s| (s, &sel, total)),
        ))?;
        for p in &v.findings.errors {
            eprintln!("error: {p}");
        }
    } else {
        print!(
            "{}",
            validate_text(
                &v,
                &resolved,
                &summary,
                selected.as_ref().map(|s| (s, total))
            )
        );
    }
    if v.is_ok() {
        Ok(exit::SUCCESS)
    } else {
        eprintln!(
            "error: {} has {} error(s); fix them or drop those rows",
            resolved.path.display(),
            v.findings.errors.len()
        );
        Ok(exit::FAILURE)
    }
}

fn validate_json(
    v: &Validation,
    resolved: &Resolved,
    summary: &Summary,
    selection: Option<(&Dataset, &Selection, usize)>,
) -> Value {
    let mut m = Map::new();
    m.insert("ok".into(), Value::Bool(v.is_ok()));
    if let Some(e) = &resolved.entry {
        m.insert("name".into(), Value::String(e.name.clone()));
    }
    if let Ok(Value::Object(s)) = serde_json::to_value(summary) {
        m.extend(s);
    }
    m.insert("files".into(), json!(v.dataset.files));
    if let Some((ds, sel, total)) = selection {
        m.insert("selection".into(), json!(sel));
        m.insert("total_before_selection".into(), json!(total));
        m.insert(
            "ids".into(),
            json!(ds.tasks.iter().map(|t| t.id().0).collect::<Vec<_>>()),
        );
    }
    m.insert("error_count".into(), json!(v.findings.errors.len()));
    m.insert("warning_count".into(), json!(v.findings.warnings.len()));
    m.insert("errors".into(), json!(v.findings.errors));
    m.insert("warnings".into(), json!(v.findings.warnings));
    Value::Object(m)
}

/// Counts sorted by count (descending), then name.
fn by_count(m: &BTreeMap<String, usize>) -> Vec<(&String, &usize)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v
}

fn table(out: &mut String, title: &str, m: &BTreeMap<String, usize>) {
    if m.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    let width = m.keys().map(String::len).max().unwrap_or(0);
    for (k, n) in by_count(m) {
        let _ = writeln!(out, "  {k:width$}  {n:>4}");
    }
}

fn validate_text(
    v: &Validation,
    resolved: &Resolved,
    s: &Summary,
    selection: Option<(&Dataset, usize)>,
) -> String {
    let mut out = String::new();
    let name = resolved
        .entry
        .as_ref()
        .map(|e| format!("{} = ", e.name))
        .unwrap_or_default();
    let format = match s.format {
        Format::HuggingFace => format!("hugging-face export, {} file(s)", v.dataset.files.len()),
        f => f.as_str().to_string(),
    };
    let _ = writeln!(
        out,
        "{} dataset {name}{} ({format})",
        s.benchmark,
        s.source.display()
    );
    let count = s.instances.or(s.tasks).unwrap_or(0);
    let noun = if s.instances.is_some() {
        "instances"
    } else {
        "tasks"
    };
    match selection {
        Some((_, total)) => {
            let _ = writeln!(
                out,
                "{count} of {total} {noun} selected (filter → slice → sample)"
            );
        }
        None => {
            let _ = writeln!(out, "{count} {noun}");
        }
    }
    table(&mut out, "by repo", &s.by_repo);
    table(&mut out, "by difficulty", &s.by_difficulty);
    table(&mut out, "by category", &s.by_category);
    if !s.lacking.is_empty() {
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for l in &s.lacking {
            groups
                .entry(l.missing.join(", "))
                .or_default()
                .push(&l.task);
        }
        let _ = writeln!(
            out,
            "missing parts (not an error: such tasks run from their docker_image where a \
             registry is reachable, and cannot be graded without tests/):"
        );
        for (parts, tasks) in groups {
            let mut names = tasks.iter().take(6).copied().collect::<Vec<_>>().join(", ");
            if tasks.len() > 6 {
                names.push_str(", …");
            }
            let _ = writeln!(out, "  {} task(s) lack {parts}: {names}", tasks.len());
        }
    }
    if let Some((ds, _)) = selection {
        let _ = writeln!(out, "selected:");
        for t in &ds.tasks {
            let _ = writeln!(out, "  {}", t.id());
        }
    }
    for p in &v.findings.warnings {
        let _ = writeln!(out, "warning: {p}");
    }
    for p in &v.findings.errors {
        let _ = writeln!(out, "error: {p}");
    }
    let _ = writeln!(
        out,
        "{} error(s), {} warning(s)",
        v.findings.errors.len(),
        v.findings.warnings.len()
    );
    out
}

// --------------------------------------------------------------------------------- fetch

/// Downloads through `agentscale-models` (reqwest, streamed to disk).
struct HttpDownloader;

impl Downloader for HttpDownloader {
    async fn download(
        &self,
        url: &str,
        dest: &Path,
    ) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
        Ok(agentscale_models::download_file(url, dest).await?)
    }
}

async fn fetch_cmd(registry: &Registry, data_dir: &Path, a: &FetchArgs) -> anyhow::Result<u8> {
    let entry = registry.require(&a.name).map_err(coded)?;
    let got = fetch(entry, data_dir, &HttpDownloader, a.force)
        .await
        .map_err(coded)?;
    if a.json {
        print_json(&got)?;
    } else if got.already_present {
        println!(
            "{} is already at {} (verified)",
            got.name,
            got.path.display()
        );
    } else {
        let what = match (&got.sha256, &got.commit) {
            (Some(sha), _) => format!("{} bytes, sha256 {sha} verified", got.bytes),
            (None, Some(commit)) => format!("commit {commit}"),
            (None, None) => String::new(),
        };
        println!("fetched {} to {} ({what})", got.name, got.path.display());
    }
    Ok(exit::SUCCESS)
}
