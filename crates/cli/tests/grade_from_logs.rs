//! End-to-end tests of `agentscale grade --from-logs` (no Docker): the composio SWE-Kit run
//! of ../shared re-graded against its official reports, and located errors for bad inputs.

use std::path::{Path, PathBuf};
use std::process::Command;

use agentscale_core::testenv::{shared_path, workspace_root};
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

/// The composio SWE-Kit logs and the Verified Parquet they are graded against, from
/// ../shared (`None`, with the skip printed, where either is absent).
fn composio_logs_and_dataset(test: &str) -> Option<(PathBuf, PathBuf)> {
    let logs = shared_path(test, "runs/swe-bench-verified/composio-swekit-2024-09/logs")?;
    let ds = shared_path(
        test,
        "datasets/swe-bench-verified/test-00000-of-00001.parquet",
    )?;
    Some((logs, ds))
}

#[test]
fn composio_run_regraded_from_logs_matches_the_official_verdicts() {
    let name = "composio_run_regraded_from_logs_matches_the_official_verdicts";
    let Some((logs, ds)) = composio_logs_and_dataset(name) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "grade",
        "--from-logs",
        s(&logs),
        "--dataset",
        s(&ds),
        "--json",
        "--output",
        s(out_dir.path()),
        "--run-id",
        "composio",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = json(&o);
    assert_eq!(v["total_instances"], 500);
    assert_eq!(v["submitted_instances"], 95);
    assert_eq!(v["completed_instances"], 95);
    assert_eq!(v["schema_version"], 2);
    let mut official = Vec::new();
    for entry in std::fs::read_dir(&logs).unwrap() {
        let dir: PathBuf = entry.unwrap().path();
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap())
                .unwrap();
        if report[&id]["resolved"] == Value::Bool(true) {
            official.push(id);
        }
    }
    official.sort();
    assert_eq!(ids(&v, "resolved_ids"), official);
    assert_eq!(official.len(), 20);
    // The run folder holds one official report.json per instance and the summary.
    let run = out_dir.path().join("composio");
    assert!(run.join("summary.json").is_file());
    assert!(run.join("astropy__astropy-12907/report.json").is_file());
    assert!(!run.join("astropy__astropy-12907/test_output.txt").exists());
}

#[test]
fn a_log_folder_not_in_the_dataset_is_named() {
    let logs = tempfile::tempdir().unwrap();
    let bad = logs.path().join("nobody__nothing-1");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("test_output.txt"), "PASSED x\n").unwrap();
    let demo = workspace_root().join("datasets/demo/swe-bench");
    let out_dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "grade",
        "--from-logs",
        s(logs.path()),
        "--dataset",
        s(&demo),
        "--output",
        s(out_dir.path()),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("nobody__nothing-1"), "{}", o.stderr);
}

