//! Infrastructure failures: a container that dies in the middle of a rollout is retried in a
//! fresh one and counted apart; an engine that never starts anything ends in rollouts
//! recorded as infrastructure failures, never as model failures.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_core::sandbox::{
    ExecOutput, ExecRequest, ImageSource, Sandbox, SandboxError, SandboxProvider, SandboxSpec,
};
use agentscale_experiment::orchestrator::{MarkerGrader, Orchestrator};
use agentscale_experiment::store::Event;
use async_trait::async_trait;

use super::common::{config, mock, orchestrator_with, write_dataset};

/// The first sandbox of every rollout dies when it is used (its container was killed after it
/// started); the retry's sandbox works.
struct Flaky {
    inner: FakeProvider,
    seen: Mutex<BTreeSet<String>>,
}

/// A sandbox whose container is gone (every exec fails) once `dies` says so.
pub struct Dying {
    /// The working sandbox underneath.
    pub inner: Box<dyn Sandbox>,
    /// Asked before every exec.
    pub dies: Box<dyn Fn() -> bool + Send + Sync>,
    /// Execs so far.
    pub execs: AtomicU64,
}

#[async_trait]
impl Sandbox for Dying {
    fn id(&self) -> &str {
        self.inner.id()
    }
    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, SandboxError> {
        self.execs.fetch_add(1, Ordering::SeqCst);
        if (self.dies)() {
            return Err(SandboxError::ContainerGone {
                container: self.id().to_string(),
                message: "killed by the test".into(),
            });
        }
        self.inner.exec(req).await
    }
    async fn write_file(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), SandboxError> {
        self.inner.write_file(path, contents, mode).await
    }
    async fn read_file(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        self.inner.read_file(path).await
    }
    async fn upload_dir(&self, host_dir: &Path, dest: &str) -> Result<(), SandboxError> {
        self.inner.upload_dir(host_dir, dest).await
    }
    async fn close(&self) -> Result<(), SandboxError> {
        self.inner.close().await
    }
}

#[async_trait]
impl SandboxProvider for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    async fn start(&self, spec: &SandboxSpec) -> Result<Box<dyn Sandbox>, SandboxError> {
        let hint = spec.name_hint.clone().unwrap_or_default();
        let first = self.seen.lock().unwrap().insert(hint);
        Ok(Box::new(Dying {
            inner: self.inner.start(spec).await?,
            dies: Box::new(move || first),
            execs: AtomicU64::new(0),
        }))
    }
    async fn prepare_image(&self, source: &ImageSource) -> Result<String, SandboxError> {
        self.inner.prepare_image(source).await
    }
}

/// An orchestrator of the config `text` (written to `dir/exp.toml`) with the run directory
/// `dir/run`, the given sandbox provider and the marker grader.
pub fn orchestrator(dir: &Path, text: &str, provider: Arc<dyn SandboxProvider>) -> Orchestrator {
    orchestrator_with(dir, text, provider, Arc::new(MarkerGrader::default()))
}

#[tokio::test]
async fn a_container_killed_mid_rollout_is_retried_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 2);
    let server = mock().await;
    let text = config(&data, &server.openai_base_url(), "");
    let flaky = Arc::new(Flaky {
        inner: FakeProvider::new(agentscale_experiment::backends::fake_shell),
        seen: Mutex::new(BTreeSet::new()),
    });
    let o = orchestrator(dir.path(), &text, flaky.clone());
    let s = o.run().await.unwrap();
    assert!(s.complete, "{:?}", s.failed_tasks);
    let r = s
        .progress
        .stages
        .iter()
        .find(|x| x.stage.as_str() == "rollouts")
        .copied()
        .unwrap();
    assert_eq!(r.done, 16);
    assert_eq!(r.infra_failures, 16, "{r:?}");
    assert_eq!(r.given_up, 0, "every rollout succeeded on a retry");
    let events = std::fs::read_to_string(o.store().dir().join("events.jsonl")).unwrap();
    let failures = events
        .lines()
        .filter(|l| {
            matches!(
                serde_json::from_str::<agentscale_experiment::store::EventRecord>(l)
                    .unwrap()
                    .event,
                Event::RolloutInfraFailure { .. }
            )
        })
        .count();
    assert_eq!(failures as u64, r.infra_failures);
    // no rollout is scored as a model failure because of the infrastructure
    let rollouts = std::fs::read_to_string(o.store().dir().join("tables/rollouts.csv")).unwrap();
    assert!(!rollouts.contains("sandbox_error"), "{rollouts}");
}

#[tokio::test]
async fn an_engine_that_starts_nothing_gives_infrastructure_failures_not_model_failures() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 1);
    let server = mock().await;
    let text = config(&data, &server.openai_base_url(), "");
    let fake = FakeProvider::new(agentscale_experiment::backends::fake_shell);
    fake.set_fail_start(true);
    let o = orchestrator(dir.path(), &text, Arc::new(fake));
    let s = o.run().await.unwrap();
    let r = s
        .progress
        .stages
        .iter()
        .find(|x| x.stage.as_str() == "rollouts")
        .copied()
        .unwrap();
    assert_eq!(r.given_up, 4, "{r:?}");
    assert_eq!(r.infra_failures, 4 * 3, "1 attempt + 2 retries each");
    assert_eq!(server.request_count(), 0, "no model call without a sandbox");
    assert_eq!(s.systems[0].scored, 0);
    // every rollout failed through the infrastructure: the task is an infrastructure
    // failure, not a task without an answer (which would count as unresolved)
    assert_eq!((s.systems[0].infra, s.systems[0].no_answer), (1, 0));
    let rollouts = std::fs::read_to_string(o.store().dir().join("tables/rollouts.csv")).unwrap();
    assert_eq!(
        rollouts.lines().filter(|l| l.contains(",true,")).count(),
        4,
        "{rollouts}"
    );
}
