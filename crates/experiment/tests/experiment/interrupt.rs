//! Interruptions: work cut off by a stop of the run (a signal, a budget) is neither stored nor
//! counted as an infrastructure failure, spends no retry, and is redone on resume, after
//! which every table equals an uninterrupted run's. Stored infrastructure failures are
//! retried by a resume while their retries are not spent, and counted otherwise.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use agentscale_core::Task;
use agentscale_core::sandbox::fake::FakeProvider;
use agentscale_core::sandbox::{ImageSource, Sandbox, SandboxError, SandboxProvider, SandboxSpec};
use agentscale_core::submission::Submission;
use agentscale_experiment::orchestrator::grading::Graded;
use agentscale_experiment::orchestrator::{
    GradeBackend, MarkerGrader, RunError, Stage, StopReason, StopToken,
};
use agentscale_experiment::store::{Event, EventRecord};
use agentscale_models::mock::{Fault, MockReply, MockServer};
use async_trait::async_trait;

use super::common::orchestrator_with;
use super::common::{config, mock, reply, role_of, tables, write_dataset};
use super::infra::{Dying, orchestrator};

/// Where the stop comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// The third sandbox's container is removed under its rollout.
    Rollout,
    /// At the first summarizer call.
    Summary,
    /// At the first judge call.
    Vote,
    /// At the first grade.
    Grade,
}

/// The token of the run being cut, set once its orchestrator exists.
type Slot = Arc<OnceLock<StopToken>>;

fn stop(slot: &Slot) {
    if let Some(t) = slot.get() {
        t.stop(StopReason::Requested("the test cuts the run".into()));
    }
}

fn stopped(slot: &Slot) -> bool {
    slot.get().is_some_and(StopToken::is_stopped)
}

/// Fake sandboxes; with `cut_at`, the sandbox of that start stops the run on its first exec
/// and from then on every container is gone (what the signal handler's cleanup does).
struct Cutting {
    inner: FakeProvider,
    slot: Slot,
    cut_at: Option<u64>,
    starts: AtomicU64,
}

#[async_trait]
impl SandboxProvider for Cutting {
    fn name(&self) -> &'static str {
        "cutting"
    }
    async fn start(&self, spec: &SandboxSpec) -> Result<Box<dyn Sandbox>, SandboxError> {
        if stopped(&self.slot) {
            return Err(SandboxError::backend(
                "start",
                agentscale_sandbox::cleanup::SHUTTING_DOWN,
            ));
        }
        let n = self.starts.fetch_add(1, Ordering::SeqCst);
        let slot = self.slot.clone();
        let cuts = self.cut_at == Some(n);
        Ok(Box::new(Dying {
            inner: self.inner.start(spec).await?,
            dies: Box::new(move || {
                if cuts {
                    stop(&slot);
                }
                stopped(&slot)
            }),
            execs: AtomicU64::new(0),
        }))
    }
    async fn prepare_image(&self, source: &ImageSource) -> Result<String, SandboxError> {
        self.inner.prepare_image(source).await
    }
}

/// The marker grader; with `cut`, the first grade stops the run and fails (its container
/// removed), as do the grades after it.
struct CutGrader {
    inner: MarkerGrader,
    slot: Slot,
    cut: bool,
    /// Fail every grade (an infrastructure failure) regardless.
    broken: bool,
    grades: AtomicU64,
}

#[async_trait]
impl GradeBackend for CutGrader {
    fn identity(&self) -> serde_json::Value {
        self.inner.identity()
    }
    async fn grade(
        &self,
        task: &Task,
        submission: &Submission,
        host: Option<&str>,
    ) -> Result<Graded, String> {
        self.grades.fetch_add(1, Ordering::SeqCst);
        if self.cut {
            stop(&self.slot);
        }
        if self.broken || stopped(&self.slot) {
            return Err("the grading container was removed".into());
        }
        self.inner.grade(task, submission, host).await
    }
}

fn grader(slot: &Slot, cut: bool, broken: bool) -> Arc<CutGrader> {
    Arc::new(CutGrader {
        inner: MarkerGrader::default(),
        slot: slot.clone(),
        cut,
        broken,
        grades: AtomicU64::new(0),
    })
}

