//! Grading the demo SWE-bench instances in real containers: gold, empty, patches that do
//! not apply or leave the repository, and the attacks strict mode must catch.

use std::sync::Arc;

use agentscale_core::SweInstance;
use agentscale_core::grade::GradeStatus;
use agentscale_core::sandbox::SandboxProvider;
use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_grader::GradeMode;
use agentscale_grader::spec::SpecTable;
use agentscale_grader::swe::{SweGradeOptions, SweGradeRecord, grade_swe};

use super::demo_dataset::demo_instances;
use super::docker_env::provider;

fn opts(mode: GradeMode) -> SweGradeOptions {
    SweGradeOptions {
        timeout: std::time::Duration::from_mins(5),
        ..SweGradeOptions::for_mode(mode)
    }
}

fn instance(id: &str) -> SweInstance {
    demo_instances()
        .into_iter()
        .find(|i| i.instance_id == id)
        .unwrap()
}

async fn grade(
    p: &dyn SandboxProvider,
    inst: &SweInstance,
    patch: &str,
    mode: GradeMode,
) -> SweGradeRecord {
    grade_swe(p, SpecTable::builtin().unwrap(), inst, patch, &opts(mode)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gold_patches_resolve_every_demo_instance_in_both_modes() {
    let Some(p) = provider("gold_patches_resolve") else {
        return;
    };
    let p = Arc::new(p);
    let mut set = tokio::task::JoinSet::new();
    let sem = Arc::new(tokio::sync::Semaphore::new(3));
    for inst in demo_instances() {
        for mode in [GradeMode::V41, GradeMode::Strict] {
            let (p, inst, sem) = (Arc::clone(&p), inst.clone(), Arc::clone(&sem));
            set.spawn(async move {
                let _permit = sem.acquire_owned().await.unwrap();
                let rec = grade(p.as_ref(), &inst, &inst.patch, mode).await;
                (inst.instance_id.clone(), mode, rec)
            });
        }
    }
    let mut n = 0;
    while let Some(r) = set.join_next().await {
        let (id, mode, rec) = r.unwrap();
        assert_eq!(
            rec.grade.status,
            GradeStatus::Resolved,
            "{id} ({mode}): {:?}\n{}",
            rec.grade,
            rec.test_output.as_deref().unwrap_or("")
        );
        let report = rec.report.unwrap();
        assert!(report.resolved && report.patch_successfully_applied);
        assert_eq!(rec.applied_with.as_deref(), Some("git apply --verbose"));
        let t = rec.timings;
        assert!(
            t.test_ms.is_some(),
            "the eval script records the test duration"
        );
        if mode == GradeMode::Strict {
            assert_eq!(rec.exit_code, Some(0), "{id}");
        }
        n += 1;
    }
    assert_eq!(n, 18);
}

#[tokio::test]
async fn empty_patches_start_no_container() {
    let fake = FakeProvider::default();
    for inst in demo_instances() {
        for mode in [GradeMode::V41, GradeMode::Strict] {
            let rec = grade(&fake, &inst, "", mode).await;
            assert_eq!(rec.grade.status, GradeStatus::EmptyPatch);
            assert!(rec.report.is_none());
        }
    }
    assert_eq!(fake.started(), 0);
}

#[tokio::test]
async fn a_patch_leaving_the_repository_is_rejected_before_any_container_in_strict_mode() {
    let fake = FakeProvider::default();
    let inst = instance("demo__textkit-7");
    let patch = "diff --git a/../outside b/../outside\nnew file mode 100644\n--- /dev/null\n\
                 +++ b/../outside\n@@ -0,0 +1 @@\n+pwned\n";
    let rec = grade(&fake, &inst, patch, GradeMode::Strict).await;
    assert_eq!(rec.grade.status, GradeStatus::PatchRejected);
    let msg = rec.grade.message.unwrap();
    assert!(msg.contains("../outside") && msg.contains(".."), "{msg}");
    assert_eq!(fake.started(), 0);
    // v4.1 leaves it to the apply chain in the container, as the official harness does, and
    // notes what strict mode would have said.
    let fake = FakeProvider::default();
    let rec = grade(&fake, &inst, patch, GradeMode::V41).await;
    assert_eq!(fake.started(), 1, "{:?}", rec.grade);
    assert!(
        fake.commands().iter().any(|c| c.contains("git apply")),
        "{:?}",
        fake.commands()
    );
    assert!(
        rec.grade
            .flags
            .iter()
            .any(|f| f.contains("strict mode rejects it")),
        "{:?}",
        rec.grade.flags
    );
}

#[tokio::test]
async fn a_patch_that_does_not_apply_is_an_error_not_unresolved() {
    let Some(p) = provider("a_patch_that_does_not_apply") else {
        return;
    };
    let inst = instance("demo__textkit-7");
    let patch = "diff --git a/textkit/slug.py b/textkit/slug.py\n--- a/textkit/slug.py\n\
                 +++ b/textkit/slug.py\n@@ -1,3 +1,3 @@\n-this line is not in the file\n\
                 +replacement\n context that does not exist\n context either\n";
    let rec = grade(&p, &inst, patch, GradeMode::V41).await;
    assert_eq!(
        rec.grade.status,
        GradeStatus::PatchApplyFailed,
        "{:?}",
        rec.grade
    );
    assert!(rec.grade.status.is_error() && !rec.grade.status.is_infra());
    assert!(
        rec.report.is_none(),
        "no report.json, as in the official harness"
    );
    let out = rec.apply_output.unwrap();
    assert!(
        out.contains("git apply --verbose --reject") && out.contains("patch --batch"),
        "{out}"
    );
}

/// A symlink that already exists in the repository can only be seen in the container: the
/// guard script resolves every path's folder there before anything is applied.
#[tokio::test]
async fn the_guard_refuses_paths_through_existing_symlinks() {
    use agentscale_core::sandbox::{ExecRequest, SandboxSpec};
    use agentscale_grader::patch::symlink_guard_script;

    let Some(p) = provider("the_guard_refuses_paths_through_existing_symlinks") else {
        return;
    };
    let sb = p
        .start(&SandboxSpec {
            image: agentscale_core::testenv::base_image(),
            ..SandboxSpec::default()
        })
        .await
        .unwrap();
    let t = std::time::Duration::from_secs(30);
    let setup = "mkdir -p /testbed/pkg && ln -s /etc /testbed/etc && ln -s pkg /testbed/alias";
    let prepared = sb.exec(&ExecRequest::shell(setup, t)).await;
    let out = sb
        .exec(&ExecRequest::shell(
            symlink_guard_script("/testbed", &["etc/passwd"]),
            t,
        ))
        .await;
    let ok = sb
        .exec(&ExecRequest::shell(
            symlink_guard_script(
                "/testbed",
                &["pkg/a.py", "alias/b.py", "top.py", "new/dir/c.py"],
            ),
            t,
        ))
        .await;
    sb.close().await.unwrap();
    assert!(prepared.unwrap().success());
    let (out, ok) = (out.unwrap(), ok.unwrap());
    assert_eq!(out.exit_code, Some(3), "{out:?}");
    assert!(out.stdout.contains("etc/passwd"), "{}", out.stdout);
    assert_eq!(ok.exit_code, Some(0), "{ok:?}");
}

/// The grader turns the guard's refusal into a rejected patch (without applying anything).
#[tokio::test]
async fn a_guard_refusal_is_a_rejected_patch() {
    let fake = FakeProvider::new(|req: &agentscale_core::sandbox::ExecRequest| {
        let refuse = req.display().contains("realpath");
        agentscale_core::sandbox::ExecOutput {
            exit_code: Some(if refuse { 3 } else { 0 }),
            stdout: if refuse {
                "path etc/x goes through a symlink".into()
            } else {
                String::new()
            },
            ..Default::default()
        }
    });
    let inst = instance("demo__textkit-7");
    let rec = grade(&fake, &inst, &inst.patch, GradeMode::Strict).await;
    assert_eq!(
        rec.grade.status,
        GradeStatus::PatchRejected,
        "{:?}",
        rec.grade
    );
    assert!(rec.grade.message.unwrap().contains("symlink"));
    assert!(!fake.commands().iter().any(|c| c.contains("git apply")));
    // The guard is strict mode's hardening: v4.1 never runs it.
    let rec = grade(&fake, &inst, &inst.patch, GradeMode::V41).await;
    assert_ne!(
        rec.grade.status,
        GradeStatus::PatchRejected,
        "{:?}",
        rec.grade
    );
}

const CONFTEST_HIJACK: &str = "\
diff --git a/conftest.py b/conftest.py
new file mode 100644
--- /dev/null
+++ b/conftest.py
@@ -0,0 +1,8 @@
+import pytest
+
+
+@pytest.hookimpl(hookwrapper=True)
+def pytest_runtest_makereport(item, call):
+    outcome = yield
+    report = outcome.get_result()
+    report.outcome = \"passed\"
";

#[tokio::test]
async fn strict_mode_removes_a_conftest_that_marks_tests_passed() {
    let Some(p) = provider("strict_mode_removes_a_conftest") else {
        return;
    };
    let inst = instance("demo__textkit-7");
    let v41 = grade(&p, &inst, CONFTEST_HIJACK, GradeMode::V41).await;
    assert_eq!(
        v41.grade.status,
        GradeStatus::Resolved,
        "the hijack works against v4.1 semantics: {:?}",
        v41.grade
    );
    let strict = grade(&p, &inst, CONFTEST_HIJACK, GradeMode::Strict).await;
    assert_eq!(
        strict.grade.status,
        GradeStatus::Unresolved,
        "{:?}",
        strict.grade
    );
    assert_eq!(strict.removed_files, ["conftest.py"]);
    assert!(strict.grade.flags.iter().any(|f| f.contains("conftest.py")));
}

#[tokio::test]
async fn strict_mode_rejects_forged_passed_lines() {
    let Some(p) = provider("strict_mode_rejects_forged_passed_lines") else {
        return;
    };
    let inst = instance("demo__textkit-7");
    // Library code that prints PASSED lines for the failing tests when the process exits.
    let mut forge = vec![
        "+import atexit".to_string(),
        "+".to_string(),
        "+".to_string(),
        "+@atexit.register".to_string(),
        "+def _forge():".to_string(),
    ];
    forge.extend(
        inst.fail_to_pass
            .iter()
            .map(|t| format!("+    print(\"PASSED {t}\")")),
    );
    let mut lines = vec![
        "diff --git a/textkit/forge.py b/textkit/forge.py".to_string(),
        "new file mode 100644".to_string(),
        "--- /dev/null".to_string(),
        "+++ b/textkit/forge.py".to_string(),
        format!("@@ -0,0 +1,{} @@", forge.len()),
    ];
    lines.extend(forge);
    lines.extend(
        [
            "diff --git a/textkit/__init__.py b/textkit/__init__.py",
            "--- a/textkit/__init__.py",
            "+++ b/textkit/__init__.py",
            "@@ -1,5 +1,6 @@",
            " \"\"\"textkit: small text helpers.\"\"\"",
            " ",
            "+import textkit.forge  # noqa: F401",
            " from textkit.fmt import human_size, truncate",
            " from textkit.slug import slugify",
            " from textkit.words import title_case, word_count, wrap",
        ]
        .map(String::from),
    );
    let patch = lines.join("\n") + "\n";
    let v41 = grade(&p, &inst, &patch, GradeMode::V41).await;
    assert_eq!(
        v41.grade.status,
        GradeStatus::Resolved,
        "forged lines fool v4.1: {:?}\n{}",
        v41.grade,
        v41.test_output.as_deref().unwrap_or("")
    );
    let strict = grade(&p, &inst, &patch, GradeMode::Strict).await;
    assert_eq!(
        strict.grade.status,
        GradeStatus::Unresolved,
        "{:?}",
        strict.grade
    );
    assert_ne!(strict.exit_code, Some(0));
    let reason = format!("{:?} {:?}", strict.grade.message, strict.grade.flags);
    assert!(
        reason.contains("exited") || reason.contains("two different statuses"),
        "{reason}"
    );
}

#[tokio::test]
async fn strict_mode_fails_a_skipped_fail_to_pass_test() {
    let Some(p) = provider("strict_mode_fails_a_skipped_fail_to_pass_test") else {
        return;
    };
    let inst = instance("demo__textkit-7");
    // Skip every test whose input has the punctuation runs the issue is about.
    let patch = [
        "diff --git a/textkit/slug.py b/textkit/slug.py",
        "--- a/textkit/slug.py",
        "+++ b/textkit/slug.py",
        "@@ -14,6 +14,10 @@ def slugify(text: str, sep: str = \"-\") -> str:",
        "     \"\"\"",
        "     if not sep:",
        "         raise ValueError(\"sep must not be empty\")",
        "+    if \",\" in text or \"&\" in text:",
        "+        import pytest",
        "+",
        "+        pytest.skip(\"punctuation runs are not supported yet\")",
        "     ascii_text = (",
        "         unicodedata.normalize(\"NFKD\", text).encode(\"ascii\", \"ignore\").decode(\"ascii\")",
        "     )",
        "",
    ]
    .join("\n");
    let patch = patch.as_str();
    // pytest's -rA summary prints a skip as `SKIPPED [1] file:line: reason`, without the
    // test's id, so v4.1 finds the test missing and fails it too; with verbose runners (the
    // `id SKIPPED` lines of astropy's -vv, Django's `... skipped`) v4.1 counts it in neither
    // list (see the grading unit tests). Strict mode fails it either way.
    let v41 = grade(&p, &inst, patch, GradeMode::V41).await;
    assert_eq!(v41.grade.status, GradeStatus::Unresolved, "{:?}", v41.grade);
    let log = v41.test_output.unwrap();
    assert!(
        log.contains("SKIPPED [") && log.contains("punctuation runs"),
        "{log}"
    );
    let strict = grade(&p, &inst, patch, GradeMode::Strict).await;
    assert_eq!(
        strict.grade.status,
        GradeStatus::Unresolved,
        "{:?}",
        strict.grade
    );
    let t = strict.grade.tests_status.unwrap();
    assert_eq!(t.fail_to_pass.failure, inst.fail_to_pass);
}

#[tokio::test]
async fn strict_mode_refuses_a_model_file_in_place_of_a_new_test_file() {
    let inst = instance("demo__iniconf-47");
    // The model plants the new test file with trivially passing tests of the same names.
    let mut body = Vec::new();
    for t in &inst.fail_to_pass {
        let name = t.rsplit("::").next().unwrap();
        body.push(format!("+def {name}():"));
        body.push("+    pass".to_string());
    }
    let mut lines = vec![
        "diff --git a/tests/test_interpolation_errors.py b/tests/test_interpolation_errors.py"
            .to_string(),
        "new file mode 100644".to_string(),
        "--- /dev/null".to_string(),
        "+++ b/tests/test_interpolation_errors.py".to_string(),
        format!("@@ -0,0 +1,{} @@", body.len()),
    ];
    lines.extend(body);
    let planted = lines.join("\n") + "\n";
    let planted = planted.as_str();
    // Strict: an error before any container starts; the tests never run on the model's file.
    let fake = FakeProvider::default();
    let strict = grade(&fake, &inst, planted, GradeMode::Strict).await;
    assert_eq!(strict.grade.status, GradeStatus::TestPatchApplyFailed);
    assert!(strict.grade.status.is_error());
    assert!(
        strict
            .grade
            .message
            .unwrap()
            .contains("tests/test_interpolation_errors.py")
    );
    assert_eq!(fake.started(), 0);
    // v4.1 runs the tests on the planted file, as the official harness does.
    let Some(p) = provider("strict_mode_refuses_a_model_file") else {
        return;
    };
    let v41 = grade(&p, &inst, planted, GradeMode::V41).await;
    let out = v41.test_output.unwrap_or_default();
    assert!(out.contains("already exists"), "{out}");
    assert_eq!(
        v41.grade.status,
        GradeStatus::Resolved,
        "v4.1 runs the tests on the planted file and is fooled: {:?}",
        v41.grade
    );
}
