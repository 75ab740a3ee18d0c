//! The sandbox seam: where rollouts and grading run.
//!
//! The main types are [`Sandbox`] (one running environment: exec, files, diff, snapshot,
//! close) and [`SandboxProvider`] (starts sandboxes from a [`SandboxSpec`] and prepares
//! images). The Docker backend lives in `agentscale-sandbox`; [`fake::FakeProvider`] is an
//! in-process implementation for unit tests of other crates.
//!
//! ```text
//!  agents / grader / experiment
//!          │  &dyn Sandbox
//!          ▼
//!   ┌──────────────┐   start(spec)   ┌──────────────────┐
//!   │SandboxProvider├───────────────▶│ Sandbox (Docker, │
//!   └──────────────┘                 │ fake, ...)       │
//!                                    └──────────────────┘
//! ```

pub mod fake;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// A shell command line, run as `bash -c <line>` (a fresh shell every time).
    Shell(String),
    /// An argument vector run directly (no shell), e.g. `["tmux", "send-keys", ...]`.
    Argv(Vec<String>),
}

/// One command to execute in a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// The command.
    pub command: Command,
    /// Working directory; `None` uses the sandbox's workdir.
    pub workdir: Option<String>,
    /// Extra environment variables for this command.
    pub env: Vec<(String, String)>,
    /// Wall-clock limit. The backend kills the process *inside* the sandbox when it passes.
    pub timeout: Duration,
    /// Bytes kept per stream; beyond it the output keeps a head and a tail and counts the
    /// elided bytes. `None` uses the provider's default.
    pub output_cap: Option<usize>,
    /// Run as this user; `None` is the image's default (root for our images).
    pub user: Option<String>,
    /// Bytes written to the command's standard input, if any.
    pub stdin: Option<Vec<u8>>,
}

impl ExecRequest {
    /// A shell command with the given timeout.
    pub fn shell(command: impl Into<String>, timeout: Duration) -> Self {
        Self {
            command: Command::Shell(command.into()),
            workdir: None,
            env: Vec::new(),
            timeout,
            output_cap: None,
            user: None,
            stdin: None,
        }
    }

    /// An argument vector with the given timeout.
    pub fn argv<I, S>(argv: I, timeout: Duration) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            command: Command::Argv(argv.into_iter().map(Into::into).collect()),
            ..Self::shell("", timeout)
        }
    }

    /// Set the working directory.
    #[must_use]
    pub fn workdir(mut self, dir: impl Into<String>) -> Self {
        self.workdir = Some(dir.into());
        self
    }

    /// Add an environment variable.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Set the output cap in bytes per stream.
    #[must_use]
    pub fn output_cap(mut self, bytes: usize) -> Self {
        self.output_cap = Some(bytes);
        self
    }

    /// Feed bytes to standard input.
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The command as one display string (argv joined with spaces).
    pub fn display(&self) -> String {
        match &self.command {
            Command::Shell(s) => s.clone(),
            Command::Argv(v) => v.join(" "),
        }
    }
}

/// The result of one command.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecOutput {
    /// Standard output (lossy UTF-8); head and tail only when it exceeded the cap.
    pub stdout: String,
    /// Standard error (lossy UTF-8); head and tail only when it exceeded the cap.
    pub stderr: String,
    /// The exit code; `None` when it could not be determined (killed, container gone).
    pub exit_code: Option<i64>,
    /// True when the timeout fired and the process was killed.
    pub timed_out: bool,
    /// Wall-clock duration, in milliseconds.
    pub duration_ms: u64,
    /// Bytes of standard output dropped between head and tail.
    pub stdout_elided: u64,
    /// Bytes of standard error dropped between head and tail.
    pub stderr_elided: u64,
}

impl ExecOutput {
    /// True when the command exited 0 and did not time out.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// The exit code, or -1 when unknown (the convention of mini-swe-agent's observations).
    pub fn code_or_minus_one(&self) -> i64 {
        self.exit_code.unwrap_or(-1)
    }

    /// Standard output followed by standard error, as an agent sees a merged stream.
    pub fn combined(&self) -> String {
        if self.stderr.is_empty() {
            self.stdout.clone()
        } else if self.stdout.is_empty() {
            self.stderr.clone()
        } else {
            let mut s = self.stdout.clone();
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&self.stderr);
            s
        }
    }
}

