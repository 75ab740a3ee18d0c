//! An in-process sandbox for unit tests: no Docker, no processes.
//!
//! Files live in a map; commands are answered by a handler function the test supplies
//! (the default answers every command with exit 0 and no output). Every command is recorded,
//! so tests can assert what an agent or grader ran.
//!
//! ```
//! use std::time::Duration;
//! use agentscale_core::sandbox::{ExecOutput, ExecRequest, Sandbox, SandboxProvider, SandboxSpec};
//! use agentscale_core::sandbox::fake::FakeProvider;
//! # tokio_test_block(async {
//! let provider = FakeProvider::new(|req: &ExecRequest| ExecOutput {
//!     stdout: format!("ran {}", req.display()),
//!     exit_code: Some(0),
//!     ..ExecOutput::default()
//! });
//! let sb = provider.start(&SandboxSpec::default()).await.unwrap();
//! let out = sb.exec(&ExecRequest::shell("ls", Duration::from_secs(1))).await.unwrap();
//! assert_eq!(out.stdout, "ran ls");
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) { tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f); }
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{
    ExecOutput, ExecRequest, ImageSource, Sandbox, SandboxError, SandboxProvider, SandboxSpec,
};

type Handler = dyn Fn(&ExecRequest) -> ExecOutput + Send + Sync;

/// Starts [`FakeSandbox`]es that share one command handler.
#[derive(Clone)]
pub struct FakeProvider {
    handler: Arc<Handler>,
    started: Arc<AtomicU64>,
    fail_start: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeProvider")
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for FakeProvider {
    fn default() -> Self {
        Self::new(|_| ExecOutput {
            exit_code: Some(0),
            ..ExecOutput::default()
        })
    }
}

impl FakeProvider {
    /// A provider whose sandboxes answer commands with `handler`.
    pub fn new(handler: impl Fn(&ExecRequest) -> ExecOutput + Send + Sync + 'static) -> Self {
        Self {
            handler: Arc::new(handler),
            started: Arc::new(AtomicU64::new(0)),
            fail_start: Arc::new(AtomicBool::new(false)),
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// How many sandboxes were started.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Make every later `start` fail with an infrastructure error (or stop doing so).
    pub fn set_fail_start(&self, fail: bool) {
        self.fail_start.store(fail, Ordering::Relaxed);
    }

    /// Every command run in any sandbox of this provider, in order.
    pub fn commands(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl SandboxProvider for FakeProvider {
    fn name(&self) -> &'static str {
        "fake"
    }

    async fn start(&self, spec: &SandboxSpec) -> Result<Box<dyn Sandbox>, SandboxError> {
        if self.fail_start.load(Ordering::Relaxed) {
            return Err(SandboxError::EngineUnavailable {
                endpoint: "fake".into(),
                message: "start failure injected by the test".into(),
            });
        }
        let n = self.started.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(FakeSandbox {
            id: format!("fake-{n}"),
            image: spec.image.clone(),
            handler: Arc::clone(&self.handler),
            files: Mutex::new(BTreeMap::new()),
            closed: AtomicBool::new(false),
            log: Arc::clone(&self.log),
        }))
    }

    async fn prepare_image(&self, source: &ImageSource) -> Result<String, SandboxError> {
        Ok(match source {
            ImageSource::Existing { image } => image.clone(),
            ImageSource::Build { name, .. } => format!("{name}:fake"),
        })
    }
}

/// An in-process sandbox: an in-memory file map and a command handler.
pub struct FakeSandbox {
    id: String,
    image: String,
    handler: Arc<Handler>,
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    closed: AtomicBool,
    log: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for FakeSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSandbox")
            .field("id", &self.id)
            .field("image", &self.image)
            .finish_non_exhaustive()
    }
}

impl FakeSandbox {
    fn check_open(&self) -> Result<(), SandboxError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(SandboxError::ContainerGone {
                container: self.id.clone(),
                message: "the fake sandbox was closed".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Sandbox for FakeSandbox {
    fn id(&self) -> &str {
        &self.id
    }

    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, SandboxError> {
        self.check_open()?;
        if let Ok(mut l) = self.log.lock() {
            l.push(req.display());
        }
        Ok((self.handler)(req))
    }

    async fn write_file(
        &self,
        path: &str,
        contents: &[u8],
        _mode: u32,
    ) -> Result<(), SandboxError> {
        self.check_open()?;
        if !path.starts_with('/') {
            return Err(SandboxError::InvalidRequest(format!(
                "path must be absolute: {path}"
            )));
        }
        self.files
            .lock()
            .map_err(|_| SandboxError::backend("write_file", "poisoned lock"))?
            .insert(path.to_string(), contents.to_vec());
        Ok(())
    }

    async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        self.check_open()?;
        self.files
            .lock()
            .map_err(|_| SandboxError::backend("read_file", "poisoned lock"))?
            .get(path)
            .cloned()
            .ok_or_else(|| SandboxError::FileNotFound {
                path: path.to_string(),
            })
    }

    async fn upload_dir(&self, host_dir: &Path, dest: &str) -> Result<(), SandboxError> {
        self.check_open()?;
        let mut stack = vec![host_dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| {
                SandboxError::backend("upload_dir", format!("{}: {e}", dir.display()))
            })?;
            for entry in entries {
                let entry = entry.map_err(|e| SandboxError::backend("upload_dir", e))?;
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(host_dir)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .into_owned();
                    let data = std::fs::read(&p).map_err(|e| {
                        SandboxError::backend("upload_dir", format!("{}: {e}", p.display()))
                    })?;
                    self.write_file(
                        &format!("{}/{rel}", dest.trim_end_matches('/')),
                        &data,
                        0o644,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn snapshot(&self, name: &str) -> Result<String, SandboxError> {
        self.check_open()?;
        // like the engine: a name with a tag is the image's name; a bare repository gets one
        Ok(match name.rsplit_once(':') {
            Some((_, tag)) if !tag.contains('/') => name.to_string(),
            _ => format!("{name}:fake-snapshot"),
        })
    }

    async fn close(&self) -> Result<(), SandboxError> {
        self.closed.store(true, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn files_and_commands() {
        let p = FakeProvider::default();
        let sb = p.start(&SandboxSpec::default()).await.unwrap();
        sb.write_file("/a/b.txt", b"hi", 0o644).await.unwrap();
        assert_eq!(sb.read_file("/a/b.txt").await.unwrap(), b"hi");
        assert!(matches!(
            sb.read_file("/nope").await,
            Err(SandboxError::FileNotFound { .. })
        ));
        sb.exec(&ExecRequest::shell("echo 1", Duration::from_secs(1)))
            .await
            .unwrap();
        assert_eq!(p.commands(), vec!["echo 1"]);
        sb.close().await.unwrap();
        assert!(
            sb.exec(&ExecRequest::shell("x", Duration::from_secs(1)))
                .await
                .unwrap_err()
                .is_infra()
        );
    }
}
