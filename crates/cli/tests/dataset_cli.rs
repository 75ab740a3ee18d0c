//! End-to-end tests of `agentscale dataset …`, driving the built binary: the acceptance
//! commands over ../shared, located errors for broken inputs, selection flags, `show` by
//! registry name and by path, and `fetch` against a local HTTP server and a local git repo.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use agentscale_core::testenv::shared_path;
use serde_json::{Value, json};

const PARQUET: &str = "datasets/swe-bench-verified/test-00000-of-00001.parquet";
const JSONL: &str = "datasets/swe-bench-verified/swe-bench-verified.jsonl";
const TB: &str = "datasets/terminal-bench-2.0";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Run the binary with a private data folder and no override registry unless given.
fn run(args: &[&str], data_dir: &Path, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentscale"));
    cmd.args(args)
        .env_remove("AGENTSCALE_REGISTRY")
        .env_remove("RUST_LOG")
        .env("AGENTSCALE_DATA_DIR", data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the agentscale binary runs");
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("panicked"),
        "the binary panicked:\n{}",
        o.stderr
    );
    o
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn row(id: &str) -> Value {
    json!({
        "repo": "demo/calc", "instance_id": id, "base_commit": "0123abcd", "patch": "p",
        "test_patch": "t", "problem_statement": "Fix it.", "hints_text": "",
        "created_at": "2024-01-01T00:00:00Z", "version": "0.20",
        "FAIL_TO_PASS": "[\"tests/test_a.py::test_a\"]", "PASS_TO_PASS": "[]",
        "environment_setup_commit": "0123abcd", "difficulty": "<15 min fix"
    })
}

fn jsonl(rows: &[Value]) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(&r.to_string());
        out.push('\n');
    }
    out
}

const REPOS: [(&str, u64); 12] = [
    ("django/django", 231),
    ("sympy/sympy", 75),
    ("sphinx-doc/sphinx", 44),
    ("matplotlib/matplotlib", 34),
    ("scikit-learn/scikit-learn", 32),
    ("astropy/astropy", 22),
    ("pydata/xarray", 22),
    ("pytest-dev/pytest", 19),
    ("pylint-dev/pylint", 10),
    ("psf/requests", 8),
    ("mwaskom/seaborn", 2),
    ("pallets/flask", 1),
];

#[test]
fn validate_verified_parquet_and_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    for rel in [PARQUET, JSONL] {
        let Some(path) = shared_path("validate_verified", rel) else {
            return;
        };
        let o = run(
            &["dataset", "validate", s(&path), "--json"],
            tmp.path(),
            &[],
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let j = o.json();
        assert_eq!(j["benchmark"], "swe-bench");
        assert_eq!(j["instances"], 500);
        assert_eq!(j["ok"], true);
        let by_repo = j["by_repo"].as_object().unwrap();
        assert_eq!(by_repo.len(), 12);
        for (repo, n) in REPOS {
            assert_eq!(by_repo[repo], n, "{rel}: {repo}");
        }
        // Human output carries the same counts.
        let o = run(&["dataset", "validate", s(&path)], tmp.path(), &[]);
        assert_eq!(o.code, 0);
        assert!(o.stdout.contains("500 instances"), "{}", o.stdout);
        assert!(
            o.stdout.contains("django/django               231"),
            "{}",
            o.stdout
        );
    }
}

#[test]
fn validate_terminal_bench_reports_missing_parts_without_failing() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(path) = shared_path("validate_tb", TB) else {
        return;
    };
    let o = run(
        &["dataset", "validate", s(&path), "--json"],
        tmp.path(),
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let j = o.json();
    assert_eq!(j["benchmark"], "terminal-bench");
    assert_eq!(j["tasks"], 89);
    assert_eq!(
        j["by_difficulty"],
        json!({"easy": 4, "hard": 30, "medium": 55})
    );
    let lacking = j["lacking"].as_array().unwrap();
    assert_eq!(lacking.len(), 89);
    for l in lacking {
        assert_eq!(
            l["missing"],
            json!(["environment/", "tests/", "solution/"]),
            "{l}"
        );
    }
    assert_eq!(j["errors"], json!([]));
}

