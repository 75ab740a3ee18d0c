//! The environment spec table: how the environment layer of an offline SWE-bench image is made
//! (Python version, package list, pinned pip packages, requirement files), kept as data in
//! `specs/swe-bench-env.toml` (generated from the official harness's constants by
//! `scripts/gen-swe-env-specs.py`).
//!
//! The main type is [`EnvSpecTable`]; [`EnvSpecTable::builtin`] is the embedded table.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use agentscale_core::SweInstance;
use serde::Deserialize;

use crate::error::GraderError;

/// What the environment is made from, after the interpreter itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvPackages {
    /// Nothing beyond the interpreter (and the pinned pip packages).
    None,
    /// The repository's requirement file, read at `environment_setup_commit`.
    Requirements,
    /// The repository's conda `environment.yml`.
    EnvironmentYml,
    /// Packages by name (the official harness gives them to `conda create`; here they are
    /// installed with pip, where the names are the same for every list the table holds).
    List(Vec<String>),
}

/// The environment of one repository at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSpec {
    /// `owner/name`.
    pub repo: String,
    /// The version.
    pub version: String,
    /// The Python version (`3.9`).
    pub python: String,
    /// What the environment is made from.
    pub packages: EnvPackages,
    /// Pinned pip packages installed after the environment is made.
    pub pip_packages: Vec<String>,
    /// Debian packages the image needs.
    pub apt_packages: Vec<String>,
    /// Candidate paths of the requirement file (the first that exists is used).
    pub requirement_paths: Vec<String>,
    /// Candidate paths of the conda environment file.
    pub environment_yml_paths: Vec<String>,
    /// The environment file is applied with `conda env update` (not `create`).
    pub no_use_env: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default)]
    repo: Vec<RepoEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoEntry {
    repo: String,
    #[serde(default)]
    requirements: Vec<String>,
    #[serde(default)]
    environment_yml: Vec<String>,
    #[serde(default)]
    version: Vec<VersionEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionEntry {
    versions: Vec<String>,
    python: String,
    #[serde(default)]
    packages: Option<String>,
    #[serde(default)]
    pip_packages: Vec<String>,
    #[serde(default)]
    apt_packages: Vec<String>,
    #[serde(default)]
    no_use_env: bool,
}

/// The environment spec table: repository and version → [`EnvSpec`].
#[derive(Debug, Clone, Default)]
pub struct EnvSpecTable {
    repos: Vec<RepoEntry>,
}

const BUILTIN_TOML: &str = include_str!("../../specs/swe-bench-env.toml");

static BUILTIN: LazyLock<Result<EnvSpecTable, GraderError>> =
    LazyLock::new(|| EnvSpecTable::from_toml(BUILTIN_TOML, "built-in specs/swe-bench-env.toml"));

impl EnvSpecTable {
    /// The built-in table (the official harness's Python repositories).
    pub fn builtin() -> Result<&'static EnvSpecTable, GraderError> {
        BUILTIN.as_ref().map_err(Clone::clone)
    }

    /// Parse a table from TOML; `origin` names the file in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, GraderError> {
        let bad = |message: String| GraderError::SpecTable {
            origin: origin.to_string(),
            message,
        };
        let file: TableFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut names = BTreeSet::new();
        for r in &file.repo {
            if !names.insert(r.repo.clone()) {
                return Err(bad(format!(
                    "repository {} has two [[repo]] entries",
                    r.repo
                )));
            }
            let mut seen = BTreeSet::new();
            for v in &r.version {
                if v.python.trim().is_empty() {
                    return Err(bad(format!("{} {:?}: empty python", r.repo, v.versions)));
                }
                for ver in &v.versions {
                    if !seen.insert(ver.clone()) {
                        return Err(bad(format!("{} version {ver:?} is listed twice", r.repo)));
                    }
                }
            }
        }
        Ok(Self { repos: file.repo })
    }

    /// The environment of a repository at a version.
    pub fn lookup(&self, repo: &str, version: &str) -> Result<EnvSpec, GraderError> {
        let entry =
            self.repos
                .iter()
                .find(|r| r.repo == repo)
                .ok_or_else(|| GraderError::UnknownRepo {
                    repo: repo.to_string(),
                    known: self
                        .repos
                        .iter()
                        .map(|r| r.repo.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let v = entry
            .version
            .iter()
            .find(|v| v.versions.iter().any(|x| x == version))
            .ok_or_else(|| GraderError::UnknownVersion {
                repo: repo.to_string(),
                version: version.to_string(),
                known: entry
                    .version
                    .iter()
                    .flat_map(|v| v.versions.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let packages = match v.packages.as_deref().map(str::trim) {
            None | Some("") => EnvPackages::None,
            Some("requirements.txt") => EnvPackages::Requirements,
            Some("environment.yml") => EnvPackages::EnvironmentYml,
            Some(list) => EnvPackages::List(list.split_whitespace().map(String::from).collect()),
        };
        Ok(EnvSpec {
            repo: repo.to_string(),
            version: version.to_string(),
            python: v.python.clone(),
            packages,
            pip_packages: v.pip_packages.clone(),
            apt_packages: v.apt_packages.clone(),
            requirement_paths: entry.requirements.clone(),
            environment_yml_paths: entry.environment_yml.clone(),
            no_use_env: v.no_use_env,
        })
    }

    /// The environment of an instance.
    pub fn for_instance(&self, instance: &SweInstance) -> Result<EnvSpec, GraderError> {
        self.lookup(&instance.repo, &instance.version)
            .map_err(|e| e.for_instance(&instance.instance_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_has_the_official_pins() {
        let t = EnvSpecTable::builtin().unwrap();
        let s = t.lookup("sympy/sympy", "1.7").unwrap();
        assert_eq!(s.python, "3.9");
        assert_eq!(
            s.packages,
            EnvPackages::List(vec!["mpmath".into(), "flake8".into()])
        );
        assert_eq!(
            s.pip_packages,
            vec!["mpmath==1.3.0", "flake8-comprehensions"]
        );
        let f = t.lookup("pallets/flask", "2.3").unwrap();
        assert_eq!(
            (f.python.as_str(), &f.packages),
            ("3.11", &EnvPackages::Requirements)
        );
        assert_eq!(f.requirement_paths, vec!["requirements/dev.txt"]);
        let p = t.lookup("pytest-dev/pytest", "4.5").unwrap();
        assert!(p.pip_packages.contains(&"pluggy==0.11.0".to_string()));
        assert_eq!(p.packages, EnvPackages::None);
    }

    #[test]
    fn unknown_versions_and_bad_tables_are_clear_errors() {
        let t = EnvSpecTable::builtin().unwrap();
        let e = t.lookup("sympy/sympy", "9.9").unwrap_err().to_string();
        assert!(e.contains("9.9") && e.contains("1.7"), "{e}");
        let e = t.lookup("nobody/nothing", "1.0").unwrap_err().to_string();
        assert!(e.contains("nobody/nothing"), "{e}");
        let twice = "[[repo]]\nrepo = \"a/b\"\n[[repo.version]]\nversions = [\"1\", \"1\"]\npython = \"3.9\"\n";
        let e = EnvSpecTable::from_toml(twice, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listed twice") && e.contains("x.toml"), "{e}");
    }
}
