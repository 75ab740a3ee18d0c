//! Writing a run directory's report ([`write_report`]) and combining several runs into one
//! ([`merge_runs`]) for `agentscale report RUN…` and `agentscale leaderboard RUN…`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::build::{BuildOptions, Report, build_all};
use crate::error::ReportError;
use crate::io::{Format, RUN_JSON, TABLES_DIR, write_input_tables, write_table};
use crate::tables::{Issue, RunData, RunMeta, RunSource, Texts};

/// Options of [`write_report`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// What to write: CSV and Parquet tables, `report.md`, `report.html`.
    pub formats: Vec<Format>,
    /// Bootstrap seed and resamples.
    pub build: BuildOptions,
    /// Also write `run.json` (the metadata) at the top of the folder (importers do).
    pub run_json: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            formats: vec![Format::Csv, Format::Parquet, Format::Markdown, Format::Html],
            build: BuildOptions::default(),
            run_json: false,
        }
    }
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The derived tables.
    pub report: Report,
    /// Every file written.
    pub files: Vec<PathBuf>,
}

/// Build every table of `data` and write them under `dir`: `dir/tables/` (the canonical
/// tables, `meta.json`, and every derived table, as CSV and/or Parquet), `dir/report.md`
/// and `dir/report.html` when asked for, and `dir/run.json` when `opts.run_json`.
pub fn write_report(
    dir: &Path,
    data: &RunData,
    opts: &ReportOptions,
) -> Result<Written, ReportError> {
    let report = build_all(data, &opts.build);
    let tables = dir.join(TABLES_DIR);
    let table_formats: Vec<Format> = opts
        .formats
        .iter()
        .copied()
        .filter(|f| matches!(f, Format::Csv | Format::Parquet))
        .collect();
    let mut files = write_input_tables(&tables, data, &table_formats)?;
    for t in report.tables() {
        files.extend(write_table(&tables, &t, &table_formats)?);
    }
    if opts.formats.contains(&Format::Markdown) {
        let p = dir.join("report.md");
        let text = crate::render::markdown::report(data, &report);
        agentscale_core::fsutil::atomic_write(&p, text.as_bytes())
            .map_err(|e| ReportError::io(&p, e))?;
        files.push(p);
    }
    if opts.formats.contains(&Format::Html) {
        let p = dir.join("report.html");
        let text = crate::render::html::report(data, &report);
        agentscale_core::fsutil::atomic_write(&p, text.as_bytes())
            .map_err(|e| ReportError::io(&p, e))?;
        files.push(p);
    }
    if opts.run_json {
        let p = dir.join(RUN_JSON);
        agentscale_core::fsutil::write_json_atomic(&p, &data.meta)
            .map_err(|e| ReportError::io(&p, e))?;
        files.push(p);
    }
    Ok(Written { report, files })
}

/// Combine runs into one for a joint leaderboard or report. One run is returned unchanged.
/// With several, rollout ids are prefixed with `<run id>/` (they need only be unique within
/// a run), and a system name that appears in more than one run becomes `<run id>/<system>`
/// everywhere. Issues keep their run's id in the file name.
pub fn merge_runs(mut runs: Vec<RunData>) -> RunData {
    if runs.len() == 1 {
        return runs.pop().unwrap_or_default();
    }
    // Make run ids distinct.
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for r in &mut runs {
        if r.meta.run_id.is_empty() {
            r.meta.run_id = "run".into();
        }
        let n = seen.entry(r.meta.run_id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            r.meta.run_id = format!("{}#{}", r.meta.run_id, n);
        }
    }
    let mut owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &runs {
        let mut names: BTreeSet<String> = r.meta.systems.iter().map(|s| s.name.clone()).collect();
        names.extend(r.rollouts.iter().map(|x| x.system.clone()));
        names.extend(r.grades.iter().map(|x| x.system.clone()));
        for n in names {
            owners.entry(n).or_default().insert(r.meta.run_id.clone());
        }
    }
    let benchmarks: BTreeSet<_> = runs.iter().map(|r| r.meta.benchmark).collect();
    let mut out = RunData::new(RunMeta {
        run_id: runs
            .iter()
            .map(|r| r.meta.run_id.clone())
            .collect::<Vec<_>>()
            .join("+"),
        benchmark: if benchmarks.len() == 1 {
            benchmarks.into_iter().next().flatten()
        } else {
            None
        },
        seed: runs.first().map_or(0, |r| r.meta.seed),
        source: RunSource {
            kind: "merged".into(),
            path: None,
            reported: BTreeMap::new(),
        },
        ..RunMeta::default()
    });
    for r in runs {
        let id = r.meta.run_id.clone();
        let rename = |s: &str| -> String {
            if owners.get(s).is_some_and(|o| o.len() > 1) {
                format!("{id}/{s}")
            } else {
                s.to_string()
            }
        };
        let rid = |s: &str| format!("{id}/{s}");
        for mut m in r.meta.systems {
            m.name = rename(&m.name);
            out.meta.systems.push(m);
        }
        for i in r.meta.issues {
            out.meta.issues.push(Issue {
                file: format!("[{id}] {}", i.file),
                problem: i.problem,
            });
        }
        for (k, v) in r.meta.source.reported {
            out.meta.source.reported.insert(format!("{id}/{k}"), v);
        }
        for mut x in r.rollouts {
            x.system = rename(&x.system);
            x.rollout_id = rid(&x.rollout_id);
            x.context = x.context.iter().map(|c| rid(c)).collect();
            out.rollouts.push(x);
        }
        for mut x in r.grades {
            x.system = rename(&x.system);
            x.rollout_id = rid(&x.rollout_id);
            out.grades.push(x);
        }
        for mut x in r.summaries {
            x.system = rename(&x.system);
            x.rollout_id = rid(&x.rollout_id);
            x.summary_id = rid(&x.summary_id);
            out.summaries.push(x);
        }
        for (k, v) in r.texts.summaries {
            out.texts.summaries.insert(rid(&k), v);
        }
        for mut x in r.votes {
            if let Some(reply) = r.texts.replies.get(&Texts::vote_key(&x)) {
                let reply = reply.clone();
                x.system = rename(&x.system);
                out.texts.replies.insert(Texts::vote_key(&x), reply);
            }
            x.system = rename(&x.system);
            x.candidates = x.candidates.iter().map(|c| rid(c)).collect();
            x.shown = x.shown.iter().map(|c| rid(c)).collect();
            x.chosen = x.chosen.as_deref().map(rid);
            out.votes.push(x);
        }
        for mut x in r.selections {
            x.system = rename(&x.system);
            x.candidates = x.candidates.iter().map(|c| rid(c)).collect();
            x.winner = x.winner.as_deref().map(rid);
            out.selections.push(x);
        }
        for mut x in r.timing {
            x.system = rename(&x.system);
            out.timing.push(x);
        }
    }
    out.normalize();
    out
}
