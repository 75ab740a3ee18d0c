//! Import Harbor job folders: every trial `result.json` under the given folder (reward,
//! tokens, cost, `exception_info`), checked against `verifier/reward.txt`, and every job
//! `result.json` (its own mean reward, kept to compare with ours).
//!
//! Scoring follows Harbor's job mean: a trial without a reward counts 0 — but only when the
//! trial's exception is the agent's (an agent timeout, a non-zero agent exit, a verifier
//! verdict). A trial whose exception is the infrastructure's (the environment did not start,
//! agent setup failed, an unknown error) or that has no result at all is an infrastructure
//! failure, counted apart. Every exception is counted by kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{
    ImportOptions, find_files, imported_grade, imported_rollout, issue, new_run, read_json,
};
use crate::error::ReportError;
use crate::tables::{RunData, SystemMeta};

/// Exception kinds that are the agent's (or the task's verdict), not the infrastructure's.
const AGENT_EXCEPTIONS: &[&str] = &[
    "AgentTimeoutError",
    "NonZeroAgentExitCodeError",
    "ContextLengthExceededError",
    "OutputLengthExceededError",
    "VerifierTimeoutError",
    "RewardFileNotFoundError",
    "RewardFileEmptyError",
    "VerifierOutputParseError",
];

/// True when Harbor's exception kind is the agent's fault or the verifier's verdict.
pub fn is_agent_exception(kind: &str) -> bool {
    AGENT_EXCEPTIONS.contains(&kind)
}

fn task_from_trial_name(name: &str) -> String {
    name.rsplit_once("__").map_or(name, |(t, _)| t).to_string()
}

struct Trial {
    path: PathBuf,
    task: String,
    system: String,
    model: Option<String>,
    agent: String,
    reward: Option<f64>,
    exception: Option<String>,
    exception_message: Option<String>,
    input: Option<u64>,
    cached: Option<u64>,
    output: Option<u64>,
    cost: Option<f64>,
    steps: Option<u32>,
}

fn read_reward_txt(dir: &Path) -> Result<Option<f64>, String> {
    let p = dir.join("verifier").join("reward.txt");
    match std::fs::read_to_string(&p) {
        Ok(t) => t
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("verifier/reward.txt holds {:?}, not a number", t.trim())),
        Err(_) => Ok(None),
    }
}

