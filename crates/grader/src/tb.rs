//! The Terminal-Bench verifier: run a task's `tests/test.sh` after the agent and read the
//! reward it writes.
//!
//! The main functions are [`verify`] (in the agent's own container, right after the agent:
//! how the experiment grades, as Harbor does) and [`verify_fresh`] (in a new container
//! started from an image, e.g. a diagnostic snapshot). Both do the same: remove any `/tests`
//! and `/logs/verifier` the agent may have planted, copy the task's `tests/` to `/tests`, run
//! `bash /tests/test.sh` in the task's workdir under the verifier timeout, and read
//! `/logs/verifier/reward.txt` (else `reward.json`, every key). A verifier timeout, a missing
//! or unparseable reward file, and a verifier whose own setup failed (a download; see
//! [`setup::setup_failure`]) are each their own [`TbOutcome`] and grade as
//! [`GradeStatus::VerifierError`], never as a reward of 0. [`run_solution`] runs the task's
//! `solution/solve.sh` (the oracle).

pub mod setup;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agentscale_core::grade::{Grade, GradeStatus};
use agentscale_core::sandbox::{
    ExecOutput, ExecRequest, ResourceLimits, Sandbox, SandboxError, SandboxProvider, SandboxSpec,
};
use agentscale_core::task::Benchmark;
use agentscale_core::{Task, TbTask};
use serde::{Deserialize, Serialize};

/// What the verifier produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TbOutcome {
    /// A reward was read.
    Reward {
        /// `reward` for reward.txt; every key of reward.json.
        rewards: BTreeMap<String, f64>,
    },
    /// `test.sh` did not finish within the verifier timeout (it was killed).
    VerifierTimeout {
        /// The limit, in seconds.
        timeout_sec: f64,
    },
    /// Neither reward.txt nor reward.json exists after `test.sh`.
    RewardMissing,
    /// A reward file exists but does not hold a number (or numbers).
    RewardUnparseable {
        /// Which file and what is wrong.
        message: String,
    },
    /// The verifier wrote reward 0 because its own setup failed (a download or install)
    /// before its tests ran: not a verdict on the agent's work.
    SetupFailed {
        /// What showed it.
        message: String,
        /// The reward the script wrote anyway.
        rewards: BTreeMap<String, f64>,
    },
    /// The sandbox failed, or the task cannot be verified (no tests/): not the agent's fault.
    InfraError {
        /// What went wrong.
        message: String,
    },
}

/// The result of verifying one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TbVerification {
    /// The grade: resolved when the reward is 1 (see [`TbOutcome`] for the rest).
    pub grade: Grade,
    /// What the verifier produced.
    pub outcome: TbOutcome,
    /// `test.sh`'s output (stdout then stderr).
    pub test_output: String,
    /// The raw reward file, if one was read.
    pub reward_file: Option<String>,
    /// `test.sh`'s exit code.
    pub exit_code: Option<i64>,
    /// How long `test.sh` ran, in milliseconds.
    pub duration_ms: u64,
}

/// Options of [`verify`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TbVerifyOptions {
    /// Use this limit instead of the task's `verifier.timeout_sec`.
    pub timeout: Option<Duration>,
    /// Multiply the task's limit (Harbor's `--timeout-multiplier`); 0 or absent means 1.
    pub timeout_multiplier: Option<f64>,
    /// For [`verify_fresh`]: start the container on this host of a pool (a snapshot lives on
    /// the engine that took it).
    pub host: Option<String>,
    /// For [`verify_fresh`]: network on or off (default: the task's `allow_internet`).
    pub network: Option<bool>,
    /// A CA bundle to copy into the container for `test.sh` (a TLS-intercepting proxy);
    /// see [`setup::install_ca_bundle`].
    pub ca_bundle: Option<std::path::PathBuf>,
}