fn provider(slot: &Slot, cut_at: Option<u64>) -> Arc<Cutting> {
    Arc::new(Cutting {
        inner: FakeProvider::new(agentscale_experiment::backends::fake_shell),
        slot: slot.clone(),
        cut_at,
        starts: AtomicU64::new(0),
    })
}

/// The mock's usual replies; once the run is cut, every call fails (a stopped process gets
/// no more answers), and a call of role `role` cuts it.
fn arm(server: &MockServer, slot: &Slot, role: Option<&'static str>) {
    let slot = slot.clone();
    server.set_replier(move |r| {
        if role.is_some_and(|want| role_of(r) == want) {
            stop(&slot);
        }
        if stopped(&slot) {
            return MockReply::fault(Fault::ServerError { status: 500 });
        }
        reply(r)
    });
}

fn events(run_dir: &Path) -> Vec<Event> {
    std::fs::read_to_string(run_dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<EventRecord>(l).unwrap().event)
        .collect()
}

fn stage_of(o: &agentscale_experiment::orchestrator::Orchestrator, s: Stage) -> u64 {
    o.progress().snapshot().stage(s).interrupted
}

async fn cut_then_resume(cut: Cut) {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 2);
    let server = mock().await;
    let text = config(&data, &server.openai_base_url(), "");
    let none: Slot = Arc::new(OnceLock::new());

    let reference = orchestrator(&dir.path().join("a"), &text, provider(&none, None));
    let s = reference.run().await.unwrap();
    assert!(s.complete, "{:?}", s.failed_tasks);
    let want = tables(reference.store().dir());
    drop(reference);

    let slot: Slot = Arc::new(OnceLock::new());
    let role = match cut {
        Cut::Summary => Some("summarizer"),
        Cut::Vote => Some("judge"),
        Cut::Rollout | Cut::Grade => None,
    };
    arm(&server, &slot, role);
    let cut_dir = dir.path().join("b");
    let o = orchestrator_with(
        &cut_dir,
        &text,
        provider(&slot, (cut == Cut::Rollout).then_some(2)),
        grader(&slot, cut == Cut::Grade, false),
    );
    slot.set(o.stop_token().clone()).unwrap();
    let e = o.run().await.unwrap_err();
    assert!(matches!(e, RunError::Interrupted(_)), "{cut:?}: {e}");
    let stage = match cut {
        Cut::Rollout => Stage::Rollouts,
        Cut::Summary => Stage::Summaries,
        Cut::Vote => Stage::Votes,
        Cut::Grade => Stage::Grading,
    };
    let snap = o.progress().snapshot();
    for st in &snap.stages {
        assert_eq!(st.infra_failures, 0, "{cut:?}: {st:?}");
        assert_eq!(st.given_up, 0, "{cut:?}: {st:?}");
    }
    if cut != Cut::Vote {
        // votes are counted when their step ends, so a cut step shows in the log only
        assert!(stage_of(&o, stage) >= 1, "{cut:?}: {snap:?}");
    }
    let run_dir = o.store().dir().to_path_buf();
    drop(o);
    let ev = events(&run_dir);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::WorkInterrupted { stage: s, .. } if s == stage.as_str())),
        "{cut:?}: no interrupted {} in the log",
        stage.as_str()
    );
    assert!(
        !ev.iter().any(|e| matches!(
            e,
            Event::RolloutInfraFailure { .. }
                | Event::GradeInfraFailure { .. }
                | Event::RolloutFinished { infra: true, .. }
        )),
        "{cut:?}: a cut-off attempt was recorded as an infrastructure failure"
    );
    assert!(
        !ev.iter().any(|e| matches!(e, Event::TablesWritten { .. })),
        "{cut:?}: the tables of a cut-off run were written"
    );
    for kind in ["rollouts", "grades"] {
        for f in std::fs::read_dir(run_dir.join(kind)).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            assert!(
                !text.contains("removed") && !text.contains("shutting down"),
                "{cut:?}: a cut-off attempt was stored in {kind}/: {text}"
            );
        }
    }

    // resume with working backends: the cut-off work is redone, every table as uninterrupted
    arm(&server, &none, None);
    let again = orchestrator(&cut_dir, &text, provider(&none, None));
    let s = again.run().await.unwrap();
    assert!(s.complete, "{cut:?}: {:?}", s.failed_tasks);
    assert_eq!(tables(again.store().dir()), want, "{cut:?}: tables differ");
}

