//! Terminal-Bench task folders into [`TbTask`]s.
//!
//! A task folder holds `task.toml` (see [`config`]), `instruction.md`, and optionally
//! `environment/` (with a Dockerfile), `tests/` (with test.sh) and `solution/` (with
//! solve.sh). A dataset folder is a folder of task folders; a folder that itself holds
//! task.toml is a one-task dataset; a repository with the tasks under `tasks/` (the 2.1
//! layout) works too.

pub mod config;

use std::path::{Path, PathBuf};

use agentscale_core::TbTask;
use agentscale_core::task::TbTaskParts;

use crate::Findings;
use crate::error::{DatasetError, Problem};

/// The parts a task lacks, as the paths a complete task would have: `environment/`
/// (or `environment/Dockerfile` when only that is missing), `tests/` (or `tests/test.sh`),
/// `solution/` (or `solution/solve.sh`).
pub fn missing_parts(dir: &Path, parts: &TbTaskParts) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !parts.environment {
        out.push("environment/");
    } else if !parts.dockerfile {
        out.push("environment/Dockerfile");
    }
    if !parts.tests {
        out.push(if dir.join("tests").is_dir() {
            "tests/test.sh"
        } else {
            "tests/"
        });
    }
    if !parts.solution {
        out.push(if dir.join("solution").is_dir() {
            "solution/solve.sh"
        } else {
            "solution/"
        });
    }
    out
}

/// Which parts a task folder has.
pub fn parts_of(dir: &Path) -> TbTaskParts {
    TbTaskParts {
        environment: dir.join("environment").is_dir(),
        dockerfile: dir.join("environment").join("Dockerfile").is_file(),
        tests: dir.join("tests").join("test.sh").is_file(),
        solution: dir.join("solution").join("solve.sh").is_file(),
    }
}

/// True when `dir` is a task folder.
pub fn is_task_dir(dir: &Path) -> bool {
    dir.join("task.toml").is_file()
}

/// The task folders of a dataset folder, sorted by name. Sub-folders without task.toml are
/// reported as warnings (hidden ones are skipped quietly).
pub(crate) fn task_dirs(
    root: &Path,
    findings: &mut Findings,
) -> Result<Vec<PathBuf>, DatasetError> {
    if is_task_dir(root) {
        return Ok(vec![root.to_path_buf()]);
    }
    let entries = std::fs::read_dir(root).map_err(|e| DatasetError::io(root, e))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DatasetError::io(root, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if is_task_dir(&path) {
            dirs.push(path);
        } else {
            findings.warning(Problem::new(
                &path,
                "this folder has no task.toml, so it is not a task; skipped",
            ));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// True when `dir` holds at least one task folder (directly or under `tasks/`).
pub(crate) fn looks_like_task_dataset(dir: &Path) -> Option<PathBuf> {
    if is_task_dir(dir) {
        return Some(dir.to_path_buf());
    }
    let has_tasks = |d: &Path| {
        std::fs::read_dir(d).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| e.path().is_dir() && is_task_dir(&e.path()))
        })
    };
    if has_tasks(dir) {
        return Some(dir.to_path_buf());
    }
    let nested = dir.join("tasks");
    has_tasks(&nested).then_some(nested)
}

/// Docker Compose files a task's environment may hold instead of a Dockerfile (not supported:
/// a task runs in one container).
const COMPOSE_FILES: &[&str] = &[
    "docker-compose.yaml",
    "docker-compose.yml",
    "compose.yaml",
    "compose.yml",
];

