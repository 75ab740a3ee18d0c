//! One SWE-bench row (a JSON object, whatever file it came from) to a [`SweInstance`].
//!
//! The conversion is written out by hand rather than through `SweInstance`'s `Deserialize`
//! so that every defect is named precisely (`missing field `repo``, `field `FAIL_TO_PASS`:
//! item 2 is integer 3, expected a string`) and all defects of a row are reported at once. A
//! test checks that it agrees with the `Deserialize` impl on every row both accept.

use std::collections::BTreeMap;
use std::path::Path;

use agentscale_core::SweInstance;
use agentscale_core::task::{IMAGE_CONTEXT_COLUMN, parse_test_list};
use serde_json::{Map, Value};

use crate::error::Problem;

/// Where a row sits in its file (for messages and the duplicate check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowAt {
    /// The 1-based row within the file.
    pub row: usize,
    /// The 1-based line, for line-oriented files.
    pub line: Option<usize>,
}

/// The result of converting one row.
#[derive(Debug, Default)]
pub(crate) struct RowOutcome {
    /// The instance, when the row has no error.
    pub instance: Option<SweInstance>,
    /// Errors: field and message.
    pub errors: Vec<(String, String)>,
    /// Warnings: field and message.
    pub warnings: Vec<(String, String)>,
}

impl RowOutcome {
    /// Turn the messages into located problems.
    pub fn problems(
        &self,
        file: &Path,
        at: &RowAt,
        id: Option<&str>,
    ) -> (Vec<Problem>, Vec<Problem>) {
        let mk = |(key, msg): &(String, String)| {
            let mut p = Problem::new(file, msg.clone())
                .row(at.row)
                .id(id)
                .key(key.clone());
            p.line = at.line;
            p
        };
        (
            self.errors.iter().map(mk).collect(),
            self.warnings.iter().map(mk).collect(),
        )
    }
}

/// A short description of a JSON value's type and content, for error messages.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => {
            if n.is_f64() {
                format!("number {n}")
            } else {
                format!("integer {n}")
            }
        }
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            if short.len() < s.len() {
                format!("string \"{short}…\"")
            } else {
                format!("string \"{short}\"")
            }
        }
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The 13 published columns.
pub const PUBLISHED_COLUMNS: [&str; 13] = [
    "repo",
    "instance_id",
    "base_commit",
    "patch",
    "test_patch",
    "problem_statement",
    "hints_text",
    "created_at",
    "version",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
    "environment_setup_commit",
    "difficulty",
];

/// Columns without which a row is not an instance.
pub const REQUIRED_COLUMNS: [&str; 9] = [
    "instance_id",
    "repo",
    "base_commit",
    "patch",
    "test_patch",
    "problem_statement",
    "version",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
];

fn required_str(m: &mut Map<String, Value>, key: &str) -> Result<String, String> {
    match m.remove(key) {
        None => Err(format!("missing field `{key}`")),
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(format!(
            "field `{key}`: expected a string, found {}",
            describe(&v)
        )),
    }
}

fn optional_str(m: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(format!(
            "field `{key}`: expected a string or null, found {}",
            describe(&v)
        )),
    }
}

fn test_list(m: &mut Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match m.remove(key) {
        None => Err(format!("missing field `{key}`")),
        Some(Value::String(s)) => parse_test_list(&s).map_err(|e| format!("field `{key}`: {e}")),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s),
                other => Err(format!(
                    "field `{key}`: item {} is {}, expected a string (a test id)",
                    i + 1,
                    describe(&other)
                )),
            })
            .collect(),
        Some(v) => Err(format!(
            "field `{key}`: expected a list of test ids or a JSON-encoded list in a string, \
             found {}",
            describe(&v)
        )),
    }
}

