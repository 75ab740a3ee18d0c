use super::*;

fn instance(f2p: &[&str], p2p: &[&str]) -> SweInstance {
    serde_json::from_value(serde_json::json!({
        "instance_id": "demo__x-1", "repo": "demo/x", "base_commit": "abc", "patch": "",
        "test_patch": "", "problem_statement": "", "version": "0.1",
        "FAIL_TO_PASS": f2p, "PASS_TO_PASS": p2p,
    }))
    .unwrap()
}

fn wrap(body: &str) -> String {
    format!(
        "+ git apply -v -\n+ : '{START_MARKER}'\n{body}\n+ : '{END_MARKER}'\n+ git checkout abc t.py\n"
    )
}

#[test]
fn resolved_when_every_listed_test_passes() {
    let i = instance(&["t.py::a"], &["t.py::b"]);
    let log = wrap("PASSED t.py::a\nPASSED t.py::b\nFAILED t.py::other - x");
    for mode in [GradeMode::V41, GradeMode::Strict] {
        let g = grade_log(&i, LogParser::Pytest, &log, mode);
        assert!(g.found && g.resolved, "{mode}: {g:?}");
        assert_eq!(g.resolution, Resolution::Full);
        let t = g.tests_status.unwrap();
        assert_eq!(t.fail_to_pass.success, ["t.py::a"]);
        assert_eq!(t.pass_to_pass.success, ["t.py::b"]);
    }
}

#[test]
fn missing_tests_fail_and_partial_is_not_resolved() {
    let i = instance(&["t.py::a", "t.py::c"], &["t.py::b"]);
    let log = wrap("PASSED t.py::a\nPASSED t.py::b");
    let g = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    assert_eq!(g.resolution, Resolution::Partial);
    assert!(!g.resolved);
    assert_eq!(g.tests_status.unwrap().fail_to_pass.failure, ["t.py::c"]);
}

#[test]
fn skipped_fail_to_pass_counts_in_neither_list_in_v41_and_fails_in_strict() {
    let i = instance(&["t.py::a"], &["t.py::b"]);
    let log = wrap("SKIPPED t.py::a\nSKIPPED t.py::b\nFAILED t.py::z");
    let v41 = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    // The v4.1 quirk: both lists empty, so f2p = p2p = 1 and the instance is "resolved".
    assert!(v41.resolved);
    let t = v41.tests_status.unwrap();
    assert!(t.fail_to_pass.success.is_empty() && t.fail_to_pass.failure.is_empty());
    let strict = grade_log(&i, LogParser::Pytest, &log, GradeMode::Strict);
    assert!(!strict.resolved);
    let t = strict.tests_status.unwrap();
    assert_eq!(t.fail_to_pass.failure, ["t.py::a"]);
    // A skipped PASS_TO_PASS test is kept in strict mode.
    assert_eq!(t.pass_to_pass.success, ["t.py::b"]);
}

#[test]
fn markers_cut_the_log_and_old_logs_are_parsed_whole() {
    let i = instance(&["t.py::a"], &[]);
    let before = "PASSED t.py::a\n";
    let log = format!("{before}{}", wrap("FAILED t.py::a - boom"));
    let g = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    assert!(
        g.found && !g.resolved,
        "text before the start marker is ignored"
    );
    let old = "collected 1 item\nPASSED t.py::a\n";
    let g = grade_log(&i, LogParser::Pytest, old, GradeMode::V41);
    assert!(g.found && g.resolved, "no markers: the whole log is parsed");
    let half = format!("+ : '{START_MARKER}'\nPASSED t.py::a\n");
    let g = grade_log(&i, LogParser::Pytest, &half, GradeMode::V41);
    assert!(!g.found && !g.resolved);
    assert!(matches!(g.problem, Some(LogProblem::MissingMarker { .. })));
    assert!(g.tests_status.is_none());
}

#[test]
fn an_empty_section_falls_back_to_the_whole_log() {
    let i = instance(&["t.py::a"], &[]);
    // Modal's ordering: the summary arrives after the end marker.
    let log = format!("{}PASSED t.py::a\n", wrap("collected 1 item"));
    let g = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    assert!(g.resolved);
}

