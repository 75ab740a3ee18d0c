//! Property tests of the importers (other tools' files are outside input): whatever the
//! files hold — cut JSON, wrong types, noise — an import is run data or a typed
//! [`ReportError`], never a panic, and never a system made up from nothing.

use agentscale_report::ReportError;
use agentscale_report::import::{ImportKind, ImportOptions, import};
use proptest::prelude::*;

/// A JSON-ish file body: a plausible record cut anywhere, a mistyped one, or noise.
fn body(plausible: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        (0usize..400).prop_map(move |cut| plausible.chars().take(cut).collect()),
        "[{}\\[\\]\",:0-9a-z_ ]{0,40}",
        Just(plausible.replace(['0', '1'], "\"x\"")),
        Just(plausible.to_string()),
        "(.|\n){0,40}",
    ]
}

const HARBOR_TRIAL: &str = r#"{"task_name": "t", "trial_name": "t__A1", "agent_info": {"name": "ag", "model_info": {"name": "m"}}, "agent_result": {"n_input_tokens": 10, "n_cache_tokens": 1, "n_output_tokens": 1, "cost_usd": 0.1}, "verifier_result": {"rewards": {"reward": 1.0}}, "exception_info": null}"#;
const SWE_REPORT: &str = r#"{"a__a-1": {"patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true, "resolved": true, "tests_status": {"FAIL_TO_PASS": {"success": ["t"], "failure": []}, "PASS_TO_PASS": {"success": [], "failure": []}}}}"#;
const PREDS: &str = r#"{"instance_id": "a__a-1", "model_name_or_path": "m", "model_patch": "diff --git a/x b/x\n"}"#;
const MINI_PREDS: &str =
    r#"{"a__a-1": {"instance_id": "a__a-1", "model_name_or_path": "m", "model_patch": "p"}}"#;

fn check(kind: ImportKind, path: &std::path::Path) -> Result<(), TestCaseError> {
    match import(kind, path, &ImportOptions::default()) {
        Ok(data) => {
            for s in &data.meta.systems {
                prop_assert!(
                    !s.name.starts_with("unknown-agent@"),
                    "made-up system {}",
                    s.name
                );
            }
        }
        Err(e) => prop_assert!(!e.to_string().is_empty(), "{e:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn harbor_jobs_of_any_content(trials in proptest::collection::vec(body(HARBOR_TRIAL), 1..4)) {
        let t = tempfile::tempdir().unwrap();
        for (i, b) in trials.iter().enumerate() {
            let d = t.path().join("job").join(format!("t{i}__A{i}"));
            std::fs::create_dir_all(d.join("verifier")).unwrap();
            std::fs::write(d.join("trial.log"), "").unwrap();
            std::fs::write(d.join("result.json"), b).unwrap();
        }
        check(ImportKind::Harbor, t.path())?;
    }

    #[test]
    fn swebench_evaluations_of_any_content(report in body(SWE_REPORT), preds in body(PREDS)) {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("logs/run_evaluation/r/m/a__a-1");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("report.json"), report).unwrap();
        std::fs::write(t.path().join("preds.jsonl"), preds).unwrap();
        check(ImportKind::SweBench, t.path())?;
    }

    #[test]
    fn mini_swe_agent_outputs_of_any_content(preds in body(MINI_PREDS), traj in body(PREDS)) {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("preds.json"), preds).unwrap();
        std::fs::create_dir_all(t.path().join("a__a-1")).unwrap();
        std::fs::write(t.path().join("a__a-1/a__a-1.traj.json"), traj).unwrap();
        check(ImportKind::MiniSweAgent, t.path())?;
    }

    #[test]
    fn matrix_csvs_of_any_content(csv in "(instance_id|[a-z0-9_,. -]{0,12}|\n|,|1|0){0,30}") {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("m.csv");
        std::fs::write(&p, csv).unwrap();
        check(ImportKind::Matrix, &p)?;
    }
}

#[test]
fn a_missing_path_is_a_typed_error() {
    let e = import(
        ImportKind::Harbor,
        std::path::Path::new("/nonexistent/agentscale-import"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ReportError::Import { .. }), "{e:?}");
}
