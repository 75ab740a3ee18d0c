//! [`DockerSandbox`]: one running container. Commands go through [`crate::exec`]; files move
//! as tar archives; `snapshot` commits the container to a labelled image; `close` (or dropping
//! the sandbox) removes the container and frees its slot on the host.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentscale_core::sandbox::{ExecOutput, ExecRequest, Sandbox, SandboxError};
use async_trait::async_trait;
use bollard::Docker;
use bollard::models::ContainerConfig;
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt as _;

use crate::archive::{self, Entry};
use crate::connect::{classify, message, status};
use crate::exec::{self, CLIENT_SLACK, ExecContext};
use crate::pool::Slot;
use crate::provider::Inner;
use crate::runner::{self, Runner, RunnerFailure};

/// One running container of a [`crate::DockerProvider`].
pub struct DockerSandbox {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) host_name: String,
    pub(crate) host_index: usize,
    pub(crate) endpoint: String,
    pub(crate) docker: Docker,
    pub(crate) workdir: Option<String>,
    pub(crate) output_cap: usize,
    pub(crate) kill_grace: Duration,
    pub(crate) inner: Arc<Inner>,
    pub(crate) slot: Mutex<Option<Slot>>,
    pub(crate) closed: AtomicBool,
    pub(crate) mode: AtomicU8,
    pub(crate) seq: AtomicU64,
    pub(crate) runner: tokio::sync::Mutex<RunnerSlot>,
}

/// The state of a sandbox's command runner.
pub(crate) enum RunnerSlot {
    /// Not started yet (or to be restarted).
    NotStarted,
    /// Running.
    Ready(Runner),
    /// Cannot run in this container: plain execs only.
    Unavailable,
}

impl std::fmt::Debug for DockerSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerSandbox")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("host", &self.host_name)
            .finish_non_exhaustive()
    }
}

impl DockerSandbox {
    /// Commit the container to `repo:tag` with these image labels.
    pub(crate) async fn commit(
        &self,
        repo: &str,
        tag: &str,
        labels: std::collections::HashMap<String, String>,
    ) -> Result<String, SandboxError> {
        self.check_open()?;
        // a shutdown waits for the commit, so that its image never appears after we exit
        let _committing = crate::provider::InFlight::new(&self.inner.committing);
        if self
            .inner
            .shutting_down
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(SandboxError::backend(
                "snapshot",
                crate::cleanup::SHUTTING_DOWN,
            ));
        }
        let opts = CommitContainerOptionsBuilder::default()
            .container(&self.id)
            .repo(repo)
            .tag(tag)
            .pause(true)
            .build();
        let config = ContainerConfig {
            labels: Some(labels),
            ..ContainerConfig::default()
        };
        self.docker
            .commit_container(opts, config)
            .await
            .map_err(|e| self.engine_error("commit", e))?;
        Ok(format!("{repo}:{tag}"))
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn check_open(&self) -> Result<(), SandboxError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(SandboxError::ContainerGone {
                container: self.name.clone(),
                message: "the sandbox was closed".into(),
            });
        }
        Ok(())
    }

    /// Map an engine error; a connection failure marks the host down.
    fn engine_error(&self, op: &str, e: bollard::errors::Error) -> SandboxError {
        let err = match status(&e) {
            Some(404 | 409) if message(&e).contains("container") => SandboxError::ContainerGone {
                container: self.name.clone(),
                message: format!("{op}: {}", message(&e)),
            },
            _ => classify(op, &self.endpoint, e),
        };
        self.note(&err);
        err
    }

    /// Record an engine failure against the host.
    fn note(&self, err: &SandboxError) {
        if let SandboxError::EngineUnavailable { message, .. } = err {
            self.inner.sched.mark_down(self.host_index, message);
        }
    }

    async fn read_once(&self, path: &str) -> Result<Entry, SandboxError> {
        let opts = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self.docker.download_from_container(&self.id, Some(opts));
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => buf.extend_from_slice(&b),
                Err(e) if status(&e) == Some(404) => {
                    // either the file or the container is missing
                    let msg = message(&e);
                    if msg.contains("No such container") {
                        return Err(self.engine_error("read_file", e));
                    }
                    return Err(SandboxError::FileNotFound {
                        path: path.to_string(),
                    });
                }
                Err(e) => return Err(self.engine_error("read_file", e)),
            }
        }
        archive::first_entry(&buf, path)
    }
}

