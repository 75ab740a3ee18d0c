//! Helpers: a synthetic SWE-bench dataset, a mock model server that plays agent, summarizer
//! and judge, and config files that use both with the fake sandbox.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use agentscale_core::sandbox::SandboxProvider;
use agentscale_experiment::config::{LoadOptions, load};
use agentscale_experiment::orchestrator::progress::Progress;
use agentscale_experiment::orchestrator::{Backends, GradeBackend, Orchestrator};
use agentscale_experiment::run::{PrepareError, Prepared, RunRequest, prepare};
use agentscale_experiment::store::RunStore;
use agentscale_models::mock::{MockReply, MockRequest, MockServer};
use serde_json::{Value, json};

/// Write a SWE-bench JSONL dataset of `n` synthetic instances; returns its path.
pub fn write_dataset(dir: &Path, n: usize) -> PathBuf {
    let mut lines = String::new();
    for i in 0..n {
        let row = json!({
            "repo": "demo/synthetic",
            "instance_id": format!("demo__synthetic-{i}"),
            "base_commit": "0000000",
            "patch": "diff --git a/x.py b/x.py\n",
            "test_patch": "diff --git a/tests/t.py b/tests/t.py\n",
            "problem_statement": format!("Synthetic issue number {i}: the function returns the wrong value."),
            "hints_text": "",
            "created_at": "2026-01-01T00:00:00Z",
            "version": "0.1",
            "FAIL_TO_PASS": "[\"tests/t.py::test_a\"]",
            "PASS_TO_PASS": "[]",
            "environment_setup_commit": "0000000",
            "image_name": "agentscale/base:bookworm"
        });
        lines.push_str(&row.to_string());
        lines.push('\n');
    }
    let p = dir.join("data").join("instances.jsonl");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, lines).unwrap();
    p
}

/// Which role a mock request plays (from its system prompt).
pub fn role_of(r: &MockRequest) -> &'static str {
    let system = r
        .body
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.first())
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if system.starts_with("You summarize") {
        "summarizer"
    } else if system.starts_with("You are an impartial reviewer") {
        "judge"
    } else {
        "agent"
    }
}

/// A valid structured summary (SWE-bench shape) saying whether a check passed.
fn summary_json(verified: bool) -> String {
    json!({
        "requirements": {"objective": "fix the function", "expected_behavior": "right value",
            "current_behavior": "wrong value", "constraints": [], "success_criteria": ["tests pass"]},
        "exploration": {"files_examined": ["x.py"], "key_findings": [], "strategy": "edit x.py",
            "hypotheses": [], "strategy_changes": []},
        "code_changes": [],
        "commands": [],
        "errors": [],
        "evidence": {"confirmed": [], "claims": ["done"]},
        "verification": {"checks": [], "ran_after_last_edit": false,
            "not_verified": [if verified { "nothing" } else { "everything" }]},
        "final_state": {"completion_claim": "done", "claims_complete": true,
            "expected_artifacts": [], "unresolved_issues": []}
    })
    .to_string()
}

fn h(s: &str) -> u64 {
    let d = agentscale_core::hash::sha256_hex(s.as_bytes());
    u64::from_str_radix(&d[..12], 16).unwrap_or(0)
}

/// The mock's answers: agents submit `FIXED` (resolved by the fake grader) for a third of the
/// seeds sent with the request, otherwise a plain patch; summarizers a valid summary; judges
/// a verdict drawn from the request's content. Deterministic in the request.
pub fn reply(r: &MockRequest) -> MockReply {
    let body = r.raw_body.as_str();
    match role_of(r) {
        "summarizer" => MockReply::text(format!(
            "```json\n{}\n```",
            summary_json(body.contains("FIXED"))
        )),
        "judge" => {
            let n = body.matches("# Solution ").count().max(1) as u64;
            let seed = r.body.get("seed").and_then(Value::as_u64).unwrap_or(0);
            let pick = (h(body) ^ seed) % n + 1;
            MockReply::text(format!("I compare them.\n\nFinal verdict: Solution {pick}"))
        }
        _ => {
            let seed = r.body.get("seed").and_then(Value::as_u64).unwrap_or(0);
            let text = if seed.is_multiple_of(3) {
                "FIXED"
            } else {
                "attempt"
            };
            MockReply::text(format!(
                "THOUGHT: submitting.\n\n```bash-action\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo '{text} {seed}'\n```"
            ))
        }
    }
}

/// A mock server answering with [`reply`], capturing requests.
pub async fn mock() -> MockServer {
    let m = MockServer::start().await.unwrap();
    m.set_replier(reply);
    m.set_capture(true);
    m
}

/// Requests received, by role.
pub fn counts(m: &MockServer) -> BTreeMap<&'static str, usize> {
    let mut c = BTreeMap::new();
    for r in m.requests() {
        *c.entry(role_of(&r)).or_insert(0) += 1;
    }
    c
}

/// A config using the fake sandbox and the mock server.
pub fn config(dataset: &Path, base_url: &str, extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "t"
seed = 7
infra_retries = 2

[dataset]
path = "{}"

[[models]]
name = "mock-model"
provider = "openai"
base_url = "{base_url}"
send_seed = true
retry = {{ max_retries = 6, base_delay_ms = 1, max_delay_ms = 5 }}

[sandbox]
backend = "fake"

[scaling]
n = 4
iterations = 2
k = 2
group_size = 2
votes = 3
{extra}
"#,
        dataset.display()
    )
}

/// Write a config file and prepare a run of it under `out`.
pub async fn prepare_in(dir: &Path, text: &str, out: &Path) -> Result<Prepared, PrepareError> {
    let cfg = dir.join("exp.toml");
    std::fs::write(&cfg, text).unwrap();
    prepare(
        &RunRequest {
            target: cfg,
            overrides: vec![format!("experiment.output={}", out.display())],
            ..RunRequest::default()
        },
        None,
    )
    .await
}

/// Every CSV table of a run directory except timing ones, by name.
pub fn tables(run_dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(run_dir.join("tables")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.extension().is_some_and(|e| e == "csv") && !name.contains("timing") {
            out.insert(name, std::fs::read(&p).unwrap());
        }
    }
    out
}

/// An orchestrator for the config `text` (written under `dir`, run in `dir/run`) with this
/// sandbox provider and grader, and the config's models.
pub fn orchestrator_with(
    dir: &Path,
    text: &str,
    provider: Arc<dyn SandboxProvider>,
    grader: Arc<dyn GradeBackend>,
) -> Orchestrator {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("exp.toml");
    std::fs::write(&file, text).unwrap();
    let cfg = load(&file, &LoadOptions::default()).unwrap();
    let tasks = agentscale_experiment::run::load_tasks(&cfg.base).unwrap();
    let run_dir = dir.join("run");
    let store = Arc::new(RunStore::open(&run_dir).unwrap());
    let ledger = Arc::new(agentscale_models::Ledger::new());
    let models =
        agentscale_experiment::backends::models(&cfg.base, &tasks, &run_dir.join("calls"), &ledger)
            .unwrap();
    let backends = Backends {
        provider,
        models,
        grader,
        prompts: Arc::new(agentscale_scaling::Prompts::embedded()),
        ledger: Some(ledger),
    };
    Orchestrator::new(
        cfg,
        "r-test".into(),
        store,
        tasks,
        backends,
        Arc::new(Progress::new(None)),
    )
    .unwrap()
}