/// Resource limits of a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceLimits {
    /// Memory limit in MiB.
    pub memory_mb: Option<u64>,
    /// CPU limit (fractional cores).
    pub cpus: Option<f64>,
    /// Maximum number of processes.
    pub pids: Option<i64>,
}

/// How to start a sandbox.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// The image to start.
    pub image: String,
    /// The working directory; `None` keeps the image's.
    pub workdir: Option<String>,
    /// Environment variables of the container (never API keys).
    pub env: Vec<(String, String)>,
    /// Resource limits.
    pub limits: ResourceLimits,
    /// Whether the sandbox may reach the network. Off unless asked for.
    pub network: bool,
    /// Labels added to the container, beyond the provider's own (tool, run id, host pid).
    pub labels: BTreeMap<String, String>,
    /// A readable fragment for the container's name (task id, role).
    pub name_hint: Option<String>,
    /// Run on this host of a pool, if set (needed to start from a snapshot taken there).
    pub host: Option<String>,
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// An image that must already exist (or be pulled where a registry is reachable).
    Existing {
        /// The image reference.
        image: String,
    },
    /// Build from a context folder holding a Dockerfile; tagged by a hash of the context.
    Build {
        /// The build context.
        context: PathBuf,
        /// The Dockerfile, relative to the context (default `Dockerfile`).
        dockerfile: Option<String>,
        /// Build arguments.
        build_args: BTreeMap<String, String>,
        /// The repository part of the tag (`agentscale/task-fix-git`).
        name: String,
        /// Build timeout in seconds.
        timeout_sec: u64,
    },
}

