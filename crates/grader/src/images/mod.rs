//! Offline SWE-bench images in the official layout, built from local repository mirrors, PyPI
//! and Debian, with no container registry.
//!
//! Three layers, as in the official harness:
//! - a **base** per Python version: Debian by debootstrap (3.9 on bullseye, 3.11 on bookworm;
//!   [`PythonBase`]) with a compiler and the venv module, imported like agentscale's own base
//!   image (`scripts/build-base-image.sh --extra-packages ...`);
//! - an **environment** per repository and version ([`env_recipe`]): a virtual environment at
//!   `/opt/miniconda3/envs/testbed` with the official spec's packages (the conda package list
//!   installed with pip, the requirement file read at `environment_setup_commit` from the
//!   mirror, the pinned pip packages), a conda-compatible activation shim at
//!   `/opt/miniconda3/bin/activate`, `conda activate testbed` in `~/.bashrc`, and the host's
//!   package-index settings in `/etc/pip.conf` ([`PipSettings`]);
//! - an **instance** ([`instance_recipe`]): the repository at `/testbed` with the base commit's
//!   exact commit object (no remote, no later history, verified by hash during the build), the
//!   spec's `pre_install` and install steps, and the official setup commit on top.
//!
//! Recipes are pure data (a Dockerfile and the files of its context); the build context's
//! content hash tags the image, so identical recipes build once. Resolution against the package
//! index is cut off at a date ([`DEFAULT_INDEX_CUTOFF`]) while images are built, so that
//! environments resolve as they did when the official images were made; containers made from
//! the images see today's index, as official containers do.

pub mod env_spec;
pub mod mirror;
pub mod pip;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use agentscale_core::SweInstance;

use crate::error::GraderError;
use crate::spec::RepoSpec;
pub use env_spec::{EnvPackages, EnvSpec, EnvSpecTable};
pub use mirror::{Mirror, mirror_dir_name};
pub use pip::PipSettings;

/// Packages are resolved as of this date while images are built (pip's
/// `--uploaded-prior-to`): the official images were built after 2024-07-03 (tox 4.16.0, pinned
/// by the sphinx specs, was published then) and resolved against the index of that summer.
pub const DEFAULT_INDEX_CUTOFF: &str = "2024-08-01T00:00:00Z";

/// The pip that runs the builds: the first line that knows `--uploaded-prior-to`, and the
/// last that installs on Python 3.9.
pub const BUILDER_PIP: &str = "pip==26.0.1";

/// The pip the environment keeps once the image is built (what a conda environment of the
/// official images' era shipped).
pub const ENV_PIP: &str = "pip==24.0";

/// Debian packages the base images add to agentscale's base list: what the official base
/// image installs (compiler, libffi, jq, curl, wget, locales, tzdata) plus the venv module.
pub const BASE_EXTRA_PACKAGES: &str = "build-essential,libffi-dev,python3-venv,python3-dev,\
python-is-python3,jq,curl,wget,locales,tzdata,passwd";

/// The Debian release that provides a Python version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PythonBase {
    /// Python 3.9 on Debian 11 (bullseye).
    Py39,
    /// Python 3.11 on Debian 12 (bookworm).
    Py311,
}

impl PythonBase {
    /// The base for a spec's Python version; any other version is an error naming the
    /// registry alternative.
    pub fn for_version(python: &str, instance: &SweInstance) -> Result<Self, GraderError> {
        match python.trim() {
            "3.9" => Ok(Self::Py39),
            "3.11" => Ok(Self::Py311),
            other => Err(GraderError::Instance {
                instance_id: instance.instance_id.clone(),
                message: format!(
                    "its environment needs Python {other}, which no reachable Debian release \
                     provides (offline images: 3.9 on bullseye, 3.11 on bookworm); use the \
                     official image {} from a registry instead (`--registry`, or set the \
                     dataset's image_name column)",
                    instance.official_image()
                ),
            }),
        }
    }

    /// The Python version.
    pub fn python(self) -> &'static str {
        match self {
            Self::Py39 => "3.9",
            Self::Py311 => "3.11",
        }
    }

    /// The Debian suite.
    pub fn suite(self) -> &'static str {
        match self {
            Self::Py39 => "bullseye",
            Self::Py311 => "bookworm",
        }
    }

    /// The base image's tag.
    pub fn tag(self) -> String {
        format!("agentscale/sweb.base:py{}-{}", self.python(), self.suite())
    }
}