/// Read one task folder. Problems go to `findings`; `None` when the task has an error.
pub(crate) fn read_task(dir: &Path, findings: &mut Findings) -> Option<TbTask> {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
        findings.error(Problem::new(
            dir,
            "the task folder's name is not valid UTF-8; rename it",
        ));
        return None;
    };
    let toml_path = dir.join("task.toml");
    let mut ok = true;
    if let Err(e) = crate::ids::check_id(&name) {
        findings.error(
            Problem::new(
                dir,
                format!("the task folder's name {e}; rename the folder"),
            )
            .id(Some(&name)),
        );
        ok = false;
    }
    let config = match std::fs::read(&toml_path) {
        Ok(bytes) => {
            if let Ok(text) = String::from_utf8(bytes) {
                let out = config::parse(&text, &toml_path, &name);
                for p in out.warnings {
                    findings.warning(p);
                }
                ok &= out.errors.is_empty();
                for p in out.errors {
                    findings.error(p);
                }
                out.config
            } else {
                findings.error(
                    Problem::new(&toml_path, "task.toml is not valid UTF-8 text").id(Some(&name)),
                );
                None
            }
        }
        Err(e) => {
            findings.error(
                Problem::new(&toml_path, format!("cannot read task.toml: {e}")).id(Some(&name)),
            );
            None
        }
    };
    let instruction_path = dir.join("instruction.md");
    let instruction = match std::fs::read(&instruction_path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) if s.trim().is_empty() => {
                findings.error(
                    Problem::new(&instruction_path, "instruction.md is empty").id(Some(&name)),
                );
                None
            }
            Ok(s) => Some(s),
            Err(_) => {
                findings.error(
                    Problem::new(&instruction_path, "instruction.md is not valid UTF-8 text")
                        .id(Some(&name)),
                );
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            findings.error(
                Problem::new(
                    dir,
                    "instruction.md is missing; every task needs the text given to the agent",
                )
                .id(Some(&name))
                .key("instruction.md"),
            );
            None
        }
        Err(e) => {
            findings.error(
                Problem::new(
                    &instruction_path,
                    format!("cannot read instruction.md: {e}"),
                )
                .id(Some(&name)),
            );
            None
        }
    };
    let (Some(config), Some(instruction), true) = (config, instruction, ok) else {
        return None;
    };
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let parts = parts_of(&abs);
    if parts.environment && !parts.dockerfile && config.docker_image.is_none() {
        let env = abs.join("environment");
        let message = match COMPOSE_FILES.iter().find(|f| env.join(f).is_file()) {
            Some(compose) => format!(
                "environment/ holds {compose} but no Dockerfile: {compose} (several services) is \
                 not supported; give the task an environment/Dockerfile for its single \
                 container, or name an image with docker_image in task.toml"
            ),
            None => "environment/ has no Dockerfile and task.toml names no docker_image, so the \
                     task has no image"
                .to_string(),
        };
        findings.error(Problem::new(env, message).id(Some(&name)));
        return None;
    }
    Some(TbTask {
        name,
        dir: abs,
        instruction,
        config,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_a_complete_task_and_its_parts() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("hello");
        write(
            &t,
            "task.toml",
            "version = \"1.0\"\n[metadata]\ndifficulty = \"easy\"\n",
        );
        write(&t, "instruction.md", "Say hello.\n");
        write(&t, "environment/Dockerfile", "FROM scratch\n");
        write(&t, "tests/test.sh", "exit 0\n");
        std::fs::create_dir_all(t.join("solution")).unwrap();
        let mut f = Findings::default();
        let task = read_task(&t, &mut f).unwrap();
        assert!(f.errors.is_empty());
        assert_eq!(task.name, "hello");
        assert_eq!(task.instruction, "Say hello.\n");
        assert!(task.parts.dockerfile && task.parts.tests && !task.parts.solution);
        assert_eq!(missing_parts(&t, &task.parts), ["solution/solve.sh"]);
    }

    #[test]
    fn missing_instruction_and_bad_toml_are_both_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("broken");
        write(&t, "task.toml", "[agent]\ntimeout_sec = -1\n");
        let mut f = Findings::default();
        assert!(read_task(&t, &mut f).is_none());
        assert_eq!(f.errors.len(), 2);
        assert!(
            f.errors[0]
                .to_string()
                .contains("task.toml:2: task broken:")
        );
        assert!(f.errors[1].message.contains("instruction.md is missing"));
    }

    #[test]
    fn dataset_folders_and_nested_tasks() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "tasks/b/task.toml", "");
        write(tmp.path(), "tasks/a/task.toml", "");
        write(tmp.path(), "tasks/notes/readme.md", "");
        assert_eq!(
            looks_like_task_dataset(tmp.path()),
            Some(tmp.path().join("tasks"))
        );
        let mut f = Findings::default();
        let dirs = task_dirs(&tmp.path().join("tasks"), &mut f).unwrap();
        assert_eq!(
            dirs,
            [tmp.path().join("tasks/a"), tmp.path().join("tasks/b")]
        );
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(
            looks_like_task_dataset(&tmp.path().join("tasks/notes")),
            None
        );
    }
}
