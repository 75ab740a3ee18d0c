//! Grading one SWE-bench submission in a fresh container.
//!
//! The main function is [`grade_swe`]: patch hygiene (no container is started for an empty,
//! unparsable or unsafe patch), then in a container of the instance's image (with the
//! engine's default network in v4.1, as the official harness; off in strict): the symlink guard, the model patch through the official apply chain, the eval script,
//! and the log graded in the chosen mode. It never fails: every outcome, infrastructure
//! failures included, is a [`SweGradeRecord`] whose [`Grade`] says which it was. The
//! container is closed whatever happens. [`write_record`] / [`read_record`] store a record as
//! the official files (`report.json`, `test_output.txt`, `eval.sh`, `patch.diff`) plus
//! `grade.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use agentscale_core::grade::{Grade, GradeStatus};
use agentscale_core::sandbox::{ExecRequest, Sandbox, SandboxError, SandboxProvider, SandboxSpec};
use agentscale_core::task::Benchmark;
use agentscale_core::{SweInstance, Task, fsutil, hash};
use serde::{Deserialize, Serialize};

use crate::error::GraderError;
use crate::eval_script::{
    APPLIED_MARKER, EvalScriptOptions, PATCH_PATH, REPO_DIR, apply_script, make_eval_script,
};
use crate::grading::{LogProblem, grade_eval_log};
use crate::mode::GradeMode;
use crate::patch::{
    PatchProblem, added_file_changes_test_runs, inspect_patch, is_autoload, remove_files,
    symlink_guard_script,
};
use crate::report::InstanceReport;
use crate::spec::SpecTable;

/// Options of [`grade_swe`].
#[derive(Debug, Clone, PartialEq)]
pub struct SweGradeOptions {
    /// The grading mode.
    pub mode: GradeMode,
    /// Time limit of the eval script (the official default is 1800 s).
    pub timeout: Duration,
    /// Time limit of applying the model patch.
    pub apply_timeout: Duration,
    /// Labels added to the container (the provider adds its own: tool, run id, pid).
    pub labels: BTreeMap<String, String>,
    /// Record the test command's duration (two timestamp lines outside the markers).
    pub record_timing: bool,
    /// Bytes of eval output kept (head + tail beyond it).
    pub output_cap: usize,
    /// Whether the grading container has the engine's default network. The official harness
    /// grades with it (the reinstall step of about 175 Verified instances downloads build
    /// dependencies, and some tests call outside hosts); strict mode grades offline.
    pub network: bool,
}

impl SweGradeOptions {
    /// The defaults of a mode: network on in `v4.1` (as the official harness), off in
    /// `strict`.
    pub fn for_mode(mode: GradeMode) -> Self {
        Self {
            mode,
            network: mode == GradeMode::V41,
            ..Self::default()
        }
    }
}

impl Default for SweGradeOptions {
    fn default() -> Self {
        Self {
            mode: GradeMode::V41,
            timeout: Duration::from_mins(30),
            apply_timeout: Duration::from_mins(5),
            labels: BTreeMap::new(),
            record_timing: true,
            output_cap: 64 << 20,
            network: true,
        }
    }
}

/// Where the time of one grading went, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Everything, from the call to the container's removal.
    pub total_ms: u64,
    /// Preparing (building or checking) the image.
    pub image_ms: u64,
    /// Starting the container.
    pub start_ms: u64,
    /// The symlink guard and the apply chain.
    pub apply_ms: u64,
    /// The eval script, as seen from outside.
    pub eval_ms: u64,
    /// The test command's own duration, when the log records it.
    pub test_ms: Option<u64>,
    /// Removing the container.
    pub close_ms: u64,
}

impl Timings {
    /// The harness's own time: everything but the test command (when it is known).
    pub fn overhead_ms(&self) -> Option<u64> {
        self.test_ms.map(|t| self.total_ms.saturating_sub(t))
    }
}

/// The full record of grading one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweGradeRecord {
    /// The instance.
    pub instance_id: String,
    /// The mode it was graded in.
    pub mode: GradeMode,
    /// The grade (status, test lists, reason, strict-mode flags).
    pub grade: Grade,
    /// The official report entry; `None` when the tests did not run (as in the official
    /// harness, where such an instance has no report.json and counts as an error).
    pub report: Option<InstanceReport>,
    /// Why the log could not be used, if it could not.
    pub log_problem: Option<LogProblem>,
    /// The test command's exit code (strict mode records it).
    pub exit_code: Option<i64>,
    /// The apply command that succeeded.
    pub applied_with: Option<String>,
    /// SHA-256 of the submitted patch (resume re-grades when it changes).
    pub patch_sha256: String,
    /// Model-added files removed before applying (strict mode).
    pub removed_files: Vec<String>,
    /// Where the time went.
    pub timings: Timings,
    /// The submitted patch.
    #[serde(skip)]
    pub patch: String,
    /// The eval script, when one was made.
    #[serde(skip)]
    pub eval_script: Option<String>,
    /// The eval output, when the script ran.
    #[serde(skip)]
    pub test_output: Option<String>,
    /// The output of the symlink guard and the apply chain.
    #[serde(skip)]
    pub apply_output: Option<String>,
}

