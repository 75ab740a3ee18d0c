//! Task ids that cannot name a folder or an image safely are validation errors naming the
//! row (or the task folder); the ids that load are exactly those following the id rule, so
//! no two of them can end up in the same folder.

use agentscale_datasets::{DatasetError, LoadOptions, check_id, load, validate};
use proptest::prelude::*;

use crate::common::{jsonl, row};

const UNSAFE: &[&str] = &[
    "../../tmp/x",
    "a/b",
    "..",
    ".",
    "",
    "a\nb",
    "a b",
    "-x",
    "a\\b",
];

#[test]
fn unsafe_instance_ids_are_errors_naming_their_rows() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("d.jsonl");
    let mut rows = vec![row("ok__ok-1", "a/a")];
    rows.extend(UNSAFE.iter().map(|id| row(id, "a/a")));
    std::fs::write(&p, jsonl(&rows)).unwrap();
    let v = validate(&p, &LoadOptions::default()).unwrap();
    let ids: Vec<String> = v.dataset.tasks.iter().map(|t| t.id().0).collect();
    assert_eq!(ids, ["ok__ok-1"]);
    assert_eq!(
        v.findings.errors.len(),
        UNSAFE.len(),
        "{:?}",
        v.findings.errors
    );
    for (i, e) in v.findings.errors.iter().enumerate() {
        assert_eq!(e.row, Some(i + 2), "{e}");
        assert_eq!(e.key.as_deref(), Some("instance_id"), "{e}");
        let shown = e.to_string();
        assert!(shown.contains(&format!("row {}", i + 2)), "{shown}");
        assert!(!shown.contains('\n'), "an id is printed raw: {shown:?}");
    }
    assert!(
        v.findings.errors[0]
            .message
            .contains("\"../../tmp/x\" cannot be used as an id: it contains '/'"),
        "{}",
        v.findings.errors[0]
    );
    assert!(matches!(
        load(&p, &LoadOptions::default()),
        Err(DatasetError::Invalid { .. })
    ));
}

#[test]
fn ids_that_would_share_a_folder_cannot_both_load() {
    // `x/y` would become the folder `x_y` once sanitized; it is refused instead.
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("d.jsonl");
    std::fs::write(&p, jsonl(&[row("x/y", "a/a"), row("x_y", "a/a")])).unwrap();
    let v = validate(&p, &LoadOptions::default()).unwrap();
    let ids: Vec<String> = v.dataset.tasks.iter().map(|t| t.id().0).collect();
    assert_eq!(ids, ["x_y"]);
    assert_eq!(v.findings.errors.len(), 1);
}

#[test]
fn a_task_folder_with_an_unsafe_name_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    for name in ["good-task", "bad task"] {
        let d = t.path().join(name);
        std::fs::create_dir_all(d.join("environment")).unwrap();
        std::fs::write(
            d.join("task.toml"),
            "[environment]\ndocker_image = \"x:1\"\n",
        )
        .unwrap();
        std::fs::write(d.join("instruction.md"), "Do it.\n").unwrap();
    }
    let v = validate(t.path(), &LoadOptions::default()).unwrap();
    let ids: Vec<String> = v.dataset.tasks.iter().map(|t| t.id().0).collect();
    assert_eq!(ids, ["good-task"]);
    assert_eq!(v.findings.errors.len(), 1, "{:?}", v.findings.errors);
    assert!(
        v.findings.errors[0].message.contains("contains ' '"),
        "{}",
        v.findings.errors[0]
    );
}

#[test]
fn a_compose_only_task_says_compose_is_not_supported() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("multi");
    std::fs::create_dir_all(d.join("environment")).unwrap();
    std::fs::write(d.join("task.toml"), "version = \"1.0\"\n").unwrap();
    std::fs::write(d.join("instruction.md"), "Do it.\n").unwrap();
    std::fs::write(d.join("environment/docker-compose.yaml"), "services: {}\n").unwrap();
    let v = validate(t.path(), &LoadOptions::default()).unwrap();
    assert!(v.dataset.tasks.is_empty());
    assert_eq!(v.findings.errors.len(), 1, "{:?}", v.findings.errors);
    let m = &v.findings.errors[0].message;
    assert!(
        m.contains("docker-compose.yaml") && m.contains("not supported"),
        "{m}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the ids, a row loads exactly when its id follows the rule.
    #[test]
    fn rows_load_exactly_when_their_id_follows_the_rule(
        ids in proptest::collection::vec("[a-z0-9._/ \\\\-]{0,6}|\\PC{0,4}", 1..6),
    ) {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("d.jsonl");
        let rows: Vec<_> = ids.iter().map(|id| row(id, "a/a")).collect();
        std::fs::write(&p, jsonl(&rows)).unwrap();
        let v = validate(&p, &LoadOptions::default()).unwrap();
        for task in &v.dataset.tasks {
            prop_assert!(check_id(&task.id().0).is_ok(), "{} loaded", task.id());
        }
        for id in &ids {
            if check_id(id).is_err() {
                prop_assert!(v.dataset.tasks.iter().all(|t| &t.id().0 != id));
            }
        }
    }
}
