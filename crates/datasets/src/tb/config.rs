//! `task.toml` in both Terminal-Bench layouts, normalized into [`TbTaskConfig`].
//!
//! - 2.0 (`version = "1.0"`): `[metadata]`, `[verifier] timeout_sec`, `[agent] timeout_sec`,
//!   `[environment]` with `build_timeout_sec`, `docker_image`, `cpus`, and sizes as strings
//!   (`memory = "2G"`, `storage = "10G"`) or in MiB (`memory_mb`, `storage_mb`; one 2.0 task
//!   uses them).
//! - 2.1 (`schema_version = "1.1"`): the same tables plus `[task]` (name, description,
//!   keywords, authors) and more `[environment]` keys (`allow_internet`, `workdir`, `gpus`, …).
//!
//! Defaults follow Harbor: timeouts 600 s, 1 cpu, 2048 MiB memory, 10240 MiB storage,
//! internet allowed. Every problem names the key path and its line (from toml's spans).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use agentscale_core::task::{TbFormat, TbTaskConfig};
use agentscale_core::time::MAX_TIMEOUT_SEC;
use toml::de::DeTable;
use toml::{Spanned, Table, Value};

use crate::error::Problem;

/// Keys agentscale knows per table (others get a warning, since a typo would silently fall
/// back to a default).
const TOP_KEYS: &[&str] = &[
    "version",
    "schema_version",
    "metadata",
    "verifier",
    "agent",
    "environment",
    "task",
    "source",
    "solution",
    "artifacts",
    "steps",
];
const ENV_KEYS: &[&str] = &[
    "build_timeout_sec",
    "docker_image",
    "cpus",
    "memory",
    "memory_mb",
    "storage",
    "storage_mb",
    "gpus",
    "gpu_types",
    "tpu",
    "os",
    "allow_internet",
    "mcp_servers",
    "env",
    "skills_dir",
    "healthcheck",
    "workdir",
];
const AGENT_KEYS: &[&str] = &["timeout_sec", "user", "env"];
const VERIFIER_KEYS: &[&str] = &[
    "timeout_sec",
    "env",
    "user",
    "environment_mode",
    "environment",
];

/// Default timeouts (seconds), cpus and sizes (MiB), as in Harbor.
pub const DEFAULT_TIMEOUT_SEC: f64 = 600.0;
/// Default memory in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 2048;
/// Default storage in MiB.
pub const DEFAULT_STORAGE_MB: u64 = 10240;

/// The outcome of parsing one task.toml.
#[derive(Debug, Default)]
pub(crate) struct ConfigOutcome {
    pub config: Option<TbTaskConfig>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

struct Ctx<'a> {
    text: &'a str,
    spans: Option<Spanned<DeTable<'a>>>,
    file: &'a Path,
    task: &'a str,
    out: ConfigOutcome,
}

