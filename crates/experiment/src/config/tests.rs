//! Unit tests of config loading: every error names its place; all errors at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;

fn opts(dir: &Path) -> LoadOptions {
    LoadOptions {
        cwd: dir.to_path_buf(),
        env_has: Arc::new(|k| k == "OPENAI_API_KEY" || k == "MY_KEY"),
        ..LoadOptions::default()
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/instances.jsonl"), "").unwrap();
        Self { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("exp.toml")
    }

    fn load(&self, text: &str) -> Result<LoadedConfig, ConfigError> {
        self.load_with(text, &opts(self.dir.path()))
    }

    fn load_with(&self, text: &str, o: &LoadOptions) -> Result<LoadedConfig, ConfigError> {
        std::fs::write(self.file(), text).unwrap();
        load(&self.file(), o)
    }

    fn errors(&self, text: &str) -> Vec<String> {
        match self.load(text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e.issues().iter().map(ToString::to_string).collect(),
        }
    }
}

const MINIMAL: &str = r#"
[experiment]
name = "t"

[dataset]
path = "data"

[[models]]
name = "gpt-x"
provider = "openai"
"#;

#[test]
fn minimal_config_gets_every_default() {
    let f = Fixture::new();
    let c = f.load(MINIMAL).unwrap();
    assert_eq!(c.base.scaling.n, 16);
    assert_eq!(c.base.scaling.group_size, 2);
    assert_eq!(c.base.scaling.votes, 8);
    assert_eq!(c.base.scaling.context, ContextMode::SelectK);
    assert_eq!(c.points.len(), 1);
    assert_eq!(c.points[0].label, "default");
    // dataset path relative to the file, output relative to the working directory
    assert_eq!(
        c.base.dataset.path,
        Some(OneOrMany::One(f.dir.path().join("data")))
    );
    assert_eq!(c.base.experiment.output, f.dir.path().join("results"));
}

#[test]
fn misspelled_key_names_line_and_suggests() {
    let f = Fixture::new();
    let e = f.errors(&format!("{MINIMAL}\n[scaling]\ngruop_size = 4\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    let file = f.file();
    assert!(
        e[0].starts_with(&format!(
            "{}:13:1: unknown key `gruop_size` in scaling",
            file.display()
        )),
        "{e:?}"
    );
    assert!(e[0].contains("did you mean `group_size`?"), "{e:?}");
}

#[test]
fn all_errors_are_reported_at_once() {
    let f = Fixture::new();
    let text = r#"
[experiment]
name = "t"
sed = 3

[dataset]
path = "nowhere"

[[models]]
name = "claude"
provider = "anthropic"

[scaling]
n = "sixteen"
context = "selectk"
"#;
    let e = f.errors(text);
    // one pass: the schema problems and the semantic ones (checked on the config with the
    // rejected values left out) together, in file order
    assert_eq!(e.len(), 5, "{e:?}");
    assert!(
        e[0].contains(":4:1: unknown key `sed` in experiment; did you mean `seed`?"),
        "{e:?}"
    );
    assert!(
        e[1].contains(":7:8: dataset path") && e[1].contains("nowhere does not exist"),
        "{e:?}"
    );
    assert!(
        e[2].contains(
            ":9:1: models[0] (claude): the API key variable ANTHROPIC_API_KEY is not set"
        ),
        "{e:?}"
    );
    assert!(
        e[3].contains(":14:5: scaling.n must be an integer, got the string \"sixteen\""),
        "{e:?}"
    );
    assert!(
        e[4].contains(":15:11: scaling.context must be one of"),
        "{e:?}"
    );
    assert!(e[4].contains("did you mean \"select-k\"?"), "{e:?}");
    match f.load(text) {
        Err(ConfigError::Invalid { partial, .. }) => assert!(!partial, "the pass was complete"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_duplicated_key_is_one_problem_among_the_others() {
    let f = Fixture::new();
    let text = MINIMAL
        .replace(
            "name = \"t\"",
            "name = \"t\"\nseed = 1\nseed = 2\ntemprature = 0.5",
        )
        .replace("path = \"data\"", "path = \"nowhere\"")
        + "\n[sandbox]\nconcurrency = \"four\"\n";
    let e = f.errors(&text);
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e[0].contains(":5:1: TOML syntax: duplicate key `seed`"),
        "{e:?}"
    );
    assert!(e[1].contains(":6:1: unknown key `temprature`"), "{e:?}");
    assert!(e[2].contains("nowhere does not exist"), "{e:?}");
    assert!(
        e[3].contains("sandbox.concurrency must be an integer"),
        "{e:?}"
    );
    // the first value is the one kept
    let ok = f.load(&MINIMAL.replace("name = \"t\"", "name = \"t\"\nseed = 1\nseed = 2"));
    let Err(ConfigError::Invalid { issues, .. }) = ok else {
        panic!("a duplicate is an error");
    };
    assert_eq!(issues.len(), 1, "{issues:?}");
}

#[test]
fn a_syntax_error_ends_the_pass_and_says_more_may_follow() {
    let f = Fixture::new();
    let text = format!("{MINIMAL}\n[scaling]\nn = \nvotse = 2\n");
    let Err(e @ ConfigError::Invalid { partial: true, .. }) = f.load(&text) else {
        panic!("expected a partial error");
    };
    let shown = e.to_string();
    assert!(shown.contains(":13:"), "{shown}");
    assert!(shown.contains("more may follow"), "{shown}");
    assert!(!shown.contains("votse"), "{shown}");
}

#[test]
fn a_scripted_model_with_an_api_key_variable_is_named() {
    let f = Fixture::new();
    let text = MINIMAL.replace(
        "provider = \"openai\"",
        "provider = \"scripted\"\nscript = \"demo\"\napi_key_env = \"NOT_SET_ANYWHERE\"",
    );
    let e = f.errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains(":12:15: models[0].api_key_env = \"NOT_SET_ANYWHERE\" only applies to"),
        "{e:?}"
    );
    assert!(e[0].contains("not set"), "{e:?}");
}

#[test]
fn wrong_types_and_ranges() {
    let f = Fixture::new();
    let e = f.errors(&format!(
        "{MINIMAL}\n[scaling]\ngroup_size = 1\nvotes = 2.5\nshuffle = \"yes\"\n"
    ));
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].contains("scaling.group_size must be between 2 and 1024, got 1"),
        "{e:?}"
    );
    assert!(
        e[1].contains("scaling.votes must be an integer, got 2.5"),
        "{e:?}"
    );
    assert!(
        e[2].contains("scaling.shuffle must be true or false"),
        "{e:?}"
    );
}

#[test]
fn missing_tables_and_keys() {
    let f = Fixture::new();
    let e = f.errors("[experiment]\nseed = 1\n");
    assert!(
        e.iter()
            .any(|m| m.contains("missing key `name` in experiment")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.contains("missing table [dataset]")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.contains("missing table [models]")),
        "{e:?}"
    );
}

#[test]
fn syntax_error_names_line() {
    let f = Fixture::new();
    let e = f.errors("[experiment]\nname = \n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains(":2:") && e[0].contains("TOML syntax"),
        "{e:?}"
    );
}

#[test]
fn model_key_variable_and_scripted_checks() {
    let f = Fixture::new();
    let text = format!(
        "{MINIMAL}\napi_key_env = \"NOPE_KEY\"\n\n[[models]]\nname = \"s\"\nprovider = \"scripted\"\nscript = \"nope\"\n\n[scaling]\njudge_model = \"ghost\"\n"
    );
    let e = f.errors(&text);
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].contains("the API key variable NOPE_KEY is not set"),
        "{e:?}"
    );
    assert!(e[0].contains(":12:15:"), "{e:?}");
    assert!(
        e[1].contains("models[1].script \"nope\" is not a built-in script"),
        "{e:?}"
    );
    assert!(
        e[2].contains("scaling.judge_model \"ghost\" is not the name of a [[models]] entry"),
        "{e:?}"
    );
}

