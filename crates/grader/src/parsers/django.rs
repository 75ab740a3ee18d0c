//! `parse_log_django`: Django's `runtests.py --verbosity 2` output.

use std::sync::LazyLock;

use regex::Regex;

use super::{StatusMap, TestStatus, py_split, py_strip};

/// Output printed between a test's ` ... ` and its `ok` on the next line, seen in real logs;
/// the test counts as passed (three patterns of the official parser).
static INTERRUPTED: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // constant patterns
    [
        Regex::new(
            r"(?m)^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$",
        )
        .unwrap(),
        Regex::new(r"(?m)^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ /(.*)/\nok$").unwrap(),
        Regex::new(r"(?m)^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$")
            .unwrap(),
    ]
});

const PASS_SUFFIXES: [&str; 3] = [" ... ok", " ... OK", " ...  OK"];

/// The official Django rules, in their order (see the crate's reference notes): `name ... ok`
/// passes, `... skipped` skips, `... FAIL`/`FAIL:` fail, `... ERROR`/`ERROR:` error, a line
/// starting with `ok` passes the last test that printed ` ... `, and three multi-line
/// patterns pass tests whose `ok` was pushed to the next line.
pub(super) fn parse_django(log: &str) -> StatusMap {
    let mut map = StatusMap::new();
    let mut prev_test: Option<String> = None;
    for raw in log.split('\n') {
        let mut line = py_strip(raw);
        if line.contains("--version is equivalent to version") {
            map.insert("--version is equivalent to version", TestStatus::Passed);
        }
        if let Some((head, _)) = line.split_once(" ... ") {
            prev_test = Some(head.to_string());
        }
        for suffix in PASS_SUFFIXES {
            if line.ends_with(suffix) {
                // django__django-7188: a migration message printed on the test's line.
                if line.starts_with("Applying sites.0002_alter_domain_unique...test_no_migrations")
                {
                    line = py_strip(line.split_once("...").map_or(line, |(_, rest)| rest));
                }
                let test = line.rsplit_once(suffix).map_or(line, |(head, _)| head);
                map.insert(test, TestStatus::Passed);
                break;
            }
        }
        if let Some((test, _)) = line.split_once(" ... skipped") {
            map.insert(test, TestStatus::Skipped);
        }
        if line.ends_with(" ... FAIL") {
            let test = line.split_once(" ... FAIL").map_or(line, |(h, _)| h);
            map.insert(test, TestStatus::Failed);
        }
        if line.starts_with("FAIL:") {
            match py_split(line).get(1) {
                Some(test) => map.insert(py_strip(test), TestStatus::Failed),
                None => map.crash_on(line),
            }
        }
        if line.ends_with(" ... ERROR") {
            let test = line.split_once(" ... ERROR").map_or(line, |(h, _)| h);
            map.insert(test, TestStatus::Error);
        }
        if line.starts_with("ERROR:") {
            match py_split(line).get(1) {
                Some(test) => map.insert(py_strip(test), TestStatus::Error),
                None => map.crash_on(line),
            }
        }
        if line.trim_start_matches(super::py_space).starts_with("ok")
            && let Some(prev) = &prev_test
        {
            map.insert(prev.clone(), TestStatus::Passed);
        }
    }
    for re in INTERRUPTED.iter() {
        for c in re.captures_iter(log) {
            if let Some(name) = c.get(1) {
                map.insert(name.as_str(), TestStatus::Passed);
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_verbosity_two_lines() {
        let log = "test_a (app.tests.T) ... ok\n\
                   test_b (app.tests.T) ... FAIL\n\
                   test_c (app.tests.T) ... ERROR\n\
                   test_d (app.tests.T) ... skipped 'no db'\n\
                   test_e (app.tests.T) ... some output\n\
                   more output\n\
                   ok\n\
                   test_f (app.tests.T) ... System check identified no issues (0 silenced).\nok\n\
                   FAIL: test_g (app.tests.T)\n\
                   ERROR: test_h (app.tests.T)\n\
                   The docstring line ... OK\n";
        let m = parse_django(log);
        let get = |k: &str| m.get(k).map(|s| s.as_str().to_string());
        assert_eq!(get("test_a (app.tests.T)").as_deref(), Some("PASSED"));
        assert_eq!(get("test_b (app.tests.T)").as_deref(), Some("FAILED"));
        assert_eq!(get("test_c (app.tests.T)").as_deref(), Some("ERROR"));
        assert_eq!(get("test_d (app.tests.T)").as_deref(), Some("SKIPPED"));
        assert_eq!(get("test_e (app.tests.T)").as_deref(), Some("PASSED"));
        assert_eq!(get("test_f (app.tests.T)").as_deref(), Some("PASSED"));
        // FAIL:/ERROR: lines give only the first token after the colon.
        assert_eq!(get("test_g").as_deref(), Some("FAILED"));
        assert_eq!(get("test_h").as_deref(), Some("ERROR"));
        assert_eq!(get("The docstring line").as_deref(), Some("PASSED"));
    }

    #[test]
    fn migration_message_on_the_test_line() {
        let log = "Applying sites.0002_alter_domain_unique...test_no_migrations (x.T) ... ok";
        let m = parse_django(log);
        assert_eq!(m.get("test_no_migrations (x.T)"), Some(&TestStatus::Passed));
    }
}