#[test]
fn broken_jsonl_line_3_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (1..=5)
        .map(|i| row(&format!("demo__calc-{i}")).to_string())
        .collect();
    let cut = lines[2].len() / 2;
    lines[2].truncate(cut);
    let path = tmp.path().join("x.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    for json in [true, false] {
        let mut args = vec!["dataset", "validate", s(&path)];
        if json {
            args.push("--json");
        }
        let o = run(&args, tmp.path(), &[]);
        assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
        let want = format!("{}:3: row 3: invalid JSON at column", path.display());
        assert!(
            o.stderr.contains(&want) || o.stdout.contains(&want),
            "{}\n{}",
            o.stdout,
            o.stderr
        );
        if json {
            let j = o.json();
            assert_eq!(j["ok"], false);
            assert_eq!(j["instances"], 4);
            assert_eq!(j["errors"][0]["line"], 3);
        }
    }
}

#[test]
fn row_missing_instance_id_names_row_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = row("demo__calc-2");
    bad.as_object_mut().unwrap().remove("instance_id");
    let mut mistyped = row("demo__calc-3");
    mistyped["FAIL_TO_PASS"] = json!(7);
    let path = tmp.path().join("x.json");
    std::fs::write(
        &path,
        Value::Array(vec![row("demo__calc-1"), bad, mistyped]).to_string(),
    )
    .unwrap();
    let o = run(
        &["dataset", "validate", s(&path), "--json"],
        tmp.path(),
        &[],
    );
    assert_eq!(o.code, 1);
    let j = o.json();
    assert_eq!(j["format"], "json-list");
    assert_eq!(j["errors"][0]["row"], 2);
    assert_eq!(j["errors"][0]["key"], "instance_id");
    assert!(
        o.stderr.contains(&format!(
            "{}: row 2: missing field `instance_id`",
            path.display()
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("row 3 (demo__calc-3): field `FAIL_TO_PASS`: expected a list of test ids"),
        "{}",
        o.stderr
    );
}

#[test]
fn bad_task_toml_value_names_task_key_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let task = tmp.path().join("tb/slow-task");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("task.toml"),
        "version = \"1.0\"\n\n[metadata]\ndifficulty = \"easy\"\n\n[environment]\nmemory = \"two gigs\"\n",
    )
    .unwrap();
    std::fs::write(task.join("instruction.md"), "Wait.\n").unwrap();
    let o = run(
        &["dataset", "validate", s(&tmp.path().join("tb"))],
        tmp.path(),
        &[],
    );
    assert_eq!(o.code, 1);
    let want = format!(
        "{}:7: task slow-task: `environment.memory` = \"two gigs\": not a size",
        task.join("task.toml").display()
    );
    assert!(o.stdout.contains(&want), "{}", o.stdout);
}

#[test]
fn selection_flags_filter_slice_and_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(path) = shared_path("selection_flags", PARQUET) else {
        return;
    };
    let p = s(&path);
    let validate = |extra: &[&str]| {
        let mut args = vec!["dataset", "validate", p, "--json"];
        args.extend_from_slice(extra);
        let o = run(&args, tmp.path(), &[]);
        assert_eq!(o.code, 0, "{extra:?}: {}", o.stderr);
        o.json()
    };
    let j = validate(&[
        "--filter",
        "repo=sympy/sympy",
        "--sample",
        "10",
        "--seed",
        "1",
    ]);
    assert_eq!(j["instances"], 10);
    assert_eq!(j["total_before_selection"], 500);
    assert_eq!(j["by_repo"], json!({"sympy/sympy": 10}));
    let ids = j["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 10);
    let again = validate(&[
        "--filter",
        "repo=sympy/sympy",
        "--sample",
        "10",
        "--seed",
        "1",
    ]);
    assert_eq!(again["ids"], Value::Array(ids), "same seed, same sample");

    let j = validate(&["--filter", "id=django__django-11099,astropy__astropy-12907"]);
    assert_eq!(j["instances"], 2);
    let j = validate(&["--filter", "difficulty=>4 hours"]);
    assert_eq!(j["instances"], 3);
    let j = validate(&["--filter", "regex=^pallets__"]);
    assert_eq!(j["instances"], 1);
    let j = validate(&["--slice", "0:5"]);
    assert_eq!(j["instances"], 5);
    assert_eq!(j["ids"][0], "astropy__astropy-12907");
    let j = validate(&["--filter", "repo=django/django", "--slice", "-3:"]);
    assert_eq!(j["instances"], 3);
}

