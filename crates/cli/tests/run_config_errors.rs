//! End-to-end tests of `agentscale run` on bad input: each config error is one clear message
//! naming the place (file:line:column and key, or the `--set` argument), the exit code is 2,
//! and nothing is started (no run directory is created); every problem of a file comes in one
//! pass. An unreachable Docker engine is a clear error with exit code 3, also before any work
//! (for `run` and for `demo`, which must not blame the base image).

use std::path::Path;
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn agentscale(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentscale"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

const GOOD: &str = r#"[experiment]
name = "errs"

[dataset]
path = "data.jsonl"

[[models]]
name = "demo-scripted"
provider = "scripted"
script = "demo"

[sandbox]
backend = "fake"
"#;

fn setup(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.jsonl"), "").unwrap();
    std::fs::write(dir.path().join("exp.toml"), text).unwrap();
    dir
}

/// Run with `DOCKER_HOST` at a socket that does not exist; the command must fail with exit 3,
/// naming the socket.
fn without_engine(args: &[&str], cwd: &Path) -> Out {
    let o = agentscale(
        args,
        cwd,
        &[("DOCKER_HOST", "unix:///nonexistent/agentscale-test.sock")],
    );
    assert_eq!(o.code, 3, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("/nonexistent/agentscale-test.sock"),
        "{}",
        o.stderr
    );
    o
}

fn assert_nothing_started(dir: &Path) {
    assert!(
        !dir.join("results").exists() && !dir.join("out").exists(),
        "a run directory was created"
    );
}

fn one_error(text: &str, expect: &[&str]) {
    let dir = setup(text);
    let o = agentscale(
        &["run", "exp.toml", "--set", "experiment.output=out"],
        dir.path(),
        &[],
    );
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .contains("1 problem in the config exp.toml; nothing was started"),
        "{}",
        o.stderr
    );
    for e in expect {
        assert!(o.stderr.contains(e), "missing {e:?} in:\n{}", o.stderr);
    }
    assert_nothing_started(dir.path());
}

#[test]
fn a_misspelled_key_names_file_line_and_key() {
    one_error(
        &format!("{GOOD}\n[scaling]\ngroup_sise = 4\n"),
        &["exp.toml:16:1: unknown key `group_sise` in scaling; did you mean `group_size`?"],
    );
}

#[test]
fn a_wrong_type_names_file_line_and_key() {
    one_error(
        &format!("{GOOD}\n[scaling]\nvotes = \"eight\"\n"),
        &["exp.toml:16:9: scaling.votes must be an integer, got the string \"eight\""],
    );
}

#[test]
fn a_missing_dataset_path_is_named() {
    one_error(
        &GOOD.replace("data.jsonl", "missing.jsonl"),
        &["exp.toml:5:8: dataset path", "missing.jsonl does not exist"],
    );
}

#[test]
fn a_model_without_its_api_key_variable_is_named() {
    one_error(
        &format!("{GOOD}\n[[models]]\nname = \"gpt-x\"\nprovider = \"openai\"\n"),
        &["exp.toml:15:1: models[1] (gpt-x): the API key variable OPENAI_API_KEY is not set"],
    );
}

#[test]
fn every_problem_is_reported_at_once_and_overrides_are_named() {
    let dir = setup(&format!("{GOOD}\n[scaling]\nn = \"x\"\nvotse = 2\n"));
    let o = agentscale(
        &[
            "run",
            "exp.toml",
            "--set",
            "scaling.group_size=one",
            "--set",
            "experiment.output=out",
        ],
        dir.path(),
        &[],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("3 problems in the config"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("exp.toml:16:5: scaling.n must be an integer"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("exp.toml:17:1: unknown key `votse`"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("--set scaling.group_size=one: scaling.group_size must be an integer"),
        "{}",
        o.stderr
    );
    assert_nothing_started(dir.path());
}

#[test]
fn an_unreachable_docker_engine_stops_before_any_work() {
    let dir = setup(&GOOD.replace("backend = \"fake\"", "backend = \"docker\""));
    let row = serde_json::json!({
        "repo": "a/b", "instance_id": "a__b-1", "base_commit": "c", "patch": "", "test_patch": "",
        "problem_statement": "p", "version": "1", "FAIL_TO_PASS": "[]", "PASS_TO_PASS": "[]",
        "image_name": "agentscale/base:bookworm"
    });
    std::fs::write(dir.path().join("data.jsonl"), format!("{row}\n")).unwrap();
    let o = without_engine(
        &["run", "exp.toml", "--set", "experiment.output=out"],
        dir.path(),
    );
    assert!(o.stderr.contains("agentscale doctor"), "{}", o.stderr);
    assert_nothing_started(dir.path());
}

#[test]
fn five_kinds_of_problem_come_in_one_pass() {
    // What ../shared/checks/14-interruptions-and-bad-input does to configs/demo.toml.
    let demo = include_str!("../../../configs/demo.toml");
    let text = demo
        .replacen("seed = 42", "seed = 42\nseed = 43\ntemprature = 0.5", 1)
        .replacen("concurrency = 4", "concurrency = \"four\"", 1)
        .replacen(
            "script = \"demo\"",
            "script = \"demo\"\napi_key_env = \"AGENTSCALE_TEST_UNSET_KEY\"",
            1,
        )
        .replacen(
            "name = [\"demo-swe\", \"demo-tb\"]",
            "path = \"/nonexistent/agentscale-test-dataset.jsonl\"",
            1,
        );
    let dir = setup(&text);
    let o = agentscale(
        &["run", "exp.toml", "--set", "experiment.output=out"],
        dir.path(),
        &[("AGENTSCALE_TEST_UNSET_KEY", "")],
    );
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("5 problems in the config exp.toml"),
        "{}",
        o.stderr
    );
    for (line, what) in [
        (18, "duplicate key `seed`"),
        (19, "unknown key `temprature` in experiment"),
        (
            22,
            "/nonexistent/agentscale-test-dataset.jsonl does not exist",
        ),
        (28, "AGENTSCALE_TEST_UNSET_KEY"),
        (35, "sandbox.concurrency must be an integer"),
    ] {
        let placed = o
            .stderr
            .lines()
            .any(|l| l.contains(&format!("exp.toml:{line}:")) && l.contains(what));
        assert!(placed, "{what} not reported at line {line}:\n{}", o.stderr);
    }
    assert!(!o.stderr.contains("more may follow"), "{}", o.stderr);
    assert_nothing_started(dir.path());
}

#[test]
fn a_missing_config_file_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let o = agentscale(&["run", "nope.toml"], dir.path(), &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("nope.toml"), "{}", o.stderr);
    let said = o.stderr.matches("No such file or directory").count();
    assert_eq!(said, 1, "the cause said {said} times:\n{}", o.stderr);
}

#[test]
fn demo_without_an_engine_says_the_engine_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let o = without_engine(
        &["demo", "--no-build", "--set", "experiment.output=out"],
        dir.path(),
    );
    assert!(!o.stderr.contains("base image"), "{}", o.stderr);
    assert_nothing_started(dir.path());
}
