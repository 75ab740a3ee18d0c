//! Loading a config: file → profiles → `--set` overrides → schema check → typed config →
//! semantic checks → sweep expansion.
//!
//! The main entry points are [`load`] and [`load_str`]; they return a [`LoadedConfig`] or a
//! [`ConfigError`] listing every problem found, each with its place (file, line and column;
//! the profile; or the `--set` argument) and the key path.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::doc::{self, Document, KeyPath, Origin, Origins, Seg};
use super::schema::{self, IssueKind};
use super::types::ExperimentConfig;
use super::{checks, json_schema};

/// One problem in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where to fix it.
    pub origin: Origin,
    /// The key path concerned, if any.
    pub path: Option<KeyPath>,
    /// What is wrong and, where useful, what to do.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config has problems; all of them are listed.
    #[error("{}", render_issues(file, issues, *partial))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found.
        issues: Vec<Issue>,
        /// True when the pass ended early — at a TOML syntax error the parser could not get
        /// past, or with values too broken to check further — so that more problems may
        /// follow once these are fixed.
        partial: bool,
    },
}

fn render_issues(file: &Path, issues: &[Issue], partial: bool) -> String {
    let mut s = format!(
        "{} problem{} in the config {}; nothing was started:",
        issues.len(),
        if issues.len() == 1 { "" } else { "s" },
        file.display()
    );
    for i in issues {
        s.push_str("\n  ");
        s.push_str(&i.to_string());
    }
    if partial {
        s.push_str(
            "\n  (the checks stopped early at these problems: more may follow once they are \
             fixed)",
        );
    }
    s
}

impl ConfigError {
    /// The problems (empty for a read error).
    pub fn issues(&self) -> &[Issue] {
        match self {
            Self::Read { .. } => &[],
            Self::Invalid { issues, .. } => issues,
        }
    }
}

/// Tells whether an environment variable is set (non-empty). Injected so that tests and
/// `configs/` validation do not depend on the real environment.
pub type EnvProbe = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How to load a config.
#[derive(Clone)]
pub struct LoadOptions {
    /// Profiles to merge over the file, in order (`--profile`).
    pub profiles: Vec<String>,
    /// `key.path=value` overrides (`--set`), applied after the profiles.
    pub overrides: Vec<String>,
    /// The folder relative paths on the command line are relative to.
    pub cwd: PathBuf,
    /// Whether an environment variable is set.
    pub env_has: EnvProbe,
    /// Check that dataset paths and template files exist.
    pub check_files: bool,
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("profiles", &self.profiles)
            .field("overrides", &self.overrides)
            .field("cwd", &self.cwd)
            .field("check_files", &self.check_files)
            .finish_non_exhaustive()
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            profiles: Vec::new(),
            overrides: Vec::new(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            env_has: Arc::new(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty())),
            check_files: true,
        }
    }
}

/// One configuration of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// A readable, stable label (`group_size=4,votes=8`; `default` without a sweep).
    pub label: String,
    /// The swept values, by key path.
    pub values: Vec<(String, Value)>,
    /// The full config of this point (its `sweep` table is empty).
    pub config: ExperimentConfig,
}

/// A loaded, validated config.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file it came from.
    pub file: PathBuf,
    /// The config with profiles and overrides applied and relative paths made absolute; its
    /// `sweep` table is kept and `profiles` is emptied.
    pub base: ExperimentConfig,
    /// The sweep's configurations (one, labelled `default`, without a sweep).
    pub points: Vec<SweepPoint>,
    /// Profiles applied.
    pub profiles: Vec<String>,
    /// Overrides applied.
    pub overrides: Vec<String>,
    /// Things worth a warning that do not stop the run.
    pub warnings: Vec<Issue>,
    /// The agent configurations resolved by the agents crate, by benchmark (JSON), for the
    /// header of `run.toml`; filled when the run is prepared.
    pub agents: Vec<(String, String)>,
}

/// Load a config file.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(path, &text, opts)
}

