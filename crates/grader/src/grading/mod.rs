//! Grading a test log against an instance's FAIL_TO_PASS and PASS_TO_PASS lists.
//!
//! The main function is [`grade_log`]: a pure function from (instance, parser, log, mode) to
//! a [`LogGrade`] (the official `tests_status`, whether the instance is resolved, and why a
//! log could not be used). Semantics per mode are documented on [`GradeMode`]; the rules
//! follow `get_logs_eval`, `get_eval_tests_report` and `get_resolution_status` of the
//! official harness (v4.1) and their 5.0 fixes.

use std::sync::LazyLock;

use agentscale_core::SweInstance;
use agentscale_core::grade::{TestResults, TestsStatus};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::eval_script::{
    DURATION_MARKER, END_MARKER, EXIT_CODE_MARKER, START_MARKER, TEST_PATCH_FAILED_MARKER,
};
use crate::mode::GradeMode;
use crate::parsers::{LogParser, StatusMap, TestStatus};

/// Markers the official harness writes into a log when it gave up; any of them means the log
/// is not a test run (`get_logs_eval`).
pub const BAD_CODES: [&str; 4] = [
    ">>>>> Patch Apply Failed",
    ">>>>> Reset Failed",
    ">>>>> Tests Errored",
    ">>>>> Tests Timed Out",
];

/// The official resolution status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    /// Every FAIL_TO_PASS and PASS_TO_PASS test passes.
    #[serde(rename = "RESOLVED_FULL")]
    Full,
    /// Some FAIL_TO_PASS tests pass and every PASS_TO_PASS test passes.
    #[serde(rename = "RESOLVED_PARTIAL")]
    Partial,
    /// Anything else.
    #[serde(rename = "RESOLVED_NO")]
    No,
}

/// Why a log could not be graded as a test run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogProblem {
    /// One of [`BAD_CODES`] is in the log.
    BadCode {
        /// The marker found.
        code: String,
    },
    /// Only one of the start and end markers is present.
    MissingMarker {
        /// The marker that is missing.
        missing: String,
    },
    /// The test patch did not apply (strict mode's marker): the tests never ran.
    TestPatchFailed,
    /// A log of our own eval script without the start and end markers: the tests never ran
    /// (the official harness: "Test patch did not apply").
    NoMarkers,
    /// The official parser raises on this line (v4.1 mode reproduces the error).
    ParserCrash {
        /// The line.
        line: String,
    },
    /// Strict mode: no test result could be read from the log at all.
    NoTests,
    /// Strict mode: the test command failed, yet the log reports no failing test — the
    /// output was forged or cut.
    ExitCodeMismatch {
        /// The recorded exit code.
        exit_code: i64,
    },
}

impl std::fmt::Display for LogProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadCode { code } => write!(f, "the log contains {code:?}"),
            Self::MissingMarker { missing } => {
                write!(f, "the log has one test marker but not {missing:?}")
            }
            Self::TestPatchFailed => f.write_str(
                "the test patch did not apply after the model patch (did the model create a \
                 file the test patch adds?); the tests were not run",
            ),
            Self::NoTests => f.write_str("no test result could be read from the log"),
            Self::NoMarkers => f.write_str(
                "the log has neither test marker: the eval script stopped before the tests ran",
            ),
            Self::ParserCrash { line } => write!(
                f,
                "the official log parser fails on the line {line:?} (the official harness then \
                 reports the instance as an error)"
            ),
            Self::ExitCodeMismatch { exit_code } => write!(
                f,
                "the test command exited {exit_code} but the log reports no failing test \
                 (forged or truncated test output)"
            ),
        }
    }
}

/// The grade of one log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGrade {
    /// The log was usable (the official `patch_successfully_applied`).
    pub found: bool,
    /// The official test lists; `None` when the log was not usable.
    pub tests_status: Option<TestsStatus>,
    /// The official resolution status.
    pub resolution: Resolution,
    /// `resolution == Full`.
    pub resolved: bool,
    /// Why the log was not usable.
    pub problem: Option<LogProblem>,
    /// The test command's exit code, when the log records it (strict mode's marker).
    pub exit_code: Option<i64>,
    /// The test command's duration in milliseconds, when the log records it.
    pub test_duration_ms: Option<u64>,
    /// How many tests the parser found.
    pub parsed_tests: usize,
    /// Strict-mode findings that changed a test's verdict (conflicting statuses, prefix
    /// matches of truncated ids).
    pub flags: Vec<String>,
}

impl LogGrade {
    fn unusable(problem: LogProblem, exit_code: Option<i64>, duration: Option<u64>) -> Self {
        Self {
            found: false,
            tests_status: None,
            resolution: Resolution::No,
            resolved: false,
            problem: Some(problem),
            exit_code,
            test_duration_ms: duration,
            parsed_tests: 0,
            flags: Vec::new(),
        }
    }
}

