//! Run folders of the commands that name their own runs (`grade`, `grade --from-logs`).
//!
//! [`claim`] gives a run its folder under `--output` and holds it for the life of the
//! process:
//! - a default run id is `<prefix>-<YYYYMMDD-HHMMSS>-<milliseconds>-p<pid>`, and its folder is
//!   created exclusively: if it exists all the same (another machine sharing the folder), the
//!   next free `-2`, `-3`, … is taken, so two runs never share a folder;
//! - an explicit `--run-id` names its folder as given (the same id resumes), but a folder held
//!   by a live process is refused, as `agentscale run` refuses a run directory in use;
//! - the hold is an advisory lock on `<folder>/.lock`, released when the process ends.
//!
//! `agentscale run` picks its id from the config's content instead (the same config resumes
//! the same run) and holds its folder through the run store's lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use agentscale_core::{fsutil, time};

use crate::exit;

/// A run folder held by this process.
#[derive(Debug)]
pub struct ClaimedRun {
    /// The run id.
    pub id: String,
    /// Its folder, `<output>/<id>` (the id made safe as a file name).
    pub dir: PathBuf,
    /// Held until the process ends.
    _lock: File,
}

/// A fresh default run id: the prefix, the time to the millisecond and our pid.
pub fn default_run_id(prefix: &str) -> String {
    let ms = time::now_ms();
    format!(
        "{prefix}-{}-{:03}-p{}",
        time::compact_stamp(ms),
        ms % 1000,
        std::process::id()
    )
}

/// Claim the folder of a run under `output`: the explicit id's, or a fresh one made of
/// `prefix` (see the module documentation).
pub fn claim(output: &Path, explicit: Option<&str>, prefix: &str) -> anyhow::Result<ClaimedRun> {
    std::fs::create_dir_all(output).map_err(|e| {
        exit::with_code(
            exit::USAGE,
            anyhow::anyhow!("cannot create the output folder {}: {e}", output.display()),
        )
    })?;
    let (id, dir) = match explicit {
        Some(id) => {
            let dir = output.join(fsutil::sanitize_file_name(id));
            std::fs::create_dir_all(&dir).map_err(|e| {
                anyhow::anyhow!("cannot create the run folder {}: {e}", dir.display())
            })?;
            (id.to_string(), dir)
        }
        None => fresh_folder(output, &default_run_id(prefix))?,
    };
    let lock = lock(&dir)?;
    Ok(ClaimedRun {
        id,
        dir,
        _lock: lock,
    })
}

/// Create `<output>/<base>` exclusively, or the first free `<base>-N`.
fn fresh_folder(output: &Path, base: &str) -> anyhow::Result<(String, PathBuf)> {
    for n in 1..=1000u32 {
        let id = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        let dir = output.join(fsutil::sanitize_file_name(&id));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot create the run folder {}: {e}",
                    dir.display()
                ));
            }
        }
    }
    Err(anyhow::anyhow!(
        "{}: the folders {base} to {base}-1000 all exist; give --run-id or another --output",
        output.display()
    ))
}

/// Lock `<dir>/.lock`, or say that a live process holds the folder.
fn lock(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join(".lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
            "the run folder {} is in use by another agentscale process; wait for it to finish, \
             stop it first, or give another --run-id",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::anyhow!("cannot lock {}: {e}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ids_of_one_moment_get_their_own_folders() {
        let out = tempfile::tempdir().unwrap();
        let a = claim(out.path(), None, "from-logs").unwrap();
        // the same id again (same millisecond and pid): the folder exists, so a suffix
        let (id, dir) = fresh_folder(out.path(), &a.id).unwrap();
        assert_eq!(id, format!("{}-2", a.id));
        assert!(dir.is_dir() && dir != a.dir);
        assert!(a.id.starts_with("from-logs-"), "{}", a.id);
        assert!(
            a.id.ends_with(&format!("-p{}", std::process::id())),
            "{}",
            a.id
        );
    }

    #[test]
    fn an_explicit_id_held_by_a_live_holder_is_refused_and_free_again_after() {
        let out = tempfile::tempdir().unwrap();
        let a = claim(out.path(), Some("mine"), "x").unwrap();
        assert_eq!(a.dir, out.path().join("mine"));
        let e = claim(out.path(), Some("mine"), "x").unwrap_err();
        assert!(e.to_string().contains("in use"), "{e}");
        drop(a);
        assert!(claim(out.path(), Some("mine"), "x").is_ok());
    }
}
