use super::*;

const MODIFY: &str = "\
diff --git a/src/m.py b/src/m.py
index 1111111..2222222 100644
--- a/src/m.py
+++ b/src/m.py
@@ -1,2 +1,2 @@
 def f():
-    return 1
+    return 2
";

fn add(path: &str) -> String {
    format!(
        "diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..3333333\n\
         --- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+x = 1\n"
    )
}

#[test]
fn ordinary_patch_is_summarized() {
    let text = format!("{MODIFY}{}", add("tests/test_new.py"));
    let s = inspect_patch(&text).unwrap();
    assert_eq!(s.files.len(), 2);
    assert_eq!(s.files[0].change, FileChange::Modified);
    assert_eq!(s.existing(), ["src/m.py"]);
    assert_eq!(s.created(), ["tests/test_new.py"]);
    assert_eq!(s.added(), ["tests/test_new.py"]);
    assert_eq!(s.git_parse_error, None);
}

#[test]
fn empty_and_unparsable_are_named() {
    assert_eq!(inspect_patch(""), Err(PatchProblem::Empty));
    assert_eq!(inspect_patch(" \n\t\n"), Err(PatchProblem::Empty));
    let e = inspect_patch("I could not fix this issue, sorry.\n").unwrap_err();
    assert!(matches!(e, PatchProblem::Unparsable { .. }), "{e:?}");
    assert!(e.to_string().contains("cannot be parsed"), "{e}");
}

#[test]
fn paths_leaving_the_repository_are_rejected() {
    for (patch, needle) in [
        (add("../outside"), ".."),
        (add("a/../../outside"), ".."),
        (
            "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+evil\n".to_string(),
            "absolute",
        ),
        (add(".git/hooks/post-checkout"), ".git"),
    ] {
        let e = inspect_patch(&patch).unwrap_err();
        assert!(
            matches!(e, PatchProblem::LeavesRepository { .. }),
            "{patch}: {e:?}"
        );
        assert!(e.to_string().contains(needle), "{e}");
    }
}

#[test]
fn symlinks_pointing_out_are_rejected() {
    let link = |path: &str, target: &str| {
        format!(
            "diff --git a/{path} b/{path}\nnew file mode 120000\nindex 0000000..4444444\n\
             --- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+{target}\n\\ No newline at end of file\n"
        )
    };
    let e = inspect_patch(&link("etc", "/etc")).unwrap_err();
    assert!(e.to_string().contains("symlink"), "{e}");
    let e = inspect_patch(&link("pkg/up", "../../..")).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
    let ok = inspect_patch(&link("pkg/alias.py", "../src/m.py")).unwrap();
    assert_eq!(ok.files[0].symlink_target.as_deref(), Some("../src/m.py"));
    let through = format!("{}{}", link("d", "src"), add("d/x.py"));
    let e = inspect_patch(&through).unwrap_err();
    assert!(e.to_string().contains("through the symlink"), "{e}");
}

#[test]
fn traditional_diffs_are_read_by_the_scanner() {
    let text = "--- a/src/m.py\n+++ b/src/m.py\n@@ -1 +1 @@\n-a\n+b\n";
    let s = inspect_patch(text).unwrap();
    assert_eq!(s.files.len(), 1);
    assert_eq!(s.files[0].path(), "src/m.py");
}

#[test]
fn autoload_files_can_be_cut_out() {
    let text = format!(
        "{}{MODIFY}{}",
        add("conftest.py"),
        add("pkg/sitecustomize.py")
    );
    let s = inspect_patch(&text).unwrap();
    let autoload: Vec<&str> = s.added().into_iter().filter(|p| is_autoload(p)).collect();
    assert_eq!(autoload, ["conftest.py", "pkg/sitecustomize.py"]);
    let rest = remove_files(&text, &autoload);
    assert_eq!(rest, MODIFY);
    assert_eq!(remove_files(&add("conftest.py"), &["conftest.py"]), "");
    assert!(!is_autoload("src/conftest_helpers.py"));
    // new pytest configuration at the root is cut too; the same names deeper down are not
    let text = format!("{}{}{MODIFY}", add("tox.ini"), add("docs/setup.cfg"));
    let s = inspect_patch(&text).unwrap();
    let cut: Vec<&str> = s
        .added()
        .into_iter()
        .filter(|p| added_file_changes_test_runs(p))
        .collect();
    assert_eq!(cut, ["tox.ini"]);
    assert!(added_file_changes_test_runs("pyproject.toml"));
    assert!(!added_file_changes_test_runs("pkg/pyproject.toml"));
}

#[test]
fn guard_script_names_the_path() {
    let s = symlink_guard_script("/testbed", &["a b.py", "src/x.py"]);
    assert!(s.contains("'a b.py' src/x.py"), "{s}");
    assert!(s.contains("exit 3"));
}

mod props {
    use proptest::prelude::*;

    use super::super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// No input makes the inspector or the scanner panic, and every accepted patch names
        /// only paths inside the repository.
        #[test]
        fn never_panics_and_accepts_only_safe_paths(text in "(diff --git a/[a-z./]{0,8} b/[a-z./]{0,8}\n|--- [a-z/.]{0,8}\n|\\+\\+\\+ [a-z/.]{0,8}\n|@@ -1,[0-2] \\+1,[0-2] @@\n|[-+ ][a-z]{0,3}\n|new file mode 1[02]0[0-7]{3}\n){0,12}") {
            let _ = scan::scan(&text);
            if let Ok(s) = inspect_patch(&text) {
                for p in s.all_paths() {
                    prop_assert!(!p.starts_with('/'));
                    prop_assert!(!p.split('/').any(|c| c == ".." || c == ".git"));
                }
            }
            let _ = remove_files(&text, &["a"]);
        }
    }
}
