//! The pytest family: `parse_log_pytest`, `parse_log_matplotlib`, `parse_log_pytest_options`,
//! `parse_log_pytest_v2` and `parse_log_seaborn`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Flavor, StatusMap, TestStatus, ends_with_status, py_split, starts_with_status};

/// `parse_log_pytest` (and `parse_log_matplotlib` when `matplotlib` is set): every line that
/// starts with a status gives `status id`; FAILED lines have `" - "` replaced by a space first.
pub(super) fn parse_pytest(log: &str, flavor: Flavor, matplotlib: bool) -> StatusMap {
    let mut map = StatusMap::new();
    for raw in log.split('\n') {
        let rewritten;
        let mut line = raw;
        if matplotlib && line.contains("MouseButton.") {
            rewritten = line
                .replace("MouseButton.LEFT", "1")
                .replace("MouseButton.RIGHT", "3");
            line = &rewritten;
        }
        if !starts_with_status(line) {
            continue;
        }
        let replaced;
        if line.starts_with("FAILED") {
            replaced = line.replace(" - ", " ");
            line = &replaced;
        }
        let t = py_split(line);
        if t.len() <= 1 {
            continue;
        }
        if flavor == Flavor::V5 && t[0] == "SKIPPED" && is_bracketed_count(t[1]) {
            // pytest's `SKIPPED [2] file.py:10: reason` summary line, not a test.
            continue;
        }
        map.insert(t[1], TestStatus::from_token(t[0]));
    }
    map
}

fn is_bracketed_count(s: &str) -> bool {
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}

static OPTION: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"(.*?)\[(.*)\]").unwrap()
});

/// `parse_log_pytest_options`: like `parse_log_pytest`, but a parameter that is an absolute
/// path (`[/tmp/x/mymodule.py]`, not `//`, no `*`) is shortened to its last component.
pub(super) fn parse_pytest_options(log: &str) -> StatusMap {
    let mut map = StatusMap::new();
    for raw in log.split('\n') {
        if !starts_with_status(raw) {
            continue;
        }
        let replaced;
        let mut line = raw;
        if line.starts_with("FAILED") {
            replaced = line.replace(" - ", " ");
            line = &replaced;
        }
        let t = py_split(line);
        if t.len() <= 1 {
            continue;
        }
        let name = match OPTION.captures(t[1]) {
            Some(c) => {
                let main = c.get(1).map_or("", |m| m.as_str());
                let mut option = c.get(2).map_or("", |m| m.as_str()).to_string();
                if option.starts_with('/') && !option.starts_with("//") && !option.contains('*') {
                    let last = option.rsplit('/').next().unwrap_or("").to_string();
                    option = format!("/{last}");
                }
                format!("{main}[{option}]")
            }
            None => t[1].to_string(),
        };
        map.insert(name, TestStatus::from_token(t[0]));
    }
    map
}

static COLOR: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"\[(\d+)m").unwrap()
});

/// `parse_log_pytest_v2`: colour codes (`[31m`) and the characters 1..=31 are removed; a line
/// starting with a status gives `status id`, else a line ending with one gives `id status`
/// (older pytest's verbose lines).
pub(super) fn parse_pytest_v2(log: &str, flavor: Flavor) -> StatusMap {
    let mut map = StatusMap::new();
    for raw in log.split('\n') {
        let decolored = COLOR.replace_all(raw, "");
        let line: String = decolored
            .chars()
            .filter(|c| !('\u{1}'..='\u{1f}').contains(c))
            .collect();
        if starts_with_status(&line) {
            match flavor {
                Flavor::V41 => {
                    let line = if line.starts_with("FAILED") {
                        line.replace(" - ", " ")
                    } else {
                        line
                    };
                    let t = py_split(&line);
                    if t.len() >= 2 {
                        map.insert(t[1], TestStatus::from_token(t[0]));
                    }
                }
                Flavor::V5 => {
                    let line = if line.starts_with("FAILED") {
                        line.split(" - ").next().unwrap_or("")
                    } else {
                        line.as_str()
                    };
                    let t = py_split(line);
                    if t.len() >= 2 {
                        map.insert(t[1..].join(" "), TestStatus::from_token(t[0]));
                    }
                }
            }
        } else if ends_with_status(&line) {
            let t = py_split(&line);
            if t.len() >= 2 {
                match flavor {
                    Flavor::V41 => map.insert(t[0], TestStatus::from_token(t[1])),
                    Flavor::V5 => {
                        let last = t.len() - 1;
                        map.insert(t[..last].join(" "), TestStatus::from_token(t[last]));
                    }
                }
            }
        }
    }
    map
}