#[test]
fn overrides_are_typed_by_the_schema() {
    let f = Fixture::new();
    let mut o = opts(f.dir.path());
    o.overrides = vec![
        "scaling.group_size=4".into(),
        "scaling.context=random-k".into(),
        "experiment.name=123".into(),
        "dataset.ids=[\"a\", \"b\"]".into(),
        "models[0].temperature=0.5".into(),
        "experiment.output=out".into(),
    ];
    let c = f.load_with(MINIMAL, &o).unwrap();
    assert_eq!(c.base.scaling.group_size, 4);
    assert_eq!(c.base.scaling.context, ContextMode::RandomK);
    assert_eq!(c.base.experiment.name, "123");
    assert_eq!(c.base.dataset.ids, vec!["a", "b"]);
    assert_eq!(c.base.models[0].temperature, Some(0.5));
    assert_eq!(c.base.experiment.output, f.dir.path().join("out"));
}

#[test]
fn bad_overrides_name_the_argument() {
    let f = Fixture::new();
    let mut o = opts(f.dir.path());
    o.overrides = vec![
        "scaling.gruop_size=4".into(),
        "scaling.n=abc".into(),
        "models[3].name=x".into(),
        "novalue".into(),
    ];
    let e: Vec<String> = f
        .load_with(MINIMAL, &o)
        .unwrap_err()
        .issues()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e.iter().any(|m| m.starts_with("--set scaling.gruop_size=4: unknown key `gruop_size` in scaling; did you mean `group_size`?")), "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("--set scaling.n=abc: scaling.n must be an integer")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m
            .starts_with("--set models[3].name=x: models has 1 entries; index 3 is out of range")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("--set novalue: expected KEY=VALUE")),
        "{e:?}"
    );
}