static EXIT_CODE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(&format!(r"{}\s*(-?\d+)", regex::escape(EXIT_CODE_MARKER))).unwrap()
});

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(&format!(r"{}\s*(\d+)", regex::escape(DURATION_MARKER))).unwrap()
});

/// The last `>>>>> Test Exit Code: N` of a log (the harness prints it after everything the
/// tests printed, so an earlier forged one never wins).
pub fn recorded_exit_code(log: &str) -> Option<i64> {
    EXIT_CODE
        .captures_iter(log)
        .last()
        .and_then(|c| c.get(1)?.as_str().parse().ok())
}

/// The last `>>>>> Test Duration ms: N` of a log.
pub fn recorded_duration_ms(log: &str) -> Option<u64> {
    DURATION
        .captures_iter(log)
        .last()
        .and_then(|c| c.get(1)?.as_str().parse().ok())
}

/// The test section of a log. v4.1: the text between the first start marker and the first
/// end marker after it (Python's `split(START)[1].split(END)[0]`). Strict: up to the *last*
/// end marker, so test code printing a fake end marker cannot hide the rest. `Ok(None)` when
/// the log has neither marker (logs of older harness versions), `Err` when it has only one.
pub fn test_section(log: &str, mode: GradeMode) -> Result<Option<&str>, LogProblem> {
    let has_start = log.contains(START_MARKER);
    let has_end = log.contains(END_MARKER);
    match (has_start, has_end) {
        (false, false) => return Ok(None),
        (true, false) => {
            return Err(LogProblem::MissingMarker {
                missing: END_MARKER.into(),
            });
        }
        (false, true) => {
            return Err(LogProblem::MissingMarker {
                missing: START_MARKER.into(),
            });
        }
        (true, true) => {}
    }
    let after_start = log.split_once(START_MARKER).map_or("", |(_, rest)| rest);
    Ok(Some(match mode {
        GradeMode::V41 => {
            let upto_next_start = after_start.split(START_MARKER).next().unwrap_or("");
            upto_next_start.split(END_MARKER).next().unwrap_or("")
        }
        GradeMode::Strict => after_start
            .rsplit_once(END_MARKER)
            .map_or(after_start, |(head, _)| head),
    }))
}

/// Parse a log into a status map the way the official `get_logs_eval` does: the test section
/// when the markers are there, the whole log when they are not or when the section yields
/// nothing.
pub fn parse_log(parser: LogParser, log: &str, mode: GradeMode) -> Result<StatusMap, LogProblem> {
    if let Some(code) = BAD_CODES.iter().find(|c| log.contains(**c)) {
        return Err(LogProblem::BadCode {
            code: (*code).to_string(),
        });
    }
    if mode == GradeMode::Strict {
        let before_start = log.split(START_MARKER).next().unwrap_or("");
        if before_start.contains(TEST_PATCH_FAILED_MARKER) {
            return Err(LogProblem::TestPatchFailed);
        }
    }
    let flavor = mode.flavor();
    let section = test_section(log, mode)?;
    let mut map = section.map(|s| parser.parse(s, flavor)).unwrap_or_default();
    if map.is_empty() {
        map = parser.parse(log, flavor);
    }
    Ok(map)
}

/// Grade the log of an eval script that agentscale ran: as [`grade_log`], except that a log
/// with neither marker is [`LogProblem::NoMarkers`] (as in the official harness), never parsed
/// whole. Bad codes take precedence, as they do there.
pub fn grade_eval_log(
    instance: &SweInstance,
    parser: LogParser,
    log: &str,
    mode: GradeMode,
) -> LogGrade {
    let bad = BAD_CODES.iter().any(|c| log.contains(*c));
    if !bad && !log.contains(START_MARKER) && !log.contains(END_MARKER) {
        return LogGrade::unusable(
            LogProblem::NoMarkers,
            recorded_exit_code(log),
            recorded_duration_ms(log),
        );
    }
    grade_log(instance, parser, log, mode)
}