impl TbVerifyOptions {
    fn timeout_for(&self, task: &TbTask) -> Duration {
        self.timeout.unwrap_or_else(|| {
            let m = self.timeout_multiplier.filter(|m| *m > 0.0).unwrap_or(1.0);
            agentscale_core::time::secs((task.config.verifier_timeout_sec * m).max(1.0))
        })
    }
}

/// The sandbox spec of a task: its image (or a snapshot), workdir, CPU and memory limits,
/// network as the task's `allow_internet` says.
pub fn sandbox_spec(task: &TbTask, image: String) -> SandboxSpec {
    SandboxSpec {
        image,
        workdir: task.config.workdir.clone(),
        limits: ResourceLimits {
            memory_mb: Some(task.config.memory_mb),
            cpus: Some(task.config.cpus),
            pids: None,
        },
        network: task.config.allow_internet,
        labels: BTreeMap::from([
            ("agentscale.role".to_string(), "verify".to_string()),
            ("agentscale.task".to_string(), task.name.clone()),
        ]),
        name_hint: Some(crate::swe::unique_hint("verify", &task.name)),
        ..SandboxSpec::default()
    }
}

/// Verify a task in a running sandbox (the agent's container, after the agent).
pub async fn verify(sb: &dyn Sandbox, task: &TbTask, opts: &TbVerifyOptions) -> TbVerification {
    match verify_inner(sb, task, opts).await {
        Ok(v) => v,
        Err(e) => outcome_grade(
            task,
            TbOutcome::InfraError {
                message: format!("sandbox failure while verifying: {e}"),
            },
            String::new(),
            None,
            None,
            0,
        ),
    }
}

/// Verify a task in a new container started from `image` (a snapshot of the agent's
/// container), or from the task's own image when `image` is `None`. The container is
/// removed afterwards whatever happens.
pub async fn verify_fresh(
    provider: &dyn SandboxProvider,
    task: &TbTask,
    image: Option<&str>,
    opts: &TbVerifyOptions,
) -> TbVerification {
    let infra = |message: String| {
        outcome_grade(
            task,
            TbOutcome::InfraError { message },
            String::new(),
            None,
            None,
            0,
        )
    };
    let image = if let Some(i) = image {
        i.to_string()
    } else {
        let Some(source) = Task::TerminalBench(task.clone()).image_source() else {
            return infra(format!(
                "task {} has neither environment/Dockerfile nor docker_image",
                task.name
            ));
        };
        match provider.prepare_image(&source).await {
            Ok(i) => i,
            Err(e) => return infra(e.to_string()),
        }
    };
    let mut spec = sandbox_spec(task, image);
    spec.host.clone_from(&opts.host);
    if let Some(n) = opts.network {
        spec.network = n;
    }
    let sb = match provider.start(&spec).await {
        Ok(s) => s,
        Err(e) => return infra(e.to_string()),
    };
    let v = verify(sb.as_ref(), task, opts).await;
    if let Err(e) = sb.close().await {
        tracing::warn!(task = %task.name, "closing the verifier container failed: {e}");
    }
    v
}