impl DockerSandbox {
    /// Run through the persistent runner when the request allows it and the runner is free;
    /// `None` means "use a plain exec".
    async fn try_runner(
        &self,
        ctx: &ExecContext<'_>,
        req: &ExecRequest,
    ) -> Option<Result<ExecOutput, SandboxError>> {
        if !self.inner.config.runner
            || req.user.is_some()
            || req.stdin.is_some()
            || self.mode.load(Ordering::Relaxed) != exec::MODE_TIMEOUT
        {
            return None;
        }
        if let Err(e) = exec::validate(req) {
            return Some(Err(e));
        }
        let mut slot = self.runner.try_lock().ok()?;
        if matches!(*slot, RunnerSlot::NotStarted) {
            *slot = match Runner::start(&self.docker, &self.id).await {
                Ok(Some(r)) => RunnerSlot::Ready(r),
                Ok(None) | Err(_) => RunnerSlot::Unavailable,
            };
        }
        let RunnerSlot::Ready(r) = &mut *slot else {
            return None;
        };
        let started = std::time::Instant::now();
        let cap = req.output_cap.unwrap_or(self.output_cap).max(1);
        let line = runner::snippet(req, self.workdir.as_deref(), self.kill_grace, cap);
        let wait = req.timeout + self.kill_grace + CLIENT_SLACK;
        let result = r.run(&self.docker, &line, wait).await;
        let what = format!("while running `{}`", exec::short(&req.display()));
        Some(match result {
            Ok(res) => {
                let elapsed = started.elapsed();
                let timed_out = elapsed >= req.timeout && matches!(res.exit_code, 124 | 137 | 143);
                if (res.exit_code >= 128 || timed_out)
                    && let Err(e) = exec::check_container(ctx, &what).await
                {
                    return Some(Err(e));
                }
                Ok(ExecOutput {
                    stdout: res.stdout,
                    stderr: res.stderr,
                    exit_code: (!timed_out).then_some(res.exit_code),
                    timed_out,
                    duration_ms: elapsed.as_millis() as u64,
                    stdout_elided: res.stdout_elided,
                    stderr_elided: res.stderr_elided,
                })
            }
            Err(RunnerFailure::Ended) => {
                *slot = RunnerSlot::NotStarted;
                match exec::check_container(ctx, &what).await {
                    Err(e) => Err(e),
                    Ok(()) => Ok(ExecOutput {
                        stderr: "[agentscale: the command ended the sandbox's command runner; its output and exit code are lost]".into(),
                        duration_ms: started.elapsed().as_millis() as u64,
                        ..ExecOutput::default()
                    }),
                }
            }
            Err(RunnerFailure::Deadline) => {
                let pid = r.pid().to_string();
                *slot = RunnerSlot::NotStarted;
                self.kill_in_container(&pid).await;
                if let Err(e) = exec::check_container(ctx, &what).await {
                    Err(e)
                } else {
                    tracing::warn!(container = %self.name, "a command outlived its timeout and kill grace; its runner was killed");
                    Ok(ExecOutput {
                        timed_out: true,
                        duration_ms: started.elapsed().as_millis() as u64,
                        ..ExecOutput::default()
                    })
                }
            }
            Err(RunnerFailure::Engine(e)) => {
                *slot = RunnerSlot::NotStarted;
                Err(e)
            }
            Err(RunnerFailure::EngineGone) => {
                *slot = RunnerSlot::NotStarted;
                Err(crate::connect::unreachable(
                    &self.endpoint,
                    format!(
                        "the engine stopped answering while `{}` ran",
                        exec::short(&req.display())
                    ),
                ))
            }
        })
    }

    /// `kill -KILL` a process inside the container (best effort, detached).
    async fn kill_in_container(&self, pid: &str) {
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        crate::exec::spawn_detached(
            &self.docker,
            &self.id,
            vec!["kill".into(), "-KILL".into(), pid.to_string()],
        )
        .await;
    }
}