impl Ctx<'_> {
    fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text
            .as_bytes()
            .get(..end)
            .unwrap_or_default()
            .split(|&b| b == b'\n')
            .count()
    }

    /// The span of the key at `path` (the deepest part found).
    fn span_of(&self, path: &[&str]) -> Option<Range<usize>> {
        let mut table = self.spans.as_ref()?.get_ref();
        let mut span = None;
        for (i, part) in path.iter().enumerate() {
            let (k, v) = table.get_key_value(*part)?;
            span = Some(k.span());
            if i + 1 < path.len() {
                table = v.get_ref().as_table()?;
            }
        }
        span
    }

    fn problem(&self, path: &[&str], msg: String) -> Problem {
        let mut p = Problem::new(self.file, msg)
            .id(Some(self.task))
            .key(path.join("."));
        p.line = self.span_of(path).map(|s| self.line_at(s.start));
        p
    }

    fn error(&mut self, path: &[&str], msg: impl Into<String>) {
        let p = self.problem(path, msg.into());
        self.out.errors.push(p);
    }

    fn warn(&mut self, path: &[&str], msg: impl Into<String>) {
        let p = self.problem(path, msg.into());
        self.out.warnings.push(p);
    }

    fn table<'t>(&mut self, root: &'t Table, key: &str) -> Option<&'t Table> {
        match root.get(key) {
            None => None,
            Some(Value::Table(t)) => Some(t),
            Some(v) => {
                self.error(
                    &[key],
                    format!("`{key}` must be a table (`[{key}]`), found {}", kind(v)),
                );
                None
            }
        }
    }

    fn unknown_keys(&mut self, t: &Table, prefix: &[&str], known: &[&str]) {
        for k in t.keys() {
            if !known.contains(&k.as_str()) {
                let mut path = prefix.to_vec();
                path.push(k);
                let shown = path.join(".");
                self.warn(
                    &path,
                    format!("unknown key `{shown}` (ignored; is it misspelled?)"),
                );
            }
        }
    }

    fn string(&mut self, t: Option<&Table>, path: &[&str]) -> Option<String> {
        let key = path.last().copied().unwrap_or_default();
        match t?.get(key)? {
            Value::String(s) => Some(s.clone()),
            v => {
                let shown = path.join(".");
                self.error(
                    path,
                    format!("`{shown}` must be a string, found {}", kind(v)),
                );
                None
            }
        }
    }

    /// A positive number of seconds, at most [`MAX_TIMEOUT_SEC`] (a week).
    fn timeout(&mut self, t: Option<&Table>, path: &[&str], default: f64) -> f64 {
        let v = self.positive(t, path, default);
        if v > MAX_TIMEOUT_SEC {
            self.error(
                path,
                format!(
                    "`{}` is {v} seconds, more than a week ({MAX_TIMEOUT_SEC} s); is the unit right?",
                    path.join(".")
                ),
            );
            return default;
        }
        v
    }

    fn positive(&mut self, t: Option<&Table>, path: &[&str], default: f64) -> f64 {
        let key = path.last().copied().unwrap_or_default();
        let shown = path.join(".");
        let v = match t.and_then(|t| t.get(key)) {
            None => return default,
            Some(Value::Integer(i)) => *i as f64,
            Some(Value::Float(f)) => *f,
            Some(v) => {
                self.error(
                    path,
                    format!("`{shown}` must be a number, found {}", kind(v)),
                );
                return default;
            }
        };
        if v.is_finite() && v > 0.0 {
            v
        } else {
            self.error(
                path,
                format!("`{shown}` must be a positive number, found {v}"),
            );
            default
        }
    }

    fn string_list(&mut self, t: Option<&Table>, path: &[&str]) -> Vec<String> {
        let key = path.last().copied().unwrap_or_default();
        let shown = path.join(".");
        match t.and_then(|t| t.get(key)) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        v => self.error(
                            path,
                            format!(
                                "`{shown}` item {} must be a string, found {}",
                                i + 1,
                                kind(v)
                            ),
                        ),
                    }
                }
                out
            }
            Some(v) => {
                self.error(
                    path,
                    format!("`{shown}` must be a list of strings, found {}", kind(v)),
                );
                Vec::new()
            }
        }
    }

    /// A size in MiB from `<name>` (a size string) or `<name>_mb` (an integer).
    fn size_mb(&mut self, env: Option<&Table>, name: &str, default: u64) -> u64 {
        let mb_key = format!("{name}_mb");
        let from_string = match env.and_then(|t| t.get(name)) {
            None => None,
            Some(Value::String(s)) => match parse_size_mb(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(
                        &["environment", name],
                        format!("`environment.{name}` = \"{s}\": {e}"),
                    );
                    None
                }
            },
            Some(v) => {
                self.error(
                    &["environment", name],
                    format!(
                        "`environment.{name}` must be a size string such as \"2G\" or \"512M\" \
                         (or use `{mb_key}` = <MiB>), found {}",
                        kind(v)
                    ),
                );
                None
            }
        };
        let from_mb = match env.and_then(|t| t.get(&mb_key)) {
            None => None,
            Some(Value::Integer(i)) if *i > 0 => Some(i.unsigned_abs()),
            Some(v) => {
                self.error(
                    &["environment", &mb_key],
                    format!(
                        "`environment.{mb_key}` must be a positive whole number of MiB, found {}",
                        kind_and_value(v)
                    ),
                );
                None
            }
        };
        match (from_string, from_mb) {
            (Some(a), Some(b)) if a != b => {
                self.error(
                    &["environment", &mb_key],
                    format!(
                        "`environment.{name}` ({a} MiB) and `environment.{mb_key}` ({b}) \
                         disagree; keep one of them"
                    ),
                );
                b
            }
            (_, Some(b)) => b,
            (Some(a), None) => a,
            (None, None) => default,
        }
    }
}

