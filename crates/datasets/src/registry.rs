//! The dataset registry: known datasets by name, where to download them, their checksums, and
//! where fetched copies live. The main type is [`Registry`].
//!
//! `datasets/registry.toml` is compiled into the binary; an override file in the same format
//! (`--registry FILE` or `$AGENTSCALE_REGISTRY`) replaces entries by name and adds new ones.
//! Fetched copies go to `<data dir>/<name>/` where the data dir is `$AGENTSCALE_DATA_DIR`,
//! else `~/.cache/agentscale/datasets`.

use std::path::{Path, PathBuf};

use agentscale_core::Benchmark;
use serde::{Deserialize, Serialize};

use crate::error::DatasetError;

/// The registry shipped with agentscale (`datasets/registry.toml`).
pub const EMBEDDED_REGISTRY: &str = include_str!("../../../datasets/registry.toml");

/// The environment variable naming an override registry file.
pub const REGISTRY_ENV: &str = "AGENTSCALE_REGISTRY";
/// The environment variable naming the folder fetched datasets go to.
pub const DATA_DIR_ENV: &str = "AGENTSCALE_DATA_DIR";
/// The file a git fetch writes into the checkout to record what it fetched.
pub const FETCH_MARKER: &str = ".agentscale-fetch.json";

/// Where a dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// One file downloaded over HTTP(S) and checked against its sha256.
    Url {
        /// The download URL.
        url: String,
        /// The expected sha256 (lower-case hex).
        sha256: String,
        /// The file name in the cache folder.
        file: String,
    },
    /// A git repository at a pinned commit.
    Git {
        /// The repository URL.
        url: String,
        /// The full commit hash.
        commit: String,
    },
    /// A folder shipped with agentscale (relative to the project root) or anywhere on disk.
    Path {
        /// The folder.
        path: PathBuf,
    },
}

/// One known dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryEntry {
    /// The name (`swe-bench-verified`).
    pub name: String,
    /// Its benchmark.
    pub benchmark: Benchmark,
    /// One line about it.
    pub description: String,
    /// Where to read about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Where it comes from.
    pub source: Source,
    /// The registry file that defined it (`<embedded>` or a path).
    pub defined_in: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    #[serde(default)]
    dataset: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    benchmark: Benchmark,
    #[serde(default)]
    description: String,
    homepage: Option<String>,
    url: Option<String>,
    sha256: Option<String>,
    file: Option<String>,
    git: Option<String>,
    commit: Option<String>,
    path: Option<PathBuf>,
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl RawEntry {
    fn into_entry(self, index: usize, origin: &str) -> Result<RegistryEntry, DatasetError> {
        let bad = |msg: String| DatasetError::Registry {
            source_name: origin.to_string(),
            message: format!("dataset {} (`{}`): {msg}", index + 1, self.name),
        };
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            || self.name.starts_with('.')
        {
            return Err(bad(
                "a name may hold only letters, digits, `.`, `_` and `-` (it becomes a folder \
                 name), and may not start with `.`"
                    .into(),
            ));
        }
        let source = match (&self.url, &self.git, &self.path) {
            (Some(url), None, None) => {
                let sha = self.sha256.as_deref().ok_or_else(|| {
                    bad("a `url` needs its `sha256` (run `sha256sum` on the published file)".into())
                })?;
                if sha.len() != 64 || !is_hex(sha) {
                    return Err(bad(format!(
                        "`sha256` must be 64 hex digits, found \"{sha}\""
                    )));
                }
                let file = match &self.file {
                    Some(f) => f.clone(),
                    None => url
                        .split(['?', '#'])
                        .next()
                        .and_then(|u| u.rsplit('/').next())
                        .unwrap_or_default()
                        .to_string(),
                };
                if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
                    return Err(bad(format!(
                        "`file` must be a plain file name, found \"{file}\"; set `file = \"…\"`"
                    )));
                }
                if self.commit.is_some() {
                    return Err(bad("`commit` goes with `git`, not `url`".into()));
                }
                Source::Url {
                    url: url.clone(),
                    sha256: sha.to_ascii_lowercase(),
                    file,
                }
            }
            (None, Some(url), None) => {
                let commit = self.commit.as_deref().ok_or_else(|| {
                    bad("a `git` source needs its `commit` (the full hash to pin)".into())
                })?;
                if !(commit.len() == 40 || commit.len() == 64) || !is_hex(commit) {
                    return Err(bad(format!(
                        "`commit` must be a full commit hash (40 hex digits), found \"{commit}\""
                    )));
                }
                if self.sha256.is_some() || self.file.is_some() {
                    return Err(bad("`sha256` and `file` go with `url`, not `git`".into()));
                }
                Source::Git {
                    url: url.clone(),
                    commit: commit.to_ascii_lowercase(),
                }
            }
            (None, None, Some(path)) => {
                if self.sha256.is_some() || self.file.is_some() || self.commit.is_some() {
                    return Err(bad(
                        "a `path` source takes no `sha256`, `file` or `commit`".into()
                    ));
                }
                Source::Path { path: path.clone() }
            }
            _ => {
                return Err(bad(
                    "give exactly one source: `url` (+ `sha256`), `git` (+ `commit`) or `path`"
                        .into(),
                ));
            }
        };
        Ok(RegistryEntry {
            name: self.name,
            benchmark: self.benchmark,
            description: self.description,
            homepage: self.homepage,
            source,
            defined_in: origin.to_string(),
        })
    }
}

