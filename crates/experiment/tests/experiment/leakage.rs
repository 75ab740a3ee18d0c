//! Selection never sees grades, at the level of whole runs: once a run's grades are on disk
//! (with a canary in every message, reward, test name and test log), a re-selection that
//! reads that run directory makes new judge calls, and none of the prompts the mock server
//! receives carries the canary. The grades are also flipped to `resolved`, and the new
//! system's tables show them, so the process that made the calls did read them.

use std::path::Path;

use agentscale_experiment::reselect::{ReselectRequest, reselect};
use serde_json::{Value, json};

use super::common::{config, counts, mock, prepare_in, role_of, tables, write_dataset};

const CANARY: &str = "CANARY-grade-5d1e77";

/// Rewrite every stored grade: resolved, with the canary wherever a grade can carry text,
/// and a test log next to it. Returns how many grades were rewritten.
fn poison_grades(run_dir: &Path) -> usize {
    let mut n = 0;
    let dir = run_dir.join("grades");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let mut rec: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let g = &mut rec["grade"];
            g["status"] = json!("resolved");
            g["resolved"] = json!(true);
            g["message"] = json!(format!("tests: FAILED tests/t.py::test_a {CANARY}"));
            g["rewards"] = json!({ "reward": 1.0, format!("reward_{CANARY}"): 1.0 });
            g["tests_status"] = json!({
                "FAIL_TO_PASS": {"success": [format!("tests/t.py::test_{CANARY}")], "failure": []},
                "PASS_TO_PASS": {"success": [], "failure": [format!("tests/t.py::test_p2p_{CANARY}")]},
                "FAIL_TO_FAIL": {"success": [], "failure": []},
                "PASS_TO_FAIL": {"success": [], "failure": []}
            });
            g["flags"] = json!([format!("flag {CANARY}")]);
            std::fs::write(&p, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
            std::fs::write(
                p.with_extension("log"),
                format!("=== test output ===\nPASSED {CANARY}\nreward: 1\n"),
            )
            .unwrap();
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn stored_grades_never_reach_the_prompts_of_a_reselection() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 3);
    let server = mock().await;
    let p = prepare_in(
        dir.path(),
        &config(&data, &server.openai_base_url(), ""),
        &dir.path().join("out"),
    )
    .await
    .unwrap();
    let s = p.run().await.unwrap();
    assert!(s.complete, "{:?}", s.failed_tasks);
    let run_dir = p.run_dir.clone();
    drop(p);
    // 3 tasks x N=4 x T=2 rollouts, every one graded (scope "all")
    assert_eq!(poison_grades(&run_dir), 24);
    let before = server.request_count();
    let roles_before = counts(&server);

    // Other group size and votes: new judge calls over the stored candidates, made by a
    // process that has the poisoned grades in its run directory.
    let out = reselect(&ReselectRequest {
        run_dir: run_dir.clone(),
        overrides: vec!["scaling.group_size=4".into(), "scaling.votes=5".into()],
        offline: false,
    })
    .await
    .unwrap();
    let sys = &out.systems[0];
    assert!(sys.votes_made > 0, "{sys:?}");

    let new: Vec<_> = server.requests().into_iter().skip(before).collect();
    assert_eq!(new.len(), sys.votes_made, "one request per vote made");
    assert!(new.iter().all(|r| role_of(r) == "judge"));
    for r in &new {
        assert!(
            !r.raw_body.contains(CANARY),
            "the canary reached a judge prompt: {:.400}",
            r.raw_body
        );
    }
    // Control: the re-selection did read the poisoned grades (every answer now resolves).
    assert_eq!(sys.scored.1, 3, "{sys:?}");
    assert_eq!(
        sys.resolved.1, 3,
        "the poisoned grades were not read: {sys:?}"
    );
    let lb = String::from_utf8(tables(&run_dir)["leaderboard.csv"].clone()).unwrap();
    assert!(lb.contains("mock-model+group_size=4,votes=5"), "{lb}");

    // Control for the check itself: the canary is on disk, in the grades and their logs.
    let grades_text: String = std::fs::read_dir(run_dir.join("grades"))
        .unwrap()
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                std::fs::read_dir(p)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect::<Vec<_>>()
            } else {
                vec![p]
            }
        })
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(grades_text.matches(CANARY).count() >= 24 * 6);
    // No agent or summarizer call was needed for a re-selection.
    let c = counts(&server);
    assert_eq!(c["agent"], roles_before["agent"]);
    assert_eq!(c["summarizer"], roles_before["summarizer"]);
}