#[async_trait]
impl Sandbox for DockerSandbox {
    fn id(&self) -> &str {
        &self.id
    }

    fn host(&self) -> &str {
        &self.host_name
    }

    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, SandboxError> {
        self.check_open()?;
        let ctx = ExecContext {
            docker: &self.docker,
            container: &self.id,
            endpoint: &self.endpoint,
            default_cap: self.output_cap,
            kill_grace: self.kill_grace,
            default_workdir: self.workdir.as_deref(),
            mode: &self.mode,
            seq: &self.seq,
        };
        let r = match self.try_runner(&ctx, req).await {
            Some(r) => r,
            None => exec::run(&ctx, req).await,
        };
        if let Err(e) = &r {
            self.note(e);
        }
        r
    }

    async fn write_file(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), SandboxError> {
        self.check_open()?;
        let rel = archive::relative_path(path)?;
        let tar = archive::single_file(&rel, contents, mode)?;
        let opts = UploadToContainerOptionsBuilder::default().path("/").build();
        self.docker
            .upload_to_container(&self.id, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| self.engine_error("write_file", e))
    }

    async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        self.check_open()?;
        let mut p = format!("/{}", archive::relative_path(path)?);
        for _ in 0..16 {
            match self.read_once(&p).await? {
                Entry::File(data) => return Ok(data),
                Entry::Symlink(target) => p = archive::resolve_link(&p, &target),
                Entry::Dir => {
                    return Err(SandboxError::InvalidRequest(format!(
                        "read_file: {path} is a folder"
                    )));
                }
                Entry::Other => {
                    return Err(SandboxError::InvalidRequest(format!(
                        "read_file: {path} is not a regular file"
                    )));
                }
            }
        }
        Err(SandboxError::InvalidRequest(format!(
            "read_file: {path}: too many levels of symbolic links"
        )))
    }

    async fn upload_dir(&self, host_dir: &Path, dest: &str) -> Result<(), SandboxError> {
        self.check_open()?;
        let rel = archive::relative_path(dest)?;
        let (rx, task) = archive::dir_stream(host_dir, &rel)?;
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let opts = UploadToContainerOptionsBuilder::default().path("/").build();
        let up = self
            .docker
            .upload_to_container(&self.id, Some(opts), bollard::body_try_stream(body))
            .await;
        let built = task
            .await
            .map_err(|e| SandboxError::backend("upload_dir", e))?;
        if let Err(e) = built {
            return Err(SandboxError::backend(
                "upload_dir",
                format!("reading {}: {e}", host_dir.display()),
            ));
        }
        up.map_err(|e| self.engine_error("upload_dir", e))
    }

    async fn snapshot(&self, name: &str) -> Result<String, SandboxError> {
        self.check_open()?;
        let (repo, tag) = match name.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r.to_string(), t.to_string()),
            _ => (
                name.to_string(),
                format!(
                    "snap-{}-{}",
                    &self.id[..12.min(self.id.len())],
                    agentscale_core::time::now_ms()
                ),
            ),
        };
        if repo.is_empty()
            || repo
                .chars()
                .any(|c| c.is_ascii_uppercase() || c.is_whitespace())
        {
            return Err(SandboxError::InvalidRequest(format!(
                "snapshot name {name:?} is not a valid image name (lower case, no spaces)"
            )));
        }
        self.commit(&repo, &tag, crate::labels::snapshot_labels(&self.name))
            .await
    }

    async fn close(&self) -> Result<(), SandboxError> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let r = self.inner.remove_container(self.host_index, &self.id).await;
        let slot = self.slot.lock().map(|mut s| s.take()).ok().flatten();
        drop(slot);
        r
    }
}

impl Drop for DockerSandbox {
    fn drop(&mut self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // not closed by its owner: remove it in the background (the registry still lists it,
        // so a shutdown meanwhile removes it too)
        let inner = Arc::clone(&self.inner);
        let id = self.id.clone();
        let host = self.host_index;
        let slot = self.slot.lock().map(|mut s| s.take()).ok().flatten();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = inner.remove_container(host, &id).await;
                drop(slot);
            });
        } else {
            tracing::warn!(container = %id, "sandbox dropped outside a runtime; the next sweep removes it");
        }
    }
}