async fn verify_inner(
    sb: &dyn Sandbox,
    task: &TbTask,
    opts: &TbVerifyOptions,
) -> Result<TbVerification, SandboxError> {
    let tests = task.dir.join("tests");
    if !tests.join("test.sh").is_file() {
        return Ok(outcome_grade(
            task,
            TbOutcome::InfraError {
                message: format!(
                    "task {} has no tests/test.sh at {}",
                    task.name,
                    tests.display()
                ),
            },
            String::new(),
            None,
            None,
            0,
        ));
    }
    let prep = sb
        .exec(&ExecRequest::shell(
            "rm -rf /tests /logs/verifier && mkdir -p /tests /logs/verifier",
            Duration::from_mins(1),
        ))
        .await?;
    if !prep.success() {
        return Err(SandboxError::backend(
            "verify",
            format!(
                "preparing /tests and /logs/verifier failed: {}",
                prep.combined()
            ),
        ));
    }
    sb.upload_dir(&tests, "/tests").await?;
    let timeout = opts.timeout_for(task);
    let mut req = ExecRequest::shell("bash /tests/test.sh", timeout).output_cap(16 << 20);
    req.workdir.clone_from(&task.config.workdir);
    if let Some(bundle) = &opts.ca_bundle {
        req.env.extend(setup::install_ca_bundle(sb, bundle).await?);
    }
    let t = Instant::now();
    let out: ExecOutput = sb.exec(&req).await?;
    let duration_ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
    let output = out.combined();
    if out.timed_out {
        return Ok(outcome_grade(
            task,
            TbOutcome::VerifierTimeout {
                timeout_sec: timeout.as_secs_f64(),
            },
            output,
            None,
            out.exit_code,
            duration_ms,
        ));
    }
    let (mut outcome, raw) = read_reward(sb).await?;
    if let TbOutcome::Reward { rewards } = &outcome
        && !rewards_resolved(rewards)
    {
        let script = std::fs::read_to_string(tests.join("test.sh")).unwrap_or_default();
        let ctrf_written = match setup::ctrf_path(&script) {
            Some(p) => match sb.read_file(&p).await {
                Ok(_) => true,
                Err(SandboxError::FileNotFound { .. }) => false,
                Err(e) => return Err(e),
            },
            None => true,
        };
        if let Some(message) = setup::setup_failure(&script, &output, ctrf_written) {
            outcome = TbOutcome::SetupFailed {
                message,
                rewards: rewards.clone(),
            };
        }
    }
    Ok(outcome_grade(
        task,
        outcome,
        output,
        raw,
        out.exit_code,
        duration_ms,
    ))
}

async fn read_reward(sb: &dyn Sandbox) -> Result<(TbOutcome, Option<String>), SandboxError> {
    match sb.read_file("/logs/verifier/reward.txt").await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let outcome = match parse_reward_txt(&text) {
                Ok(r) => TbOutcome::Reward {
                    rewards: BTreeMap::from([("reward".to_string(), r)]),
                },
                Err(message) => TbOutcome::RewardUnparseable {
                    message: format!("reward.txt: {message}"),
                },
            };
            return Ok((outcome, Some(text)));
        }
        Err(SandboxError::FileNotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    match sb.read_file("/logs/verifier/reward.json").await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let outcome = match parse_reward_json(&text) {
                Ok(rewards) => TbOutcome::Reward { rewards },
                Err(message) => TbOutcome::RewardUnparseable {
                    message: format!("reward.json: {message}"),
                },
            };
            Ok((outcome, Some(text)))
        }
        Err(SandboxError::FileNotFound { .. }) => Ok((TbOutcome::RewardMissing, None)),
        Err(e) => Err(e),
    }
}

/// `reward.txt`: one number (surrounding whitespace allowed).
pub fn parse_reward_txt(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the file is empty".into());
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("not a number: {:?}", truncate(t, 80))),
    }
}

