//! Property tests of config loading, an outside input: no text makes it panic, and every
//! failure is a typed [`ConfigError`] whose problems each name a place in the file (or the
//! command line).

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use super::doc::Origin;
use super::*;

const VALID: &str = r#"[experiment]
name = "p"
seed = 1

[dataset]
path = "."

[[models]]
name = "m"
provider = "scripted"
script = "demo"

[scaling]
n = 4
votes = 3
"#;

fn opts() -> LoadOptions {
    LoadOptions {
        cwd: std::env::temp_dir(),
        env_has: Arc::new(|_| false),
        check_files: false,
        ..LoadOptions::default()
    }
}

/// Load `text`; on failure, check that the error is a complete, well-placed list.
fn check(text: &str) -> Result<(), TestCaseError> {
    let lines = text.split('\n').count();
    match load_str(Path::new("p.toml"), text, &opts()) {
        Ok(c) => prop_assert!(!c.points.is_empty()),
        Err(ConfigError::Invalid { issues, .. }) => {
            prop_assert!(!issues.is_empty(), "an error without a problem");
            for i in &issues {
                prop_assert!(!i.message.is_empty());
                if let Origin::File { line, column, .. } = &i.origin {
                    prop_assert!(*line >= 1 && *line <= lines, "line {line} of {lines}: {i}");
                    prop_assert!(*column >= 1, "{i}");
                }
            }
        }
        Err(e @ ConfigError::Read { .. }) => prop_assert!(false, "read error from text: {e}"),
    }
    Ok(())
}

/// A line of a config: sometimes sensible, sometimes a near miss, sometimes noise.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[scaling]".to_string()),
        Just("[[models]]".to_string()),
        Just("[sandbox]".to_string()),
        Just("[profiles.q.scaling]".to_string()),
        Just("[sweep]".to_string()),
        "[a-z_]{1,12} = [0-9]{1,25}",
        "[a-z_]{1,12} = \"[a-z ]{0,10}\"",
        "[a-z_]{1,12} = (true|false|nan|inf|-1|1e400|\\[1, \"x\"\\])",
        "\"[a-z_.]{1,14}\" = \\[[0-9, ]{0,8}\\]",
        "(n|votes|seed|concurrency|group_size) = [-0-9a-z\"]{0,6}",
        "[ -~]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Arbitrary text: never a panic; errors are typed and placed inside the file.
    #[test]
    fn arbitrary_text_is_a_config_or_placed_problems(text in "(.|\n){0,300}") {
        check(&text)?;
    }

    /// A valid config with lines inserted anywhere (duplicates, unknown keys, wrong types,
    /// broken syntax): never a panic; errors are typed and placed inside the file.
    #[test]
    fn mutated_configs_are_configs_or_placed_problems(
        inserts in proptest::collection::vec((0usize..20, line()), 0..6),
    ) {
        let mut lines: Vec<String> = VALID.lines().map(str::to_string).collect();
        for (at, l) in inserts {
            let at = at.min(lines.len());
            lines.insert(at, l);
        }
        check(&lines.join("\n"))?;
    }

    /// `--set` arguments of any shape: never a panic; bad ones are named by the argument.
    #[test]
    fn arbitrary_overrides_never_panic(sets in proptest::collection::vec("[a-z_.\\[\\]0-9\"]{0,16}=?[ -~]{0,10}", 0..4)) {
        let o = LoadOptions { overrides: sets, ..opts() };
        match load_str(Path::new("p.toml"), VALID, &o) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.issues().is_empty(), "{e}"),
        }
    }
}
