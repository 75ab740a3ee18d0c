//! Getting the image of every SWE-bench instance of a run or a grading: the official image
//! when it is on the engine or can be pulled (`<registry>/sweb.eval.x86_64.<id>`, where `__`
//! becomes `_1776_`), else an offline image in the official layout built from a local
//! repository mirror ([`agentscale_grader::images`]). Each instance says which it got.
//!
//! The main function is [`prepare_swe_images`]; [`SweImageOptions`] holds the knobs (the
//! `--repos` folder, the registry prefix, pulling on or off, the index cut-off, the CA bundle).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use agentscale_core::SweInstance;
use agentscale_core::sandbox::{ImageSource, SandboxError, SandboxProvider};
use agentscale_grader::images::{
    BASE_EXTRA_PACKAGES, EnvSpecTable, Mirror, PipSettings, PythonBase, Recipe, RecipeOptions,
    env_recipe, instance_recipe,
};
use agentscale_grader::spec::SpecTable;
use agentscale_sandbox::DockerProvider;
use agentscale_sandbox::images::{self, base::BaseImageOptions};
use serde::{Deserialize, Serialize};

/// The default registry prefix of the official images (Docker Hub's `swebench`).
pub const OFFICIAL_REGISTRY: &str = "swebench";

/// Options of [`prepare_swe_images`]; in a config, the `[swe_images]` table (every key has a
/// default, and a config that leaves the table out keeps its run id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SweImageOptions {
    /// A folder of repository mirrors (`<owner>__<name>.git`) to build offline images from.
    pub repos: Option<PathBuf>,
    /// The registry prefix of the official images (`swebench`, or `HOST:PORT/swebench`).
    pub registry: String,
    /// Try to pull the official image before building.
    pub pull: bool,
    /// Resolve packages as of this date while building (`none`: today's index).
    pub index_cutoff: Option<String>,
    /// A CA bundle for pip in the images (default: the host's pip settings).
    pub ca_bundle: Option<PathBuf>,
    /// Images prepared at once.
    pub concurrency: usize,
    /// Seconds one layer's build may take.
    pub build_timeout_sec: u64,
}

impl SweImageOptions {
    /// True when every key has its default (the table is then left out of `run.toml`).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for SweImageOptions {
    fn default() -> Self {
        Self {
            repos: None,
            registry: OFFICIAL_REGISTRY.into(),
            pull: true,
            index_cutoff: Some(agentscale_grader::images::DEFAULT_INDEX_CUTOFF.into()),
            ca_bundle: None,
            concurrency: 2,
            build_timeout_sec: 3600,
        }
    }
}

/// How an instance got its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageOrigin {
    /// The official image (or the dataset's named image) was already on the engine.
    Local,
    /// The official image was pulled from the registry.
    Pulled,
    /// Built offline from the mirror just now.
    Built,
    /// An offline image built earlier from the same recipe.
    Reused,
}

/// The image of one instance, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedImage {
    /// The instance.
    pub instance_id: String,
    /// The image reference, when there is one.
    pub image: Option<String>,
    /// How it was obtained.
    pub origin: Option<ImageOrigin>,
    /// Seconds spent on this instance (waiting for a shared layer included).
    pub seconds: f64,
    /// What went wrong, when there is no image.
    pub error: Option<String>,
    /// Why the official image was not used, when a local build was made instead.
    pub pull_note: Option<String>,
}

/// The official image name of an instance under a registry prefix.
pub fn official_image(registry: &str, instance: &SweInstance) -> String {
    format!(
        "{}/sweb.eval.x86_64.{}:latest",
        registry.trim_end_matches('/'),
        instance.instance_id.replace("__", "_1776_")
    )
    .to_lowercase()
}

/// Prepare the image of every instance (at most `opts.concurrency` at once; layers shared by
/// several instances are built once). Never fails as a whole: each instance's row says what
/// it got or why it got nothing.
pub async fn prepare_swe_images(
    provider: &Arc<DockerProvider>,
    specs: &SpecTable,
    instances: &[SweInstance],
    opts: &SweImageOptions,
    mut on_row: impl FnMut(&PreparedImage),
) -> Result<Vec<PreparedImage>, SandboxError> {
    let pip = PipSettings::from_host(opts.ca_bundle.as_deref())
        .map_err(|e| SandboxError::InvalidRequest(e.to_string()))?;
    if opts.repos.is_some() {
        tracing::info!("offline SWE-bench images get: {}", pip.describe());
    }
    let recipe_opts = Arc::new(RecipeOptions {
        index_cutoff: opts.index_cutoff.clone(),
        pip,
    });
    let bases: Arc<tokio::sync::Mutex<BTreeMap<&'static str, String>>> = Arc::default();
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, inst) in instances.iter().enumerate() {
        let (provider, sem, bases, recipe_opts) = (
            Arc::clone(provider),
            Arc::clone(&sem),
            Arc::clone(&bases),
            Arc::clone(&recipe_opts),
        );
        let (inst, specs, opts) = (inst.clone(), specs.clone(), opts.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let t = Instant::now();
            let mut row = one(&provider, &specs, &inst, &opts, &recipe_opts, &bases).await;
            row.seconds = t.elapsed().as_secs_f64();
            (i, row)
        });
    }
    let mut rows: Vec<Option<PreparedImage>> = vec![None; instances.len()];
    while let Some(j) = set.join_next().await {
        let (i, row) = j.map_err(|e| SandboxError::backend("prepare images", e))?;
        on_row(&row);
        rows[i] = Some(row);
    }
    Ok(rows.into_iter().flatten().collect())
}