/// Load a config from text; `file` names it in messages and anchors its relative paths.
///
/// Every problem is collected in one pass: TOML problems the parser gets past (a duplicated
/// key), the schema check (unknown keys, wrong types, values out of range) and the semantic
/// checks (API key variables, dataset paths, ...). The semantic checks run on the config with
/// the values the schema rejected left out, so a wrong type does not hide an unset variable.
/// Only a syntax error the parser cannot get past, or a config too broken to be typed at all,
/// ends the pass early ([`ConfigError::Invalid`] then says `partial`).
pub fn load_str(file: &Path, text: &str, opts: &LoadOptions) -> Result<LoadedConfig, ConfigError> {
    let invalid = |issues: Vec<Issue>, partial: bool| ConfigError::Invalid {
        file: file.to_path_buf(),
        issues: sorted(issues),
        partial,
    };
    let syntax_issue = |e: doc::SyntaxError| Issue {
        origin: e.origin,
        path: e.path,
        message: format!("TOML syntax: {}", e.message),
    };
    let parsed = doc::parse_toml(file, text)
        .map_err(|errors| invalid(errors.into_iter().map(syntax_issue).collect(), true))?;
    let mut document = parsed.document;
    let mut issues: Vec<Issue> = parsed.problems.into_iter().map(syntax_issue).collect();
    let schema = json_schema();

    let profiles = take_profiles(&mut document, &schema, opts, &mut issues);
    apply_overrides(&mut document, &schema, &opts.overrides, &mut issues);
    // Values the parser could not convert are already reported; the schema would only add
    // "got nothing" at the same place.
    let unreadable: Vec<KeyPath> = issues.iter().filter_map(|i| i.path.clone()).collect();
    for i in schema::validate(&schema, &Value::Object(document.root.clone())) {
        if unreadable.iter().any(|u| i.path.starts_with(u)) {
            continue;
        }
        issues.push(Issue {
            origin: match i.kind {
                IssueKind::UnknownKey => document.origins.key(&i.path),
                IssueKind::Missing | IssueKind::BadValue => document.origins.value(&i.path),
            },
            path: Some(i.path),
            message: i.message,
        });
    }
    let sweep = check_sweep(&document, &schema, &mut issues);

    // What is already reported is left out, so that the rest can still be typed and checked.
    let reported: Vec<KeyPath> = issues.iter().filter_map(|i| i.path.clone()).collect();
    let mut root = document.root.clone();
    for path in &reported {
        doc::remove(&mut root, path);
    }
    let already_reported = |i: &Issue| {
        i.path
            .as_ref()
            .is_some_and(|p| reported.iter().any(|r| p.starts_with(r)))
    };

    let base_dir = file
        .parent()
        .map_or_else(|| opts.cwd.clone(), Path::to_path_buf);
    let base_dir = if base_dir.as_os_str().is_empty() {
        opts.cwd.clone()
    } else {
        opts.cwd.join(base_dir)
    };
    let dirs = Dirs {
        file_dir: base_dir,
        cwd: opts.cwd.clone(),
    };
    let base = match typed(&root, &document.origins, &dirs) {
        Ok(c) => c,
        // Too broken to type (a required table is missing or wrong): the semantic checks
        // cannot run, so more problems may follow.
        Err(_) if !issues.is_empty() => return Err(invalid(issues, true)),
        Err(i) => return Err(invalid(vec![i], false)),
    };
    let mut warnings = Vec::new();
    let base_issues: Vec<Issue> = checks::check(&base, &document.origins, opts, &mut warnings)
        .into_iter()
        .filter(|i| !already_reported(i))
        .collect();
    issues.extend(base_issues.iter().cloned());

    let mut points = Vec::new();
    for values in expand(&sweep) {
        let mut root = root.clone();
        root.remove("sweep");
        let mut origins = document.origins.clone();
        for (path, value, origin) in &values {
            // validated in check_sweep, so the path exists
            let _ = doc::set(&mut root, path, value.clone());
            origins.clear_below(path);
            origins.insert(path.clone(), None, origin.clone());
        }
        let label = label_of(&values);
        match typed(&root, &origins, &dirs) {
            Ok(config) => {
                if !values.is_empty() {
                    let mut w = Vec::new();
                    // A problem the base config has too is reported once, not per point.
                    for mut i in checks::check(&config, &origins, opts, &mut w) {
                        if base_issues.contains(&i) || already_reported(&i) {
                            continue;
                        }
                        i.message = format!("sweep point {label}: {}", i.message);
                        issues.push(i);
                    }
                }
                points.push(SweepPoint {
                    label,
                    values: values
                        .iter()
                        .map(|(p, v, _)| (p.to_string(), v.clone()))
                        .collect(),
                    config,
                });
            }
            Err(mut i) => {
                i.message = format!("sweep point {label}: {}", i.message);
                issues.push(i);
            }
        }
    }
    if !issues.is_empty() {
        return Err(invalid(issues, false));
    }
    Ok(LoadedConfig {
        file: file.to_path_buf(),
        base,
        points,
        profiles,
        overrides: opts.overrides.clone(),
        warnings,
        agents: Vec::new(),
    })
}