/// A build context as data: the Dockerfile and the files beside it, plus, for an instance, a
/// repository checkout written into `testbed/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// The image repository name; the tag is the context's content hash.
    pub name: String,
    /// Files of the context (relative path → bytes, executable bit).
    pub files: BTreeMap<String, (Vec<u8>, bool)>,
    /// A commit of the mirror written to `testbed/` (mirror path, commit).
    pub checkout: Option<(std::path::PathBuf, String)>,
}

impl Recipe {
    fn new(name: String) -> Self {
        Self {
            name,
            files: BTreeMap::new(),
            checkout: None,
        }
    }

    fn file(&mut self, path: &str, data: impl Into<Vec<u8>>, exec: bool) {
        self.files.insert(path.to_string(), (data.into(), exec));
    }

    /// Write the context into `dir` (an empty folder).
    pub fn write_to(&self, dir: &Path) -> Result<(), GraderError> {
        use std::os::unix::fs::PermissionsExt as _;
        let io = |p: &Path, e: std::io::Error| GraderError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        for (rel, (data, exec)) in &self.files {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&p, data).map_err(|e| io(&p, e))?;
            let mode = if *exec { 0o755 } else { 0o644 };
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .map_err(|e| io(&p, e))?;
        }
        if let Some((mirror, commit)) = &self.checkout {
            let repos = mirror.parent().unwrap_or(Path::new("."));
            let name = mirror
                .file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .trim_end_matches(".git")
                        .replace("__", "/")
                })
                .unwrap_or_default();
            Mirror::open(repos, &name)?.checkout(commit, &dir.join("testbed"))?;
        }
        Ok(())
    }
}

/// Options of the environment and instance recipes.
#[derive(Debug, Clone, Default)]
pub struct RecipeOptions {
    /// Resolve packages as of this date while building (`None`: today's index).
    pub index_cutoff: Option<String>,
    /// The host's package-index settings.
    pub pip: PipSettings,
}

