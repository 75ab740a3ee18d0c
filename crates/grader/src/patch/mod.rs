//! Patch hygiene: what a patch touches, and whether it may reach a container at all.
//!
//! The main entry point is [`inspect_patch`], which parses a unified diff with git2
//! (`Diff::from_buffer`) and returns a [`PatchSummary`] (the files it adds, modifies, deletes
//! or renames) or a [`PatchProblem`]: empty, unparsable, or leaving the repository (an
//! absolute path, a `..` component, a path inside `.git`, a symlink pointing outside, or a
//! path through a symlink the same patch creates). Paths through symlinks that already exist
//! in the repository can only be seen inside the container; [`symlink_guard_script`] checks
//! them there before anything is applied.
//!
//! Diffs that libgit2 cannot parse but that have ordinary `---`/`+++` file headers are
//! accepted (the official apply chain ends with `patch --fuzz=5`, which reads them); their
//! paths come from our own scanner ([`scan`]) and get the same checks.

pub mod scan;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a patch does to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    /// A new file.
    Added,
    /// A deleted file.
    Deleted,
    /// A changed file (content or mode).
    Modified,
    /// A renamed file (maybe changed too).
    Renamed,
    /// A copied file.
    Copied,
}

/// One file of a patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchFile {
    /// The path before (`None` for an added file).
    pub old_path: Option<String>,
    /// The path after (`None` for a deleted file).
    pub new_path: Option<String>,
    /// What happens to it.
    pub change: FileChange,
    /// True for a binary patch.
    pub binary: bool,
    /// The link target when the new file is a symlink.
    pub symlink_target: Option<String>,
}

impl PatchFile {
    /// The path after the change, else the path before.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }
}

/// What a patch touches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PatchSummary {
    /// The files, in patch order.
    pub files: Vec<PatchFile>,
    /// When libgit2 could not parse the patch (its message) and our scanner's reading was
    /// used instead.
    pub git_parse_error: Option<String>,
}