#[test]
fn bad_codes_make_the_log_unusable() {
    let i = instance(&["t.py::a"], &[]);
    let log = format!("{}\n>>>>> Tests Timed Out\n", wrap("PASSED t.py::a"));
    let g = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    assert!(!g.found && !g.resolved);
    assert!(matches!(g.problem, Some(LogProblem::BadCode { .. })));
}

#[test]
fn strict_rejects_forged_passes_when_the_command_failed() {
    let i = instance(&["t.py::a"], &["t.py::b"]);
    let log = format!(
        "{}{EXIT_CODE_MARKER} 1\n",
        wrap("collected 2 items\nPASSED t.py::a\nPASSED t.py::b")
    );
    let v41 = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    assert!(v41.resolved, "v4.1 never looks at the exit code");
    let strict = grade_log(&i, LogParser::Pytest, &log, GradeMode::Strict);
    assert!(!strict.resolved && !strict.found);
    assert_eq!(strict.exit_code, Some(1));
    assert!(matches!(
        strict.problem,
        Some(LogProblem::ExitCodeMismatch { exit_code: 1 })
    ));
}

#[test]
fn strict_uses_the_last_end_marker_and_the_last_exit_code() {
    let i = instance(&["t.py::a"], &[]);
    // Test code prints a fake end marker and a fake exit code before the real failure.
    let body = format!("PASSED t.py::a\n{END_MARKER}\n{EXIT_CODE_MARKER} 0\nFAILED t.py::a - real");
    let log = format!("{}{EXIT_CODE_MARKER} 1\n", wrap(&body));
    let v41 = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
    assert!(v41.resolved, "v4.1 stops at the first end marker");
    let strict = grade_log(&i, LogParser::Pytest, &log, GradeMode::Strict);
    assert!(!strict.resolved);
    assert_eq!(strict.exit_code, Some(1));
    assert!(
        strict
            .flags
            .iter()
            .any(|f| f.contains("two different statuses"))
    );
}

#[test]
fn strict_treats_a_test_patch_failure_as_its_own_problem() {
    let i = instance(&["t.py::a"], &[]);
    let log = format!(
        "error: tests/t.py: already exists in working directory\n{TEST_PATCH_FAILED_MARKER}\n"
    );
    let g = grade_log(&i, LogParser::Pytest, &log, GradeMode::Strict);
    assert_eq!(g.problem, Some(LogProblem::TestPatchFailed));
    // The marker inside the test output (printed by test code) does not count.
    let inside = format!(
        "{}{EXIT_CODE_MARKER} 0\n",
        wrap(&format!("{TEST_PATCH_FAILED_MARKER}\nPASSED t.py::a"))
    );
    assert!(grade_log(&i, LogParser::Pytest, &inside, GradeMode::Strict).resolved);
}

#[test]
fn truncated_ids_match_by_prefix_in_strict_mode_only() {
    let i = instance(&["t.py::test_fmt[log(photon"], &[]);
    let log = wrap("PASSED t.py::test_fmt[log(photon)]\nPASSED t.py::test_fmt[log(photon**2)]");
    assert!(!grade_log(&i, LogParser::Pytest, &log, GradeMode::V41).resolved);
    let g = grade_log(&i, LogParser::Pytest, &log, GradeMode::Strict);
    assert!(g.resolved, "{g:?}");
    assert!(g.flags[0].contains("prefix"));
    let ambiguous =
        wrap("PASSED t.py::test_fmt[log(photon)]\nFAILED t.py::test_fmt[log(photon**2)]");
    assert!(!grade_log(&i, LogParser::Pytest, &ambiguous, GradeMode::Strict).resolved);
}

#[test]
fn unknown_statuses_count_in_neither_list_in_v41() {
    let inst = instance(&[], &["t.py::b"]);
    // `ERROR: x` style lines store the raw token `ERROR:` as the status.
    let log = wrap("PASSED: t.py::b\n");
    let g = grade_log(&inst, LogParser::Pytest, &log, GradeMode::V41);
    let t = g.tests_status.unwrap();
    assert!(t.pass_to_pass.success.is_empty() && t.pass_to_pass.failure.is_empty());
    // XPASS is not a status at all: the line is ignored and the test is missing.
    let x = grade_log(
        &inst,
        LogParser::Pytest,
        &wrap("XPASS t.py::b\nPASSED t.py::z"),
        GradeMode::V41,
    );
    assert_eq!(x.tests_status.unwrap().pass_to_pass.failure, ["t.py::b"]);
    let s = grade_log(
        &inst,
        LogParser::Pytest,
        &format!("{log}{EXIT_CODE_MARKER} 0"),
        GradeMode::Strict,
    );
    assert_eq!(s.tests_status.unwrap().pass_to_pass.failure, ["t.py::b"]);
}

