//! Real SWE-bench Verified instances with no registry: offline images in the official layout
//! built from the repository mirrors in ../shared, graded like the official harness, and the
//! official image pulled through our code from a real local registry with credentials. Needs
//! Docker and ../shared (skipped without them; required in CI, which keeps the images).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use agentscale_core::testenv;

const BIN: &str = env!("CARGO_BIN_EXE_agentscale");
const PARQUET: &str = "datasets/swe-bench-verified/test-00000-of-00001.parquet";
const REPOS: &str = "datasets/swe-bench-verified/repos";
/// One instance on each offline base: Python 3.9 (bullseye) and 3.11 (bookworm).
const SYMPY: &str = "sympy__sympy-20590";
const FLASK: &str = "pallets__flask-5014";

fn agentscale(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run agentscale")
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

fn docker(args: &[&str], config: Option<&Path>) -> Output {
    let mut c = Command::new("docker");
    c.args(args).stdin(Stdio::null());
    if let Some(d) = config {
        c.env("DOCKER_CONFIG", d);
    }
    c.output().expect("run docker")
}

/// The shared dataset and mirrors, when this machine can run the test.
fn setup(test: &str) -> Option<(PathBuf, PathBuf)> {
    if !testenv::docker_available(test) {
        return None;
    }
    let ds = testenv::shared_path(test, PARQUET)?;
    let repos = testenv::shared_path(test, REPOS)?;
    Some((ds, repos))
}

/// `images build-swe` for some instances; the rows by instance id.
fn build_swe(ds: &Path, repos: &Path, ids: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "-q",
        "images",
        "build-swe",
        "--dataset",
        ds.to_str().unwrap(),
        "--repos",
        repos.to_str().unwrap(),
        "--no-pull",
        "--json",
        "--instance-ids",
    ];
    args.extend_from_slice(ids);
    let out = agentscale(&args, &[]);
    let j = json(&out);
    assert!(
        out.status.success(),
        "build-swe failed: {j:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // in the order of `ids` (the command prints the dataset's order)
    let rows = j["images"].as_array().unwrap();
    ids.iter()
        .map(|id| {
            rows.iter()
                .find(|r| r["instance_id"] == *id)
                .unwrap_or_else(|| panic!("no row for {id}: {j:#}"))
                .clone()
        })
        .collect()
}

fn sh_in(image: &str, script: &str) -> String {
    let out = docker(
        &[
            "run",
            "--rm",
            "--network",
            "none",
            image,
            "bash",
            "-c",
            script,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn offline_images_behave_like_official_ones_and_grade_gold_and_empty() {
    let name = "offline_images_behave_like_official_ones_and_grade_gold_and_empty";
    let Some((ds, repos)) = setup(name) else {
        return;
    };
    let rows = build_swe(&ds, &repos, &[SYMPY, FLASK]);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let status = r["status"].as_str().unwrap();
        assert!(["built", "reused", "local"].contains(&status), "{r:#}");
    }
    // Identical recipes build once: the second time every image is reused.
    let again = build_swe(&ds, &repos, &[SYMPY]);
    assert!(
        ["reused", "local"].contains(&again[0]["status"].as_str().unwrap()),
        "{again:#?}"
    );
    assert_eq!(again[0]["image"], rows[0]["image"]);

    let image = rows[0]["image"].as_str().unwrap();
    let base = "cffd4e0f86fefd4802349a9f9b19ed70934ea354";
    // The repository: the base commit's own object under the official setup commit, no
    // remote, no later history.
    assert_eq!(sh_in(image, "cd /testbed && git rev-parse HEAD~1"), base);
    assert_eq!(
        sh_in(image, "cd /testbed && git log --format=%s -1"),
        "SWE-bench"
    );
    assert_eq!(sh_in(image, "cd /testbed && git remote | wc -l"), "0");
    assert_eq!(
        sh_in(image, "cd /testbed && git status --porcelain | wc -l"),
        "0"
    );
    assert_eq!(
        sh_in(image, "cd /testbed && git rev-list --count HEAD"),
        "2"
    );
    // The environment: through ~/.bashrc for a login shell, through the conda shim for the
    // official eval script; not for a plain `bash -c` (as in the official images).
    assert_eq!(
        sh_in(
            image,
            "bash -lc 'python -c \"import sys; print(sys.prefix)\"'"
        ),
        "/opt/miniconda3/envs/testbed"
    );
    assert_eq!(
        sh_in(
            image,
            "source /opt/miniconda3/bin/activate && conda activate testbed && \
             echo $CONDA_DEFAULT_ENV $(command -v python) $(command -v pip) && python -c 'import sympy, mpmath'"
        ),
        "testbed /opt/miniconda3/envs/testbed/bin/python /opt/miniconda3/envs/testbed/bin/pip"
    );
    assert_ne!(
        sh_in(image, "python -c 'import sys; print(sys.prefix)'"),
        "/opt/miniconda3/envs/testbed"
    );
    // The host's package-index settings travel with the image.
    if std::env::var("PIP_CERT").is_ok() || Path::new("/etc/pip.conf").exists() {
        assert!(
            sh_in(image, "cat /etc/pip.conf").contains("cert = /etc/agentscale/"),
            "pip in the image trusts the host's CA bundle"
        );
    }

    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().to_str().unwrap();
    for (preds, want) in [("gold", 2), ("empty", 0)] {
        let out = agentscale(
            &[
                "-q",
                "grade",
                "--dataset",
                ds.to_str().unwrap(),
                "--repos",
                repos.to_str().unwrap(),
                "--no-pull",
                "--predictions",
                preds,
                "--run-id",
                preds,
                "--output",
                out_dir,
                "--json",
                "--instance-ids",
                SYMPY,
                FLASK,
            ],
            &[],
        );
        let j = json(&out);
        let resolved = j["resolved_ids"].as_array().unwrap().len();
        assert_eq!(resolved, want, "{preds}: {j:#}");
        assert_eq!(j["infra_error_instances"], 0, "{preds}: {j:#}");
    }
}

/// A `docker-registry` process on a loopback port with htpasswd authentication; killed on drop.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(user: &str, password: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbc", htpasswd.to_str().unwrap(), user, password])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: agentscale-test\n    path: {}\n",
            dir.path().join("data").display(),
            htpasswd.display()
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .args(["serve", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    let reg = Registry {
        child,
        port,
        _dir: dir,
    };
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the registry did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    reg
}

#[test]
fn the_official_image_is_pulled_from_a_registry_with_credentials() {
    let name = "the_official_image_is_pulled_from_a_registry_with_credentials";
    let Some((ds, _)) = setup(name) else {
        return;
    };
    let hint = "apt-get install docker-registry apache2-utils";
    if !testenv::tool_available(name, "docker-registry", hint)
        || !testenv::tool_available(name, "htpasswd", hint)
    {
        return;
    }
    let reg = start_registry("agentscale", "s3cret-pw");
    let prefix = format!("127.0.0.1:{}/swebench", reg.port);
    let image = format!("{prefix}/sweb.eval.x86_64.sympy_1776_sympy-20590:latest");
    // A locally built image under the official name, pushed, then removed locally.
    let cfg = tempfile::tempdir().unwrap();
    let mut login = Command::new("docker")
        .args([
            "login",
            &format!("127.0.0.1:{}", reg.port),
            "-u",
            "agentscale",
            "--password-stdin",
        ])
        .env("DOCKER_CONFIG", cfg.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    login
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-pw\n")
        .unwrap();
    assert!(login.wait().unwrap().success(), "docker login");
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("marker"), "agentscale registry test\n").unwrap();
    let tar = ctx.path().join("rootfs.tar");
    let out = Command::new("tar")
        .args([
            "-C",
            ctx.path().to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            "marker",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = docker(&["import", tar.to_str().unwrap(), &image], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = docker(&["push", &image], Some(cfg.path()));
    assert!(
        out.status.success(),
        "push: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = docker(&["rmi", &image], None);

    let ds = ds.to_str().unwrap();
    let args = [
        "-q",
        "images",
        "build-swe",
        "--dataset",
        ds,
        "--instance-ids",
        SYMPY,
        "--registry",
        &prefix,
        "--registry-user-env",
        "REG_TEST_USER",
        "--registry-password-env",
        "REG_TEST_PASSWORD",
        "--json",
    ];
    // Wrong credentials: no pull, and (with no mirrors given) no image, with the reason.
    let out = agentscale(
        &args,
        &[
            ("REG_TEST_USER", "agentscale"),
            ("REG_TEST_PASSWORD", "wrong"),
        ],
    );
    let j = json(&out);
    assert_eq!(out.status.code(), Some(1), "{j:#}");
    let row = &j["images"][0];
    assert_eq!(row["status"], "failed", "{j:#}");
    assert!(
        row["error"]
            .as_str()
            .unwrap()
            .contains("could not be pulled"),
        "{j:#}"
    );
    // The right ones: pulled through our code, and said so.
    let out = agentscale(
        &args,
        &[
            ("REG_TEST_USER", "agentscale"),
            ("REG_TEST_PASSWORD", "s3cret-pw"),
        ],
    );
    let j = json(&out);
    assert!(out.status.success(), "{j:#}");
    assert_eq!(j["images"][0]["status"], "pulled", "{j:#}");
    assert_eq!(j["images"][0]["image"], image.as_str());
    assert!(docker(&["image", "inspect", &image], None).status.success());
    // Already there: used as it is.
    let j = json(&agentscale(
        &args,
        &[
            ("REG_TEST_USER", "agentscale"),
            ("REG_TEST_PASSWORD", "s3cret-pw"),
        ],
    ));
    assert_eq!(j["images"][0]["status"], "local", "{j:#}");
    let _ = docker(&["rmi", &image], None);
}

/// The four mini-swe-agent Gemini 3 Pro trajectories of slice instances in ../shared, replayed
/// through our bash agent on the offline images (their recorded replies as a scripted model):
/// each resulting patch gets the verdict the official report gives that instance.
#[tokio::test]
async fn recorded_mini_swe_agent_trajectories_replay_to_the_official_verdicts() {
    use agentscale_agents::{AgentConfig, AgentKind, MemorySink, RolloutContext, mini};
    use agentscale_core::Task;
    use agentscale_core::model::{Role, ScriptedModel};
    use agentscale_core::sandbox::{SandboxProvider, SandboxSpec};
    use agentscale_grader::swe::{SweGradeOptions, grade_swe};

    let name = "recorded_mini_swe_agent_trajectories_replay_to_the_official_verdicts";
    let Some((ds, repos)) = setup(name) else {
        return;
    };
    let run = "runs/swe-bench-verified/mini-v1.15.0-gemini-3-pro";
    let Some(run_dir) = testenv::shared_path(name, run) else {
        return;
    };
    let ids = [
        "pallets__flask-5014",
        "psf__requests-2317",
        "pytest-dev__pytest-5809",
        "sympy__sympy-20590",
    ];
    let images = build_swe(&ds, &repos, &ids);
    let official: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir.join("official-report.json")).unwrap(),
    )
    .unwrap();
    let resolved_officially = |id: &str| {
        official["resolved_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == id)
    };
    let data = agentscale_datasets::open(
        ds.to_str().unwrap(),
        &agentscale_datasets::LoadOptions::default(),
    )
    .unwrap();
    let provider = agentscale_sandbox::DockerProvider::from_env().unwrap();
    let specs = agentscale_grader::spec::SpecTable::builtin().unwrap();
    // mini-swe-agent 1.x: ```bash blocks, commands in /testbed with the testbed environment
    // active (its shell is a login shell; ours gets the same PATH), its default variables.
    let mut agent = AgentConfig::new(AgentKind::Bash);
    agent.action_fence = Some("bash".into());
    agent.step_limit = Some(0);
    agent.cost_limit = Some(0.0);
    agent.max_format_errors = Some(1000);
    agent.fallback_git_diff = Some(false);
    agent.command_timeout_sec = Some(300.0);
    agent.env = Some(
        [
            ("PAGER", "cat"),
            ("MANPAGER", "cat"),
            ("LESS", "-R"),
            ("PIP_PROGRESS_BAR", "off"),
            ("TQDM_DISABLE", "1"),
            (
                "PATH",
                "/opt/miniconda3/envs/testbed/bin:/opt/miniconda3/bin:/usr/local/sbin:\
                 /usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ),
            ("VIRTUAL_ENV", "/opt/miniconda3/envs/testbed"),
            ("CONDA_DEFAULT_ENV", "testbed"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    );
    let agent = agent.build(None).unwrap();
    let mut mismatches = Vec::new();
    for (id, row) in ids.iter().zip(&images) {
        let image = row["image"].as_str().unwrap().to_string();
        let recorded =
            mini::read_file(&run_dir.join("trajs").join(format!("{id}.traj.json"))).unwrap();
        let replies: Vec<String> = recorded
            .messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .map(|m| m.content.clone())
            .collect();
        let model = ScriptedModel::from_replies("replay", replies);
        let mut inst = data
            .swe_instances()
            .find(|i| i.instance_id == *id)
            .unwrap()
            .clone();
        inst.extra.insert(
            "image_name".into(),
            serde_json::Value::String(image.clone()),
        );
        let sb = provider
            .start(&SandboxSpec {
                image: image.clone(),
                workdir: Some("/testbed".into()),
                network: true,
                ..SandboxSpec::default()
            })
            .await
            .unwrap();
        let mut sink = MemorySink::default();
        let t = agent
            .run(
                &Task::SweBench(inst.clone()),
                sb.as_ref(),
                &model,
                &RolloutContext::new("replay", 0),
                &mut sink,
            )
            .await
            .unwrap();
        sb.close().await.unwrap();
        let patch = t
            .submission
            .as_ref()
            .and_then(|s| s.patch_text())
            .unwrap_or_default()
            .to_string();
        let rec = grade_swe(
            &provider,
            specs,
            &inst,
            &patch,
            &SweGradeOptions::for_mode(agentscale_grader::GradeMode::V41),
        )
        .await;
        let want = resolved_officially(id);
        eprintln!(
            "{id}: {} steps, patch of {} bytes, ours {:?}, official resolved {want}",
            t.steps.len(),
            patch.len(),
            rec.grade.status
        );
        if rec.grade.resolved != want {
            mismatches.push(format!("{id}: ours {:?}, official {want}", rec.grade));
        }
    }
    provider.shutdown().await;
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