/// A TOML value's type, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

fn kind_and_value(v: &Value) -> String {
    match v {
        Value::Integer(i) => format!("{i}"),
        Value::Float(f) => format!("the float {f}"),
        other => kind(other).to_string(),
    }
}

/// Parse a size string (`"2G"`, `"512M"`, `"1.5GiB"`, `"1024K"`) into MiB, rounding to the
/// nearest MiB. A unit is required: a bare number is ambiguous.
pub fn parse_size_mb(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        "not a size; write a number with a unit, e.g. \"2G\" or \"512M\"".to_string()
    })?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "k" | "kb" | "kib" => 1.0 / 1024.0,
        "m" | "mb" | "mib" => 1.0,
        "g" | "gb" | "gib" => 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0,
        "" => {
            return Err("a unit is required (K, M, G or T), e.g. \"2G\" or \"512M\"".to_string());
        }
        other => {
            return Err(format!(
                "unknown unit `{other}`; use K, M, G or T, e.g. \"2G\" or \"512M\""
            ));
        }
    };
    let mb = (value * factor).round();
    if !mb.is_finite() || !(1.0..=1e12).contains(&mb) {
        return Err("the size must be between 1 MiB and 1 EiB".to_string());
    }
    Ok(mb as u64)
}

/// A TOML value as JSON (date-times become their text).
pub(crate) fn toml_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
            || serde_json::Value::String(f.to_string()),
            serde_json::Value::Number,
        ),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Parse the text of `task.toml` of task `task` (at `file`).
pub(crate) fn parse(text: &str, file: &Path, task: &str) -> ConfigOutcome {
    let root: Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let mut ctx = Ctx {
                text,
                spans: None,
                file,
                task,
                out: ConfigOutcome::default(),
            };
            let line = e.span().map(|s| ctx.line_at(s.start));
            let mut p =
                Problem::new(file, format!("invalid TOML: {}", e.message().trim())).id(Some(task));
            p.line = line;
            ctx.out.errors.push(p);
            return ctx.out;
        }
    };
    let mut ctx = Ctx {
        text,
        spans: DeTable::parse(text).ok(),
        file,
        task,
        out: ConfigOutcome::default(),
    };
    let config = build(&mut ctx, &root);
    if ctx.out.errors.is_empty() {
        ctx.out.config = Some(config);
    }
    ctx.out
}