#[test]
fn show_by_registry_name_and_by_path() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(path) = shared_path("show_by_name", PARQUET) else {
        return;
    };
    let data = tmp.path().join("data");
    let o = run(
        &["dataset", "show", "swe-bench-verified:django__django-11099"],
        &data,
        &[],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("run `agentscale dataset fetch swe-bench-verified`"),
        "{}",
        o.stderr
    );

    // A fetched copy in the data folder (a link to the shared file) makes the name resolve.
    let cached = data.join("swe-bench-verified/test-00000-of-00001.parquet");
    std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&path, &cached).unwrap();
    let o = run(
        &["dataset", "show", "swe-bench-verified:django__django-11099"],
        &data,
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    for want in [
        "instance_id: django__django-11099",
        "repo: django/django",
        "version: 3.0",
        "FAIL_TO_PASS (3):",
        "--- problem_statement ---",
        "--- patch ---",
        "--- test_patch ---",
    ] {
        assert!(o.stdout.contains(want), "{want:?} missing:\n{}", o.stdout);
    }
    let by_path = format!("{}:django__django-11099", path.display());
    let o = run(&["dataset", "show", &by_path, "--json"], &data, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let j = o.json();
    assert_eq!(j["benchmark"], "swe-bench");
    assert_eq!(j["instance_id"], "django__django-11099");
    assert_eq!(j["version"], "3.0");
    assert!(
        j["FAIL_TO_PASS"]
            .as_str()
            .unwrap()
            .starts_with("[\"test_ascii_validator")
    );

    let o = run(
        &[
            "dataset",
            "show",
            "swe-bench-verified",
            "django__django-1109",
        ],
        &data,
        &[],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("no task `django__django-1109`"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("similar: ") && o.stderr.contains("django__django-11099"),
        "{}",
        o.stderr
    );
}

#[test]
fn show_a_terminal_bench_task() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(path) = shared_path("show_tb", TB) else {
        return;
    };
    let o = run(&["dataset", "show", s(&path), "fix-git"], tmp.path(), &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("memory_mb: 2048"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("missing parts: environment/, tests/, solution/"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("--- instruction.md ---"), "{}", o.stdout);
}

/// Serve `files` (path → body) over HTTP/1.1 on 127.0.0.1 until the test process ends.
fn serve(files: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&req);
            let path = text.split_whitespace().nth(1).unwrap_or("/");
            let resp = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&resp);
        }
    });
    format!("http://{addr}")
}