/// `reward.json`: a flat object of numbers (booleans count as 1/0).
pub fn parse_reward_json(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let serde_json::Value::Object(map) = v else {
        return Err("expected an object of numbers".into());
    };
    if map.is_empty() {
        return Err("the object is empty".into());
    }
    map.into_iter()
        .map(|(k, v)| {
            let n = match &v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                _ => None,
            };
            n.filter(|x| x.is_finite())
                .map(|x| (k.clone(), x))
                .ok_or_else(|| format!("key {k:?} is not a number: {v}"))
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Whether rewards mean "solved": `reward` ≥ 1 when present, else every value ≥ 1.
pub fn rewards_resolved(rewards: &BTreeMap<String, f64>) -> bool {
    match rewards.get("reward") {
        Some(r) => *r >= 1.0,
        None => !rewards.is_empty() && rewards.values().all(|r| *r >= 1.0),
    }
}

fn outcome_grade(
    task: &TbTask,
    outcome: TbOutcome,
    test_output: String,
    reward_file: Option<String>,
    exit_code: Option<i64>,
    duration_ms: u64,
) -> TbVerification {
    let (status, message, rewards) = match &outcome {
        TbOutcome::Reward { rewards } => (
            if rewards_resolved(rewards) {
                GradeStatus::Resolved
            } else {
                GradeStatus::Unresolved
            },
            None,
            rewards.clone(),
        ),
        TbOutcome::VerifierTimeout { timeout_sec } => (
            GradeStatus::VerifierError,
            Some(format!(
                "the verifier (tests/test.sh) exceeded its timeout of {timeout_sec} s"
            )),
            BTreeMap::new(),
        ),
        TbOutcome::RewardMissing => (
            GradeStatus::VerifierError,
            Some("tests/test.sh wrote neither /logs/verifier/reward.txt nor reward.json".into()),
            BTreeMap::new(),
        ),
        TbOutcome::RewardUnparseable { message } => (
            GradeStatus::VerifierError,
            Some(format!("unreadable reward: {message}")),
            BTreeMap::new(),
        ),
        TbOutcome::SetupFailed { message, .. } => (
            GradeStatus::VerifierError,
            Some(message.clone()),
            BTreeMap::new(),
        ),
        TbOutcome::InfraError { message } => (
            GradeStatus::InfraError,
            Some(message.clone()),
            BTreeMap::new(),
        ),
    };
    let mut grade = Grade::new(task.task_id(), Benchmark::TerminalBench, status, message);
    grade.rewards = rewards;
    TbVerification {
        grade,
        outcome,
        test_output,
        reward_file,
        exit_code,
        duration_ms,
    }
}

/// Run the task's oracle: copy `solution/` to `/solution` and run `bash /solution/solve.sh`
/// in the task's workdir under the agent timeout.
pub async fn run_solution(
    sb: &dyn Sandbox,
    task: &TbTask,
    timeout: Option<Duration>,
) -> Result<ExecOutput, SandboxError> {
    let dir = task.dir.join("solution");
    if !dir.join("solve.sh").is_file() {
        return Err(SandboxError::InvalidRequest(format!(
            "task {} has no solution/solve.sh",
            task.name
        )));
    }
    sb.upload_dir(&dir, "/solution").await?;
    let timeout = timeout
        .unwrap_or_else(|| agentscale_core::time::secs(task.config.agent_timeout_sec.max(1.0)));
    let mut req = ExecRequest::shell("bash /solution/solve.sh", timeout);
    req.workdir.clone_from(&task.config.workdir);
    sb.exec(&req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_files() {
        assert_eq!(parse_reward_txt("1\n"), Ok(1.0));
        assert_eq!(parse_reward_txt(" 0.5 "), Ok(0.5));
        assert!(parse_reward_txt("").unwrap_err().contains("empty"));
        assert!(
            parse_reward_txt("yes")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse_reward_txt("NaN").is_err());
        let m = parse_reward_json("{\"reward\": 1, \"style\": 0.25, \"ok\": true}").unwrap();
        assert!((m["style"] - 0.25).abs() < 1e-12);
        assert!((m["ok"] - 1.0).abs() < 1e-12);
        assert!(parse_reward_json("[1]").is_err());
        assert!(parse_reward_json("{}").is_err());
        assert!(
            parse_reward_json("{\"a\": \"x\"}")
                .unwrap_err()
                .contains("\"a\"")
        );
    }

    #[test]
    fn resolution_of_rewards() {
        let r = |pairs: &[(&str, f64)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect::<BTreeMap<_, _>>()
        };
        assert!(rewards_resolved(&r(&[("reward", 1.0)])));
        assert!(!rewards_resolved(&r(&[("reward", 0.0), ("x", 1.0)])));
        assert!(rewards_resolved(&r(&[("a", 1.0), ("b", 1.0)])));
        assert!(!rewards_resolved(&r(&[("a", 1.0), ("b", 0.5)])));
        assert!(!rewards_resolved(&BTreeMap::new()));
    }
}
