//! Local repository mirrors: a folder of bare repositories named `<owner>__<name>.git` (the
//! layout of `datasets/swe-bench-verified/repos/`), read through git2. Nothing here touches a
//! network: a commit that the mirror lacks is an error that names the mirror and the commit.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use crate::error::GraderError;

/// One bare repository of a mirror folder.
pub struct Mirror {
    path: PathBuf,
    repo: Repository,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The folder name of a repository's mirror: `owner/name` → `owner__name.git`.
pub fn mirror_dir_name(repo: &str) -> String {
    format!("{}.git", repo.replace('/', "__"))
}

impl Mirror {
    /// Open the mirror of `repo` (`owner/name`) in the folder `repos`.
    pub fn open(repos: &Path, repo: &str) -> Result<Self, GraderError> {
        let path = repos.join(mirror_dir_name(repo));
        if !path.exists() {
            return Err(GraderError::Io {
                path: path.display().to_string(),
                message: format!(
                    "no mirror of {repo} here (expected a bare repository named {} in {}); \
                     `git clone --mirror` the repository there, or pull the official image \
                     from a registry instead",
                    mirror_dir_name(repo),
                    repos.display()
                ),
            });
        }
        let repo = Repository::open_bare(&path).map_err(|e| GraderError::Io {
            path: path.display().to_string(),
            message: format!("not a bare git repository: {}", e.message()),
        })?;
        Ok(Self { path, repo })
    }

    /// The mirror's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, message: String) -> GraderError {
        GraderError::Io {
            path: self.path.display().to_string(),
            message,
        }
    }

    fn commit(&self, sha: &str) -> Result<git2::Commit<'_>, GraderError> {
        let oid =
            Oid::from_str(sha).map_err(|_| self.err(format!("{sha:?} is not a commit hash")))?;
        self.repo.find_commit(oid).map_err(|_| {
            self.err(format!(
                "the mirror does not hold commit {sha} (a mirror for offline images needs every \
                 base_commit and environment_setup_commit, e.g. as tags commit-<sha>)"
            ))
        })
    }

    /// The raw commit object (headers and message), as `git cat-file commit` prints it.
    pub fn raw_commit(&self, sha: &str) -> Result<Vec<u8>, GraderError> {
        let c = self.commit(sha)?;
        let odb = self
            .repo
            .odb()
            .map_err(|e| self.err(e.message().to_string()))?;
        let obj = odb
            .read(c.id())
            .map_err(|e| self.err(format!("reading commit {sha}: {}", e.message())))?;
        Ok(obj.data().to_vec())
    }

    /// A file's bytes at a commit, `None` when the commit has no such file.
    pub fn read_file(&self, sha: &str, path: &str) -> Result<Option<Vec<u8>>, GraderError> {
        let tree = self
            .commit(sha)?
            .tree()
            .map_err(|e| self.err(format!("the tree of {sha}: {}", e.message())))?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| self.err(format!("{path} at {sha}: {}", e.message())))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Write the tree of a commit into `dest` (which must not exist or be empty): files with
    /// their executable bits, and symbolic links. A submodule is an error (the offline images
    /// cannot reproduce it). Returns the number of files written.
    pub fn checkout(&self, sha: &str, dest: &Path) -> Result<usize, GraderError> {
        let tree = self
            .commit(sha)?
            .tree()
            .map_err(|e| self.err(format!("the tree of {sha}: {}", e.message())))?;
        let io = |p: &Path, e: std::io::Error| GraderError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dest).map_err(|e| io(dest, e))?;
        let mut failure: Option<GraderError> = None;
        let mut count = 0usize;
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            let rel = format!("{root}{name}");
            if rel
                .split('/')
                .any(|c| c == ".." || c == "." || c.is_empty())
                || rel.starts_with('/')
            {
                failure = Some(self.err(format!("unsafe path {rel:?} in commit {sha}")));
                return TreeWalkResult::Abort;
            }
            let target = dest.join(&rel);
            let r = match entry.kind() {
                Some(ObjectType::Tree) => {
                    std::fs::create_dir_all(&target).map_err(|e| io(&target, e))
                }
                Some(ObjectType::Blob) => self.write_blob(entry.id(), entry.filemode(), &target),
                Some(ObjectType::Commit) => Err(self.err(format!(
                    "{rel} is a submodule at {sha}; offline images cannot include submodules \
                     (use the official image from a registry)"
                ))),
                other => Err(self.err(format!("{rel}: unexpected object {other:?}"))),
            };
            match r {
                Ok(()) => {
                    if entry.kind() == Some(ObjectType::Blob) {
                        count += 1;
                    }
                    TreeWalkResult::Ok
                }
                Err(e) => {
                    failure = Some(e);
                    TreeWalkResult::Abort
                }
            }
        })
        .map_err(|e| {
            failure
                .take()
                .unwrap_or_else(|| self.err(e.message().to_string()))
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    fn write_blob(&self, id: Oid, mode: i32, target: &Path) -> Result<(), GraderError> {
        let blob = self
            .repo
            .find_blob(id)
            .map_err(|e| self.err(format!("blob {id}: {}", e.message())))?;
        let io = |e: std::io::Error| GraderError::Io {
            path: target.display().to_string(),
            message: e.to_string(),
        };
        if mode == 0o120_000 {
            let link = String::from_utf8_lossy(blob.content()).into_owned();
            return std::os::unix::fs::symlink(link, target).map_err(io);
        }
        std::fs::write(target, blob.content()).map_err(io)?;
        if mode == 0o100_755 {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
        }
        Ok(())
    }
}
