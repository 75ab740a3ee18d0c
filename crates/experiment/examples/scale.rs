//! The orchestrator's own throughput: 1,000 tasks × 16 rollouts with a scripted model (zero
//! latency), the in-process fake sandbox and the marker grader, written to a real run store
//! (every artifact fsync'd). Prints one JSON object: rollouts per second and peak memory, for
//! rollouts only (`method = "none"`) and for the full standalone RTV pipeline (summaries and
//! G=2, V=8 tournaments). Peak memory is the process's high-water mark, so when both run in
//! one process the second figure covers the first too; pass `rtv` (or `none`) as the third
//! argument to measure one pipeline alone.
//!
//! ```text
//! cargo run --release -p agentscale-experiment --example scale [-- TASKS N [none|rtv|both]]
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use agentscale_core::model::{CallRole, ModelResponse, ScriptedModel};
use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_core::{SweInstance, Task};
use agentscale_experiment::config::{LoadOptions, load_str};
use agentscale_experiment::orchestrator::progress::Progress;
use agentscale_experiment::orchestrator::{Backends, MarkerGrader, Orchestrator};
use agentscale_experiment::store::RunStore;

fn tasks(n: usize) -> Vec<Task> {
    (0..n)
        .map(|i| {
            let row = serde_json::json!({
                "repo": "demo/scale", "instance_id": format!("demo__scale-{i}"), "base_commit": "c",
                "patch": "", "test_patch": "", "version": "1", "FAIL_TO_PASS": "[]",
                "PASS_TO_PASS": "[]", "problem_statement": format!("Scale issue {i}."),
                "image_name": "agentscale/base:bookworm"
            });
            let inst: SweInstance = serde_json::from_value(row).expect("a valid synthetic row");
            Task::SweBench(inst)
        })
        .collect()
}

fn summary() -> String {
    serde_json::json!({
        "requirements": {"objective": "fix it", "expected_behavior": "works", "current_behavior": "broken"},
        "exploration": {"strategy": "edit"},
        "evidence": {},
        "verification": {"ran_after_last_edit": false},
        "final_state": {"completion_claim": "done", "claims_complete": true}
    })
    .to_string()
}

fn model() -> ScriptedModel {
    let s = summary();
    ScriptedModel::from_fn("scripted", move |req| {
        let text = match req.role {
            CallRole::Summarizer => format!("```json\n{s}\n```"),
            CallRole::Judge => "Final verdict: Solution 1".to_string(),
            _ => format!(
                "```bash-action\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo 'FIXED {}'\n```",
                req.sample_index % 3
            ),
        };
        Ok(ModelResponse::text("scripted", text))
    })
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn one(dir: &Path, tasks: &[Task], n: u32, method: &str) -> serde_json::Value {
    let text = format!(
        "[experiment]\nname = \"scale\"\n[dataset]\npath = \"x\"\n[[models]]\nname = \"scripted\"\n\
         provider = \"scripted\"\nscript = \"demo\"\n[sandbox]\nbackend = \"fake\"\nconcurrency = 64\n\
         [scaling]\nmethod = \"{method}\"\nn = {n}\niterations = 1\ngroup_size = 2\nvotes = 8\n\
         [grading]\nconcurrency = 64\n"
    );
    let opts = LoadOptions {
        check_files: false,
        ..LoadOptions::default()
    };
    let cfg = load_str(&dir.join("scale.toml"), &text, &opts).expect("a valid config");
    let store = Arc::new(RunStore::open(&dir.join(method)).expect("a run store"));
    let mut models: std::collections::BTreeMap<String, Arc<dyn agentscale_core::model::Model>> =
        std::collections::BTreeMap::new();
    models.insert("scripted".into(), Arc::new(model()));
    let backends = Backends {
        provider: Arc::new(FakeProvider::new(
            agentscale_experiment::backends::fake_shell,
        )),
        models,
        grader: Arc::new(MarkerGrader::default()),
        prompts: Arc::new(agentscale_scaling::Prompts::embedded()),
        ledger: None,
    };
    let o = Orchestrator::new(
        cfg,
        format!("r-scale-{method}"),
        store,
        tasks.to_vec(),
        backends,
        Arc::new(Progress::new(None)),
    )
    .expect("an orchestrator");
    let t0 = Instant::now();
    let s = o.run().await.expect("the run");
    let secs = t0.elapsed().as_secs_f64();
    let stage = |name: &str| {
        s.progress
            .stages
            .iter()
            .find(|x| x.stage.as_str() == name)
            .map_or(0, |x| x.done)
    };
    serde_json::json!({
        "method": method,
        "tasks": tasks.len(),
        "rollouts": stage("rollouts"),
        "summaries": stage("summaries"),
        "votes": stage("votes"),
        "grades": stage("grading"),
        "seconds": (secs * 100.0).round() / 100.0,
        "rollouts_per_sec": (stage("rollouts") as f64 / secs).round(),
        "peak_rss_mb": peak_rss_mb().round(),
        "complete": s.complete,
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_tasks = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let n = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let dir = std::env::temp_dir().join(format!("agentscale-scale-{}", std::process::id()));
    let which = args.get(3).map_or("both", String::as_str);
    if !matches!(which, "none" | "rtv" | "both") {
        eprintln!("scale: the third argument is none, rtv or both, not {which:?}");
        std::process::exit(2);
    }
    let t = tasks(n_tasks);
    let mut out = serde_json::Map::new();
    if which != "rtv" {
        out.insert("rollouts_only".into(), one(&dir, &t, n, "none").await);
    }
    if which != "none" {
        out.insert("standalone_rtv".into(), one(&dir, &t, n, "rtv").await);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::Value::Object(out)).unwrap_or_default()
    );
}