/// Errors in file order, command-line ones last.
fn sorted(mut issues: Vec<Issue>) -> Vec<Issue> {
    issues.sort_by_key(|i| match &i.origin {
        Origin::File { line, column, .. } => (0, *line, *column),
        Origin::Override { .. } | Origin::Flag { .. } => (1, 0, 0),
        Origin::Default => (2, 0, 0),
    });
    issues.dedup();
    issues
}

/// Check every profile, then merge the selected ones over the document. Returns the names
/// applied.
fn take_profiles(
    document: &mut Document,
    schema: &Value,
    opts: &LoadOptions,
    issues: &mut Vec<Issue>,
) -> Vec<String> {
    let profiles = match document.root.remove("profiles") {
        Some(Value::Object(p)) => p,
        Some(_) => {
            issues.push(Issue {
                origin: document.origins.value(&KeyPath::root().key("profiles")),
                path: Some(KeyPath::root().key("profiles")),
                message: "profiles must be a table of tables ([profiles.NAME])".into(),
            });
            return Vec::new();
        }
        None => Map::new(),
    };
    let profiles_path = KeyPath::root().key("profiles");
    for (name, body) in &profiles {
        let ppath = profiles_path.key(name);
        let Value::Object(body) = body else {
            issues.push(Issue {
                origin: document.origins.value(&ppath),
                path: Some(ppath.clone()),
                message: format!("profile `{name}` must be a table ([profiles.{name}])"),
            });
            continue;
        };
        if body.contains_key("profiles") {
            issues.push(Issue {
                origin: document.origins.value(&ppath),
                path: Some(ppath.clone()),
                message: format!("profile `{name}` cannot define profiles"),
            });
            continue;
        }
        // Validate the profile's own keys by checking base ⊕ profile and keeping the problems
        // that lie inside the profile.
        let mut merged = document.root.clone();
        let touched = doc::merge(&mut merged, body, &KeyPath::root());
        let mut origins = document.origins.clone();
        origins.graft(&ppath, &KeyPath::root());
        for i in schema::validate(schema, &Value::Object(merged)) {
            if touched.iter().any(|t| i.path.starts_with(t)) {
                issues.push(Issue {
                    origin: match i.kind {
                        IssueKind::UnknownKey => origins.key(&i.path),
                        _ => origins.value(&i.path),
                    },
                    path: Some(i.path.clone()),
                    message: format!("profile `{name}`: {}", i.message),
                });
            }
        }
    }
    let mut applied = Vec::new();
    for name in &opts.profiles {
        match profiles.get(name) {
            Some(Value::Object(body)) => {
                let touched = doc::merge(&mut document.root, body, &KeyPath::root());
                let ppath = profiles_path.key(name);
                for t in &touched {
                    document.origins.clear_below(t);
                }
                document.origins.graft(&ppath, &KeyPath::root());
                applied.push(name.clone());
            }
            Some(_) => {}
            None => {
                let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
                issues.push(Issue {
                    origin: Origin::Flag {
                        arg: format!("--profile {name}"),
                    },
                    path: None,
                    message: if known.is_empty() {
                        format!("no profile `{name}`: the config defines no [profiles.*] tables")
                    } else {
                        format!(
                            "no profile `{name}`; the config defines: {}",
                            known.join(", ")
                        )
                    },
                });
            }
        }
    }
    applied
}

