//! A real run on the Docker engine: the demo's scripted agent on one SWE-style and one
//! Terminal-Bench-style demo task, real containers, real grading, tables written, nothing
//! left behind. Skips without Docker or the base image (fails instead in CI).

use agentscale_core::testenv;
use agentscale_experiment::run::{RunRequest, prepare};

fn docker_ps(filter: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", filter])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn demo_tasks_run_end_to_end_in_docker() {
    if !testenv::docker_image_available(
        "demo_tasks_run_end_to_end_in_docker",
        &testenv::base_image(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = agentscale_core::testenv::workspace_root().join("configs/demo.toml");
    let p = prepare(
        &RunRequest {
            target: text,
            overrides: vec![
                format!("experiment.output={}", dir.path().display()),
                "dataset.ids=[\"demo__calcy-21\", \"csv-report\"]".into(),
                "scaling.n=2".into(),
                "scaling.k=1".into(),
                "scaling.votes=1".into(),
                "sandbox.concurrency=2".into(),
                "terminal_bench.snapshots=true".into(),
            ],
            ..RunRequest::default()
        },
        None,
    )
    .await
    .unwrap();
    let s = p.run().await.unwrap();
    assert!(s.complete, "{:?}", s.failed_tasks);
    assert_eq!(s.tasks, 2);
    let grading = s
        .progress
        .stages
        .iter()
        .find(|x| x.stage.as_str() == "grading")
        .copied()
        .unwrap();
    assert_eq!(grading.done, 8, "2 tasks x N=2 x T=2 rollouts graded");
    assert_eq!(grading.given_up, 0);
    let grades = std::fs::read_to_string(p.run_dir.join("tables/grades.csv")).unwrap();
    assert!(!grades.contains("infra_error"), "{grades}");
    assert!(p.run_dir.join("tables/leaderboard.parquet").is_file());
    assert!(
        docker_ps(&format!("label=agentscale.run={}", p.run_id)).is_empty(),
        "containers left"
    );
    // the Terminal-Bench rollouts were verified in their own containers
    let live = std::fs::read_dir(p.run_dir.join("verifications"))
        .unwrap()
        .count();
    assert_eq!(live, 4, "2 rollouts x 2 iterations of csv-report");
    // the diagnostic snapshots of the Terminal-Bench rollouts were removed once graded
    let mut snapshots = 0;
    for e in std::fs::read_dir(p.run_dir.join("rollouts")).unwrap() {
        let path = e.unwrap().path();
        let rec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if let Some(image) = rec["trajectory"]["submission"]["snapshot_image"].as_str() {
            snapshots += 1;
            let exists = std::process::Command::new("docker")
                .args(["image", "inspect", image])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap()
                .success();
            assert!(!exists, "snapshot {image} left");
        }
    }
    assert_eq!(snapshots, 4);
}

fn docker_ok(args: &[&str]) -> bool {
    std::process::Command::new("docker")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// A process killed between committing a Terminal-Bench container and recording the rollout
/// leaves a snapshot image that no record names. The `snapshot_started` event written before
/// the commit lets the resumed run find it and remove it; the snapshots of recorded rollouts
/// are kept for grading (which removes them in turn).
#[tokio::test]
async fn a_resumed_run_removes_snapshots_an_earlier_process_left_unrecorded() {
    use agentscale_experiment::store::{Event, EventRecord};
    if !testenv::docker_image_available(
        "a_resumed_run_removes_snapshots_an_earlier_process_left_unrecorded",
        &testenv::base_image(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let request = RunRequest {
        target: testenv::workspace_root().join("configs/demo.toml"),
        overrides: vec![
            format!("experiment.output={}", dir.path().join("out").display()),
            "dataset.ids=[\"csv-report\"]".into(),
            "scaling.n=2".into(),
            "scaling.k=1".into(),
            "scaling.votes=1".into(),
            "terminal_bench.snapshots=true".into(),
        ],
        ..RunRequest::default()
    };
    let run_dir = prepare(&request, None).await.unwrap().run_dir;

    // the image an interrupted process committed: a tiny real image under a snapshot name
    let orphan = format!("agentscale/snapshot:orphan-test-{}", std::process::id());
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("marker"), "left behind").unwrap();
    let tar = dir.path().join("rootfs.tar");
    assert!(
        std::process::Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(&root)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );
    assert!(docker_ok(&["import", &tar.display().to_string(), &orphan]));
    let events = run_dir.join("events.jsonl");
    let before = std::fs::read_to_string(&events).unwrap_or_default();
    let line = EventRecord {
        seq: before.lines().count() as u64,
        t_ms: 0,
        event: Event::SnapshotStarted {
            key: "csv-report-i0-r0-interrupted".into(),
            image: orphan.clone(),
        },
    };
    std::fs::write(
        &events,
        format!("{before}{}\n", serde_json::to_string(&line).unwrap()),
    )
    .unwrap();

    let p = prepare(&request, None).await.unwrap();
    assert!(p.resumed);
    let s = p.run().await.unwrap();
    let gone = !docker_ok(&["image", "inspect", &orphan]);
    if !gone {
        docker_ok(&["rmi", "-f", &orphan]);
    }
    assert!(gone, "the unrecorded snapshot {orphan} was not removed");
    assert!(s.complete, "{:?}", s.failed_tasks);
    // every snapshot this run committed was announced first, and none is left
    let text = std::fs::read_to_string(&events).unwrap();
    let announced: Vec<String> = text
        .lines()
        .filter_map(
            |l| match serde_json::from_str::<EventRecord>(l).unwrap().event {
                Event::SnapshotStarted { image, .. } if image != orphan => Some(image),
                _ => None,
            },
        )
        .collect();
    assert_eq!(
        announced.len(),
        4,
        "2 rollouts x 2 iterations: {announced:?}"
    );
    for image in &announced {
        assert!(
            !docker_ok(&["image", "inspect", image]),
            "snapshot {image} left"
        );
    }
}

/// The demo's service task reproduces exactly from the seed (every table but timing), and its
/// rollouts are verified live: those that start the service resolve it, the others do not.
#[tokio::test]
async fn the_demo_service_task_reproduces_from_its_seed() {
    if !testenv::docker_image_available(
        "the_demo_service_task_reproduces_from_its_seed",
        &testenv::base_image(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut tables = Vec::new();
    for out in ["a", "b"] {
        let p = prepare(
            &RunRequest {
                target: testenv::workspace_root().join("configs/demo.toml"),
                overrides: vec![
                    format!("experiment.output={}", dir.path().join(out).display()),
                    "dataset.ids=[\"notes-service\"]".into(),
                    "scaling.n=4".into(),
                    "scaling.k=2".into(),
                    "scaling.votes=1".into(),
                    "sandbox.concurrency=2".into(),
                ],
                ..RunRequest::default()
            },
            None,
        )
        .await
        .unwrap();
        let s = p.run().await.unwrap();
        assert!(s.complete, "{:?}", s.failed_tasks);
        tables.push(super::common::tables(&p.run_dir));
    }
    assert_eq!(tables[0], tables[1], "the same seed gave other tables");
    let grades = String::from_utf8(tables[0]["grades.csv"].clone()).unwrap();
    assert_eq!(
        grades.lines().count(),
        9,
        "4 rollouts x 2 iterations: {grades}"
    );
    assert!(grades.contains(",resolved,"), "{grades}");
    assert!(grades.contains(",unresolved,"), "{grades}");
    assert!(
        !grades.contains("infra_error") && !grades.contains("verifier_error"),
        "{grades}"
    );
}
