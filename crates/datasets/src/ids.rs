//! The rule for task ids: what a SWE-bench `instance_id` or a Terminal-Bench task name must
//! look like to be loaded.
//!
//! An id names folders (`<run>/<id>/` of `agentscale grade`, reports), file names (run-store
//! artifacts) and parts of container image names (`swebench/sweb.eval.x86_64.<id>`). So that
//! none of these needs escaping — and two ids can never end up in the same folder, as `x/y` and
//! `x_y` would once `/` is replaced — an id must be **1 to 128 characters: runs of ASCII
//! letters and digits joined by `.`, `_`, `__` or dashes** (the separators an image name
//! allows). Every id of SWE-bench (`django__django-11099`) and Terminal-Bench (`fix-git`)
//! follows it; `..`, `a/b`, `../../tmp/x`, `-x`, `x.`, an empty id, spaces and control
//! characters do not. A dataset row whose id breaks the rule is a validation error naming the
//! row.

use std::sync::LazyLock;

use regex::Regex;

/// The longest id accepted, in characters (file names are limited to 255 bytes, and ids are
/// combined with prefixes and suffixes).
pub const MAX_ID_LEN: usize = 128;

/// Runs of letters and digits joined by the separators of an image name.
static ID: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, checked by the tests.
    #[allow(clippy::expect_used)]
    Regex::new(r"^[A-Za-z0-9]+(?:(?:[._]|__|-+)[A-Za-z0-9]+)*$").expect("a valid pattern")
});

/// Check an id against the rule; the error says what is wrong with it (without naming the
/// row, which the caller knows).
pub fn check_id(id: &str) -> Result<(), String> {
    const RULE: &str = "ids name folders and container images, so they must be 1 to 128 \
                        ASCII letters and digits, in runs joined by '.', '_', '__' or dashes \
                        (like django__django-11099)";
    let why = if id.is_empty() {
        "it is empty".to_string()
    } else if id.chars().count() > MAX_ID_LEN {
        format!("it is {} characters long", id.chars().count())
    } else if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        format!("it contains {c:?}")
    } else if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        format!("it starts with {:?}", id.chars().next().unwrap_or(' '))
    } else if !id.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        format!("it ends with {:?}", id.chars().last().unwrap_or(' '))
    } else if !ID.is_match(id) {
        "it has separators next to each other (such as \"..\", \"._\" or \"___\")".to_string()
    } else {
        return Ok(());
    };
    Err(format!("{id:?} cannot be used as an id: {why}; {RULE}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_ids_pass_and_unsafe_ones_are_named() {
        for ok in [
            "django__django-11099",
            "fix-git",
            "a",
            "x.y_z-1",
            "Abc9",
            "a--b",
            "sphinx-doc__sphinx-8721",
        ] {
            assert_eq!(check_id(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("../../tmp/x", "contains '/'"),
            ("a/b", "contains '/'"),
            ("..", "starts with '.'"),
            (".hidden", "starts with '.'"),
            ("-x", "starts with '-'"),
            ("", "is empty"),
            ("a b", "contains ' '"),
            ("a\nb", "contains '\\n'"),
            ("a\\b", "contains '\\\\'"),
            ("é", "contains 'é'"),
            ("x.", "ends with '.'"),
            ("a..b", "next to each other"),
            ("a___b", "next to each other"),
            ("a-.b", "next to each other"),
        ] {
            let e = check_id(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(check_id(&"a".repeat(MAX_ID_LEN)).is_ok());
        assert!(
            check_id(&"a".repeat(MAX_ID_LEN + 1))
                .unwrap_err()
                .contains("129 characters")
        );
    }
}