/// Apply `--set key=value` overrides; values are typed by the schema at the key.
fn apply_overrides(
    document: &mut Document,
    schema: &Value,
    overrides: &[String],
    issues: &mut Vec<Issue>,
) {
    for arg in overrides {
        let origin = Origin::Override { arg: arg.clone() };
        let mut push = |path: Option<KeyPath>, message: String| {
            issues.push(Issue {
                origin: origin.clone(),
                path,
                message,
            });
        };
        let Some((key, raw)) = arg.split_once('=') else {
            push(None, "expected KEY=VALUE, e.g. scaling.group_size=4".into());
            continue;
        };
        let path = match KeyPath::parse(key.trim()) {
            Ok(p) => p,
            Err(e) => {
                push(None, e);
                continue;
            }
        };
        if matches!(path.0.first(), Some(Seg::Key(k)) if k == "profiles") {
            push(
                Some(path),
                "profiles cannot be set from the command line; use --profile".into(),
            );
            continue;
        }
        let node = match schema::node_at(schema, &path) {
            Ok(n) => n,
            Err(e) => {
                push(Some(path), e);
                continue;
            }
        };
        let value = typed_override(schema, node, &path, raw);
        if let Err(e) = doc::set(&mut document.root, &path, value) {
            push(Some(path), e);
            continue;
        }
        document.origins.clear_below(&path);
        document.origins.insert(path, Some(origin.clone()), origin);
    }
}

/// Read an override's text as the schema at its key expects: TOML syntax (`4`, `true`,
/// `[2, 4]`, `"x"`) where it parses to an accepted value, else the verbatim text when the key
/// takes strings.
fn typed_override(schema: &Value, node: &Value, path: &KeyPath, raw: &str) -> Value {
    let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|t| t.get("v").cloned())
        .and_then(|v| serde_json::to_value(v).ok());
    if let Some(v) = &parsed
        && schema::validate_at(schema, path, v).is_ok_and(|i| i.is_empty())
    {
        return v.clone();
    }
    if schema::accepts_string(schema, node) {
        return Value::String(raw.to_string());
    }
    parsed.unwrap_or_else(|| Value::String(raw.to_string()))
}

/// A validated sweep entry: the key path, its values and their places.
type SweepAxis = (KeyPath, Vec<(Value, Origin)>);

fn check_sweep(document: &Document, schema: &Value, issues: &mut Vec<Issue>) -> Vec<SweepAxis> {
    let Some(Value::Object(sweep)) = document.root.get("sweep") else {
        return Vec::new();
    };
    let sweep_path = KeyPath::root().key("sweep");
    let mut axes = Vec::new();
    for (key, values) in sweep {
        let entry = sweep_path.key(key);
        let origin = document.origins.key(&entry);
        let mut push = |message: String| {
            issues.push(Issue {
                origin: origin.clone(),
                path: Some(entry.clone()),
                message: format!("sweep key \"{key}\": {message}"),
            });
        };
        let path = match KeyPath::parse(key) {
            Ok(p) => p,
            Err(e) => {
                push(e);
                continue;
            }
        };
        let first = match path.0.first() {
            Some(Seg::Key(k)) => k.as_str(),
            _ => "",
        };
        if matches!(first, "sweep" | "profiles" | "sandbox" | "grading")
            || path.to_string() == "experiment.name"
            || path.to_string() == "experiment.output"
            || path.to_string() == "experiment.infra_retries"
        {
            push(format!(
                "{path} cannot be swept (sweeps vary what is run and selected: dataset, models, \
                 agent, scaling, the seed)"
            ));
            continue;
        }
        if let Err(e) = schema::node_at(schema, &path) {
            push(e);
            continue;
        }
        if doc::get(&document.root, &path).is_none() {
            // A list index must exist (models[3] of two models); tables are created on demand.
            let mut probe = document.root.clone();
            if let Err(e) = doc::set(&mut probe, &path, Value::Null) {
                push(e);
                continue;
            }
        }
        let Value::Array(list) = values else {
            continue; // the schema check reports it
        };
        if list.is_empty() {
            push("needs at least one value".into());
            continue;
        }
        let mut ok = Vec::new();
        let mut bad_values = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let vorigin = document.origins.value(&entry.index(i));
            match schema::validate_at(schema, &path, v) {
                Ok(found) if found.is_empty() => ok.push((v.clone(), vorigin)),
                Ok(found) => {
                    for f in found {
                        bad_values.push(Issue {
                            origin: vorigin.clone(),
                            path: Some(entry.index(i)),
                            message: format!("sweep key \"{key}\": {}", f.message),
                        });
                    }
                }
                Err(e) => push(e),
            }
        }
        issues.extend(bad_values);
        axes.push((path, ok));
    }
    axes
}