/// Convert one row. `base_dir` is the (absolute) folder of the dataset file, against which a
/// relative [`IMAGE_CONTEXT_COLUMN`] is resolved.
pub(crate) fn instance_from_map(mut m: Map<String, Value>, base_dir: &Path) -> RowOutcome {
    let mut out = RowOutcome::default();
    let mut err = |key: &str, msg: String| out.errors.push((key.to_string(), msg));

    let instance_id = match required_str(&mut m, "instance_id") {
        Ok(s) if s.trim().is_empty() => {
            err("instance_id", "field `instance_id` is empty".to_string());
            None
        }
        Ok(s) => match crate::ids::check_id(&s) {
            Ok(()) => Some(s),
            Err(e) => {
                err("instance_id", format!("field `instance_id`: {e}"));
                None
            }
        },
        Err(e) => {
            err("instance_id", e);
            None
        }
    };
    let mut req = |key: &str, m: &mut Map<String, Value>| match required_str(m, key) {
        Ok(s) => Some(s),
        Err(e) => {
            err(key, e);
            None
        }
    };
    let repo = req("repo", &mut m);
    let base_commit = req("base_commit", &mut m);
    let patch = req("patch", &mut m);
    let test_patch = req("test_patch", &mut m);
    let problem_statement = req("problem_statement", &mut m);

    let mut opt = |key: &str, m: &mut Map<String, Value>| match optional_str(m, key) {
        Ok(s) => s,
        Err(e) => {
            out.errors.push((key.to_string(), e));
            None
        }
    };
    let hints_text = opt("hints_text", &mut m).unwrap_or_default();
    let created_at = opt("created_at", &mut m).unwrap_or_default();
    let environment_setup_commit = opt("environment_setup_commit", &mut m).unwrap_or_default();
    let difficulty = opt("difficulty", &mut m);

    let version = match m.remove("version") {
        None => {
            out.errors
                .push(("version".into(), "missing field `version`".into()));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => {
            out.warnings.push((
                "version".into(),
                format!(
                    "field `version` is the number {n}, read as \"{n}\"; versions are strings \
                     (\"0.20\" is not \"0.2\"), so check that no digits were lost"
                ),
            ));
            Some(n.to_string())
        }
        Some(v) => {
            out.errors.push((
                "version".into(),
                format!("field `version`: expected a string, found {}", describe(&v)),
            ));
            None
        }
    };

    let mut tests = |key: &str, m: &mut Map<String, Value>| match test_list(m, key) {
        Ok(v) => Some(v),
        Err(e) => {
            out.errors.push((key.to_string(), e));
            None
        }
    };
    let fail_to_pass = tests("FAIL_TO_PASS", &mut m);
    let pass_to_pass = tests("PASS_TO_PASS", &mut m);

    match m.get_mut(IMAGE_CONTEXT_COLUMN) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            let p = Path::new(s.as_str());
            if s.is_empty() {
                out.errors.push((
                    IMAGE_CONTEXT_COLUMN.into(),
                    format!("field `{IMAGE_CONTEXT_COLUMN}` is empty; name a build context folder"),
                ));
            } else if p.is_relative() {
                *s = base_dir.join(p).to_string_lossy().into_owned();
            }
        }
        Some(v) => out.errors.push((
            IMAGE_CONTEXT_COLUMN.into(),
            format!(
                "field `{IMAGE_CONTEXT_COLUMN}`: expected a path (a string), found {}",
                describe(v)
            ),
        )),
    }

    if !out.errors.is_empty() {
        return out;
    }
    let (
        Some(instance_id),
        Some(repo),
        Some(base_commit),
        Some(patch),
        Some(test_patch),
        Some(problem_statement),
        Some(version),
        Some(fail_to_pass),
        Some(pass_to_pass),
    ) = (
        instance_id,
        repo,
        base_commit,
        patch,
        test_patch,
        problem_statement,
        version,
        fail_to_pass,
        pass_to_pass,
    )
    else {
        // Every `None` above recorded an error, so this is unreachable; keep it an error.
        out.errors
            .push((String::new(), "incomplete row (internal)".into()));
        return out;
    };
    let extra: BTreeMap<String, Value> = m.into_iter().collect();
    out.instance = Some(SweInstance {
        instance_id,
        repo,
        base_commit,
        patch,
        test_patch,
        problem_statement,
        hints_text,
        created_at,
        version,
        fail_to_pass,
        pass_to_pass,
        environment_setup_commit,
        difficulty,
        extra,
    });
    out
}