/// `parse_log_seaborn`: `FAILED id`, verbose `id PASSED [ 5%]`, or `PASSED id`. Lines with a
/// single token are skipped (v4.1 raised an IndexError on them).
pub(super) fn parse_seaborn(log: &str) -> StatusMap {
    let mut map = StatusMap::new();
    for line in log.split('\n') {
        if line.starts_with("FAILED") {
            match py_split(line).get(1) {
                Some(id) => map.insert(*id, TestStatus::Failed),
                None => map.crash_on(line),
            }
        } else if line.contains(" PASSED ") {
            let parts = py_split(line);
            if parts.len() < 2 {
                map.crash_on(line);
            } else if parts[1] == "PASSED" {
                map.insert(parts[0], TestStatus::Passed);
            }
        } else if line.starts_with("PASSED") {
            match py_split(line).get(1) {
                Some(id) => map.insert(*id, TestStatus::Passed),
                None => map.crash_on(line),
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::super::LogParser;
    use super::*;

    fn statuses(m: &StatusMap) -> Vec<(String, String)> {
        m.iter()
            .map(|(k, s)| (k.to_string(), s.as_str().to_string()))
            .collect()
    }

    #[test]
    fn pytest_summary_lines() {
        let log = "PASSED a.py::t1\nFAILED a.py::t2 - AssertionError: x - y\nSKIPPED [1] a.py:3: no\n\
                   XFAIL a.py::t3\nERROR a.py::t4\nPASSED\nsome PASSED text\nXPASS a.py::t5\n";
        let m = parse_pytest(log, Flavor::V41, false);
        assert_eq!(
            statuses(&m),
            [
                ("a.py::t1", "PASSED"),
                ("a.py::t2", "FAILED"),
                ("[1]", "SKIPPED"),
                ("a.py::t3", "XFAIL"),
                ("a.py::t4", "ERROR"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let v5 = parse_pytest(log, Flavor::V5, false);
        assert!(!v5.contains("[1]"));
    }

    #[test]
    fn matplotlib_rewrites_mouse_buttons() {
        let log = "PASSED lib/t.py::test_x[MouseButton.LEFT-MouseButton.RIGHT]";
        let m = LogParser::Matplotlib.parse(log, Flavor::V41);
        assert_eq!(m.get("lib/t.py::test_x[1-3]"), Some(&TestStatus::Passed));
        let p = LogParser::Pytest.parse(log, Flavor::V41);
        assert!(p.contains("lib/t.py::test_x[MouseButton.LEFT-MouseButton.RIGHT]"));
    }

    #[test]
    fn options_shorten_path_parameters() {
        let log = "PASSED tests/test_self.py::test_stdin[/tmp/pytest-1/mymodule.py]\n\
                   PASSED t.py::a[//net/x]\nPASSED t.py::b[/x/*.py]\nFAILED t.py::c[1-2] - boom\n\
                   PASSED t.py::d[unclosed";
        let m = parse_pytest_options(log);
        assert!(m.contains("tests/test_self.py::test_stdin[/mymodule.py]"));
        assert!(m.contains("t.py::a[//net/x]"));
        assert!(m.contains("t.py::b[/x/*.py]"));
        assert_eq!(m.get("t.py::c[1-2]"), Some(&TestStatus::Failed));
        assert!(m.contains("t.py::d[unclosed"));
    }

    #[test]
    fn v2_strips_colors_and_reads_old_style_lines() {
        let log = "\x1b[32mPASSED\x1b[0m a.py::t1\n\
                   a.py::t2 PASSED\n\
                   a.py::t3 FAILED\n\
                   FAILED a.py::t4 - Error: x\n\
                   a b c PASSED\n";
        let m = parse_pytest_v2(log, Flavor::V41);
        assert_eq!(m.get("a.py::t1"), Some(&TestStatus::Passed));
        assert_eq!(m.get("a.py::t2"), Some(&TestStatus::Passed));
        assert_eq!(m.get("a.py::t3"), Some(&TestStatus::Failed));
        assert_eq!(m.get("a.py::t4"), Some(&TestStatus::Failed));
        // v4.1 keys on the first token and takes the second as the status.
        assert_eq!(m.get("a"), Some(&TestStatus::Other("b".into())));
        let v5 = parse_pytest_v2(log, Flavor::V5);
        assert_eq!(v5.get("a b c"), Some(&TestStatus::Passed));
        assert_eq!(v5.get("a.py::t4"), Some(&TestStatus::Failed));
    }

    #[test]
    fn seaborn_verbose_and_summary_lines() {
        let log = "tests/t.py::test_a PASSED [ 50%]\nFAILED tests/t.py::test_b - x\n\
                   PASSED tests/t.py::test_c\nFAILED\nx PASSED";
        let m = parse_seaborn(log);
        assert_eq!(m.get("tests/t.py::test_a"), Some(&TestStatus::Passed));
        assert_eq!(m.get("tests/t.py::test_b"), Some(&TestStatus::Failed));
        assert_eq!(m.get("tests/t.py::test_c"), Some(&TestStatus::Passed));
        assert_eq!(m.len(), 3);
    }
}