impl PatchSummary {
    /// Paths the patch creates (added, or the target of a rename or copy).
    pub fn created(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| {
                matches!(
                    f.change,
                    FileChange::Added | FileChange::Renamed | FileChange::Copied
                )
            })
            .filter_map(|f| f.new_path.as_deref())
            .collect()
    }

    /// Paths that exist before the patch (`get_modified_files` of the official harness: every
    /// file whose old side is not `/dev/null`), in patch order.
    pub fn existing(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter_map(|f| f.old_path.as_deref())
            .collect()
    }

    /// Paths only added by the patch (old side `/dev/null`), in patch order.
    pub fn added(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.change == FileChange::Added)
            .filter_map(|f| f.new_path.as_deref())
            .collect()
    }

    /// Every path the patch names, old and new, without repeats.
    pub fn all_paths(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for f in &self.files {
            for p in [f.old_path.as_deref(), f.new_path.as_deref()]
                .into_iter()
                .flatten()
            {
                if seen.insert(p) {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// Why a patch cannot be applied at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PatchProblem {
    /// Empty or whitespace only.
    Empty,
    /// No file header could be found.
    Unparsable {
        /// What the parsers said.
        reason: String,
    },
    /// A path leaves the repository.
    LeavesRepository {
        /// The offending path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for PatchProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the patch is empty"),
            Self::Unparsable { reason } => write!(f, "the patch cannot be parsed: {reason}"),
            Self::LeavesRepository { path, reason } => {
                write!(f, "the patch touches {path:?}, which {reason}; rejected")
            }
        }
    }
}

/// Parse a patch and check that every path stays inside the repository.
pub fn inspect_patch(text: &str) -> Result<PatchSummary, PatchProblem> {
    if text.trim().is_empty() {
        return Err(PatchProblem::Empty);
    }
    let scanned = scan::scan(text);
    // Check the scanner's paths first: it reads headers libgit2 may normalize or refuse.
    for s in &scanned.sections {
        for p in [s.old_path.as_deref(), s.new_path.as_deref()]
            .into_iter()
            .flatten()
        {
            check_path(p)?;
        }
    }
    let summary = match git2::Diff::from_buffer(text.as_bytes()) {
        Ok(diff) => {
            let files = files_from_git(&diff);
            if files.is_empty() {
                from_scan(&scanned, Some("libgit2 found no file in it".to_string()))?
            } else {
                PatchSummary {
                    files,
                    git_parse_error: None,
                }
            }
        }
        Err(e) => from_scan(&scanned, Some(e.message().to_string()))?,
    };
    for f in &summary.files {
        for p in [f.old_path.as_deref(), f.new_path.as_deref()]
            .into_iter()
            .flatten()
        {
            check_path(p)?;
        }
        if let Some(target) = &f.symlink_target {
            check_symlink(f.path(), target)?;
        }
    }
    // A path through a symlink the same patch creates.
    let links: Vec<&str> = summary
        .files
        .iter()
        .filter(|f| f.symlink_target.is_some())
        .map(PatchFile::path)
        .collect();
    for p in summary.all_paths() {
        if let Some(link) = links
            .iter()
            .find(|l| p.len() > l.len() && p.starts_with(**l) && p.as_bytes()[l.len()] == b'/')
        {
            return Err(PatchProblem::LeavesRepository {
                path: p.to_string(),
                reason: format!("goes through the symlink {link:?} that the patch creates"),
            });
        }
    }
    Ok(summary)
}

fn from_scan(
    scanned: &scan::Scan,
    git_error: Option<String>,
) -> Result<PatchSummary, PatchProblem> {
    let files: Vec<PatchFile> = scanned
        .sections
        .iter()
        .filter(|s| s.old_path.is_some() || s.new_path.is_some())
        .map(|s| PatchFile {
            old_path: if s.created { None } else { s.old_path.clone() },
            new_path: if s.deleted { None } else { s.new_path.clone() },
            change: if s.created {
                FileChange::Added
            } else if s.deleted {
                FileChange::Deleted
            } else if s.old_path != s.new_path {
                FileChange::Renamed
            } else {
                FileChange::Modified
            },
            binary: false,
            symlink_target: None,
        })
        .collect();
    if files.is_empty() {
        let reason = git_error.unwrap_or_else(|| "no file header found".into());
        return Err(PatchProblem::Unparsable {
            reason: format!("{reason}; no `diff --git` or `---`/`+++` file header found"),
        });
    }
    Ok(PatchSummary {
        files,
        git_parse_error: git_error,
    })
}

fn files_from_git(diff: &git2::Diff<'_>) -> Vec<PatchFile> {
    let mut files = Vec::new();
    for (idx, delta) in diff.deltas().enumerate() {
        let path_of = |f: git2::DiffFile<'_>| {
            f.path_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let change = match delta.status() {
            git2::Delta::Added | git2::Delta::Untracked => FileChange::Added,
            git2::Delta::Deleted => FileChange::Deleted,
            git2::Delta::Renamed => FileChange::Renamed,
            git2::Delta::Copied => FileChange::Copied,
            _ => FileChange::Modified,
        };
        let old_path = (change != FileChange::Added)
            .then(|| path_of(delta.old_file()))
            .flatten();
        let new_path = (change != FileChange::Deleted)
            .then(|| path_of(delta.new_file()))
            .flatten();
        let symlink_target = (change != FileChange::Deleted
            && delta.new_file().mode() == git2::FileMode::Link)
            .then(|| symlink_target(diff, idx))
            .flatten();
        files.push(PatchFile {
            old_path,
            new_path,
            change,
            binary: delta.flags().is_binary(),
            symlink_target,
        });
    }
    files
}

/// The target of a symlink a patch adds: the `+` line of its hunk.
fn symlink_target(diff: &git2::Diff<'_>, idx: usize) -> Option<String> {
    let patch = git2::Patch::from_diff(diff, idx).ok()??;
    let mut target = String::new();
    for h in 0..patch.num_hunks() {
        let n = patch.num_lines_in_hunk(h).ok()?;
        for l in 0..n {
            let line = patch.line_in_hunk(h, l).ok()?;
            if line.origin() == '+' {
                target.push_str(&String::from_utf8_lossy(line.content()));
            }
        }
    }
    Some(target.trim_end_matches('\n').to_string())
}

fn check_path(p: &str) -> Result<(), PatchProblem> {
    let leaves = |reason: &str| {
        Err(PatchProblem::LeavesRepository {
            path: p.to_string(),
            reason: reason.to_string(),
        })
    };
    if p.is_empty() {
        return leaves("is empty");
    }
    if p.starts_with('/') || p.starts_with('\\') || p.starts_with('~') {
        return leaves("is an absolute path outside the repository");
    }
    if p.contains('\0') {
        return leaves("contains a NUL byte");
    }
    for comp in p.split(['/', '\\']) {
        if comp == ".." {
            return leaves("leaves the repository through `..`");
        }
        if comp == ".git" {
            return leaves("is inside the repository's .git folder");
        }
    }
    Ok(())
}

fn check_symlink(link: &str, target: &str) -> Result<(), PatchProblem> {
    let bad = |reason: String| {
        Err(PatchProblem::LeavesRepository {
            path: link.to_string(),
            reason,
        })
    };
    if target.starts_with('/') {
        return bad(format!("is a symlink to the absolute path {target:?}"));
    }
    // Resolve the target against the link's folder without touching any file system.
    let mut depth: i64 = i64::try_from(link.split('/').count()).unwrap_or(i64::MAX) - 1;
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." => depth -= 1,
            ".git" => return bad("is a symlink into .git".into()),
            _ => depth += 1,
        }
        if depth < 0 {
            return bad(format!(
                "is a symlink to {target:?}, outside the repository"
            ));
        }
    }
    Ok(())
}