fn slug(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Quote a string for a POSIX shell.
fn sh(s: &str) -> String {
    agentscale_core::sandbox::shell_quote(s)
}

/// The requirement text of an instance's environment, as the official harness assembles it:
/// the first requirement file that exists at `environment_setup_commit`, with `-r` includes
/// inlined (includes first) and `-e .`, comments and `.[test` lines dropped.
pub fn requirements_text(
    mirror: &Mirror,
    instance: &SweInstance,
    env: &EnvSpec,
) -> Result<String, GraderError> {
    let commit = env_commit(instance);
    for path in &env.requirement_paths {
        let Some(bytes) = mirror.read_file(commit, path)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let keep = |l: &str| {
            let t = l.trim();
            !(t.starts_with("-e .") || t.starts_with('#') || t.starts_with(".[test"))
        };
        let mut included = Vec::new();
        let mut own = Vec::new();
        for line in text.split('\n') {
            if let Some(rest) = line.trim().strip_prefix("-r") {
                let inc = if dir.is_empty() {
                    rest.trim().to_string()
                } else {
                    format!("{dir}/{}", rest.trim())
                };
                if let Some(b) = mirror.read_file(commit, &inc)? {
                    included.extend(
                        String::from_utf8_lossy(&b)
                            .split('\n')
                            .filter(|l| keep(l))
                            .map(String::from),
                    );
                }
            } else if keep(line) {
                own.push(line.to_string());
            }
        }
        included.push(own.join("\n"));
        let all = included.join("\n");
        // The official cleaning: a yanked package replaced by its successor, without the
        // original's version specifier.
        return Ok(all
            .split('\n')
            .map(|l| match l.strip_prefix("types-pkg_resources") {
                Some(rest) if rest.is_empty() || rest.starts_with(['<', '>', '=', '!', '~']) => {
                    "types-setuptools".to_string()
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"));
    }
    Err(GraderError::Instance {
        instance_id: instance.instance_id.clone(),
        message: format!(
            "none of the requirement files {:?} exists at environment_setup_commit {commit} in \
             {}",
            env.requirement_paths,
            mirror.path().display()
        ),
    })
}

/// The tag the instance layer puts on the base commit: the dataset's version (`4.6`). The
/// official images keep the repository's release tags up to the base commit, from which
/// setuptools_scm derives the package version (pytest, astropy, xarray and matplotlib read it:
/// without a tag pytest calls itself 0.1.dev and refuses its own `minversion`); the mirrors
/// hold no release tags, so the closest release the dataset names stands in for them. `None`
/// for a version that is not a safe tag name.
pub fn version_tag(version: &str) -> Option<String> {
    let v = version.trim();
    let ok = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        && !v.starts_with(['.', '-'])
        && !v.contains("..");
    ok.then(|| v.to_string())
}

fn env_commit(instance: &SweInstance) -> &str {
    let c = instance.environment_setup_commit.trim();
    if c.is_empty() {
        instance.base_commit.trim()
    } else {
        c
    }
}

/// The environment layer of an instance, on the base image whose id is `base_id`.
pub fn env_recipe(
    instance: &SweInstance,
    env: &EnvSpec,
    mirror: &Mirror,
    base: PythonBase,
    base_id: &str,
    opts: &RecipeOptions,
) -> Result<Recipe, GraderError> {
    let mut r = Recipe::new(format!(
        "agentscale/sweb.env.{}.{}",
        slug(&env.repo.replace('/', "__")),
        slug(&env.version)
    ));
    let mut setup = String::from(
        "#!/bin/bash\n# The environment layer (agentscale): what the official setup_env.sh does, with a\n\
         # virtual environment in place of conda.\nset -euxo pipefail\n\
         source /opt/miniconda3/bin/activate\n",
    );
    let _ = writeln!(
        setup,
        "python{} -m venv /opt/miniconda3/envs/testbed",
        base.python()
    );
    setup.push_str("conda activate testbed\n");
    let _ = writeln!(
        setup,
        "python -m pip install --no-cache-dir {}",
        sh(BUILDER_PIP)
    );
    if let Some(c) = &opts.index_cutoff {
        let _ = writeln!(setup, "export PIP_UPLOADED_PRIOR_TO={}", sh(c));
    }
    setup.push_str("python -m pip install --no-cache-dir setuptools wheel\n");
    match &env.packages {
        EnvPackages::None => {}
        EnvPackages::List(pkgs) => {
            let list: Vec<String> = pkgs.iter().map(|p| sh(p)).collect();
            let _ = writeln!(
                setup,
                "python -m pip install --no-cache-dir {}",
                list.join(" ")
            );
        }
        EnvPackages::Requirements => {
            let reqs = requirements_text(mirror, instance, env)?;
            r.file("requirements.txt", reqs, false);
            setup.push_str(
                "python -m pip install --no-cache-dir -r /root/agentscale/requirements.txt\n",
            );
        }
        EnvPackages::EnvironmentYml => {
            return Err(GraderError::Instance {
                instance_id: instance.instance_id.clone(),
                message: format!(
                    "{} {} is specified by a conda environment.yml, which the offline builder \
                     (virtual environments and pip, no conda) does not reproduce; use the \
                     official image {} from a registry instead",
                    env.repo,
                    env.version,
                    instance.official_image()
                ),
            });
        }
    }
    if !env.pip_packages.is_empty() {
        let list: Vec<String> = env.pip_packages.iter().map(|p| sh(p)).collect();
        let _ = writeln!(
            setup,
            "python -m pip install --no-cache-dir {}",
            list.join(" ")
        );
    }
    r.file("setup_env.sh", setup, true);
    r.file(
        "activate",
        include_str!("../../images/conda-activate.sh"),
        false,
    );
    r.file("conda", include_str!("../../images/conda"), true);
    r.file("pip.conf", opts.pip.pip_conf(), false);
    r.file(
        "ca-bundle.crt",
        opts.pip.ca_bytes()?.unwrap_or_default(),
        false,
    );
    r.file("base-image-id", format!("{base_id}\n"), false);
    let apt = if env.apt_packages.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = env.apt_packages.iter().map(|p| sh(p)).collect();
        format!(
            "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y {} && rm -rf /var/lib/apt/lists/*\n",
            list.join(" ")
        )
    };
    let dockerfile = format!(
        "# agentscale offline SWE-bench environment: {repo} {version} (Python {py}, Debian {suite})\n\
FROM {base_tag}\n\
ENV PATH=/opt/miniconda3/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
{apt}\
COPY . /root/agentscale/\n\
RUN set -eu; mkdir -p /opt/miniconda3/bin /opt/miniconda3/envs /opt/miniconda3/etc/profile.d; \\\n\
    install -m 0644 /root/agentscale/activate /opt/miniconda3/bin/activate; \\\n\
    ln -sf /opt/miniconda3/bin/activate /opt/miniconda3/etc/profile.d/conda.sh; \\\n\
    install -m 0755 /root/agentscale/conda /opt/miniconda3/bin/conda; \\\n\
    ln -sf /usr/bin/python3 /opt/miniconda3/bin/python; ln -sf /usr/bin/python3 /opt/miniconda3/bin/python3; \\\n\
    if [ -s /root/agentscale/ca-bundle.crt ]; then install -D -m 0644 /root/agentscale/ca-bundle.crt {ca}; fi; \\\n\
    if [ -s /root/agentscale/pip.conf ]; then install -m 0644 /root/agentscale/pip.conf /etc/pip.conf; fi; \\\n\
    id nonroot >/dev/null 2>&1 || useradd -m nonroot\n\
RUN /bin/bash /root/agentscale/setup_env.sh\n\
WORKDIR /testbed/\n\
RUN echo \"source /opt/miniconda3/etc/profile.d/conda.sh && conda activate testbed\" > /root/.bashrc\n",
        repo = env.repo,
        version = env.version,
        py = base.python(),
        suite = base.suite(),
        base_tag = base.tag(),
        ca = pip::IMAGE_CA_PATH,
    );
    r.file("Dockerfile", dockerfile, false);
    Ok(r)
}

/// The instance layer: the repository at the base commit on the environment image `env_tag`,
/// with the spec's `pre_install` and install steps and the official setup commit.
pub fn instance_recipe(
    instance: &SweInstance,
    spec: &RepoSpec,
    mirror: &Mirror,
    env_tag: &str,
    opts: &RecipeOptions,
) -> Result<Recipe, GraderError> {
    let sha = instance.base_commit.trim();
    let raw = mirror.raw_commit(sha)?;
    let tree = String::from_utf8_lossy(&raw)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("tree "))
        .map(str::to_string)
        .ok_or_else(|| GraderError::Instance {
            instance_id: instance.instance_id.clone(),
            message: format!(
                "commit {sha} in {} has no tree line",
                mirror.path().display()
            ),
        })?;
    let mut r = Recipe::new(format!(
        "agentscale/sweb.eval.{}",
        slug(&instance.instance_id)
    ));
    let mut s = String::from(
        "#!/bin/bash\n# The instance layer (agentscale): the repository at its base commit, then what the\n\
         # official setup_repo.sh does after cloning.\nset -euxo pipefail\ncd /testbed\n\
         git init -q\n\
         # Store the checked-out bytes exactly, whatever the repository's attributes say.\n\
         printf '* -text -eol -filter -ident\\n' > .git/info/attributes\n\
         git add -A -f\n",
    );
    let _ = write!(
        s,
        "tree=$(git write-tree)\n\
         if [ \"$tree\" != {tree} ]; then echo \"agentscale: the checkout's tree is $tree, not {tree}\" >&2; exit 1; fi\n\
         commit=$(git hash-object -t commit -w /root/agentscale/commit.obj)\n\
         if [ \"$commit\" != {sha} ]; then echo \"agentscale: the commit object hashes to $commit, not {sha}\" >&2; exit 1; fi\n\
         echo {sha} > .git/shallow\n\
         git update-ref refs/heads/main {sha}\n\
         git symbolic-ref HEAD refs/heads/main\n\
         git read-tree HEAD\n\
         {tag}\
         rm .git/info/attributes\n\
         chmod -R 777 /testbed\n\
         source /opt/miniconda3/bin/activate\n\
         conda activate testbed\n\
         echo \"Current environment: $CONDA_DEFAULT_ENV\"\n",
        tree = sh(&tree),
        sha = sh(sha),
        tag = version_tag(&instance.version)
            .map(|t| format!("git tag {} {}\n", sh(&t), sh(sha)))
            .unwrap_or_default(),
    );
    if let Some(c) = &opts.index_cutoff {
        let _ = writeln!(s, "export PIP_UPLOADED_PRIOR_TO={}", sh(c));
    }
    for line in &spec.pre_install {
        let _ = writeln!(s, "{line}");
    }
    if let Some(install) = &spec.install {
        let _ = writeln!(s, "{install}");
    }
    let _ = writeln!(
        s,
        "unset PIP_UPLOADED_PRIOR_TO\npython -m pip install --no-cache-dir {}",
        sh(ENV_PIP)
    );
    s.push_str(
        "git config --global user.email setup@swebench.config\n\
         git config --global user.name SWE-bench\n\
         git commit --allow-empty -am SWE-bench\n",
    );
    r.file("setup_repo.sh", s, true);
    r.file("commit.obj", raw, false);
    r.file("env-image", format!("{env_tag}\n"), false);
    r.checkout = Some((mirror.path().to_path_buf(), sha.to_string()));
    let dockerfile = format!(
        "# agentscale offline SWE-bench instance: {id} at {sha}\n\
FROM {env_tag}\n\
COPY commit.obj setup_repo.sh /root/agentscale/\n\
COPY testbed /testbed\n\
RUN /bin/bash /root/agentscale/setup_repo.sh\n\
WORKDIR /testbed/\n",
        id = instance.instance_id,
    );
    r.file("Dockerfile", dockerfile, false);
    Ok(r)
}