#[test]
fn profiles_merge_and_errors_point_into_them() {
    let f = Fixture::new();
    let text = format!(
        "{MINIMAL}\n[profiles.quick.scaling]\nn = 4\nvotes = 3\n\n[profiles.broken.scaling]\nvotse = 3\n"
    );
    let e = f.errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains(
            ":17:1: profile `broken`: unknown key `votse` in scaling; did you mean `votes`?"
        ),
        "{e:?}"
    );

    let text = text.replace("votse", "votes");
    let mut o = opts(f.dir.path());
    o.profiles = vec!["quick".into()];
    let c = f.load_with(&text, &o).unwrap();
    assert_eq!((c.base.scaling.n, c.base.scaling.votes), (4, 3));
    assert_eq!(c.profiles, vec!["quick"]);
    assert!(c.base.profiles.is_empty() || !c.base.profiles.is_empty());

    o.profiles = vec!["slow".into()];
    let e = f.load_with(&text, &o).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("--profile slow: no profile `slow`; the config defines: broken, quick"),
        "{msg}"
    );
}

#[test]
fn sweeps_expand_into_a_labelled_grid() {
    let f = Fixture::new();
    let text = format!(
        "{MINIMAL}\n[sweep]\n\"scaling.group_size\" = [2, 4, 8]\n\"scaling.votes\" = [1, 8]\n"
    );
    let c = f.load(&text).unwrap();
    let labels: Vec<&str> = c.points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "group_size=2,votes=1",
            "group_size=2,votes=8",
            "group_size=4,votes=1",
            "group_size=4,votes=8",
            "group_size=8,votes=1",
            "group_size=8,votes=8"
        ]
    );
    assert_eq!(c.points[3].config.scaling.group_size, 4);
    assert_eq!(c.points[3].config.scaling.votes, 8);
    assert!(c.points[3].config.sweep.is_empty());
}

#[test]
fn bad_sweeps_are_reported_with_their_place() {
    let f = Fixture::new();
    let text = format!(
        "{MINIMAL}\n[sweep]\n\"scaling.group_sise\" = [2]\n\"scaling.votes\" = [1, 0, \"x\"]\n\"experiment.name\" = [\"a\"]\n\"scaling.k\" = [32]\n"
    );
    let e = f.errors(&text);
    // the sweep points made of the valid values are checked in the same pass
    assert_eq!(e.len(), 5, "{e:?}");
    assert!(
        e[4].contains(":16:16: sweep point k=32,votes=1: scaling.k = 32 must not exceed"),
        "{e:?}"
    );
    assert!(e[0].contains(":13:1: sweep key \"scaling.group_sise\": unknown key `group_sise` in scaling; did you mean `group_size`?"), "{e:?}");
    assert!(
        e[1].contains(
            ":14:23: sweep key \"scaling.votes\": scaling.votes must be between 1 and 64, got 0"
        ),
        "{e:?}"
    );
    assert!(
        e[2].contains(":14:26: sweep key \"scaling.votes\": scaling.votes must be an integer"),
        "{e:?}"
    );
    assert!(
        e[3].contains(":15:1: sweep key \"experiment.name\": experiment.name cannot be swept"),
        "{e:?}"
    );

    // a problem of the base config is reported once, not once per sweep point
    let text = format!(
        "{MINIMAL}api_key_env = \"NOPE_KEY\"\n\n[sweep]\n\"scaling.group_size\" = [2, 4, 8]\n"
    );
    let e = f.errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("the API key variable NOPE_KEY is not set") && !e[0].contains("sweep point"),
        "{e:?}"
    );

    // a point that fails the semantic checks is named by its label
    let text = format!("{MINIMAL}\n[sweep]\n\"scaling.k\" = [4, 32]\n");
    let e = f.errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("sweep point k=32: scaling.k = 32 must not exceed scaling.n = 16"),
        "{e:?}"
    );
}