/// Grade a log. A log with neither marker (those of harness versions before the markers, such
/// as `--from-logs` re-grades of 2024 runs) is parsed whole.
pub fn grade_log(
    instance: &SweInstance,
    parser: LogParser,
    log: &str,
    mode: GradeMode,
) -> LogGrade {
    let exit_code = recorded_exit_code(log);
    let duration = recorded_duration_ms(log);
    let map = match parse_log(parser, log, mode) {
        Ok(m) => m,
        Err(p) => return LogGrade::unusable(p, exit_code, duration),
    };
    if mode == GradeMode::V41
        && let Some(line) = map.crash()
    {
        return LogGrade::unusable(
            LogProblem::ParserCrash {
                line: line.to_string(),
            },
            exit_code,
            duration,
        );
    }
    if mode == GradeMode::Strict {
        if map.is_empty() {
            return LogGrade::unusable(LogProblem::NoTests, exit_code, duration);
        }
        if let Some(code) = exit_code.filter(|c| *c != 0)
            && !map.iter().any(|(_, s)| s.is_fail())
        {
            return LogGrade::unusable(
                LogProblem::ExitCodeMismatch { exit_code: code },
                exit_code,
                duration,
            );
        }
    }
    let mut flags = Vec::new();
    let tests_status = tests_report(instance, &map, mode, &mut flags);
    let resolution = resolution(&tests_status);
    LogGrade {
        found: true,
        resolved: resolution == Resolution::Full,
        tests_status: Some(tests_status),
        resolution,
        problem: None,
        exit_code,
        test_duration_ms: duration,
        parsed_tests: map.len(),
        flags,
    }
}

/// How a test of a category fares.
enum Verdict {
    Success,
    Failure,
    Neither,
}

/// The official `get_eval_tests_report` (PASS_AND_FAIL), with the strict rules in strict
/// mode.
pub fn tests_report(
    instance: &SweInstance,
    map: &StatusMap,
    mode: GradeMode,
    flags: &mut Vec<String>,
) -> TestsStatus {
    let mut out = TestsStatus::default();
    for (tests, results, f2p) in [
        (&instance.fail_to_pass, &mut out.fail_to_pass, true),
        (&instance.pass_to_pass, &mut out.pass_to_pass, false),
    ] {
        *results = TestResults::default();
        for case in tests {
            let verdict = match mode {
                GradeMode::V41 => match map.get(case) {
                    Some(s) if s.is_pass() => Verdict::Success,
                    None => Verdict::Failure,
                    Some(s) if s.is_fail() => Verdict::Failure,
                    Some(_) => Verdict::Neither,
                },
                GradeMode::Strict => strict_verdict(case, map, f2p, flags),
            };
            match verdict {
                Verdict::Success => results.success.push(case.clone()),
                Verdict::Failure => results.failure.push(case.clone()),
                Verdict::Neither => {}
            }
        }
    }
    out
}

fn strict_verdict(case: &str, map: &StatusMap, f2p: bool, flags: &mut Vec<String>) -> Verdict {
    let status = match map.get(case) {
        Some(s) => Some(s.clone()),
        None if case.matches('[').count() > case.matches(']').count() => {
            resolve_truncated(case, map, flags)
        }
        None => None,
    };
    if map.conflicts().iter().any(|c| c == case) {
        flags.push(format!(
            "{case}: reported with two different statuses; counted as failed"
        ));
        return Verdict::Failure;
    }
    match status {
        Some(s) if s.is_pass() => Verdict::Success,
        Some(TestStatus::Skipped) if !f2p => Verdict::Success,
        _ => Verdict::Failure,
    }
}

/// Harness 5.0's `_resolve_case`: a truncated id (more `[` than `]`) matches the log's ids
/// that start with it, when they all agree on pass versus fail; the first match wins.
fn resolve_truncated(case: &str, map: &StatusMap, flags: &mut Vec<String>) -> Option<TestStatus> {
    let matches: Vec<(&str, &TestStatus)> =
        map.iter().filter(|(k, _)| k.starts_with(case)).collect();
    let (first_id, first) = *matches.first()?;
    if matches.iter().all(|(_, s)| s.is_pass() == first.is_pass()) {
        flags.push(format!(
            "{case}: truncated id matched {} log id(s) by prefix (first: {first_id})",
            matches.len()
        ));
        Some(first.clone())
    } else {
        flags.push(format!(
            "{case}: truncated id matches log ids that disagree; counted as missing"
        ));
        None
    }
}

/// The official `get_resolution_status`.
pub fn resolution(t: &TestsStatus) -> Resolution {
    let rate = |r: &TestResults| {
        let total = r.success.len() + r.failure.len();
        if total == 0 {
            1.0
        } else {
            r.success.len() as f64 / total as f64
        }
    };
    let f2p = rate(&t.fail_to_pass);
    let p2p = rate(&t.pass_to_pass);
    #[allow(clippy::float_cmp)] // exact ratios: 1.0 only when there is no failure
    if f2p == 1.0 && p2p == 1.0 {
        Resolution::Full
    } else if f2p > 0.0 && f2p < 1.0 && p2p == 1.0 {
        Resolution::Partial
    } else {
        Resolution::No
    }
}

#[cfg(test)]
mod tests;