fn parse_trial(path: &Path, v: &Value, folder_label: &str, data: &mut RunData) -> Trial {
    let dir = path.parent().unwrap_or(Path::new("."));
    let trial_name = v
        .get("trial_name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let task = v
        .get("task_name")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/task_id/path").and_then(Value::as_str))
        .map_or_else(|| task_from_trial_name(&trial_name), str::to_string);
    let agent = v
        .pointer("/agent_info/name")
        .and_then(Value::as_str)
        .unwrap_or("unknown-agent")
        .to_string();
    let model = v
        .pointer("/agent_info/model_info/name")
        .and_then(Value::as_str)
        .or_else(|| {
            v.pointer("/config/agent/model_name")
                .and_then(Value::as_str)
        })
        .map(str::to_string);
    let system = match &model {
        Some(m) => format!("{agent}__{m}"),
        None => format!("{agent}@{folder_label}"),
    };
    let mut reward = v
        .pointer("/verifier_result/rewards/reward")
        .and_then(Value::as_f64);
    if reward.is_none() {
        // A rewards dict without a `reward` key (reward.json with other keys): their mean.
        if let Some(o) = v
            .pointer("/verifier_result/rewards")
            .and_then(Value::as_object)
        {
            let vals: Vec<f64> = o.values().filter_map(Value::as_f64).collect();
            if !vals.is_empty() {
                reward = Some(vals.iter().sum::<f64>() / vals.len() as f64);
            }
        }
    }
    match read_reward_txt(dir) {
        Ok(Some(txt)) => match reward {
            None => {
                issue(
                    data,
                    path,
                    format!("no verifier_result; verifier/reward.txt says {txt}, which is used"),
                );
                reward = Some(txt);
            }
            Some(r) if (r - txt).abs() > 1e-9 => issue(
                data,
                path,
                format!(
                    "verifier_result reward {r} differs from verifier/reward.txt {txt}; result.json is used"
                ),
            ),
            Some(_) => {}
        },
        Ok(None) => {}
        Err(m) => issue(data, path, m),
    }
    let ar = v.get("agent_result").cloned().unwrap_or(Value::Null);
    let n_input = ar.get("n_input_tokens").and_then(Value::as_u64);
    let n_cache = ar.get("n_cache_tokens").and_then(Value::as_u64);
    Trial {
        path: path.to_path_buf(),
        task,
        system,
        model,
        agent,
        reward,
        exception: v
            .pointer("/exception_info/exception_type")
            .and_then(Value::as_str)
            .map(str::to_string),
        exception_message: v
            .pointer("/exception_info/exception_message")
            .and_then(Value::as_str)
            .map(str::to_string),
        // Harbor's n_input_tokens includes the cached ones.
        input: n_input.map(|i| i.saturating_sub(n_cache.unwrap_or(0))),
        cached: n_input.and(n_cache.or(Some(0))),
        output: ar.get("n_output_tokens").and_then(Value::as_u64),
        cost: ar.get("cost_usd").and_then(Value::as_f64),
        steps: ar
            .pointer("/metadata/n_episodes")
            .and_then(Value::as_u64)
            .and_then(|x| u32::try_from(x).ok()),
    }
}

/// A trial folder whose result.json is missing or cannot be read.
struct Broken {
    /// The file (or folder) to name in the issue.
    path: PathBuf,
    /// The trial folder.
    dir: PathBuf,
    /// The exception kind recorded for it.
    exception: &'static str,
    /// Why the result could not be read.
    message: Option<String>,
}

/// True when `dir` is a Harbor trial folder (as opposed to a job folder).
fn looks_like_trial_dir(dir: &Path) -> bool {
    dir.join("trial.log").is_file() || dir.join("agent").is_dir() || dir.join("verifier").is_dir()
}

/// The readable trial that says who ran the trial folder `dir`: one of the same job (a
/// sibling folder) when there is one, else the only system of the import. `None` when that
/// cannot be told — then the trial is reported, never given a made-up system.
fn owner_of<'a>(dir: &Path, trials: &'a [Trial]) -> Option<&'a Trial> {
    let job = dir.parent();
    let siblings: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.path.parent().and_then(Path::parent) == job)
        .collect();
    let pool: Vec<&Trial> = if siblings.is_empty() {
        trials.iter().collect()
    } else {
        siblings
    };
    let first = pool.first()?;
    pool.iter()
        .all(|t| t.system == first.system)
        .then_some(*first)
}

fn is_trial(v: &Value) -> bool {
    v.get("trial_name").is_some() || v.get("verifier_result").is_some()
}

fn is_job(v: &Value) -> bool {
    v.get("n_total_trials").is_some() || v.pointer("/stats/evals").is_some()
}