/// What a dataset argument resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path to load.
    pub path: PathBuf,
    /// The registry entry, when the argument was a name.
    pub entry: Option<RegistryEntry>,
}

/// The known datasets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registry {
    entries: Vec<RegistryEntry>,
}

/// The folder fetched datasets go to: `$AGENTSCALE_DATA_DIR`, else
/// `~/.cache/agentscale/datasets` (`./.agentscale-data` when there is no home folder).
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache/agentscale/datasets"),
        None => PathBuf::from(".agentscale-data"),
    }
}

/// Resolve a dataset argument and load it: a path, or a registry name (the embedded registry
/// plus `$AGENTSCALE_REGISTRY`, copies under [`default_data_dir`]). What `--dataset` and the
/// experiment config's `[dataset]` should call.
pub fn open(spec: &str, options: &crate::LoadOptions) -> Result<crate::Dataset, DatasetError> {
    let registry = Registry::load(None)?;
    let resolved = registry.resolve(spec, &default_data_dir())?;
    crate::load(&resolved.path, options)
}

/// Folders a relative `path` source is looked up in: the current folder, the project this
/// binary was built from, and the folders above the executable.
fn project_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    // The workspace root (two folders above this crate), without `..` in the printed path.
    if let Some(built) = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2) {
        roots.push(built.to_path_buf());
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).take(4).map(Path::to_path_buf));
    }
    roots
}

impl RegistryEntry {
    /// Where `agentscale dataset fetch` puts this dataset: `<data_dir>/<name>`.
    pub fn fetch_dir(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.name)
    }

    /// The places a local copy may be, in the order they are tried.
    pub fn candidates(&self, data_dir: &Path) -> Vec<PathBuf> {
        let fetched = self.fetch_dir(data_dir);
        match &self.source {
            Source::Url { file, .. } => vec![fetched.join(file)],
            Source::Git { .. } => vec![fetched],
            Source::Path { path } if path.is_absolute() => vec![path.clone()],
            Source::Path { path } => {
                let mut v: Vec<PathBuf> =
                    project_roots().into_iter().map(|r| r.join(path)).collect();
                v.push(fetched);
                v
            }
        }
    }

    /// The local copy, if there is one.
    pub fn local_path(&self, data_dir: &Path) -> Option<PathBuf> {
        self.candidates(data_dir).into_iter().find(|p| p.exists())
    }

    /// A short description of the source (`url …`, `git … @ commit`, `path …`).
    pub fn source_text(&self) -> String {
        match &self.source {
            Source::Url { url, .. } => url.clone(),
            Source::Git { url, commit } => format!("{url} @ {commit}"),
            Source::Path { path } => format!("{} (shipped with agentscale)", path.display()),
        }
    }
}