impl SweGradeRecord {
    pub(crate) fn new(instance: &SweInstance, patch: &str, mode: GradeMode) -> Self {
        Self {
            instance_id: instance.instance_id.clone(),
            mode,
            grade: Grade::new(
                instance.task_id(),
                Benchmark::SweBench,
                GradeStatus::InfraError,
                None,
            ),
            report: None,
            log_problem: None,
            exit_code: None,
            applied_with: None,
            patch_sha256: hash::sha256_hex(patch.as_bytes()),
            removed_files: Vec::new(),
            timings: Timings::default(),
            patch: patch.to_string(),
            eval_script: None,
            test_output: None,
            apply_output: None,
        }
    }

    /// The record of an infrastructure failure that kept a submission from being graded.
    pub fn infra_error(
        instance: &SweInstance,
        patch: &str,
        mode: GradeMode,
        message: impl Into<String>,
    ) -> Self {
        let mut rec = Self::new(instance, patch, mode);
        rec.set(GradeStatus::InfraError, Some(message.into()));
        rec
    }

    pub(crate) fn set(&mut self, status: GradeStatus, message: Option<String>) {
        self.grade.status = status;
        self.grade.resolved = status == GradeStatus::Resolved;
        self.grade.message = message;
    }
}

/// The grade of a submission that needs no container: an empty patch, or, in strict mode, one
/// that patch hygiene rejects (unparsable, leaving the repository). `None` when the patch must
/// be run. In v4.1 mode every non-empty patch goes to the container's apply chain, as in the
/// official harness.
pub fn grade_without_container(
    instance: &SweInstance,
    patch: &str,
    mode: GradeMode,
) -> Option<SweGradeRecord> {
    let mut rec = SweGradeRecord::new(instance, patch, mode);
    match inspect_patch(patch) {
        Ok(_) => return None,
        Err(PatchProblem::Empty) => rec.set(GradeStatus::EmptyPatch, Some("empty patch".into())),
        Err(_) if mode == GradeMode::V41 => return None,
        Err(p) => rec.set(GradeStatus::PatchRejected, Some(p.to_string())),
    }
    Some(rec)
}

/// Grade one submission (a patch against the instance's base commit).
pub async fn grade_swe(
    provider: &dyn SandboxProvider,
    specs: &SpecTable,
    instance: &SweInstance,
    patch: &str,
    opts: &SweGradeOptions,
) -> SweGradeRecord {
    let t0 = Instant::now();
    let mut rec = SweGradeRecord::new(instance, patch, opts.mode);
    prepare_and_run(provider, specs, instance, patch, opts, &mut rec).await;
    rec.timings.total_ms = ms(t0.elapsed());
    rec
}