fn registry_file(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("registry.toml");
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn fetch_verifies_the_checksum_through_an_override_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let body = jsonl(&[row("demo__calc-1"), row("demo__calc-2")]).into_bytes();
    let good = agentscale_core::hash::sha256_hex(&body);
    let wrong = "f".repeat(64);
    let base = serve(vec![("/rows.jsonl", body.clone())]);
    let reg = registry_file(
        tmp.path(),
        &format!(
            "[[dataset]]\nname = \"local-rows\"\nbenchmark = \"swe-bench\"\ndescription = \"test\"\n\
             url = \"{base}/rows.jsonl\"\nsha256 = \"{good}\"\n\n\
             [[dataset]]\nname = \"tampered\"\nbenchmark = \"swe-bench\"\n\
             url = \"{base}/rows.jsonl\"\nsha256 = \"{wrong}\"\n\n\
             [[dataset]]\nname = \"gone\"\nbenchmark = \"swe-bench\"\n\
             url = \"{base}/missing.jsonl\"\nsha256 = \"{good}\"\n"
        ),
    );
    let r = s(&reg);

    let o = run(
        &["dataset", "fetch", "local-rows", "--registry", r, "--json"],
        &data,
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let j = o.json();
    assert_eq!(j["already_present"], false);
    assert_eq!(j["sha256"], good.as_str());
    let stored = data.join("local-rows/rows.jsonl");
    assert_eq!(std::fs::read(&stored).unwrap(), body);
    let o = run(
        &["dataset", "fetch", "local-rows", "--registry", r],
        &data,
        &[],
    );
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("is already at"), "{}", o.stdout);
    // The name now resolves everywhere, also through the environment variable.
    let o = run(
        &["dataset", "validate", "local-rows", "--json"],
        &data,
        &[("AGENTSCALE_REGISTRY", r)],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["instances"], 2);
    assert_eq!(o.json()["name"], "local-rows");
    let o = run(&["dataset", "list", "--registry", r, "--json"], &data, &[]);
    let list = o.json();
    let entry = list["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "local-rows")
        .unwrap()
        .clone();
    assert_eq!(entry["present"], true);
    assert_eq!(entry["source"]["kind"], "url");

    let o = run(
        &["dataset", "fetch", "tampered", "--registry", r],
        &data,
        &[],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains(&format!("expected sha256 {wrong}, got {good}")),
        "{}",
        o.stderr
    );
    let left: Vec<_> = std::fs::read_dir(data.join("tampered")).unwrap().collect();
    assert!(
        left.is_empty(),
        "a rejected download was left behind: {left:?}"
    );

    let o = run(&["dataset", "fetch", "gone", "--registry", r], &data, &[]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("HTTP 404"), "{}", o.stderr);
    assert!(!data.join("gone/missing.jsonl").exists());
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn fetch_checks_out_a_pinned_git_commit() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("SKIP fetch_checks_out_a_pinned_git_commit: no git on PATH");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("tasks-repo");
    std::fs::create_dir_all(repo.join("hello")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("hello/task.toml"),
        "version = \"1.0\"\n[metadata]\ndifficulty = \"easy\"\n",
    )
    .unwrap();
    std::fs::write(repo.join("hello/instruction.md"), "Say hello.\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "one task"]);
    let pinned = git(&repo, &["rev-parse", "HEAD"]);
    // A later commit that the pin must not pick up.
    std::fs::create_dir_all(repo.join("later")).unwrap();
    std::fs::write(repo.join("later/task.toml"), "").unwrap();
    std::fs::write(repo.join("later/instruction.md"), "Later.\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "another"]);

    let reg = registry_file(
        tmp.path(),
        &format!(
            "[[dataset]]\nname = \"local-tb\"\nbenchmark = \"terminal-bench\"\n\
             git = \"file://{}\"\ncommit = \"{pinned}\"\n",
            repo.display()
        ),
    );
    let data = tmp.path().join("data");
    let o = run(
        &["dataset", "fetch", "local-tb", "--registry", s(&reg)],
        &data,
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains(&format!("commit {pinned}")),
        "{}",
        o.stdout
    );
    let o = run(
        &[
            "dataset",
            "validate",
            "local-tb",
            "--registry",
            s(&reg),
            "--json",
        ],
        &data,
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["tasks"], 1);
    let o = run(
        &[
            "dataset",
            "fetch",
            "local-tb",
            "--registry",
            s(&reg),
            "--json",
        ],
        &data,
        &[],
    );
    assert_eq!(o.json()["already_present"], true);
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.jsonl");
    std::fs::write(&path, jsonl(&[row("demo__calc-1")])).unwrap();
    let p = s(&path);
    let cases: [(&[&str], &str); 6] = [
        (
            &["dataset", "validate", "no/such/file.jsonl"],
            "no such file or folder",
        ),
        (
            &["dataset", "validate", "swe-bench-verifed"],
            "known: swe-bench-verified",
        ),
        (
            &["dataset", "validate", p, "--filter", "colour=red"],
            "unknown filter `colour`",
        ),
        (
            &["dataset", "validate", p, "--slice", "1-5"],
            "must look like start:end",
        ),
        (
            &["dataset", "validate", p, "--filter", "id=demo__calc-9"],
            "unknown id: demo__calc-9",
        ),
        (
            &["dataset", "fetch", "nonesuch"],
            "`agentscale dataset list` shows the registry",
        ),
    ];
    for (args, want) in cases {
        let o = run(args, tmp.path(), &[]);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains(want),
            "{args:?}: {want:?} not in {}",
            o.stderr
        );
    }
    let bad_reg = registry_file(tmp.path(), "[[dataset]]\nname = \"x\"\n");
    let o = run(
        &["dataset", "list", "--registry", s(&bad_reg)],
        tmp.path(),
        &[],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("missing field `benchmark`"),
        "{}",
        o.stderr
    );
}

#[test]
fn list_shows_every_registry_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["dataset", "list"], tmp.path(), &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for name in [
        "swe-bench-verified",
        "terminal-bench-2.0",
        "demo-swe",
        "demo-tb",
    ] {
        assert!(o.stdout.contains(name), "{name} missing:\n{}", o.stdout);
    }
    assert!(
        o.stdout
            .contains("not fetched (agentscale dataset fetch swe-bench-verified)")
    );
    let j = run(&["dataset", "list", "--json"], tmp.path(), &[]).json();
    let verified = &j["datasets"][0];
    assert_eq!(
        verified["source"]["sha256"],
        "43ed5a3d1d98da36472c1ade65ddd2085d7b4ff694fcaf6a023a07c5c1f32f21"
    );
    assert_eq!(verified["present"], false);
    assert_eq!(j["data_dir"], s(tmp.path()));
}

/// Log levels: a loader warning reaches stderr by default, `-q` silences it, and `RUST_LOG`
/// wins over both flags; `-vv` adds the event's target.
#[test]
fn log_levels_follow_the_flags_and_rust_log_overrides_them() {
    let tmp = tempfile::tempdir().unwrap();
    let mut r = row("demo__calc-1");
    r["version"] = json!(0.2);
    let file = tmp.path().join("numeric-version.jsonl");
    std::fs::write(&file, jsonl(&[r])).unwrap();
    let show = |flags: &[&str], env: &[(&str, &str)]| {
        let mut args = flags.to_vec();
        args.extend(["dataset", "show", s(&file), "demo__calc-1"]);
        let o = run(&args, tmp.path(), env);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stdout.contains("demo__calc-1"), "{}", o.stdout);
        o.stderr
    };
    let warning = "versions are strings";
    let default = show(&[], &[]);
    assert!(
        default.contains(warning) && default.contains("WARN"),
        "{default}"
    );
    assert!(!default.contains("agentscale_cli::"), "{default}");
    let quiet = show(&["-q"], &[]);
    assert!(!quiet.contains(warning), "{quiet}");
    let targeted = show(&["-vv"], &[]);
    assert!(
        targeted.contains(warning) && targeted.contains("agentscale_cli::"),
        "{targeted}"
    );
    let env_error = show(&["-v"], &[("RUST_LOG", "error")]);
    assert!(!env_error.contains(warning), "{env_error}");
    let env_warn = show(&["-q"], &[("RUST_LOG", "warn")]);
    assert!(env_warn.contains(warning), "{env_warn}");
}

#[test]
fn show_of_an_unknown_id_points_at_the_listing_and_a_clean_path() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["dataset", "show", "demo-swe:nosuch"], tmp.path(), &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("no task `nosuch`"), "{}", o.stderr);
    // the hint is the listing, not the same failing command again
    assert!(
        o.stderr
            .contains("`agentscale dataset show demo-swe` lists the ids"),
        "{}",
        o.stderr
    );
    assert!(
        !o.stderr.contains("/../"),
        "un-normalised path: {}",
        o.stderr
    );
}