async fn one(
    provider: &Arc<DockerProvider>,
    specs: &SpecTable,
    inst: &SweInstance,
    opts: &SweImageOptions,
    recipe_opts: &RecipeOptions,
    bases: &tokio::sync::Mutex<BTreeMap<&'static str, String>>,
) -> PreparedImage {
    let mut row = PreparedImage {
        instance_id: inst.instance_id.clone(),
        image: None,
        origin: None,
        seconds: 0.0,
        error: None,
        pull_note: None,
    };
    let official = inst
        .image_override()
        .map_or_else(|| official_image(&opts.registry, inst), str::to_string);
    match images::everywhere(provider, &official).await {
        Ok(true) => {
            row.image = Some(official);
            row.origin = Some(ImageOrigin::Local);
            return row;
        }
        Ok(false) => {}
        Err(e) => {
            row.error = Some(e.to_string());
            return row;
        }
    }
    if opts.pull {
        let source = ImageSource::Existing {
            image: official.clone(),
        };
        match provider.prepare_image(&source).await {
            Ok(image) => {
                row.image = Some(image);
                row.origin = Some(ImageOrigin::Pulled);
                return row;
            }
            Err(e @ SandboxError::EngineUnavailable { .. }) => {
                row.error = Some(e.to_string());
                return row;
            }
            Err(e) => row.pull_note = Some(first_line(&e.to_string())),
        }
    }
    let Some(repos) = &opts.repos else {
        row.error = Some(format!(
            "no image for {}: {official} is not on the engine{}, and no repository mirror \
             folder was given to build it offline (--repos DIR, or images.repos in a config)",
            inst.instance_id,
            row.pull_note
                .as_deref()
                .map(|n| format!(" and could not be pulled ({n})"))
                .unwrap_or_default()
        ));
        return row;
    };
    match build(provider, specs, inst, repos, opts, recipe_opts, bases).await {
        Ok((image, origin)) => {
            row.image = Some(image);
            row.origin = Some(origin);
        }
        Err(e) => row.error = Some(e),
    }
    row
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(300).collect()
}

async fn build(
    provider: &Arc<DockerProvider>,
    specs: &SpecTable,
    inst: &SweInstance,
    repos: &std::path::Path,
    opts: &SweImageOptions,
    recipe_opts: &RecipeOptions,
    bases: &tokio::sync::Mutex<BTreeMap<&'static str, String>>,
) -> Result<(String, ImageOrigin), String> {
    let s = |e: agentscale_grader::GraderError| e.to_string();
    let spec = specs.for_instance(inst).map_err(s)?;
    let env = EnvSpecTable::builtin()
        .map_err(s)?
        .for_instance(inst)
        .map_err(s)?;
    let base = PythonBase::for_version(&env.python, inst).map_err(s)?;
    let mirror = Mirror::open(repos, &inst.repo).map_err(s)?;
    let base_id = {
        // One base build at a time per process; the script itself is idempotent.
        let mut known = bases.lock().await;
        if let Some(id) = known.get(base.suite()) {
            id.clone()
        } else {
            let tag = base.tag();
            if !images::everywhere(provider, &tag)
                .await
                .map_err(|e| e.to_string())?
            {
                tracing::info!(image = %tag, "building the offline base image (debootstrap)");
                images::base::build_base_image(&BaseImageOptions {
                    tag: Some(tag.clone()),
                    suite: Some(base.suite().into()),
                    extra_packages: Some(BASE_EXTRA_PACKAGES.into()),
                    ..BaseImageOptions::default()
                })
                .await
                .map_err(|e| e.to_string())?;
            }
            let id = images::id_everywhere(provider, &tag)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("the base image {tag} is missing after its build"))?;
            known.insert(base.suite(), id.clone());
            id
        }
    };
    let timeout = opts.build_timeout_sec;
    let env_recipe = env_recipe(inst, &env, &mirror, base, &base_id, recipe_opts).map_err(s)?;
    let (env_tag, _) = build_recipe(provider, &env_recipe, timeout).await?;
    let inst_recipe = instance_recipe(inst, &spec, &mirror, &env_tag, recipe_opts).map_err(s)?;
    build_recipe(provider, &inst_recipe, timeout).await
}

/// Write a recipe's context to a temporary folder and build it unless an image of the same
/// content hash exists; returns the tag and whether it was built now.
async fn build_recipe(
    provider: &Arc<DockerProvider>,
    recipe: &Recipe,
    timeout_sec: u64,
) -> Result<(String, ImageOrigin), String> {
    let dir = tempfile::Builder::new()
        .prefix("agentscale-swe-image-")
        .tempdir()
        .map_err(|e| format!("a temporary folder for the build context: {e}"))?;
    let ctx = dir.path().to_path_buf();
    let r = recipe.clone();
    let c = ctx.clone();
    tokio::task::spawn_blocking(move || r.write_to(&c))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let build_args = BTreeMap::new();
    let hash = images::context_hash(&ctx, "Dockerfile", &build_args).map_err(|e| e.to_string())?;
    let tag = format!("{}:{}", recipe.name, &hash[..16]);
    let existed = images::everywhere(provider, &tag)
        .await
        .map_err(|e| e.to_string())?;
    let source = ImageSource::Build {
        context: ctx,
        dockerfile: None,
        build_args,
        name: recipe.name.clone(),
        timeout_sec,
    };
    let built = provider
        .prepare_image(&source)
        .await
        .map_err(|e| e.to_string())?;
    drop(dir);
    Ok((
        built,
        if existed {
            ImageOrigin::Reused
        } else {
            ImageOrigin::Built
        },
    ))
}
