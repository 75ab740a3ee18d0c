//! End-to-end tests of `agentscale grade` on the demo dataset: gold resolves everything (in
//! real containers), empty predictions need no Docker, a run resumes, and bad predictions
//! are errors that name the instance.

use std::path::Path;
use std::process::Command;

use agentscale_core::testenv::{self, workspace_root};
use serde_json::Value;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_agentscale"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(o: &Out) -> Value {
    serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", o.stdout, o.stderr))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn demo() -> std::path::PathBuf {
    workspace_root().join("datasets/demo/swe-bench")
}

fn demo_ids() -> Vec<String> {
    let text = std::fs::read_to_string(demo().join("instances.jsonl")).unwrap();
    let mut ids: Vec<String> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["instance_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn empty_predictions_are_empty_patches_without_docker() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "grade",
        "--dataset",
        s(&demo()),
        "--predictions",
        "empty",
        "--json",
        "--output",
        s(out.path()),
        "--run-id",
        "empty",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = json(&o);
    assert_eq!(ids(&v, "empty_patch_ids"), demo_ids());
    assert!(ids(&v, "resolved_ids").is_empty());
    assert_eq!(v["completed_instances"], 0);
    assert_eq!(v["error_instances"], 0);
}

#[test]
fn predictions_naming_an_unknown_instance_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let preds = dir.path().join("preds.jsonl");
    std::fs::write(
        &preds,
        "{\"instance_id\": \"demo__textkit-7\", \"model_name_or_path\": \"m\", \"model_patch\": \"\"}\n\
         {\"instance_id\": \"demo__nope-1\", \"model_name_or_path\": \"m\", \"model_patch\": \"\"}\n",
    )
    .unwrap();
    let o = run(&[
        "grade",
        "--dataset",
        s(&demo()),
        "--predictions",
        s(&preds),
        "--output",
        s(dir.path()),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("demo__nope-1"), "{}", o.stderr);
    std::fs::write(&preds, "{\"instance_id\": \"demo__textkit-7\"}\n{broken\n").unwrap();
    let o = run(&["grade", "--dataset", s(&demo()), "--predictions", s(&preds)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("line 2"), "{}", o.stderr);
    // a predictions file that is not there is bad input (2), not a failed run (1)
    let missing = dir.path().join("no-such-preds.jsonl");
    let o = run(&[
        "grade",
        "--dataset",
        s(&demo()),
        "--predictions",
        s(&missing),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("no-such-preds.jsonl"), "{}", o.stderr);
    let tb = workspace_root().join("datasets/demo/terminal-bench");
    let o = run(&["grade", "--dataset", s(&tb), "--predictions", "gold"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("Terminal-Bench"), "{}", o.stderr);
}

#[test]
fn gold_resolves_every_demo_instance_and_the_run_resumes() {
    if !testenv::docker_image_available("gold_resolves_every_demo_instance", &testenv::base_image())
    {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let d = demo();
    let args = [
        "grade",
        "--dataset",
        s(&d),
        "--predictions",
        "gold",
        "--json",
        "--output",
        s(out.path()),
        "--run-id",
        "gold",
        "--concurrency",
        "3",
        "--mode",
        "strict",
    ];
    let o = run(&args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = json(&o);
    assert_eq!(ids(&v, "resolved_ids"), demo_ids(), "{}", o.stderr);
    assert_eq!(v["error_instances"], 0);
    assert_eq!(v["timing"]["tests_ran"], demo_ids().len());
    let inst = out.path().join("gold/demo__textkit-7");
    for f in [
        "report.json",
        "test_output.txt",
        "eval.sh",
        "patch.diff",
        "grade.json",
    ] {
        assert!(inst.join(f).is_file(), "{f}");
    }
    assert!(out.path().join("gold/gold.gold.json").is_file());
    // The same run id again: nothing is graded a second time.
    let again = run(&args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("already graded"), "{}", again.stderr);
    assert_eq!(json(&again)["timing"]["graded_now"], 0);
    assert_eq!(ids(&json(&again), "resolved_ids"), demo_ids());
    // Another mode under the same run id is refused.
    let mut v41 = args.to_vec();
    let last = v41.len() - 1;
    v41[last] = "v4.1";
    let o = run(&v41);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("another --run-id"), "{}", o.stderr);
}

#[test]
fn broken_and_unsafe_patches_are_errors_with_reasons() {
    if !testenv::docker_image_available("broken_and_unsafe_patches", &testenv::base_image()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let preds = dir.path().join("preds.json");
    let bad = "diff --git a/textkit/slug.py b/textkit/slug.py\n--- a/textkit/slug.py\n\
               +++ b/textkit/slug.py\n@@ -1,2 +1,2 @@\n-no such line\n+x\n no such context\n";
    let outside = "diff --git a/../outside b/../outside\nnew file mode 100644\n\
                   --- /dev/null\n+++ b/../outside\n@@ -0,0 +1 @@\n+x\n";
    let v = serde_json::json!({
        "demo__textkit-7": {"model_name_or_path": "m", "model_patch": bad},
        "demo__textkit-9": {"model_name_or_path": "m", "model_patch": outside},
    });
    std::fs::write(&preds, v.to_string()).unwrap();
    let o = run(&[
        "grade",
        "--dataset",
        s(&demo()),
        "--predictions",
        s(&preds),
        "--json",
        "--output",
        s(dir.path()),
        "--run-id",
        "bad",
        // strict: patch hygiene before any container (v4.1 leaves it to the apply chain)
        "--mode",
        "strict",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = json(&o);
    assert_eq!(ids(&v, "error_ids"), ["demo__textkit-7", "demo__textkit-9"]);
    assert!(ids(&v, "unresolved_ids").is_empty());
    assert!(ids(&v, "infra_error_ids").is_empty());
    let reasons = &v["error_reasons"];
    assert!(
        reasons["demo__textkit-7"]
            .as_str()
            .unwrap()
            .starts_with("patch_apply_failed"),
        "{reasons}"
    );
    let r9 = reasons["demo__textkit-9"].as_str().unwrap();
    assert!(
        r9.starts_with("patch_rejected") && r9.contains("../outside"),
        "{r9}"
    );
    assert_eq!(v["total_instances"], 9);
    assert_eq!(ids(&v, "incomplete_ids").len(), 7);
}
