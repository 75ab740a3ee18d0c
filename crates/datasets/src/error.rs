//! Errors of this crate: [`DatasetError`], and [`Problem`], one located defect in a dataset.
//!
//! A [`Problem`] says where (file, line, row, instance id or task name, field or key) and what
//! is wrong; validation collects every problem of a dataset, loading stops at the first one.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One located defect in a dataset: a broken line, a row with a missing or mistyped field, a
/// task.toml with a bad value, a duplicate id.
///
/// Lines and rows count from 1. `Display` renders it the way compilers do:
/// `data/x.jsonl:3: row 3: invalid JSON: EOF while parsing a string at column 120`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file (or folder) the problem is in.
    pub file: PathBuf,
    /// The 1-based line in `file`, when known (JSONL lines, task.toml keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The 1-based row of a SWE-bench file, when the problem belongs to one row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The instance id or task name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The field (SWE-bench) or dotted key path (task.toml) at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What is wrong, and when it helps, what to do. Mentions the field or key itself.
    pub message: String,
}

impl Problem {
    /// A problem with a file and a message; add the rest with the builder methods.
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            row: None,
            id: None,
            key: None,
            message: message.into(),
        }
    }

    /// Set the 1-based line.
    #[must_use]
    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Set the 1-based row.
    #[must_use]
    pub fn row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }

    /// Set the instance id or task name (ignored when `None`).
    #[must_use]
    pub fn id(mut self, id: Option<impl Into<String>>) -> Self {
        self.id = id.map(Into::into);
        self
    }

    /// Set the field or key path.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The location part of the message: `file:line: row 3 (id): ` or `file:line: task id: `.
    fn location(&self) -> String {
        let mut s = self.file.display().to_string();
        if let Some(line) = self.line {
            let _ = write!(s, ":{line}");
        }
        s.push_str(": ");
        // An id that breaks the id rule may hold anything (a newline, an escape sequence):
        // quote it.
        let id = self.id.as_ref().map(|id| {
            if crate::ids::check_id(id).is_ok() {
                id.clone()
            } else {
                format!("{id:?}")
            }
        });
        match (self.row, &id) {
            (Some(row), Some(id)) => {
                let _ = write!(s, "row {row} ({id}): ");
            }
            (Some(row), None) => {
                let _ = write!(s, "row {row}: ");
            }
            (None, Some(id)) => {
                let _ = write!(s, "task {id}: ");
            }
            (None, None) => {}
        }
        s
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.location(), self.message)
    }
}

/// Errors of the dataset loaders, the registry and fetching.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path does not exist.
    #[error("{}: no such file or folder", path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path exists but its format could not be recognized.
    #[error("{}: {detail}", path.display())]
    UnknownFormat {
        /// The path given.
        path: PathBuf,
        /// What was found and what would have been accepted.
        detail: String,
    },
    /// The dataset has a defect; `more` counts further problems found by the same load
    /// (`agentscale dataset validate` lists them all).
    #[error("{problem}{}", more_suffix(*more))]
    Invalid {
        /// The first problem.
        problem: Box<Problem>,
        /// How many other problems the load found.
        more: usize,
    },
    /// The selection (filters, slice, sample) is malformed or does not fit the dataset.
    #[error("selection: {0}")]
    Selection(String),
    /// The registry file is malformed.
    #[error("registry {}: {message}", source_name)]
    Registry {
        /// The registry file (or `<embedded>`).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A name that is neither a path nor a known dataset.
    #[error(
        "`{name}` is neither a file or folder nor a known dataset (known: {}); \
         `agentscale dataset list` shows the registry",
        known.join(", ")
    )]
    UnknownDataset {
        /// The name given.
        name: String,
        /// The registry's names.
        known: Vec<String>,
    },
    /// A registry dataset that has not been downloaded yet.
    #[error(
        "dataset `{name}` is not on this machine yet (looked in {}); \
         run `agentscale dataset fetch {name}`, or pass a path to a copy",
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFetched {
        /// The registry name.
        name: String,
        /// Where it was looked for.
        looked: Vec<PathBuf>,
    },
    /// The downloaded file's sha256 differs from the registry's; the download was deleted.
    #[error(
        "checksum mismatch for {url}: expected sha256 {expected}, got {actual}; \
         the download was deleted (is the registry entry out of date, or the download corrupt?)"
    )]
    ChecksumMismatch {
        /// The URL downloaded.
        url: String,
        /// The registry's sha256.
        expected: String,
        /// The downloaded file's sha256.
        actual: String,
    },
    /// The download itself failed (network, HTTP status, disk).
    #[error("downloading {url}: {message}")]
    Download {
        /// The URL.
        url: String,
        /// What the downloader reported.
        message: String,
    },
    /// A git fetch failed.
    #[error("fetching {url} at {commit}: {message}")]
    Git {
        /// The repository URL.
        url: String,
        /// The commit wanted.
        commit: String,
        /// What went wrong (git's stderr, shortened).
        message: String,
    },
}

fn more_suffix(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more problem; `agentscale dataset validate` lists all)".to_string(),
        n => format!(" (and {n} more problems; `agentscale dataset validate` lists all)"),
    }
}

impl DatasetError {
    /// An [`DatasetError::Io`] for `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            return Self::NotFound {
                path: path.to_path_buf(),
            };
        }
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// An [`DatasetError::Invalid`] from one problem.
    pub fn invalid(problem: Problem) -> Self {
        Self::Invalid {
            problem: Box::new(problem),
            more: 0,
        }
    }

    /// True when the error is about how the command was called (a missing path, an unknown
    /// name, a malformed selection or registry) rather than about the data.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. }
                | Self::Selection(_)
                | Self::Registry { .. }
                | Self::UnknownDataset { .. }
                | Self::NotFetched { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_renders_location_first() {
        let p = Problem::new("/d/x.jsonl", "invalid JSON: EOF")
            .line(3)
            .row(3);
        assert_eq!(p.to_string(), "/d/x.jsonl:3: row 3: invalid JSON: EOF");
        let p = Problem::new("/d/x.parquet", "missing field `repo`")
            .row(2)
            .id(Some("django__django-1"));
        assert_eq!(
            p.to_string(),
            "/d/x.parquet: row 2 (django__django-1): missing field `repo`"
        );
        let p = Problem::new("/t/a/task.toml", "bad")
            .line(17)
            .id(Some("a"))
            .key("environment.memory");
        assert_eq!(p.to_string(), "/t/a/task.toml:17: task a: bad");
    }

    #[test]
    fn invalid_counts_further_problems() {
        let e = DatasetError::Invalid {
            problem: Box::new(Problem::new("f", "m")),
            more: 4,
        };
        assert!(e.to_string().starts_with("f: m (and 4 more problems;"));
        assert!(!e.is_usage());
        let e = DatasetError::io(Path::new("nope"), std::io::ErrorKind::NotFound.into());
        assert!(e.is_usage());
        assert_eq!(e.to_string(), "nope: no such file or folder");
    }
}