async fn prepare_and_run(
    provider: &dyn SandboxProvider,
    specs: &SpecTable,
    instance: &SweInstance,
    patch: &str,
    opts: &SweGradeOptions,
    rec: &mut SweGradeRecord,
) {
    let strict = opts.mode == GradeMode::Strict;
    // 1. Patch hygiene, before any container (v4.1 only notes a problem: the official
    // harness leaves every non-empty patch to the apply chain in the container).
    let summary = match inspect_patch(patch) {
        Ok(s) => s,
        Err(PatchProblem::Empty) => {
            return rec.set(GradeStatus::EmptyPatch, Some("empty patch".into()));
        }
        Err(p) if strict => return rec.set(GradeStatus::PatchRejected, Some(p.to_string())),
        Err(p) => {
            rec.grade
                .flags
                .push(format!("patch hygiene (strict mode rejects it): {p}"));
            crate::patch::PatchSummary::default()
        }
    };
    let mut applied_patch = patch.to_string();
    if strict {
        let added: Vec<&str> = summary
            .added()
            .into_iter()
            .filter(|p| added_file_changes_test_runs(p))
            .collect();
        if !added.is_empty() {
            applied_patch = remove_files(patch, &added);
            rec.removed_files = added.iter().map(|s| (*s).to_string()).collect();
            rec.grade.flags.push(format!(
                "removed model-added files that test runners load on their own: {}",
                added.join(", ")
            ));
        }
        for f in &summary.files {
            if f.old_path.as_deref().is_some_and(is_autoload) {
                rec.grade.flags.push(format!(
                    "the patch modifies {}, which the test runner loads on its own",
                    f.path()
                ));
            }
        }
        if !applied_patch.is_empty() && !applied_patch.ends_with('\n') {
            applied_patch.push('\n');
        }
    }
    // 2. The spec and the eval script (dataset or configuration problems: not the model's).
    let spec = match specs.for_instance(instance) {
        Ok(s) => s,
        Err(e) => return rec.set(GradeStatus::InfraError, Some(e.to_string())),
    };
    let script = match make_eval_script(
        instance,
        &spec,
        &EvalScriptOptions {
            mode: opts.mode,
            record_timing: opts.record_timing,
        },
    ) {
        Ok(s) => s,
        Err(e) => return rec.set(GradeStatus::InfraError, Some(e.to_string())),
    };
    rec.eval_script = Some(script.text.clone());
    if strict {
        let created: Vec<&str> = summary.created();
        let clash: Vec<&String> = script
            .new_test_files
            .iter()
            .filter(|f| created.contains(&f.as_str()))
            .collect();
        if !clash.is_empty() {
            let names: Vec<&str> = clash.iter().map(|s| s.as_str()).collect();
            return rec.set(
                GradeStatus::TestPatchApplyFailed,
                Some(format!(
                    "the model patch creates {}, which the test patch adds; the test patch \
                     would not apply, so the tests are not run",
                    names.join(", ")
                )),
            );
        }
    }
    // 3. The image and the container.
    let Some(source) = Task::SweBench(instance.clone()).image_source() else {
        return rec.set(GradeStatus::InfraError, Some("no image source".into()));
    };
    let t = Instant::now();
    let image = match provider.prepare_image(&source).await {
        Ok(i) => i,
        Err(e) => return rec.set(GradeStatus::InfraError, Some(e.to_string())),
    };
    rec.timings.image_ms = ms(t.elapsed());
    let mut labels = opts.labels.clone();
    labels.insert("agentscale.role".into(), "grading".into());
    labels.insert("agentscale.task".into(), instance.instance_id.clone());
    let spec_sb = SandboxSpec {
        image,
        workdir: Some(REPO_DIR.into()),
        network: opts.network,
        labels,
        name_hint: Some(unique_hint("grade", &instance.instance_id)),
        ..SandboxSpec::default()
    };
    let t = Instant::now();
    let sandbox = match provider.start(&spec_sb).await {
        Ok(s) => s,
        Err(e) => return rec.set(GradeStatus::InfraError, Some(e.to_string())),
    };
    rec.timings.start_ms = ms(t.elapsed());
    let result = run_in(
        sandbox.as_ref(),
        instance,
        &summary.all_paths(),
        &applied_patch,
        &script.text,
        &spec.parser,
        opts,
        rec,
    )
    .await;
    let t = Instant::now();
    let closed = sandbox.close().await;
    rec.timings.close_ms = ms(t.elapsed());
    if let Err(e) = result {
        rec.set(
            GradeStatus::InfraError,
            Some(format!("sandbox failure while grading: {e}")),
        );
    } else if let Err(e) = closed {
        tracing::warn!(instance = %instance.instance_id, "closing the grading container failed: {e}");
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_in(
    sb: &dyn Sandbox,
    instance: &SweInstance,
    paths: &[&str],
    patch: &str,
    script: &str,
    parser: &crate::parsers::LogParser,
    opts: &SweGradeOptions,
    rec: &mut SweGradeRecord,
) -> Result<(), SandboxError> {
    let t = Instant::now();
    // The symlink guard is strict mode's hardening; v4.1 applies as the official harness does.
    let mut apply_log = String::new();
    if opts.mode == GradeMode::Strict {
        let guard = sb
            .exec(&ExecRequest::shell(
                symlink_guard_script(REPO_DIR, paths),
                Duration::from_mins(1),
            ))
            .await?;
        if guard.exit_code == Some(3) {
            rec.apply_output = Some(guard.combined());
            rec.set(
                GradeStatus::PatchRejected,
                Some(format!(
                    "the patch leaves the repository: {}",
                    guard.stdout.trim()
                )),
            );
            return Ok(());
        }
        apply_log = guard.combined();
    }
    if patch.trim().is_empty() {
        rec.apply_output = Some(apply_log);
    } else {
        sb.write_file(PATCH_PATH, patch.as_bytes(), 0o644).await?;
        let out = sb
            .exec(
                &ExecRequest::shell(apply_script(opts.mode), opts.apply_timeout).workdir(REPO_DIR),
            )
            .await?;
        apply_log.push_str(&out.combined());
        rec.apply_output = Some(apply_log);
        if out.timed_out {
            rec.set(
                GradeStatus::Timeout,
                Some(format!(
                    "applying the patch took longer than {} s",
                    opts.apply_timeout.as_secs()
                )),
            );
            return Ok(());
        }
        let applied = out
            .stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(APPLIED_MARKER))
            .map(|rest| {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .to_string()
            });
        match applied {
            Some(cmd) if out.exit_code == Some(0) => rec.applied_with = Some(cmd),
            _ => {
                let tail: String = out
                    .combined()
                    .lines()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                rec.set(
                    GradeStatus::PatchApplyFailed,
                    Some(format!(
                        "the patch did not apply with git apply or patch:\n{tail}"
                    )),
                );
                return Ok(());
            }
        }
    }
    rec.timings.apply_ms = ms(t.elapsed());

    let t = Instant::now();
    sb.write_file("/eval.sh", script.as_bytes(), 0o755).await?;
    let out = sb
        .exec(
            &ExecRequest::shell("/bin/bash /eval.sh 2>&1", opts.timeout)
                .workdir(REPO_DIR)
                .output_cap(opts.output_cap),
        )
        .await?;
    rec.timings.eval_ms = ms(t.elapsed());
    let mut log = out.combined();
    if out.timed_out {
        let _ = write!(
            log,
            "\n\nTimeout error: {} seconds exceeded.",
            opts.timeout.as_secs()
        );
        rec.test_output = Some(log);
        rec.set(
            GradeStatus::Timeout,
            Some(format!(
                "the eval script exceeded its time limit of {} s",
                opts.timeout.as_secs()
            )),
        );
        return Ok(());
    }
    let g = grade_eval_log(instance, *parser, &log, opts.mode);
    rec.test_output = Some(log);
    rec.timings.test_ms = g.test_duration_ms;
    apply_log_grade(rec, &g);
    Ok(())
}

/// Fill a record from a graded log (shared by live grading and re-grading from logs).
pub(crate) fn apply_log_grade(rec: &mut SweGradeRecord, g: &crate::grading::LogGrade) {
    rec.exit_code = g.exit_code;
    rec.log_problem.clone_from(&g.problem);
    rec.grade.flags.extend(g.flags.iter().cloned());
    if g.problem == Some(LogProblem::TestPatchFailed) {
        rec.set(
            GradeStatus::TestPatchApplyFailed,
            g.problem.as_ref().map(ToString::to_string),
        );
        return;
    }
    if let Some(p @ LogProblem::ParserCrash { .. }) = &g.problem {
        // The official harness raises here and writes no report: an error, not a grade.
        rec.set(GradeStatus::LogUnparseable, Some(p.to_string()));
        return;
    }
    rec.report = Some(InstanceReport::from_log(g));
    rec.grade.tests_status.clone_from(&g.tests_status);
    let message = g.problem.as_ref().map(ToString::to_string);
    rec.set(
        if g.resolved {
            GradeStatus::Resolved
        } else {
            GradeStatus::Unresolved
        },
        message,
    );
}

/// A container name hint unique in this process (`<role>-<task>-<n>`), so that containers of
/// the same task started at the same time, even through different providers, never clash.
pub(crate) fn unique_hint(role: &str, task: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{role}-{task}-{n}")
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Write a record into an instance folder: `report.json` (when the tests ran),
/// `test_output.txt`, `eval.sh`, `patch.diff`, `run_instance.log` (the apply output) and
/// `grade.json` (the record itself). Each file is written atomically.
pub fn write_record(dir: &Path, rec: &SweGradeRecord) -> Result<(), GraderError> {
    let w = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        fsutil::atomic_write(&p, data).map_err(|e| GraderError::io(&p, &e))
    };
    w("patch.diff", rec.patch.as_bytes())?;
    if let Some(s) = &rec.eval_script {
        w("eval.sh", s.as_bytes())?;
    }
    if let Some(s) = &rec.test_output {
        w("test_output.txt", s.as_bytes())?;
    }
    if let Some(s) = &rec.apply_output {
        w("run_instance.log", s.as_bytes())?;
    }
    if let Some(r) = &rec.report {
        w("report.json", r.to_json(&rec.instance_id).as_bytes())?;
    }
    let p = dir.join("grade.json");
    fsutil::write_json_atomic(&p, rec).map_err(|e| GraderError::io(&p, &e))
}

/// Read the record of an instance folder written by [`write_record`] (`grade.json`; the
/// large texts are not loaded). `None` when there is none or it cannot be read.
pub fn read_record(dir: &Path) -> Option<SweGradeRecord> {
    let text = std::fs::read_to_string(dir.join("grade.json")).ok()?;
    serde_json::from_str(&text).ok()
}