fn build(ctx: &mut Ctx<'_>, root: &Table) -> TbTaskConfig {
    ctx.unknown_keys(root, &[], TOP_KEYS);
    let task_table = ctx.table(root, "task");
    let format = if root.contains_key("schema_version") || task_table.is_some() {
        TbFormat::V2_1
    } else {
        TbFormat::V2_0
    };
    if let Some(v) = ctx.string(Some(root), &["version"])
        && v != "1.0"
    {
        ctx.warn(
            &["version"],
            format!("task format version \"{v}\" is not \"1.0\"; reading it as 1.0"),
        );
    }
    if let Some(v) = ctx.string(Some(root), &["schema_version"])
        && !matches!(v.as_str(), "1.0" | "1.1")
    {
        ctx.warn(
            &["schema_version"],
            format!("schema_version \"{v}\" is newer than agentscale knows (1.1)"),
        );
    }

    let metadata = ctx.table(root, "metadata");
    let difficulty = ctx.string(metadata, &["metadata", "difficulty"]);
    let category = ctx.string(metadata, &["metadata", "category"]);
    let mut tags = ctx.string_list(metadata, &["metadata", "tags"]);
    for k in ctx.string_list(task_table, &["task", "keywords"]) {
        if !tags.contains(&k) {
            tags.push(k);
        }
    }
    let _ = ctx.string(task_table, &["task", "name"]);
    let _ = ctx.string(task_table, &["task", "description"]);

    let verifier = ctx.table(root, "verifier");
    if let Some(t) = verifier {
        ctx.unknown_keys(t, &["verifier"], VERIFIER_KEYS);
    }
    let agent = ctx.table(root, "agent");
    if let Some(t) = agent {
        ctx.unknown_keys(t, &["agent"], AGENT_KEYS);
    }
    let env = ctx.table(root, "environment");
    if let Some(t) = env {
        ctx.unknown_keys(t, &["environment"], ENV_KEYS);
    }
    let verifier_timeout_sec =
        ctx.timeout(verifier, &["verifier", "timeout_sec"], DEFAULT_TIMEOUT_SEC);
    let agent_timeout_sec = ctx.timeout(agent, &["agent", "timeout_sec"], DEFAULT_TIMEOUT_SEC);
    let build_timeout_sec = ctx.timeout(
        env,
        &["environment", "build_timeout_sec"],
        DEFAULT_TIMEOUT_SEC,
    );
    let cpus = ctx.positive(env, &["environment", "cpus"], 1.0);
    let docker_image = ctx
        .string(env, &["environment", "docker_image"])
        .filter(|s| !s.trim().is_empty());
    let memory_mb = ctx.size_mb(env, "memory", DEFAULT_MEMORY_MB);
    let storage_mb = ctx.size_mb(env, "storage", DEFAULT_STORAGE_MB);
    let allow_internet = match env.and_then(|t| t.get("allow_internet")) {
        None => true,
        Some(Value::Boolean(b)) => *b,
        Some(v) => {
            ctx.error(
                &["environment", "allow_internet"],
                format!(
                    "`environment.allow_internet` must be true or false, found {}",
                    kind(v)
                ),
            );
            true
        }
    };
    let workdir = ctx.string(env, &["environment", "workdir"]);
    if let Some(w) = &workdir
        && !w.starts_with('/')
    {
        ctx.error(
            &["environment", "workdir"],
            format!("`environment.workdir` must be an absolute path, found \"{w}\""),
        );
    }
    match env.and_then(|t| t.get("gpus")) {
        Some(Value::Integer(n)) if *n > 0 => ctx.warn(
            &["environment", "gpus"],
            format!("the task asks for {n} GPU(s); agentscale's sandboxes provide none"),
        ),
        _ => {}
    }
    if let Some(Value::Array(steps)) = root.get("steps")
        && !steps.is_empty()
    {
        ctx.warn(
            &["steps"],
            "multi-step tasks (`steps`) are not supported; the steps are ignored",
        );
    }

    let metadata_json: BTreeMap<String, serde_json::Value> = metadata
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect()
        })
        .unwrap_or_default();
    TbTaskConfig {
        format,
        difficulty,
        category,
        tags,
        agent_timeout_sec,
        verifier_timeout_sec,
        build_timeout_sec,
        docker_image,
        cpus,
        memory_mb,
        storage_mb,
        allow_internet,
        workdir,
        metadata: metadata_json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V20: &str = r#"version = "1.0"

[metadata]
author_name = "A"
difficulty = "easy"
category = "software-engineering"
tags = [ "coding", "version-control",]
expert_time_estimate_min = 5.0

[verifier]
timeout_sec = 900.0

[agent]
timeout_sec = 900.0

[environment]
build_timeout_sec = 600.0
docker_image = "alexgshaw/fix-git:20251031"
cpus = 1
memory = "2G"
storage = "10G"
"#;

    const V21: &str = r#"schema_version = "1.1"
artifacts = []

[task]
name = "terminal-bench/fix-git"
description = "Recover lost changes"
keywords = ["git", "coding"]

[[task.authors]]
name = "A"

[metadata]
difficulty = "easy"
tags = ["coding"]

[verifier]
timeout_sec = 900.0

[verifier.env]

[agent]
timeout_sec = 1200

[environment]
docker_image = "alexgshaw/fix-git:20260403"
cpus = 2
memory_mb = 4096
storage_mb = 10240
gpus = 0
allow_internet = false
workdir = "/app"
mcp_servers = []

[environment.env]

[solution.env]
"#;

    fn parse_ok(text: &str) -> TbTaskConfig {
        let out = parse(text, Path::new("/t/x/task.toml"), "x");
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out.config.unwrap()
    }

    #[test]
    fn reads_the_2_0_layout() {
        let c = parse_ok(V20);
        assert_eq!(c.format, TbFormat::V2_0);
        assert_eq!(c.difficulty.as_deref(), Some("easy"));
        assert_eq!(c.tags, ["coding", "version-control"]);
        assert!((c.agent_timeout_sec - 900.0).abs() < f64::EPSILON);
        assert_eq!((c.memory_mb, c.storage_mb), (2048, 10240));
        assert!(c.allow_internet);
        assert_eq!(
            c.docker_image.as_deref(),
            Some("alexgshaw/fix-git:20251031")
        );
        assert_eq!(
            c.metadata["expert_time_estimate_min"],
            serde_json::json!(5.0)
        );
    }

    #[test]
    fn reads_the_2_1_layout() {
        let c = parse_ok(V21);
        assert_eq!(c.format, TbFormat::V2_1);
        assert_eq!(c.tags, ["coding", "git"]);
        assert!((c.agent_timeout_sec - 1200.0).abs() < f64::EPSILON);
        assert!((c.cpus - 2.0).abs() < f64::EPSILON);
        assert_eq!(c.memory_mb, 4096);
        assert!(!c.allow_internet);
        assert_eq!(c.workdir.as_deref(), Some("/app"));
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let c = parse_ok("");
        assert!((c.verifier_timeout_sec - DEFAULT_TIMEOUT_SEC).abs() < f64::EPSILON);
        assert!((c.build_timeout_sec - DEFAULT_TIMEOUT_SEC).abs() < f64::EPSILON);
        assert!((c.cpus - 1.0).abs() < f64::EPSILON);
        assert_eq!(
            (c.memory_mb, c.storage_mb),
            (DEFAULT_MEMORY_MB, DEFAULT_STORAGE_MB)
        );
        assert_eq!(c.difficulty, None);
    }

    #[test]
    fn bad_value_names_key_and_line() {
        let text = V20.replace("memory = \"2G\"", "memory = \"lots\"");
        let out = parse(&text, Path::new("/t/x/task.toml"), "x");
        assert!(out.config.is_none());
        let msg = out.errors[0].to_string();
        assert!(
            msg.starts_with(
                "/t/x/task.toml:20: task x: `environment.memory` = \"lots\": not a size"
            ),
            "{msg}"
        );
        assert_eq!(out.errors[0].key.as_deref(), Some("environment.memory"));

        let text = V20.replace(
            "timeout_sec = 900.0\n\n[agent]",
            "timeout_sec = \"long\"\n\n[agent]",
        );
        let out = parse(&text, Path::new("/t/x/task.toml"), "x");
        assert_eq!(
            out.errors[0].to_string(),
            "/t/x/task.toml:11: task x: `verifier.timeout_sec` must be a number, found a string"
        );

        // Too large to be seconds (and too large for a Duration): an error, never a panic later.
        let text = V20.replace(
            "timeout_sec = 900.0\n\n[agent]",
            "timeout_sec = 1e20\n\n[agent]",
        );
        let out = parse(&text, Path::new("/t/x/task.toml"), "x");
        assert!(out.config.is_none());
        let msg = out.errors[0].to_string();
        assert!(
            msg.starts_with("/t/x/task.toml:11: task x: `verifier.timeout_sec` is 100000000000000000000 seconds, more than a week"),
            "{msg}"
        );
    }

    #[test]
    fn syntax_error_names_the_line() {
        let out = parse(
            "version = \"1.0\"\n[agent\n",
            Path::new("/t/x/task.toml"),
            "x",
        );
        assert!(
            out.errors[0]
                .to_string()
                .starts_with("/t/x/task.toml:2: task x: invalid TOML")
        );
    }

    #[test]
    fn unknown_keys_warn_and_conflicting_sizes_fail() {
        let text = V20.replace("cpus = 1", "cpus = 1\ncpu = 2\nmemory_mb = 4096");
        let out = parse(&text, Path::new("/t/x/task.toml"), "x");
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0]
                .message
                .contains("unknown key `environment.cpu`")
        );
        assert!(out.errors[0].message.contains("disagree"));
        let text = V20.replace("cpus = 1", "cpus = 0");
        let out = parse(&text, Path::new("/t/x/task.toml"), "x");
        assert!(out.errors[0].message.contains("positive"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size_mb("2G"), Ok(2048));
        assert_eq!(parse_size_mb("512M"), Ok(512));
        assert_eq!(parse_size_mb("1.5GiB"), Ok(1536));
        assert_eq!(parse_size_mb(" 10g "), Ok(10240));
        assert_eq!(parse_size_mb("2048K"), Ok(2));
        assert!(parse_size_mb("2").is_err());
        assert!(parse_size_mb("2X").is_err());
        assert!(parse_size_mb("G").is_err());
        assert!(parse_size_mb("0M").is_err());
        assert!(parse_size_mb("1e99G").is_err());
    }
}