impl Registry {
    /// Parse a registry file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, DatasetError> {
        let raw: RawRegistry = toml::from_str(text).map_err(|e| DatasetError::Registry {
            source_name: origin.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        let mut reg = Registry::default();
        for (i, raw) in raw.dataset.into_iter().enumerate() {
            let entry = raw.into_entry(i, origin)?;
            if reg.get(&entry.name).is_some() {
                return Err(DatasetError::Registry {
                    source_name: origin.to_string(),
                    message: format!("dataset `{}` is defined twice", entry.name),
                });
            }
            reg.entries.push(entry);
        }
        Ok(reg)
    }

    /// The registry compiled into agentscale.
    pub fn embedded() -> Result<Self, DatasetError> {
        Self::parse(EMBEDDED_REGISTRY, "<embedded datasets/registry.toml>")
    }

    /// The embedded registry with an override file merged in: `override_file`, else
    /// `$AGENTSCALE_REGISTRY` when set.
    pub fn load(override_file: Option<&Path>) -> Result<Self, DatasetError> {
        let mut reg = Self::embedded()?;
        let from_env = std::env::var_os(REGISTRY_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if let Some(path) = override_file.map(Path::to_path_buf).or(from_env) {
            let text = std::fs::read_to_string(&path).map_err(|e| DatasetError::Registry {
                source_name: path.display().to_string(),
                message: format!("cannot read the override registry: {e}"),
            })?;
            reg.merge(Self::parse(&text, &path.display().to_string())?);
        }
        Ok(reg)
    }

    /// Add `other`'s entries, replacing those with the same name.
    pub fn merge(&mut self, other: Registry) {
        for e in other.entries {
            match self.entries.iter_mut().find(|x| x.name == e.name) {
                Some(slot) => *slot = e,
                None => self.entries.push(e),
            }
        }
    }

    /// All entries, in file order.
    pub fn entries(&self) -> &[RegistryEntry] {
        &self.entries
    }

    /// The entry with this name.
    pub fn get(&self, name: &str) -> Option<&RegistryEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The entry with this name, or an error listing the known names.
    pub fn require(&self, name: &str) -> Result<&RegistryEntry, DatasetError> {
        self.get(name).ok_or_else(|| DatasetError::UnknownDataset {
            name: name.to_string(),
            known: self.entries.iter().map(|e| e.name.clone()).collect(),
        })
    }

    /// Resolve a dataset argument: an existing path is used as is; otherwise a registry name
    /// resolves to its local copy, or to an error saying how to fetch it.
    pub fn resolve(&self, spec: &str, data_dir: &Path) -> Result<Resolved, DatasetError> {
        let as_path = Path::new(spec);
        if as_path.exists() {
            return Ok(Resolved {
                path: as_path.to_path_buf(),
                entry: None,
            });
        }
        let looks_like_path = spec.contains(['/', '\\'])
            || Path::new(spec).extension().is_some_and(|e| {
                ["jsonl", "json", "parquet", "toml"]
                    .iter()
                    .any(|x| e.eq_ignore_ascii_case(x))
            });
        if looks_like_path && self.get(spec).is_none() {
            return Err(DatasetError::NotFound {
                path: as_path.to_path_buf(),
            });
        }
        let entry = self.require(spec)?;
        match entry.local_path(data_dir) {
            Some(path) => Ok(Resolved {
                path,
                entry: Some(entry.clone()),
            }),
            None => Err(DatasetError::NotFetched {
                name: entry.name.clone(),
                looked: entry.candidates(data_dir),
            }),
        }
    }

    /// Resolve `DATASET:ID` (or `DATASET` alone) into the dataset and the id. The whole
    /// argument is tried as a dataset first, so paths holding `:` still work.
    pub fn resolve_with_id(
        &self,
        spec: &str,
        data_dir: &Path,
    ) -> Result<(Resolved, Option<String>), DatasetError> {
        let whole = self.resolve(spec, data_dir);
        match whole {
            Ok(r) => Ok((r, None)),
            Err(e) => match spec.rsplit_once(':') {
                Some((ds, id)) if !ds.is_empty() && !id.is_empty() => {
                    Ok((self.resolve(ds, data_dir)?, Some(id.to_string())))
                }
                _ => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_registry_has_the_known_datasets() {
        let r = Registry::embedded().unwrap();
        let names: Vec<&str> = r.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "swe-bench-verified",
                "terminal-bench-2.0",
                "demo-swe",
                "demo-tb"
            ]
        );
        let v = r.get("swe-bench-verified").unwrap();
        assert_eq!(
            v.source,
            Source::Url {
                url: "https://huggingface.co/datasets/princeton-nlp/SWE-bench_Verified/resolve/main/data/test-00000-of-00001.parquet".into(),
                sha256: "43ed5a3d1d98da36472c1ade65ddd2085d7b4ff694fcaf6a023a07c5c1f32f21".into(),
                file: "test-00000-of-00001.parquet".into(),
            }
        );
        assert!(matches!(
            &r.get("terminal-bench-2.0").unwrap().source,
            Source::Git { commit, .. } if commit == "69671fbaac6d67a7ef0dfec016cc38a64ef7a77c"
        ));
        assert_eq!(
            r.get("demo-tb").unwrap().benchmark,
            Benchmark::TerminalBench
        );
    }

    #[test]
    fn malformed_entries_are_explained() {
        let cases = [
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"swe-bench\"\n",
                "exactly one source",
            ),
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"swe-bench\"\nurl = \"http://x/y\"\n",
                "needs its `sha256`",
            ),
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"swe-bench\"\nurl = \"http://x/y\"\nsha256 = \"abc\"\n",
                "64 hex digits",
            ),
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"terminal-bench\"\ngit = \"x\"\ncommit = \"main\"\n",
                "full commit hash",
            ),
            (
                "[[dataset]]\nname = \"a/b\"\nbenchmark = \"swe-bench\"\npath = \"x\"\n",
                "a name may hold only",
            ),
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"swe\"\npath = \"x\"\n",
                "unknown variant",
            ),
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"swe-bench\"\npath = \"x\"\nsize = 3\n",
                "unknown field `size`",
            ),
            (
                "[[dataset]]\nname = \"a\"\nbenchmark = \"swe-bench\"\npath = \"x\"\n[[dataset]]\nname = \"a\"\nbenchmark = \"swe-bench\"\npath = \"y\"\n",
                "defined twice",
            ),
        ];
        for (text, want) in cases {
            let e = Registry::parse(text, "r.toml").unwrap_err().to_string();
            assert!(e.starts_with("registry r.toml: "), "{e}");
            assert!(e.contains(want), "{want:?} not in {e}");
        }
    }

    #[test]
    fn overrides_replace_by_name_and_add() {
        let mut r = Registry::embedded().unwrap();
        let o = Registry::parse(
            "[[dataset]]\nname = \"demo-swe\"\nbenchmark = \"swe-bench\"\npath = \"/elsewhere\"\n\
             [[dataset]]\nname = \"mine\"\nbenchmark = \"terminal-bench\"\npath = \"/m\"\n",
            "o.toml",
        )
        .unwrap();
        r.merge(o);
        assert_eq!(r.entries().len(), 5);
        assert_eq!(r.get("demo-swe").unwrap().defined_in, "o.toml");
        assert_eq!(r.entries()[2].name, "demo-swe");
    }

    #[test]
    fn resolution_prefers_paths_then_fetched_copies() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let r = Registry::embedded().unwrap();
        let e = r.resolve("swe-bench-verified", &data).unwrap_err();
        assert!(e.is_usage());
        let msg = e.to_string();
        assert!(
            msg.contains("run `agentscale dataset fetch swe-bench-verified`"),
            "{msg}"
        );
        let copy = data.join("swe-bench-verified/test-00000-of-00001.parquet");
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::write(&copy, "x").unwrap();
        let got = r.resolve("swe-bench-verified", &data).unwrap();
        assert_eq!(got.path, copy);
        let (got, id) = r
            .resolve_with_id("swe-bench-verified:django__django-11099", &data)
            .unwrap();
        assert_eq!(
            (got.path, id.as_deref()),
            (copy.clone(), Some("django__django-11099"))
        );
        let path = copy.display().to_string();
        let (got, id) = r.resolve_with_id(&format!("{path}:x-1"), &data).unwrap();
        assert_eq!((got.path, id.as_deref()), (copy, Some("x-1")));
        let e = r.resolve("data/x.jsonl", &data).unwrap_err().to_string();
        assert_eq!(e, "data/x.jsonl: no such file or folder");
        let e = r.resolve("nonesuch", &data).unwrap_err().to_string();
        assert!(
            e.contains("known: swe-bench-verified, terminal-bench-2.0, demo-swe, demo-tb"),
            "{e}"
        );
    }
}