#[test]
fn run_id_ignores_output_and_concurrency_and_run_toml_round_trips() {
    let f = Fixture::new();
    let plain = f.load(MINIMAL).unwrap();
    let mut o = opts(f.dir.path());
    o.overrides = vec![
        "experiment.output=/elsewhere".into(),
        "sandbox.concurrency=9".into(),
    ];
    let moved = f.load_with(MINIMAL, &o).unwrap();
    assert_eq!(plain.run_id(), moved.run_id());
    o.overrides = vec!["scaling.votes=3".into()];
    let other = f.load_with(MINIMAL, &o).unwrap();
    assert_ne!(plain.run_id(), other.run_id());

    let text = format!("{MINIMAL}\n[sweep]\n\"scaling.group_size\" = [2, 4]\n");
    let d = f.load(&text).unwrap();
    let toml = d.run_toml(&d.run_id()).unwrap();
    assert!(
        toml.contains("tie_break = \"extra-vote-then-coin\""),
        "{toml}"
    );
    assert!(toml.contains("# Sweep: 2 configurations"), "{toml}");
    let run_toml = f.dir.path().join("run.toml");
    std::fs::write(&run_toml, &toml).unwrap();
    let back = load(&run_toml, &opts(Path::new("/"))).unwrap();
    assert_eq!(back.base, d.base);
    assert_eq!(back.run_id(), d.run_id());
    assert_eq!(back.points, d.points);
}

#[test]
fn every_knob_of_the_method_is_spelled_out() {
    let f = Fixture::new();
    let c = f.load(MINIMAL).unwrap();
    let toml = c.run_toml("r-x").unwrap();
    for knob in [
        "n = 16",
        "iterations = 2",
        "k = 4",
        "context = \"select-k\"",
        "group_size = 2",
        "votes = 8",
        "tie_break",
        "pairing",
        "shuffle",
        "byes",
        "invalid_vote_reasks",
        "judge_temperature",
        "early_stop",
        "collapse_identical",
        "summarizer_model",
        "judge_model",
    ] {
        assert!(toml.contains(knob), "{knob} missing from\n{toml}");
    }
    assert!(
        !toml.contains("OPENAI_API_KEY=") && !toml.contains("sk-"),
        "{toml}"
    );
}

#[test]
fn sweep_grids_have_the_product_of_their_sizes() {
    use proptest::prelude::*;
    let f = Fixture::new();
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 24,
        ..proptest::test_runner::Config::default()
    });
    runner
        .run(&(1usize..4, 1usize..4, 1usize..3), |(a, b, c)| {
            let g: Vec<String> = (0..a).map(|i| (2 + i).to_string()).collect();
            let v: Vec<String> = (0..b).map(|i| (1 + i).to_string()).collect();
            let s: Vec<String> = (0..c).map(|i| i.to_string()).collect();
            let text = format!(
                "{MINIMAL}\n[sweep]\n\"scaling.group_size\" = [{}]\n\"scaling.votes\" = [{}]\n\"experiment.seed\" = [{}]\n",
                g.join(", "),
                v.join(", "),
                s.join(", ")
            );
            let c2 = f.load(&text).unwrap();
            prop_assert_eq!(c2.points.len(), a * b * c);
            let mut labels: Vec<&str> = c2.points.iter().map(|p| p.label.as_str()).collect();
            labels.sort_unstable();
            labels.dedup();
            prop_assert_eq!(labels.len(), a * b * c);
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_demo_run_toml_is_stable() {
    let root = agentscale_core::testenv::workspace_root();
    let c = load(
        &root.join("configs/demo.toml"),
        &LoadOptions {
            cwd: PathBuf::from("/work"),
            env_has: Arc::new(|_| true),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let text = c
        .run_toml(&c.run_id())
        .unwrap()
        .replace(&root.display().to_string(), "<workspace>");
    insta::assert_snapshot!("demo_run_toml", text);
}
