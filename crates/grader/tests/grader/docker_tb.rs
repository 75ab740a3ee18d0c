//! The Terminal-Bench verifier against real containers: the demo tasks' oracles earn
//! reward 1, doing nothing earns 0, a verifier timeout and missing or unparseable reward
//! files are their own outcomes, verification works in a fresh container from a snapshot,
//! and files the agent planted in /tests or /logs/verifier do not count.

use agentscale_core::grade::GradeStatus;
use agentscale_core::sandbox::{ExecRequest, Sandbox, SandboxProvider};
use agentscale_core::{Task, TbTask};
use agentscale_grader::tb::{
    TbOutcome, TbVerifyOptions, run_solution, sandbox_spec, verify, verify_fresh,
};

use super::common::demo;
use super::docker_env::provider;

fn tasks(dir: &std::path::Path) -> Vec<TbTask> {
    agentscale_datasets::load(dir, &agentscale_datasets::LoadOptions::default())
        .unwrap()
        .tb_tasks()
        .cloned()
        .collect()
}

fn fixture(name: &str) -> TbTask {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tb");
    tasks(&dir).into_iter().find(|t| t.name == name).unwrap()
}

async fn start(p: &dyn SandboxProvider, task: &TbTask) -> Box<dyn Sandbox> {
    let source = Task::TerminalBench(task.clone()).image_source().unwrap();
    let image = p.prepare_image(&source).await.unwrap();
    p.start(&sandbox_spec(task, image)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_oracles_earn_reward_one_and_doing_nothing_earns_zero() {
    let Some(p) = provider("demo_oracles_earn_reward_one") else {
        return;
    };
    let all = tasks(&demo("terminal-bench"));
    assert!(all.len() >= 4);
    for task in &all {
        // Oracle, verified in the same container (closed before anything can fail).
        let sb = start(&p, task).await;
        let out = run_solution(sb.as_ref(), task, None).await;
        let v = verify(sb.as_ref(), task, &TbVerifyOptions::default()).await;
        sb.close().await.unwrap();
        let out = out.unwrap();
        assert!(
            out.success(),
            "{}: solve.sh failed: {}",
            task.name,
            out.combined()
        );
        assert_eq!(
            v.grade.status,
            GradeStatus::Resolved,
            "{}: {:?}\n{}",
            task.name,
            v.outcome,
            v.test_output
        );
        assert!((v.grade.reward() - 1.0).abs() < 1e-9);
        // No agent action, verified in a fresh container of the task's image.
        let v = verify_fresh(&p, task, None, &TbVerifyOptions::default()).await;
        assert_eq!(
            v.grade.status,
            GradeStatus::Unresolved,
            "{}: {:?}",
            task.name,
            v.outcome
        );
        assert!(matches!(v.outcome, TbOutcome::Reward { .. }));
        assert!(v.grade.reward().abs() < 1e-9);
    }
}

#[tokio::test]
async fn verification_works_from_a_snapshot_of_the_agent_container() {
    let Some(p) = provider("verification_works_from_a_snapshot") else {
        return;
    };
    let task = tasks(&demo("terminal-bench"))
        .into_iter()
        .find(|t| t.name == "git-recover")
        .unwrap();
    let sb = start(&p, &task).await;
    let solved = run_solution(sb.as_ref(), &task, None).await;
    let snapshot = sb.snapshot("agentscale/test-grader-snapshot").await;
    sb.close().await.unwrap();
    assert!(solved.unwrap().success());
    let snapshot = snapshot.unwrap();
    let v = verify_fresh(&p, &task, Some(&snapshot), &TbVerifyOptions::default()).await;
    p.remove_image(&snapshot).await.unwrap();
    assert_eq!(
        v.grade.status,
        GradeStatus::Resolved,
        "{:?}\n{}",
        v.outcome,
        v.test_output
    );
}

#[tokio::test]
async fn files_the_agent_planted_for_the_verifier_do_not_count() {
    let Some(p) = provider("files_the_agent_planted") else {
        return;
    };
    let task = tasks(&demo("terminal-bench"))
        .into_iter()
        .find(|t| t.name == "csv-report")
        .unwrap();
    let sb = start(&p, &task).await;
    // A reward file and a conftest.py that would make every test pass.
    let plant = "mkdir -p /logs/verifier /tests && echo 1 > /logs/verifier/reward.txt && \
                 printf 'import pytest\\n@pytest.hookimpl(hookwrapper=True)\\n\
                 def pytest_runtest_makereport(item, call):\\n    o = yield\\n    \
                 o.get_result().outcome = \"passed\"\\n' > /tests/conftest.py";
    let out = sb
        .exec(&ExecRequest::shell(
            plant,
            std::time::Duration::from_secs(30),
        ))
        .await;
    let v = verify(sb.as_ref(), &task, &TbVerifyOptions::default()).await;
    sb.close().await.unwrap();
    let out = out.unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(v.grade.status, GradeStatus::Unresolved, "{:?}", v.outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifier_failures_are_their_own_outcomes() {
    let Some(p) = provider("verifier_failures_are_their_own_outcomes") else {
        return;
    };
    let hang = fixture("tb-hang");
    let t0 = std::time::Instant::now();
    let v = verify_fresh(&p, &hang, None, &TbVerifyOptions::default()).await;
    assert!(
        matches!(v.outcome, TbOutcome::VerifierTimeout { timeout_sec } if (timeout_sec - 3.0).abs() < 1e-9),
        "{:?}",
        v.outcome
    );
    assert_eq!(v.grade.status, GradeStatus::VerifierError);
    assert!(v.grade.status.is_error() && !v.grade.status.is_infra());
    assert!(t0.elapsed() < std::time::Duration::from_mins(2));

    let v = verify_fresh(
        &p,
        &fixture("tb-noreward"),
        None,
        &TbVerifyOptions::default(),
    )
    .await;
    assert_eq!(v.outcome, TbOutcome::RewardMissing);
    assert_eq!(v.grade.status, GradeStatus::VerifierError);
    assert!(v.test_output.contains("tests ran"));

    let v = verify_fresh(
        &p,
        &fixture("tb-badreward"),
        None,
        &TbVerifyOptions::default(),
    )
    .await;
    assert!(
        matches!(&v.outcome, TbOutcome::RewardUnparseable { message } if message.contains("yes")),
        "{:?}",
        v.outcome
    );
    assert_eq!(v.reward_file.as_deref().map(str::trim), Some("yes"));
}

fn demo_task(name: &str) -> TbTask {
    tasks(&demo("terminal-bench"))
        .into_iter()
        .find(|t| t.name == name)
        .unwrap()
}

/// The notes-service demo task: its test reaches a service the agent must leave running. The
/// gold solution passes when verified in the live container; an agent that does the rest of
/// the work but never starts the service fails; and a snapshot of the solved container,
/// verified elsewhere, fails too (no running processes): why verification is live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_left_running_is_reached_only_in_the_live_container() {
    let Some(p) = provider("a_service_left_running_is_reached") else {
        return;
    };
    let task = demo_task("notes-service");
    let sb = start(&p, &task).await;
    let solved = run_solution(sb.as_ref(), &task, None).await;
    let snapshot = sb.snapshot("agentscale/test-grader-notes-service").await;
    let live = verify(sb.as_ref(), &task, &TbVerifyOptions::default()).await;
    sb.close().await.unwrap();
    let solved = solved.unwrap();
    assert!(solved.success(), "{}", solved.combined());
    assert_eq!(
        live.grade.status,
        GradeStatus::Resolved,
        "{}",
        live.test_output
    );
    let snapshot = snapshot.unwrap();
    let fresh = verify_fresh(&p, &task, Some(&snapshot), &TbVerifyOptions::default()).await;
    p.remove_image(&snapshot).await.unwrap();
    assert_eq!(
        fresh.grade.status,
        GradeStatus::Unresolved,
        "{:?}",
        fresh.outcome
    );

    // the note added, the service never started
    let sb = start(&p, &task).await;
    let out = sb
        .exec(&ExecRequest::shell(
            "echo 'deploy done' >> /app/notes/notes.txt",
            std::time::Duration::from_secs(30),
        ))
        .await;
    let v = verify(sb.as_ref(), &task, &TbVerifyOptions::default()).await;
    sb.close().await.unwrap();
    assert!(out.unwrap().success());
    assert_eq!(v.grade.status, GradeStatus::Unresolved, "{:?}", v.outcome);
    assert!(
        matches!(v.outcome, TbOutcome::Reward { .. }),
        "{:?}",
        v.outcome
    );
    assert!(
        v.test_output.contains("does not answer"),
        "{}",
        v.test_output
    );
}

/// Whether the host reaches PyPI's file host (the containers go through the same network).
fn pypi_reachable() -> bool {
    use std::net::ToSocketAddrs;
    ("files.pythonhosted.org", 443)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(5)).is_ok()
        })
}