/// Errors of sandbox operations. Every variant but [`SandboxError::FileNotFound`] and
/// [`SandboxError::InvalidRequest`] is an infrastructure failure, never a model failure.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
pub enum SandboxError {
    /// The engine cannot be reached.
    #[error("no Docker engine reachable at {endpoint}: {message}")]
    EngineUnavailable {
        /// The socket path or URL tried.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// An image is missing and cannot be pulled or built.
    #[error("image {image} is not available: {message}")]
    ImageUnavailable {
        /// The image reference.
        image: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// Building an image failed.
    #[error("building image {image} failed: {message}")]
    BuildFailed {
        /// The image being built.
        image: String,
        /// The build error and the last lines of its log.
        message: String,
    },
    /// The container stopped or was removed while we used it.
    #[error("container {container} is gone: {message}")]
    ContainerGone {
        /// The container id or name.
        container: String,
        /// What the engine said.
        message: String,
    },
    /// A file asked for does not exist in the sandbox.
    #[error("no such file in the sandbox: {path}")]
    FileNotFound {
        /// The path asked for.
        path: String,
    },
    /// The request itself was invalid (an empty command, a relative path, ...).
    #[error("invalid sandbox request: {0}")]
    InvalidRequest(String),
    /// The operation is not supported by this backend.
    #[error("not supported by this sandbox backend: {0}")]
    Unsupported(String),
    /// Any other engine or I/O failure.
    #[error("sandbox {op} failed: {message}")]
    Backend {
        /// The operation (`exec`, `create`, `put_archive`, ...).
        op: String,
        /// What went wrong.
        message: String,
    },
}

impl SandboxError {
    /// True for failures of the infrastructure (counted apart from model failures).
    pub fn is_infra(&self) -> bool {
        !matches!(self, Self::FileNotFound { .. } | Self::InvalidRequest(_))
    }

    /// A generic backend error.
    pub fn backend(op: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Backend {
            op: op.into(),
            message: message.to_string(),
        }
    }
}

/// One running environment.
///
/// Implementations must be cheap to share behind `&dyn Sandbox` across tasks of one rollout;
/// every method may be called concurrently.
#[async_trait]
pub trait Sandbox: Send + Sync {
    /// The container id (or an equivalent handle).
    fn id(&self) -> &str;

    /// The host (engine) the sandbox runs on; `"local"` for a single engine.
    #[allow(clippy::unnecessary_literal_bound)]
    fn host(&self) -> &str {
        "local"
    }

    /// Run a command. A timeout is not an error: it returns `timed_out = true` after the
    /// process inside the sandbox has been killed.
    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, SandboxError>;

    /// Write a file, creating parent folders. `mode` is the Unix permission bits.
    async fn write_file(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), SandboxError>;

    /// Read a whole file.
    async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError>;

    /// Copy a host folder into the sandbox at `dest` (created if missing).
    async fn upload_dir(&self, host_dir: &Path, dest: &str) -> Result<(), SandboxError>;

    /// The diff of the git work tree at `workdir` against HEAD, including new files
    /// (`git add -A && git diff --cached`), ending with a newline when not empty.
    async fn diff(&self, workdir: &str) -> Result<String, SandboxError> {
        let cmd = format!(
            "cd {} && git add -A >/dev/null 2>&1 && git -c core.fileMode=false diff --cached --no-color --binary",
            shell_quote(workdir)
        );
        let out = self
            .exec(&ExecRequest::shell(cmd, Duration::from_mins(2)).output_cap(256 << 20))
            .await?;
        if !out.success() {
            return Err(SandboxError::backend(
                "diff",
                format!("git diff exited {:?}: {}", out.exit_code, out.stderr.trim()),
            ));
        }
        let mut d = out.stdout;
        if !d.is_empty() && !d.ends_with('\n') {
            d.push('\n');
        }
        Ok(d)
    }

    /// Commit the sandbox's current state to an image and return its reference.
    async fn snapshot(&self, _name: &str) -> Result<String, SandboxError> {
        Err(SandboxError::Unsupported("snapshot".into()))
    }

    /// Stop and remove the sandbox. Safe to call more than once.
    async fn close(&self) -> Result<(), SandboxError>;
}

/// Starts sandboxes and prepares their images.
#[async_trait]
pub trait SandboxProvider: Send + Sync {
    /// A short name for logs (`docker`, `fake`).
    fn name(&self) -> &str;

    /// Start a sandbox.
    async fn start(&self, spec: &SandboxSpec) -> Result<Box<dyn Sandbox>, SandboxError>;

    /// Make sure an image exists (build, pull or check) and return the reference to start.
    async fn prepare_image(&self, source: &ImageSource) -> Result<String, SandboxError>;

    /// Remove a snapshot image made by [`Sandbox::snapshot`]. Missing images are fine.
    async fn remove_image(&self, _image: &str) -> Result<(), SandboxError> {
        Ok(())
    }

    /// Derive an image from `req.base` by running `req.script` in a container of it, and
    /// return the derived image. It is tagged by a hash of the base image and the script, so
    /// it is made once and reused (by later rollouts, tasks and runs).
    async fn derive_image(&self, req: &DeriveRequest) -> Result<String, SandboxError> {
        Err(SandboxError::Unsupported(format!(
            "deriving {} from {} ({})",
            req.repo,
            req.base,
            self.name()
        )))
    }
}

/// What [`SandboxProvider::derive_image`] makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeriveRequest {
    /// The image to start from.
    pub base: String,
    /// The repository part of the derived image's name (`agentscale/with-tmux`).
    pub repo: String,
    /// What the derived image is, for image listings (the `agentscale.image` label).
    pub kind: String,
    /// The shell script that makes the change (run as the image's user, in its workdir).
    pub script: String,
    /// Whether the script may reach the network.
    pub network: bool,
    /// Time limit of the script.
    pub timeout: Duration,
}

/// Quote a string for a POSIX shell (single quotes; embedded quotes escaped).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Keep the first and last `cap / 2` bytes of `data` when it is longer than `cap`.
/// Returns the kept text (lossy UTF-8) and the number of bytes elided.
pub fn cap_head_tail(data: &[u8], cap: usize) -> (String, u64) {
    if data.len() <= cap {
        return (String::from_utf8_lossy(data).into_owned(), 0);
    }
    let head = cap / 2;
    let tail = cap - head;
    let elided = data.len() - head - tail;
    let mut s = String::from_utf8_lossy(&data[..head]).into_owned();
    let _ = write!(s, "\n[... {elided} bytes elided ...]\n");
    s.push_str(&String::from_utf8_lossy(&data[data.len() - tail..]));
    (s, elided as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/testbed"), "/testbed");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn head_tail_cap() {
        let (s, e) = cap_head_tail(b"0123456789", 4);
        assert_eq!(e, 6);
        assert!(s.starts_with("01") && s.ends_with("89"));
        let (s, e) = cap_head_tail(b"abc", 4);
        assert_eq!((s.as_str(), e), ("abc", 0));
    }
}