#[tokio::test]
async fn a_rollout_cut_off_by_a_stop_is_redone_on_resume_not_failed() {
    cut_then_resume(Cut::Rollout).await;
}

#[tokio::test]
async fn a_summary_cut_off_by_a_stop_is_redone_on_resume_not_failed() {
    cut_then_resume(Cut::Summary).await;
}

#[tokio::test]
async fn a_vote_cut_off_by_a_stop_is_redone_on_resume_not_failed() {
    cut_then_resume(Cut::Vote).await;
}

#[tokio::test]
async fn a_grade_cut_off_by_a_stop_is_redone_on_resume_not_failed() {
    cut_then_resume(Cut::Grade).await;
}

/// Stored failures: counted by a resume that cannot retry them, retried by one that can.
#[tokio::test]
async fn stored_infra_failures_are_retried_while_retries_are_left_and_counted_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), 1);
    let server = mock().await;
    let none: Slot = Arc::new(OnceLock::new());
    let no_retry = config(&data, &server.openai_base_url(), "")
        .replace("infra_retries = 2", "infra_retries = 0");
    let run = dir.path().join("r");

    // 1. the engine starts nothing: 4 rollouts given up after one attempt each
    let broken = FakeProvider::new(agentscale_experiment::backends::fake_shell);
    broken.set_fail_start(true);
    let o = orchestrator(&run, &no_retry, Arc::new(broken));
    let s = o.run().await.unwrap();
    let r = s.progress.stage(Stage::Rollouts);
    assert_eq!((r.given_up, r.infra_failures), (4, 4), "{r:?}");
    drop(o);

    // 2. resumed with no retry left: nothing is tried again, and the summary still counts
    //    the stored failures (what tables/failures.csv holds)
    let fresh = Arc::new(FakeProvider::new(
        agentscale_experiment::backends::fake_shell,
    ));
    let o = orchestrator(&run, &no_retry, fresh.clone());
    let s = o.run().await.unwrap();
    assert_eq!(fresh.started(), 0, "a spent failure was retried");
    let r = s.progress.stage(Stage::Rollouts);
    assert_eq!((r.reused, r.given_up, r.infra_failures), (4, 4, 4), "{r:?}");
    let failures = std::fs::read_to_string(o.store().dir().join("tables/failures.csv")).unwrap();
    let given_up: u64 = failures
        .lines()
        .filter(|l| l.contains(",rollout,") && l.contains(",true,"))
        .filter_map(|l| l.rsplit(',').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(given_up, r.given_up, "{failures}");
    drop(o);

    // 3. resumed with retries left (infra_retries raised; the run id ignores it) and a
    //    working engine: the stored failures are retried and succeed; grades of a broken
    //    grader are stored as failures, then retried the same way
    let retry = config(&data, &server.openai_base_url(), "");
    let bad_grader = grader(&none, false, true);
    let o = orchestrator_with(&run, &retry, fresh.clone(), bad_grader.clone());
    let s = o.run().await.unwrap();
    assert_eq!(fresh.started(), 8, "4 retried + 4 refined rollouts");
    let r = s.progress.stage(Stage::Rollouts);
    assert_eq!((r.given_up, r.reused), (0, 0), "{r:?}");
    let g = s.progress.stage(Stage::Grading);
    assert_eq!((g.given_up, g.infra_failures), (8, 24), "{g:?}");
    drop(o);
    let o = orchestrator_with(&run, &no_retry, fresh.clone(), bad_grader.clone());
    let before = bad_grader.grades.load(Ordering::SeqCst);
    let s = o.run().await.unwrap();
    assert_eq!(
        bad_grader.grades.load(Ordering::SeqCst),
        before,
        "spent grades retried"
    );
    assert_eq!(s.progress.stage(Stage::Grading).given_up, 8);
    drop(o);
    let more = retry.replace("infra_retries = 2", "infra_retries = 3");
    let o = orchestrator(&run, &more, fresh);
    let s = o.run().await.unwrap();
    let g = s.progress.stage(Stage::Grading);
    assert_eq!((g.given_up, g.reused, g.done), (0, 0, 8), "{g:?}");
    assert_eq!(s.systems[0].scored, 1);
}