#[test]
fn a_demo_log_is_regraded_in_both_modes() {
    let demo = workspace_root().join("datasets/demo/swe-bench");
    let logs = tempfile::tempdir().unwrap();
    let dir = logs.path().join("demo__calcy-21");
    std::fs::create_dir_all(&dir).unwrap();
    // A run whose FAIL_TO_PASS test passed while the command failed with no failing test in
    // the log: fine for v4.1, forged for strict mode.
    let log = "+ : '>>>>> Start Test Output'\n\
               PASSED tests/test_eval.py::test_power_is_right_associative\n\
               + : '>>>>> End Test Output'\n>>>>> Test Exit Code: 1\n";
    std::fs::write(dir.join("test_output.txt"), log).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let grade = |mode: &str| {
        let o = run(&[
            "grade",
            "--from-logs",
            s(logs.path()),
            "--dataset",
            s(&demo),
            "--json",
            "--mode",
            mode,
            "--output",
            s(out_dir.path()),
            "--run-id",
            mode,
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        json(&o)
    };
    let v41 = grade("v4.1");
    // PASS_TO_PASS tests are missing from this log, so v4.1 does not resolve it either.
    assert_eq!(ids(&v41, "unresolved_ids"), ["demo__calcy-21"]);
    assert_eq!(v41["total_instances"], 9);
    assert_eq!(ids(&v41, "incomplete_ids").len(), 8);
    let strict = grade("strict");
    assert_eq!(ids(&strict, "unresolved_ids"), ["demo__calcy-21"]);
    let rec: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.path().join("strict/demo__calcy-21/grade.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec["log_problem"]["kind"], "exit_code_mismatch", "{rec}");
    let bad = run(&[
        "grade",
        "--from-logs",
        s(logs.path()),
        "--dataset",
        s(&demo),
        "--mode",
        "lenient",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("v4.1"), "{}", bad.stderr);
}

#[test]
fn instance_ids_narrow_the_regrade_and_an_unknown_id_is_named() {
    let name = "instance_ids_narrow_the_regrade_and_an_unknown_id_is_named";
    let Some((logs, ds)) = composio_logs_and_dataset(name) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let wanted = ["astropy__astropy-12907", "astropy__astropy-13236"];
    // Comma-separated in one argument, and space-separated as several: the same selection.
    let joined = wanted.join(",");
    let forms: [Vec<&str>; 2] = [vec![joined.as_str()], wanted.to_vec()];
    for (k, ids_args) in forms.iter().enumerate() {
        let run_id = format!("narrow-{k}");
        let mut args = vec![
            "grade",
            "--from-logs",
            s(&logs),
            "--dataset",
            s(&ds),
            "--json",
            "--output",
            s(out_dir.path()),
            "--run-id",
            &run_id,
            "--instance-ids",
        ];
        args.extend(ids_args.iter().copied());
        let o = run(&args);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v = json(&o);
        assert_eq!(v["total_instances"], 2, "{v}");
        assert_eq!(v["submitted_instances"], 2, "{v}");
        assert_eq!(v["completed_instances"], 2, "{v}");
        let mut seen = ids(&v, "completed_ids");
        seen.sort();
        assert_eq!(seen, wanted, "{v}");
        // Only the named instances got a report.
        let run = out_dir.path().join(&run_id);
        let mut reported: Vec<String> = std::fs::read_dir(&run)
            .unwrap()
            .filter_map(|e| {
                let e = e.unwrap();
                e.path()
                    .join("report.json")
                    .is_file()
                    .then(|| e.file_name().to_string_lossy().into_owned())
            })
            .collect();
        reported.sort();
        assert_eq!(reported, wanted);
    }
    let o = run(&[
        "grade",
        "--from-logs",
        s(&logs),
        "--dataset",
        s(&ds),
        "--output",
        s(out_dir.path()),
        "--instance-ids",
        "astropy__astropy-12907,nobody__nothing-1",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("--instance-ids") && o.stderr.contains("nobody__nothing-1"),
        "{}",
        o.stderr
    );
}

#[test]
fn two_regrades_started_together_write_two_folders_with_their_own_results() {
    let name = "two_regrades_started_together_write_two_folders_with_their_own_results";
    let Some((logs, ds)) = composio_logs_and_dataset(name) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let start = |mode: &str| {
        Command::new(env!("CARGO_BIN_EXE_agentscale"))
            .args([
                "grade",
                "--from-logs",
                s(&logs),
                "--dataset",
                s(&ds),
                "--mode",
                mode,
                "--json",
                "--output",
                s(out_dir.path()),
            ])
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs")
    };
    let children = [start("v4.1"), start("strict")];
    let mut folders = Vec::new();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let run_id = v["run_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_string();
        let summary: Value = serde_json::from_str(
            &std::fs::read_to_string(out_dir.path().join(&run_id).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(summary["run_id"], v["run_id"], "{summary}");
        assert_eq!(summary["mode"], v["mode"], "{summary}");
        folders.push(run_id);
    }
    assert_ne!(folders[0], folders[1]);
    let dirs = std::fs::read_dir(out_dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(dirs, 2);
}