/// Import Harbor job folders under `path`.
pub fn import(path: &Path, opts: &ImportOptions) -> Result<RunData, ReportError> {
    let mut data = new_run(agentscale_core::Benchmark::TerminalBench);
    if !path.is_dir() {
        return Err(ReportError::import(
            path,
            "a Harbor import takes a folder (a job folder or a folder of jobs)",
        ));
    }
    let label = super::default_run_id(path);
    let mut trials = Vec::new();
    let mut job_means = BTreeMap::new();
    let mut job_trials = 0u64;
    let results = find_files(path, 6, &|n| n == "result.json");
    let mut trial_dirs_with_result = std::collections::BTreeSet::new();
    // Trials whose result cannot be read: which agent ran them is only known from the other
    // trials of their job, so they are placed once every readable trial is in.
    let mut broken: Vec<Broken> = Vec::new();
    for f in &results {
        let v = match read_json(f) {
            Ok(v) => v,
            Err(e) => {
                if let Some(dir) = f.parent() {
                    trial_dirs_with_result.insert(dir.to_path_buf());
                    if looks_like_trial_dir(dir) {
                        broken.push(Broken {
                            path: f.clone(),
                            dir: dir.to_path_buf(),
                            exception: "UnreadableResult",
                            message: Some(e.to_string()),
                        });
                        continue;
                    }
                }
                issue(
                    &mut data,
                    f,
                    format!("{e}; not a trial folder (no trial.log, agent/ or verifier/), skipped"),
                );
                continue;
            }
        };
        if is_job(&v) {
            let job = f
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(evals) = v.pointer("/stats/evals").and_then(Value::as_object) {
                for (key, e) in evals {
                    if let Some(m) = e.pointer("/metrics/0/mean").and_then(Value::as_f64) {
                        job_means.insert(format!("{job}/{key}"), Value::from(m));
                    }
                }
            }
            job_trials += v.get("n_total_trials").and_then(Value::as_u64).unwrap_or(0);
        } else if is_trial(&v) {
            if let Some(dir) = f.parent() {
                trial_dirs_with_result.insert(dir.to_path_buf());
            }
            trials.push(parse_trial(f, &v, &label, &mut data));
        }
    }
    // Trial folders (they hold config.json and trial.log) without a result.json.
    for log in find_files(path, 6, &|n| n == "trial.log") {
        if let Some(dir) = log.parent()
            && !trial_dirs_with_result.contains(dir)
        {
            broken.push(Broken {
                path: dir.to_path_buf(),
                dir: dir.to_path_buf(),
                exception: "MissingResult",
                message: None,
            });
        }
    }
    let unreadable = broken
        .iter()
        .filter(|b| b.exception == "UnreadableResult")
        .count();
    let mut unattributed = 0usize;
    let readable = trials.len();
    for b in broken {
        let what = match &b.message {
            Some(e) => format!("{e}; the trial"),
            None => "trial folder without result.json (still running or crashed); it".into(),
        };
        let Some(owner) = owner_of(&b.dir, &trials[..readable]) else {
            unattributed += 1;
            issue(
                &mut data,
                &b.path,
                format!(
                    "{what} cannot be counted: no readable trial of its job says which agent and \
                     model ran it"
                ),
            );
            continue;
        };
        issue(
            &mut data,
            &b.path,
            format!(
                "{what} is counted as an infrastructure failure of {}",
                owner.system
            ),
        );
        let name = b
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (system, model, agent) = (
            owner.system.clone(),
            owner.model.clone(),
            owner.agent.clone(),
        );
        trials.push(Trial {
            path: b.path,
            task: task_from_trial_name(&name),
            system,
            model,
            agent,
            reward: None,
            exception: Some(b.exception.into()),
            exception_message: b.message,
            input: None,
            cached: None,
            output: None,
            cost: None,
            steps: None,
        });
    }
    if unreadable > 0 {
        data.meta
            .source
            .reported
            .insert("unreadable_results".into(), Value::from(unreadable));
    }
    if unattributed > 0 {
        data.meta
            .source
            .reported
            .insert("unattributed_trials".into(), Value::from(unattributed));
    }
    if trials.is_empty() {
        return Err(ReportError::import(
            path,
            format!(
                "found no readable Harbor trial result.json (with trial_name / verifier_result) \
                 up to 6 levels down{}; point at a job folder",
                if unattributed > 0 {
                    format!(" ({unattributed} trial folder(s) without a readable result)")
                } else {
                    String::new()
                }
            ),
        ));
    }
    let systems: std::collections::BTreeSet<String> =
        trials.iter().map(|t| t.system.clone()).collect();
    let rename = |s: &str| -> String {
        match (&opts.system, systems.len()) {
            (Some(name), 1) => name.clone(),
            _ => s.to_string(),
        }
    };
    let mut index: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut metas: BTreeMap<String, SystemMeta> = BTreeMap::new();
    for t in &trials {
        let system = rename(&t.system);
        let slot = index.entry((system.clone(), t.task.clone())).or_insert(0);
        let mut r = imported_rollout(
            &system,
            &t.task,
            t.model.as_deref().unwrap_or("unknown"),
            &t.agent,
        );
        r.repo = None;
        r.index = *slot;
        r.rollout_id = format!("{system}/{}/{}", t.task, *slot);
        *slot += 1;
        r.steps = t.steps;
        r.input_tokens = t.input;
        r.cached_input_tokens = t.cached;
        r.cache_write_tokens = t.input.map(|_| 0);
        r.output_tokens = t.output;
        r.cost_usd = t.cost;
        r.unknown_cost_calls = u64::from(t.cost.is_none());
        let agent_side = t.exception.as_deref().is_none_or(is_agent_exception);
        r.exit_status = t.exception.clone().unwrap_or_else(|| "completed".into());
        let (status, infra) = match (t.reward, &t.exception) {
            (Some(x), _) if x >= 1.0 => ("resolved", false),
            (Some(_), _) => ("unresolved", false),
            (None, Some(_)) if agent_side => ("no_reward", false),
            (None, _) => ("infra_error", true),
        };
        r.infra = infra && t.exception.is_some() && !agent_side;
        let mut g = imported_grade(&r, status, status == "resolved");
        g.reward = t.reward;
        g.infra = infra;
        g.exception.clone_from(&t.exception);
        g.message = match (status, &t.exception_message) {
            ("no_reward", m) => Some(format!(
                "no verifier reward; the trial ended with {}{} (scored 0, as Harbor does)",
                t.exception.as_deref().unwrap_or(""),
                m.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            )),
            ("infra_error", _) => Some(format!(
                "no verifier reward and no agent-side exception ({})",
                t.path.display()
            )),
            _ => t.exception_message.clone(),
        };
        data.grades.push(g);
        data.rollouts.push(r);
        metas.entry(system.clone()).or_insert_with(|| SystemMeta {
            name: system.clone(),
            model: t.model.clone(),
            agent: Some(t.agent.clone()),
            n: Some(1),
            ..SystemMeta::default()
        });
    }
    data.meta.systems = metas.into_values().collect();
    data.meta
        .source
        .reported
        .insert("trials".into(), Value::from(trials.len()));
    if job_trials > 0 {
        data.meta
            .source
            .reported
            .insert("n_total_trials".into(), Value::from(job_trials));
    }
    for (k, v) in job_means {
        data.meta.source.reported.insert(format!("mean/{k}"), v);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(dir: &Path, name: &str, reward: Option<f64>, exc: Option<&str>) {
        let d = dir.join(name);
        std::fs::create_dir_all(d.join("verifier")).unwrap();
        let v = serde_json::json!({
            "task_name": task_from_trial_name(name), "trial_name": name,
            "agent_info": {"name": "ag", "model_info": {"name": "mod"}},
            "agent_result": {"n_input_tokens": 100, "n_cache_tokens": 30, "n_output_tokens": 5, "cost_usd": 0.25},
            "verifier_result": reward.map(|r| serde_json::json!({"rewards": {"reward": r}})),
            "exception_info": exc.map(|e| serde_json::json!({"exception_type": e, "exception_message": "m"})),
        });
        std::fs::write(d.join("result.json"), v.to_string()).unwrap();
        std::fs::write(d.join("trial.log"), "").unwrap();
        if let Some(r) = reward {
            std::fs::write(d.join("verifier/reward.txt"), format!("{r}\n")).unwrap();
        }
    }

    #[test]
    fn trials_are_scored_like_harbor_and_exceptions_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let j = tmp.path().join("job");
        trial(&j, "a__X1", Some(1.0), None);
        trial(&j, "b__X2", Some(0.0), Some("AgentTimeoutError"));
        trial(&j, "c__X3", None, Some("AgentTimeoutError"));
        trial(&j, "d__X4", None, Some("EnvironmentStartTimeoutError"));
        std::fs::create_dir_all(j.join("e__X5")).unwrap();
        std::fs::write(j.join("e__X5/trial.log"), "").unwrap();
        let d = import(tmp.path(), &ImportOptions::default()).unwrap();
        let st: Vec<(&str, &str, bool)> = d
            .grades
            .iter()
            .map(|g| (g.task_id.as_str(), g.status.as_str(), g.infra))
            .collect();
        assert_eq!(
            st,
            vec![
                ("a", "resolved", false),
                ("b", "unresolved", false),
                ("c", "no_reward", false),
                ("d", "infra_error", true),
                ("e", "infra_error", true),
            ]
        );
        assert_eq!(d.rollouts[0].input_tokens, Some(70));
        assert_eq!(d.rollouts[0].cached_input_tokens, Some(30));
        assert_eq!(d.rollouts[0].system, "ag__mod");
        assert!(
            d.meta
                .issues
                .iter()
                .any(|i| i.problem.contains("without result.json"))
        );
    }

    #[test]
    fn a_truncated_result_is_a_counted_failure_of_its_job_not_a_new_system() {
        let tmp = tempfile::tempdir().unwrap();
        let j = tmp.path().join("job");
        trial(&j, "a__X1", Some(1.0), None);
        trial(&j, "b__X2", Some(0.0), None);
        let cut = std::fs::read_to_string(j.join("b__X2/result.json")).unwrap();
        std::fs::write(j.join("b__X2/result.json"), &cut[..cut.len() / 2]).unwrap();
        let d = import(tmp.path(), &ImportOptions::default()).unwrap();
        let systems: Vec<&str> = d.meta.systems.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(systems, ["ag__mod"]);
        let st: Vec<(&str, &str, &str)> = d
            .grades
            .iter()
            .map(|g| (g.system.as_str(), g.task_id.as_str(), g.status.as_str()))
            .collect();
        assert_eq!(
            st,
            [
                ("ag__mod", "a", "resolved"),
                ("ag__mod", "b", "infra_error")
            ]
        );
        assert_eq!(d.meta.source.reported["unreadable_results"], 1);
        assert!(
            d.meta.issues.iter().any(
                |i| i.file.ends_with("b__X2/result.json") && i.problem.contains("invalid JSON")
            ),
            "{:?}",
            d.meta.issues
        );
    }

    #[test]
    fn a_trial_nobody_can_be_credited_with_is_reported_not_invented() {
        let tmp = tempfile::tempdir().unwrap();
        let j = tmp.path().join("job");
        trial(&j, "a__X1", Some(1.0), None);
        std::fs::create_dir_all(tmp.path().join("other/b__X2/agent")).unwrap();
        std::fs::write(tmp.path().join("other/b__X2/result.json"), "{\"trial_na").unwrap();
        let j2 = tmp.path().join("job2");
        trial(&j2, "c__X3", Some(0.0), None);
        let v = std::fs::read_to_string(j2.join("c__X3/result.json"))
            .unwrap()
            .replace("\"ag\"", "\"other-agent\"");
        std::fs::write(j2.join("c__X3/result.json"), v).unwrap();
        let d = import(tmp.path(), &ImportOptions::default()).unwrap();
        assert!(
            d.meta.systems.iter().all(|s| !s.name.contains("unknown")),
            "{:?}",
            d.meta.systems
        );
        assert_eq!(d.grades.len(), 2);
        assert_eq!(d.meta.source.reported["unattributed_trials"], 1);
    }
}