/// A verifier that downloads its test dependency from PyPI: when the download fails (no
/// network), the reward of 0 it writes anyway is a verifier error, not the agent's failure;
/// with network (and the proxy's CA bundle) the same solution earns 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_download_failure_is_a_verifier_error_not_reward_zero() {
    let Some(p) = provider("a_verifier_download_failure_is_a_verifier_error") else {
        return;
    };
    let task = fixture("tb-pypi");
    let offline = TbVerifyOptions {
        network: Some(false),
        ..TbVerifyOptions::default()
    };
    let mut spec = sandbox_spec(&task, String::new());
    spec.network = false;
    let source = Task::TerminalBench(task.clone()).image_source().unwrap();
    spec.image = p.prepare_image(&source).await.unwrap();
    let sb = p.start(&spec).await.unwrap();
    let solved = run_solution(sb.as_ref(), &task, None).await;
    let v = verify(sb.as_ref(), &task, &offline).await;
    sb.close().await.unwrap();
    assert!(solved.unwrap().success());
    assert_eq!(
        v.grade.status,
        GradeStatus::VerifierError,
        "{:?}\n{}",
        v.outcome,
        v.test_output
    );
    assert!(!v.grade.status.is_infra());
    assert!(
        matches!(&v.outcome, TbOutcome::SetupFailed { rewards, message }
            if rewards.get("reward") == Some(&0.0) && message.contains("downloading")),
        "{:?}",
        v.outcome
    );
    assert_eq!(v.reward_file.as_deref().map(str::trim), Some("0"));

    if !pypi_reachable() {
        eprintln!("SKIP the online half: files.pythonhosted.org is not reachable from here");
        return;
    }
    let bundle = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    let online = TbVerifyOptions {
        network: Some(true),
        ca_bundle: bundle.is_file().then(|| bundle.to_path_buf()),
        ..TbVerifyOptions::default()
    };
    let mut spec = sandbox_spec(&task, spec.image.clone());
    spec.network = true;
    let sb = p.start(&spec).await.unwrap();
    let solved = run_solution(sb.as_ref(), &task, None).await;
    let v = verify(sb.as_ref(), &task, &online).await;
    sb.close().await.unwrap();
    assert!(solved.unwrap().success());
    assert_eq!(
        v.grade.status,
        GradeStatus::Resolved,
        "{:?}\n{}",
        v.outcome,
        v.test_output
    );
}
