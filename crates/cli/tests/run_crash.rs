//! Crash safety of `agentscale run`, end to end: the run process is killed with SIGKILL at
//! random points several times and resumed each time; the final tables equal those of an
//! uninterrupted run with the same seed, no rollout finishes twice, and the model calls made
//! again are at most the ones in flight at each kill (counted at the mock model server).
//! The fake sandbox keeps it fast and Docker-free; the model is the mock server over HTTP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agentscale_core::rng::Rng;
use agentscale_models::mock::{MockReply, MockRequest, MockServer};
use serde_json::{Value, json};

const TASKS: usize = 6;
const MAX_CONCURRENT: usize = 2;

fn write_dataset(dir: &Path) -> PathBuf {
    let mut lines = String::new();
    for i in 0..TASKS {
        let row = json!({
            "repo": "demo/crash", "instance_id": format!("demo__crash-{i}"), "base_commit": "c",
            "patch": "", "test_patch": "", "version": "1", "FAIL_TO_PASS": "[]", "PASS_TO_PASS": "[]",
            "problem_statement": format!("Crash test issue {i}."),
            "image_name": "agentscale/base:bookworm"
        });
        lines.push_str(&row.to_string());
        lines.push('\n');
    }
    let p = dir.join("data.jsonl");
    std::fs::write(&p, lines).unwrap();
    p
}

fn system_prompt(r: &MockRequest) -> String {
    r.body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Agents submit (a third of them a fixing patch), summarizers a valid summary, judges a
/// verdict drawn from the request: every reply is a function of the request.
fn reply(r: &MockRequest) -> MockReply {
    let sys = system_prompt(r);
    let seed = r.body.get("seed").and_then(Value::as_u64).unwrap_or(0);
    if sys.starts_with("You summarize") {
        let s = json!({
            "requirements": {"objective": "fix it", "expected_behavior": "works", "current_behavior": "broken"},
            "exploration": {"strategy": "edit"},
            "evidence": {},
            "verification": {"ran_after_last_edit": false},
            "final_state": {"completion_claim": "done", "claims_complete": true}
        });
        MockReply::text(format!("```json\n{s}\n```"))
    } else if sys.starts_with("You are an impartial reviewer") {
        let n = r.raw_body.matches("# Solution ").count().max(1) as u64;
        let h = agentscale_core::hash::sha256_hex(r.raw_body.as_bytes());
        let pick = u64::from_str_radix(&h[..8], 16).unwrap_or(0) % n + 1;
        MockReply::text(format!("Compared.\n\nFinal verdict: Solution {pick}"))
    } else {
        let text = if seed.is_multiple_of(3) {
            "FIXED"
        } else {
            "attempt"
        };
        MockReply::text(format!(
            "THOUGHT: done.\n\n```bash-action\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo '{text} {seed}'\n```"
        ))
    }
}

fn config(data: &Path, base_url: &str) -> String {
    format!(
        r#"[experiment]
name = "crash"
seed = 3

[dataset]
path = "{}"

[[models]]
name = "mock-model"
provider = "openai"
base_url = "{base_url}"
send_seed = true
limits = {{ max_concurrent = {MAX_CONCURRENT} }}

[sandbox]
backend = "fake"

[scaling]
n = 4
iterations = 2
k = 2
group_size = 2
votes = 3
"#,
        data.display()
    )
}

fn tables(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.parent().is_some_and(|x| x.ends_with("tables"))
                && p.extension().is_some_and(|x| x == "csv")
                && !p.to_string_lossy().contains("timing")
            {
                found.insert(
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    found
}

fn command(cfg: &Path, out: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_agentscale"));
    c.args(["run", &cfg.display().to_string(), "--set"])
        .arg(format!("experiment.output={}", out.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    c
}

fn events(out: &Path) -> Vec<Value> {
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "events.jsonl") {
                return std::fs::read_to_string(&p)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
            }
        }
    }
    Vec::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_then_resume_gives_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path());
    let server = MockServer::start().await.unwrap();
    server.set_replier(reply);
    server.set_latency(Duration::from_millis(60));
    let cfg = dir.path().join("crash.toml");
    std::fs::write(&cfg, config(&data, &server.openai_base_url())).unwrap();

    // A: uninterrupted
    let a = dir.path().join("a");
    let status = command(&cfg, &a).status().await.unwrap();
    assert!(status.success());
    let calls_a = server.request_count();

    // B: killed at random points, then resumed to the end
    let seed = std::env::var("AGENTSCALE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_124u64);
    let mut rng = Rng::new(seed);
    let b = dir.path().join("b");
    let mut kills = 0;
    let spawns = 4;
    for _ in 0..spawns {
        let delay = Duration::from_millis(300 + rng.below(1_700));
        let mut child = command(&cfg, &b).spawn().unwrap();
        if tokio::time::timeout(delay, child.wait()).await.is_err() {
            child.kill().await.unwrap(); // SIGKILL
            kills += 1;
        }
    }
    let status = command(&cfg, &b).status().await.unwrap();
    assert!(status.success());
    let calls_b = server.request_count() - calls_a;
    eprintln!(
        "seed {seed}: {kills} kills; calls uninterrupted {calls_a}, killed+resumed {calls_b}"
    );
    assert!(
        kills >= 2,
        "the run finished before it could be killed twice; slow the mock down"
    );

    assert_eq!(
        tables(&a),
        tables(&b),
        "tables differ after kills and resume"
    );
    assert!(
        calls_b <= calls_a + kills * MAX_CONCURRENT,
        "{calls_b} calls with {kills} kills vs {calls_a} uninterrupted: finished calls were repeated"
    );
    // no rollout finishes twice, and none starts again once finished
    let ev = events(&b);
    let mut finished: BTreeMap<String, usize> = BTreeMap::new();
    for e in &ev {
        let kind = e["event"]["kind"].as_str().unwrap_or("");
        let key = e["event"]["key"].as_str().unwrap_or("").to_string();
        match kind {
            "rollout_finished" => *finished.entry(key).or_insert(0) += 1,
            "rollout_started" => assert!(
                !finished.contains_key(&key),
                "{key} ran again after finishing"
            ),
            _ => {}
        }
    }
    assert_eq!(finished.len(), TASKS * 8);
    assert!(finished.values().all(|n| *n == 1));
    let starts = ev
        .iter()
        .filter(|e| e["event"]["kind"] == "run_started")
        .count();
    // every process logs its start, killed or not (a run that finished before its kill is
    // simply resumed, complete, by the next one)
    assert_eq!(starts, spawns + 1);
}