/// Files that test runners load on their own: a model that adds one can change how every
/// test runs (e.g. a conftest.py hook that marks failures as passes).
pub const AUTOLOAD_FILES: [&str; 5] = [
    "conftest.py",
    "sitecustomize.py",
    "usercustomize.py",
    "pytest.ini",
    ".pytest.ini",
];

/// Configuration files at the repository's root that pytest reads for its options
/// (`addopts`, plugins): a *new* one from the model can change every test run, while editing
/// an existing one is an ordinary change. Strict mode removes them when the patch adds them.
pub const ROOT_CONFIG_FILES: [&str; 3] = ["tox.ini", "setup.cfg", "pyproject.toml"];

/// True when a path's file name is one of [`AUTOLOAD_FILES`].
pub fn is_autoload(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    AUTOLOAD_FILES.contains(&name)
}

/// True when a file added by a patch can change how the tests run on its own: an
/// [`AUTOLOAD_FILES`] name anywhere, or a [`ROOT_CONFIG_FILES`] name at the root.
pub fn added_file_changes_test_runs(path: &str) -> bool {
    is_autoload(path) || ROOT_CONFIG_FILES.contains(&path)
}

/// Remove the sections of the given new files from a patch, keeping every other byte as it
/// was. Returns the remaining patch (empty when nothing is left).
pub fn remove_files(text: &str, paths: &[&str]) -> String {
    let scanned = scan::scan(text);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..scanned.preamble_end.min(text.len())]);
    let mut kept = 0;
    for s in &scanned.sections {
        let drop = s.new_path.as_deref().is_some_and(|p| paths.contains(&p));
        if !drop {
            out.push_str(&text[s.start..s.end]);
            kept += 1;
        }
    }
    if kept == 0 {
        return String::new();
    }
    out
}

/// A bash snippet that fails (exit 3, naming the path) when the folder of one of `paths`,
/// resolved inside `repo_dir` with every existing symlink followed, lies outside `repo_dir`.
pub fn symlink_guard_script(repo_dir: &str, paths: &[&str]) -> String {
    use agentscale_core::sandbox::shell_quote;
    let mut s = format!(
        "cd {dir} || exit 2\nroot=$(realpath -m {dir})\nfor p in",
        dir = shell_quote(repo_dir)
    );
    for p in paths {
        s.push(' ');
        s.push_str(&shell_quote(p));
    }
    s.push_str(
        "; do\n  r=$(realpath -m -- \"$(dirname -- \"$p\")\")\n  case \"$r\" in \"$root\" | \"$root\"/*) ;; \
         *) echo \"path $p goes through a symlink to $r, outside $root\"; exit 3;; esac\ndone\n",
    );
    s
}

#[cfg(test)]
mod tests;