/// The grid of a sweep, in key order with the last key varying fastest.
fn expand(axes: &[SweepAxis]) -> Vec<Vec<(KeyPath, Value, Origin)>> {
    let mut grid: Vec<Vec<(KeyPath, Value, Origin)>> = vec![Vec::new()];
    for (path, values) in axes {
        let mut next = Vec::with_capacity(grid.len() * values.len());
        for point in &grid {
            for (v, o) in values {
                let mut p = point.clone();
                p.push((path.clone(), v.clone(), o.clone()));
                next.push(p);
            }
        }
        grid = next;
    }
    grid
}

fn label_of(values: &[(KeyPath, Value, Origin)]) -> String {
    if values.is_empty() {
        return "default".into();
    }
    // Use the last key alone where it is unambiguous.
    let lasts: Vec<String> = values
        .iter()
        .map(|(p, _, _)| p.last_key().map_or_else(|| p.to_string(), str::to_string))
        .collect();
    let unique = {
        let mut s = lasts.clone();
        s.sort();
        s.dedup();
        s.len() == lasts.len()
    };
    values
        .iter()
        .zip(&lasts)
        .map(|((p, v, _), last)| {
            let k = if unique { last.clone() } else { p.to_string() };
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

struct Dirs {
    file_dir: PathBuf,
    cwd: PathBuf,
}

/// Deserialize the checked document and make relative paths absolute (against the config
/// file's folder for values from the file, the working directory otherwise).
fn typed(
    root: &Map<String, Value>,
    origins: &Origins,
    dirs: &Dirs,
) -> Result<ExperimentConfig, Issue> {
    let mut cfg: ExperimentConfig =
        serde_json::from_value(Value::Object(root.clone())).map_err(|e| Issue {
            origin: origins.fallback.clone().unwrap_or(Origin::Default),
            path: None,
            message: format!("{e}"),
        })?;
    let abs = |p: &Path, path: &KeyPath| -> PathBuf {
        if p.is_absolute() {
            return p.to_path_buf();
        }
        let base = match origins.exact(path) {
            Some(Origin::File { .. }) => &dirs.file_dir,
            _ => &dirs.cwd,
        };
        normalize(&base.join(p))
    };
    let root_path = KeyPath::root();
    let out = root_path.key("experiment").key("output");
    cfg.experiment.output = abs(&cfg.experiment.output, &out);
    let dp = root_path.key("dataset").key("path");
    if let Some(paths) = &mut cfg.dataset.path {
        match paths {
            super::types::OneOrMany::One(p) => *p = abs(p, &dp),
            super::types::OneOrMany::Many(ps) => {
                for (i, p) in ps.iter_mut().enumerate() {
                    *p = abs(p, &dp.index(i));
                }
            }
        }
    }
    let tp = root_path.key("agent").key("templates");
    let t = &mut cfg.agent.templates;
    for (name, slot) in [
        ("system", &mut t.system),
        ("instance", &mut t.instance),
        ("format_error", &mut t.format_error),
        ("timeout", &mut t.timeout),
        ("observation", &mut t.observation),
        ("refinement", &mut t.refinement),
    ] {
        if let Some(p) = slot {
            *p = abs(p, &tp.key(name));
        }
    }
    Ok(cfg)
}

/// Remove `.` and `..` components without touching the filesystem.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
