//! End-to-end tests of `agentscale doctor`, `agentscale images` and `agentscale bench sandbox`
//! against the real engine (skipped without one; required in CI).

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use agentscale_core::testenv;

const BIN: &str = env!("CARGO_BIN_EXE_agentscale");

fn agentscale(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run agentscale")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn docker_ps(filter: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", filter])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn doctor_reports_every_check_as_json() {
    if !testenv::docker_image_available(
        "doctor_reports_every_check_as_json",
        &testenv::base_image(),
    ) {
        return;
    }
    // a container left by a dead run of this machine: the doctor removes it
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let created = Command::new("docker")
        .args([
            "create",
            "--label",
            "agentscale=1",
            "--label",
            "agentscale.pid=4194301",
            "--label",
            &format!("agentscale.host={}", host.trim()),
            "--label",
            &format!("agentscale.run=test-doctor-{}", std::process::id()),
            &testenv::base_image(),
            "true",
        ])
        .output()
        .unwrap();
    assert!(created.status.success());
    let stale = String::from_utf8_lossy(&created.stdout).trim().to_string();
    let out = agentscale(&["doctor", "--json"]);
    let v = json(&out);
    let checks = v["hosts"][0]["checks"].as_array().expect("checks");
    let gone = !Command::new("docker")
        .args(["inspect", &stale])
        .output()
        .unwrap()
        .status
        .success();
    if !gone {
        let _ = Command::new("docker").args(["rm", "-f", &stale]).output();
    }
    assert!(gone, "the doctor removes containers of dead runs");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "engine",
            "base_image",
            "disk",
            "cgroup_limits",
            "stale_containers"
        ]
    );
    for name in ["engine", "base_image", "cgroup_limits", "stale_containers"] {
        let c = checks.iter().find(|c| c["name"] == name).unwrap();
        assert_eq!(c["ok"], true, "{c}");
    }
    assert!(v["hosts"][0]["engine_version"].is_string());
    let problems = v["problems"].as_u64().unwrap();
    assert_eq!(out.status.code(), Some(i32::from(problems != 0)));
}

#[test]
fn doctor_names_a_missing_engine_and_the_fix() {
    let out = Command::new(BIN)
        .args(["doctor"])
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/agentscale-cli-test.sock",
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // no engine is "infrastructure unavailable" (exit 3), as the README's table says
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("no Docker engine at /nonexistent/agentscale-cli-test.sock"),
        "{text}"
    );
    assert!(text.contains("fix: start the Docker engine"), "{text}");
}

#[test]
fn images_list_build_base_and_bad_budgets() {
    let base = testenv::base_image();
    if !testenv::docker_image_available("images_list_build_base_and_bad_budgets", &base) {
        return;
    }
    // idempotent: the image exists, so nothing is built
    let t = Instant::now();
    let out = agentscale(&["images", "build-base"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("build-base with the image present took {:?}", t.elapsed());
    let out = agentscale(&["images", "list", "--json"]);
    assert!(out.status.success());
    let list = json(&out);
    let found =
        list.as_array().unwrap().iter().any(|i| {
            i["kind"] == "base" && i["tags"].as_array().unwrap().iter().any(|t| t == &base)
        });
    assert!(found, "{list}");
    let out = agentscale(&["images", "prune", "--budget", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--budget"));
}

#[test]
fn images_build_prints_the_content_tag() {
    let base = testenv::base_image();
    if !testenv::docker_image_available("images_build_prints_the_content_tag", &base) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {base}\nRUN echo cli-{} > /marker\n",
            std::process::id()
        ),
    )
    .unwrap();
    let ctx = dir.path().to_string_lossy().into_owned();
    let out = agentscale(&[
        "images",
        "build",
        &ctx,
        "--name",
        "agentscale-test/cli-build",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tag = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(tag.starts_with("agentscale-test/cli-build:"), "{tag}");
    let again = agentscale(&[
        "images",
        "build",
        &ctx,
        "--name",
        "agentscale-test/cli-build",
    ]);
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), tag);
    let rm = Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
    assert!(rm.status.success());
    let bad = agentscale(&[
        "images",
        "build",
        &ctx,
        "--name",
        "x",
        "--build-arg",
        "NOEQUALS",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bench_sandbox_prints_the_figures() {
    if !testenv::docker_image_available("bench_sandbox_prints_the_figures", &testenv::base_image())
    {
        return;
    }
    let out = agentscale(&[
        "bench",
        "sandbox",
        "--json",
        "--iterations",
        "3",
        "--lifecycle-iterations",
        "2",
        "--concurrency",
        "3",
        "--execs-each",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    for k in [
        "exec_p50_ms",
        "exec_plain_p50_ms",
        "docker_cli_exec_p50_ms",
        "raw_api_exec_p50_ms",
        "lifecycle_p50_ms",
        "docker_run_p50_ms",
    ] {
        assert!(v[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {v}");
    }
    assert_eq!(v["concurrency"]["execs_ok"], 6);
    assert_eq!(v["concurrency"]["errors"], 0);
}

#[test]
fn ctrl_c_during_a_benchmark_leaves_no_container() {
    if !testenv::docker_image_available("ctrl_c_during_a_benchmark", &testenv::base_image()) {
        return;
    }
    let mut child = Command::new(BIN)
        .args([
            "bench",
            "sandbox",
            "--iterations",
            "100000",
            "--concurrency",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let filter = format!("label=agentscale.pid={pid}");
    let deadline = Instant::now() + Duration::from_mins(2);
    while docker_ps(&filter).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the benchmark never started its containers"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left = docker_ps(&filter);
    assert!(left.is_empty(), "left behind: {left:?}");
}