#[test]
fn exit_code_and_duration_are_read() {
    let log =
        format!("{EXIT_CODE_MARKER} 0\n+ echo x\n{EXIT_CODE_MARKER} 2\n{DURATION_MARKER} 1234\n");
    assert_eq!(recorded_exit_code(&log), Some(2));
    assert_eq!(recorded_duration_ms(&log), Some(1234));
    assert_eq!(recorded_exit_code("nothing"), None);
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Grading never panics, and a log is resolved in strict mode only if it is resolved
        /// in v4.1 mode or a truncated id or a skip rule is involved (strict never resolves
        /// what v4.1 fails on plain ids).
        #[test]
        fn strict_is_never_more_lenient_on_plain_ids(
            lines in proptest::collection::vec(
                ("(PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)", "t.py::[a-d]"), 0..8),
            exit in proptest::option::of(0i64..3),
        ) {
            let body: String = lines.iter().fold(String::new(), |mut acc, (s, t)| {
                acc.push_str(s);
                acc.push(' ');
                acc.push_str(t);
                acc.push('\n');
                acc
            });
            let mut log = wrap(&body);
            if let Some(e) = exit {
                log.push_str(EXIT_CODE_MARKER);
                log.push(' ');
                log.push_str(&e.to_string());
                log.push('\n');
            }
            let i = instance(&["t.py::a", "t.py::b"], &["t.py::c"]);
            let v41 = grade_log(&i, LogParser::Pytest, &log, GradeMode::V41);
            let strict = grade_log(&i, LogParser::Pytest, &log, GradeMode::Strict);
            let any_skip = lines.iter().any(|(s, _)| s == "SKIPPED");
            if strict.resolved && !any_skip {
                prop_assert!(v41.resolved);
            }
        }
    }
}

#[test]
fn an_eval_log_without_markers_is_not_a_test_run() {
    let i = instance(&["t.py::a"], &[]);
    let unmarked = "collected 1 item\nPASSED t.py::a\n";
    // Re-grading an old harness's log parses it whole; our own eval script's log must carry
    // the markers, as in the official harness.
    assert!(grade_log(&i, LogParser::Pytest, unmarked, GradeMode::V41).resolved);
    for mode in [GradeMode::V41, GradeMode::Strict] {
        let g = grade_eval_log(&i, LogParser::Pytest, unmarked, mode);
        assert!(!g.resolved && !g.found, "{mode}: {g:?}");
        assert_eq!(g.problem, Some(LogProblem::NoMarkers));
    }
    let marked = wrap("PASSED t.py::a");
    assert!(grade_eval_log(&i, LogParser::Pytest, &marked, GradeMode::V41).resolved);
}

#[test]
fn lines_the_official_parsers_fail_on_are_errors_in_v41_and_skipped_in_strict() {
    let i = instance(&["t.py::a"], &[]);
    for (parser, log) in [
        (LogParser::Seaborn, wrap("PASSED t.py::a\nFAILED")),
        (LogParser::Seaborn, wrap("PASSED t.py::a\nPASSED")),
        (LogParser::Django, wrap("t.py::a ... ok\nFAIL:\n")),
        (LogParser::Django, wrap("t.py::a ... ok\nERROR:   ")),
    ] {
        let g = grade_log(&i, parser, &log, GradeMode::V41);
        assert!(
            matches!(g.problem, Some(LogProblem::ParserCrash { .. })) && !g.resolved,
            "{parser}: {g:?}"
        );
        let g = grade_log(&i, parser, &log, GradeMode::Strict);
        assert!(g.problem.is_none(), "{parser}: {g:?}");
    }
    // A FAILED line with an id is an ordinary failure in both modes.
    let g = grade_log(
        &i,
        LogParser::Seaborn,
        &wrap("FAILED t.py::a"),
        GradeMode::V41,
    );
    assert!(g.problem.is_none() && !g.resolved, "{g:?}");
}