/// The instance id of a row, if it has a usable one (for messages about a broken row).
pub(crate) fn row_id(m: &Map<String, Value>) -> Option<String> {
    m.get("instance_id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn full_row() -> Map<String, Value> {
        let v = json!({
            "repo": "a/b", "instance_id": "a__b-1", "base_commit": "abc", "patch": "p",
            "test_patch": "tp", "problem_statement": "ps", "hints_text": "h",
            "created_at": "2020-01-01T00:00:00Z", "version": "0.20",
            "FAIL_TO_PASS": "[\"t1\"]", "PASS_TO_PASS": ["t2", "t3"],
            "environment_setup_commit": "def", "difficulty": "<15 min fix", "image": "x:1"
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn converts_a_published_row_and_keeps_extras() {
        let out = instance_from_map(full_row(), Path::new("/d"));
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let i = out.instance.unwrap();
        assert_eq!(i.version, "0.20");
        assert_eq!(i.fail_to_pass, vec!["t1"]);
        assert_eq!(i.pass_to_pass, vec!["t2", "t3"]);
        assert_eq!(i.extra.get("image"), Some(&json!("x:1")));
        let via_serde: SweInstance = serde_json::from_value(Value::Object(full_row())).unwrap();
        assert_eq!(i, via_serde);
    }

    #[test]
    fn reports_every_bad_field_of_a_row() {
        let mut m = full_row();
        m.remove("instance_id");
        m.insert("repo".into(), json!(3));
        m.insert("FAIL_TO_PASS".into(), json!(["ok", 7]));
        m.insert("PASS_TO_PASS".into(), json!("[oops"));
        let out = instance_from_map(m, Path::new("/d"));
        assert!(out.instance.is_none());
        let keys: Vec<&str> = out.errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["instance_id", "repo", "FAIL_TO_PASS", "PASS_TO_PASS"]
        );
        assert_eq!(out.errors[0].1, "missing field `instance_id`");
        assert_eq!(
            out.errors[1].1,
            "field `repo`: expected a string, found integer 3"
        );
        assert!(out.errors[2].1.contains("item 2 is integer 7"));
        assert!(out.errors[3].1.contains("not a JSON-encoded list"));
    }

    #[test]
    fn optional_columns_may_be_absent_or_null() {
        let mut m = full_row();
        m.remove("hints_text");
        m.insert("difficulty".into(), Value::Null);
        m.insert("created_at".into(), Value::Null);
        let i = instance_from_map(m, Path::new("/d")).instance.unwrap();
        assert_eq!(i.hints_text, "");
        assert_eq!(i.created_at, "");
        assert_eq!(i.difficulty, None);
    }

    #[test]
    fn numeric_version_is_kept_as_text_with_a_warning() {
        let mut m = full_row();
        m.insert("version".into(), json!(3.1));
        let out = instance_from_map(m, Path::new("/d"));
        assert_eq!(out.instance.unwrap().version, "3.1");
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn image_context_is_made_absolute() {
        let mut m = full_row();
        m.insert(IMAGE_CONTEXT_COLUMN.into(), json!("images/a"));
        let i = instance_from_map(m, Path::new("/data/demo"))
            .instance
            .unwrap();
        assert_eq!(
            i.extra.get(IMAGE_CONTEXT_COLUMN),
            Some(&json!("/data/demo/images/a"))
        );
        let mut m = full_row();
        m.insert(IMAGE_CONTEXT_COLUMN.into(), json!("/abs/ctx"));
        let i = instance_from_map(m, Path::new("/data/demo"))
            .instance
            .unwrap();
        assert_eq!(i.extra.get(IMAGE_CONTEXT_COLUMN), Some(&json!("/abs/ctx")));
        let mut m = full_row();
        m.insert(IMAGE_CONTEXT_COLUMN.into(), json!(5));
        assert!(instance_from_map(m, Path::new("/d")).instance.is_none());
    }
}
