//! SIGTERM to `agentscale demo` at several points — during rollouts, summaries, votes and
//! grading — with a resume after each: the final tables (timing tables aside) equal those of
//! an uninterrupted run, nothing cut off is stored as an infrastructure failure, and no
//! container or snapshot image of the interrupted processes is left. The demo is cut down to
//! one SWE task and one Terminal-Bench task (snapshots) so that it stays within minutes.
//! Skips without Docker or the base image (fails instead in CI).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agentscale_core::testenv;

/// The demo's command line, cut down, writing under `out`.
fn demo(out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentscale"));
    c.args([
        "demo",
        "--no-build",
        "--set",
        &format!("experiment.output={}", out.display()),
        "--set",
        "dataset.ids=[\"demo__textkit-7\", \"fix-wordfreq\"]",
        "--set",
        "scaling.n=4",
        "--set",
        "scaling.k=2",
        "--set",
        "scaling.votes=1",
    ])
    .env_remove("RUST_LOG")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

/// The run directory under `out` (`<out>/demo/<run-id>`), once it exists.
fn run_dir(out: &Path) -> Option<PathBuf> {
    std::fs::read_dir(out.join("demo"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
}

/// The event kinds of the run's log, in order.
fn event_kinds(out: &Path) -> Vec<String> {
    let Some(dir) = run_dir(out) else {
        return Vec::new();
    };
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["event"]["kind"].as_str().map(str::to_string))
        .collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

/// CSV tables of a run folder tree except timing ones, by name.
fn tables(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = run_dir(out).expect("a run directory").join("tables");
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .filter(|p| !p.to_string_lossy().contains("timing"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let o = Command::new("docker").args(args).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Start the demo on `out`, wait until the log holds one more `kind` event than when it
/// started, then SIGTERM it; returns its pid, or `None` when it finished first.
fn cut_at(out: &Path, kind: &str) -> Option<u32> {
    let before = count(&event_kinds(out), kind);
    let mut child: Child = demo(out).spawn().unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_mins(10);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            eprintln!("the run finished ({st}) before a new {kind} event");
            return None;
        }
        if count(&event_kinds(out), kind) > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no new {kind} event within 10 min"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{kind}: {stderr}");
    assert!(
        !stderr.contains("infrastructure failure"),
        "{kind}: a cut-off attempt was taken for an infrastructure failure:\n{stderr}"
    );
    Some(pid)
}

#[test]
fn sigterm_at_every_stage_then_resume_gives_the_uninterrupted_tables_and_leaves_nothing() {
    let name =
        "sigterm_at_every_stage_then_resume_gives_the_uninterrupted_tables_and_leaves_nothing";
    if !testenv::docker_image_available(name, &testenv::base_image()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref");
    let o = demo(&reference).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let cut = dir.path().join("cut");
    let mut pids = Vec::new();
    for kind in [
        "rollout_started",
        "summary_finished",
        "vote_finished",
        "grade_finished",
    ] {
        if let Some(pid) = cut_at(&cut, kind) {
            pids.push(pid);
            // before the next process starts (its sweep would remove leftovers): removals the
            // engine has accepted may take a moment to finish, a leak stays
            let filter = format!("label=agentscale.pid={pid}");
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut left = docker_lines(&["ps", "-aq", "--filter", &filter]);
            while !left.is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(500));
                left = docker_lines(&["ps", "-aq", "--filter", &filter]);
            }
            let states =
                docker_lines(&["ps", "-a", "--filter", &filter, "--format", "{{.Status}}"]);
            assert!(
                left.is_empty(),
                "{kind}: containers left: {left:?} {states:?}"
            );
        }
    }
    assert!(pids.len() >= 3, "only {} of 4 cuts happened", pids.len());
    let o = demo(&cut).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let kinds = event_kinds(&cut);
    assert_eq!(count(&kinds, "rollout_infra_failure"), 0, "{kinds:?}");
    assert_eq!(count(&kinds, "grade_infra_failure"), 0, "{kinds:?}");
    assert!(count(&kinds, "work_interrupted") >= 1, "{kinds:?}");
    let (want, got) = (tables(&reference), tables(&cut));
    let differ: Vec<&String> = want
        .keys()
        .filter(|k| want.get(*k) != got.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "tables differ after the cuts: {differ:?}"
    );
    for pid in &pids {
        let left = docker_lines(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=agentscale.pid={pid}"),
        ]);
        assert!(left.is_empty(), "containers of pid {pid} left: {left:?}");
        let snaps: Vec<String> = docker_lines(&[
            "images",
            "agentscale/snapshot",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
        .into_iter()
        .filter(|t| t.contains(&format!("-p{pid}-")))
        .collect();
        assert!(snaps.is_empty(), "snapshots of pid {pid} left: {snaps:?}");
    }
}
