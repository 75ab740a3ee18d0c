//! End-to-end tests of `agentscale run`: `--set experiment.output=DIR` puts the run under DIR,
//! `--json` prints the summary object, and a run directory given instead of a config resumes
//! with its own run.toml (finding everything done) and refuses overrides.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn agentscale(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_agentscale"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const CONFIG: &str = r#"[experiment]
name = "cli"
seed = 5

[dataset]
path = "data.jsonl"

[[models]]
name = "demo-scripted"
provider = "scripted"
script = "demo"

[sandbox]
backend = "fake"

[scaling]
n = 2
iterations = 2
k = 1
votes = 1
"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let row = serde_json::json!({
        "repo": "demo/cli", "instance_id": "demo__cli-1", "base_commit": "c",
        "patch": "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-a\n+b\n",
        "test_patch": "", "version": "1", "FAIL_TO_PASS": "[]", "PASS_TO_PASS": "[]",
        "problem_statement": "The CLI test issue.", "image_name": "agentscale/base:bookworm"
    });
    std::fs::write(dir.path().join("data.jsonl"), format!("{row}\n")).unwrap();
    std::fs::write(dir.path().join("exp.toml"), CONFIG).unwrap();
    dir
}

fn stage(v: &Value, name: &str, field: &str) -> u64 {
    v["progress"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .and_then(|s| s[field].as_u64())
        .unwrap()
}

#[test]
fn output_flag_json_summary_and_resume_from_the_run_directory() {
    let dir = setup();
    let out = dir.path().join("elsewhere");
    let out_s = format!("experiment.output={}", out.display());
    let (code, stdout, stderr) =
        agentscale(&["run", "exp.toml", "--set", &out_s, "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["complete"], true);
    let run_dir = std::path::PathBuf::from(v["run_dir"].as_str().unwrap());
    assert!(
        run_dir.starts_with(out.join("cli")),
        "{}",
        run_dir.display()
    );
    assert!(run_dir.join("tables/rollouts.csv").is_file());
    assert!(run_dir.join("tables/rollouts.parquet").is_file());
    assert!(run_dir.join("run.toml").is_file());
    assert!(
        !dir.path().join("results").exists(),
        "nothing goes to the default folder"
    );
    assert_eq!(stage(&v, "rollouts", "done"), 4);
    assert_eq!(v["systems"][0]["system"], "demo-scripted");

    // the run directory resumes with its run.toml: everything is found done
    let rd = run_dir.display().to_string();
    let (code, stdout, stderr) = agentscale(&["run", &rd, "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let again: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(again["run_id"], v["run_id"]);
    assert_eq!(stage(&again, "rollouts", "reused"), 4);
    assert_eq!(stage(&again, "summaries", "reused"), 4);
    assert_eq!(stage(&again, "grading", "reused"), 4);

    // overrides do not apply to a run directory
    let (code, _, stderr) = agentscale(&["run", &rd, "--set", "scaling.n=3"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("is a run directory"), "{stderr}");
}

#[test]
fn human_summary_says_where_the_results_are() {
    let dir = setup();
    let (code, stdout, stderr) = agentscale(
        &["run", "exp.toml", "--set", "experiment.output=out"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("results: "), "{stdout}");
    assert!(stdout.contains("demo-scripted"), "{stdout}");
    assert!(stdout.contains("tables: "), "{stdout}");
    assert!(stderr.contains("run r-"), "{stderr}");
}

/// The workspace root (configs/ lives there).
fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dry_stage_sum(v: &Value, stage: &str, field: &str) -> u64 {
    v["systems"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| stage.is_empty() || s["stage"] == stage)
        .map(|s| s[field].as_u64().unwrap())
        .sum()
}

#[test]
fn the_paper_config_dry_runs_without_api_keys_docker_or_data() {
    let data = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_agentscale"))
        .args([
            "run",
            "configs/paper/swe-verified-claude-opus-4.5.toml",
            "--dry-run",
            "--json",
        ])
        .current_dir(workspace())
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env("AGENTSCALE_DATA_DIR", data.path())
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let tasks = v["systems"][0]["tasks"].as_u64().unwrap();
    assert_eq!(tasks, 500, "the published size, as the data is not fetched");
    assert_eq!(dry_stage_sum(&v, "select_k", "judge_calls"), 96 * tasks);
    assert_eq!(dry_stage_sum(&v, "final", "judge_calls"), 120 * tasks);
    assert_eq!(dry_stage_sum(&v, "diagnostic", "judge_calls"), 24 * tasks);
    assert_eq!(dry_stage_sum(&v, "", "rollouts"), 32 * tasks);
    assert_eq!(dry_stage_sum(&v, "", "summaries"), 32 * tasks);
    assert_eq!(v["systems"][0]["per_task"]["judge_calls"], 240.0);
    let cost = v["systems"][0]["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0, "Opus has a price: {cost}");
    assert!(v["wall_clock_s"].as_f64().unwrap() > 0.0);
    let basis = v["systems"][0]["stages"][0]["cost_basis"].as_str().unwrap();
    assert!(basis.contains("default"), "{basis}");
    assert!(basis.contains("price table"), "{basis}");
    assert!(
        v["tasks_basis"]
            .as_str()
            .unwrap()
            .contains("published size")
    );

    // a model without a price: the cost is unknown (null), never 0
    let o = Command::new(env!("CARGO_BIN_EXE_agentscale"))
        .args([
            "run",
            "configs/paper/swe-verified-claude-opus-4.5.toml",
            "--set",
            "models[0].model=no-such-model-anywhere",
            // the reference profile refuses an unpriced agent under a cost limit; run it uncapped
            "--set",
            "agent.unpriced=warn",
            "--dry-run",
            "--json",
        ])
        .current_dir(workspace())
        .env_remove("ANTHROPIC_API_KEY")
        .env("AGENTSCALE_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["systems"][0]["cost_usd"].is_null(), "{v}");
    assert!(v["cost_usd"].is_null());
    assert!(v["systems"][0]["stages"][1]["cost_usd"].is_null());
}

/// The demo's scaling on the fake sandbox: the dry run's counts are the run's, apart from the
/// tie-break and re-ask extras, which stay within the stated bound.
#[test]
fn a_dry_run_counts_the_calls_the_run_makes() {
    let dir = setup();
    let demo = std::fs::read_to_string(workspace().join("configs/demo.toml")).unwrap();
    let scaling = &demo[demo.find("[scaling]").unwrap()..demo.find("[grading]").unwrap()];
    let cfg = CONFIG[..CONFIG.find("[scaling]").unwrap()].to_string() + scaling;
    std::fs::write(dir.path().join("exp.toml"), &cfg).unwrap();
    let row = std::fs::read_to_string(dir.path().join("data.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("data.jsonl"),
        format!("{row}{}", row.replace("demo__cli-1", "demo__cli-2")),
    )
    .unwrap();
    let args = [
        "run",
        "exp.toml",
        "--set",
        "experiment.output=out",
        "--json",
    ];
    let (code, stdout, stderr) = agentscale(&[&args[..], &["--dry-run"]].concat(), dir.path());
    assert_eq!(code, 0, "{stderr}");
    let dry: Value = serde_json::from_str(&stdout).unwrap();
    assert!(!dir.path().join("out").exists(), "a dry run starts nothing");
    let (code, stdout, stderr) = agentscale(&args, dir.path());
    assert_eq!(code, 0, "{stderr}");
    let run: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        dry_stage_sum(&dry, "", "rollouts"),
        stage(&run, "rollouts", "done")
    );
    assert_eq!(
        dry_stage_sum(&dry, "", "summaries"),
        stage(&run, "summaries", "done")
    );
    // every vote row: decisive ones equal the schedule; tie-break ones within the bound
    let votes = std::fs::read_to_string(
        Path::new(run["run_dir"].as_str().unwrap()).join("tables/votes.csv"),
    )
    .unwrap();
    let mut lines = votes.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let tie_col = header.iter().position(|h| *h == "tie_break").unwrap();
    let (mut decisive, mut ties) = (0u64, 0u64);
    for l in lines {
        // the tie_break cell is a plain true/false; count from the right of quoted lists
        let cells: Vec<&str> = l.split(',').collect();
        let from_end = header.len() - tie_col;
        if cells[cells.len() - from_end] == "true" {
            ties += 1;
        } else {
            decisive += 1;
        }
    }
    let judge = dry_stage_sum(&dry, "", "judge_calls");
    assert!(judge > 0);
    assert_eq!(decisive, judge, "decisive votes");
    assert!(ties <= dry_stage_sum(&dry, "", "extra_calls_max"));
    assert_eq!(decisive + ties, stage(&run, "votes", "done"));

    // the run's own stored calls are now the token basis
    let (code, stdout, stderr) = agentscale(&[&args[..], &["--dry-run"]].concat(), dir.path());
    assert_eq!(code, 0, "{stderr}");
    let again: Value = serde_json::from_str(&stdout).unwrap();
    let basis = again["systems"][0]["stages"][0]["cost_basis"]
        .as_str()
        .unwrap();
    assert!(basis.contains("stored: 16 rollouts"), "{basis}");
    assert_eq!(
        again["systems"][0]["cost_usd"], 0.0,
        "scripted models are free"
    );
}
