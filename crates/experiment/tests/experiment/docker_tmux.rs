//! A Terminal-Bench 2.0 task definition (task.toml and instruction.md of a real TB2 task) on
//! a stand-in image without tmux runs end to end: tmux is installed when the session would
//! start, with the image's package manager, once for all the task's rollouts (a derived
//! image, labelled for `images list/prune`), and every rollout is verified in its container.
//!
//! The stand-in image is built from the base image: tmux is repackaged from the base image's
//! own files into apt's cache (`dpkg-deb`), then removed (`dpkg -r tmux`), so the install is
//! real (apt-get installs the package) and needs no network.

use std::path::Path;

use agentscale_core::testenv;
use agentscale_experiment::run::{RunRequest, prepare};

/// The TB2 task whose definition is used.
const TB2_TASK: &str = "log-summary-date-ranges";

/// The stand-in image: the base image, tmux in apt's cache only.
const DOCKERFILE: &str = r#"FROM agentscale/base:bookworm AS pkg
RUN set -e; mkdir -p /tmp/pkg/DEBIAN; \
    dpkg -L tmux | while read -r f; do \
      if [ -f "$f" ] || [ -L "$f" ]; then mkdir -p "/tmp/pkg$(dirname "$f")"; cp -a "$f" "/tmp/pkg$f"; fi; \
    done; \
    dpkg-query -s tmux | awk '/^[A-Za-z-]+:/{skip=($1=="Status:"||$1=="Conffiles:")} !skip' > /tmp/pkg/DEBIAN/control; \
    dpkg-deb --build /tmp/pkg /tmp/tmux.deb
FROM agentscale/base:bookworm
COPY --from=pkg /tmp/tmux.deb /var/cache/apt/archives/tmux_0-agentscale_amd64.deb
RUN dpkg -r tmux && ! command -v tmux
WORKDIR /app
"#;

fn docker(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_task(tb2: &Path, root: &Path) -> std::path::PathBuf {
    let t = root.join("tasks").join(TB2_TASK);
    for d in ["environment", "tests", "solution"] {
        std::fs::create_dir_all(t.join(d)).unwrap();
    }
    for f in ["task.toml", "instruction.md"] {
        std::fs::copy(tb2.join(f), t.join(f)).unwrap();
    }
    std::fs::write(t.join("environment/Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(
        t.join("tests/test.sh"),
        "#!/bin/bash\nif [ -f /app/summary.csv ]; then echo 1 > /logs/verifier/reward.txt; \
         else echo 0 > /logs/verifier/reward.txt; fi\n",
    )
    .unwrap();
    std::fs::write(
        t.join("solution/solve.sh"),
        "#!/bin/bash\nprintf 'period,severity,count\\n' > /app/summary.csv\n",
    )
    .unwrap();
    root.join("tasks")
}

#[tokio::test]
async fn a_tb2_task_without_tmux_gets_it_installed_once_and_runs() {
    let test = "a_tb2_task_without_tmux_gets_it_installed_once_and_runs";
    if !testenv::docker_image_available(test, &testenv::base_image()) {
        return;
    }
    let Some(tb2) = testenv::shared_path(test, &format!("datasets/terminal-bench-2.0/{TB2_TASK}"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tasks = write_task(&tb2, dir.path());
    let cfg = dir.path().join("exp.toml");
    std::fs::write(
        &cfg,
        format!(
            "[experiment]\nname = \"tmux-install\"\nseed = 3\n[dataset]\npath = \"{}\"\n\
             [[models]]\nname = \"demo-scripted\"\nprovider = \"scripted\"\nscript = \"demo\"\n\
             [sandbox]\nbackend = \"docker\"\nconcurrency = 2\n\
             [scaling]\nmethod = \"none\"\nn = 4\n",
            tasks.display()
        ),
    )
    .unwrap();
    let p = prepare(
        &RunRequest {
            target: cfg,
            overrides: vec![format!(
                "experiment.output={}",
                dir.path().join("out").display()
            )],
            ..RunRequest::default()
        },
        None,
    )
    .await
    .unwrap();
    let s = p.run().await.unwrap();
    // what this test made: the stand-in image and the image derived from it
    let task_images: Vec<String> = docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        &format!("agentscale/tb-{TB2_TASK}"),
    ])
    .split_whitespace()
    .map(str::to_string)
    .collect();
    let derived: Vec<String> = task_images
        .iter()
        .flat_map(|base| {
            docker(&[
                "images",
                "--filter",
                "label=agentscale.image=with-tmux",
                "--filter",
                &format!("label=agentscale.image.base={base}"),
                "--format",
                "{{.Repository}}:{{.Tag}}",
            ])
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
        })
        .collect();
    for image in derived.iter().chain(&task_images) {
        docker(&["rmi", "-f", image]);
    }

    assert!(s.complete, "{:?}", s.failed_tasks);
    let rollouts = s
        .progress
        .stages
        .iter()
        .find(|x| x.stage.as_str() == "rollouts")
        .copied()
        .unwrap();
    assert_eq!(rollouts.done, 4, "{rollouts:?}");
    assert_eq!(rollouts.infra_failures, 0, "{rollouts:?}");
    assert_eq!(derived.len(), 1, "tmux installed once: {derived:?}");
    assert!(
        derived[0].starts_with("agentscale/with-tmux:"),
        "{derived:?}"
    );
    // every rollout drove tmux and was verified where it ran
    let table = std::fs::read_to_string(p.run_dir.join("tables/rollouts.csv")).unwrap();
    assert!(!table.contains("sandbox_error"), "{table}");
    assert_eq!(
        std::fs::read_dir(p.run_dir.join("verifications"))
            .unwrap()
            .count(),
        4
    );
    let grades = std::fs::read_to_string(p.run_dir.join("tables/grades.csv")).unwrap();
    assert_eq!(grades.lines().count(), 5, "{grades}");
    assert!(
        !grades.contains("infra_error") && !grades.contains("verifier_error"),
        "{grades}"
    );
}
