//! `agentscale images`: build the offline base image, build a context, import a root
//! filesystem, list and prune agentscale's images.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agentscale_core::sandbox::{ImageSource, SandboxError, SandboxProvider};
use agentscale_grader::images::PythonBase;
use agentscale_sandbox::images::{self, base::BaseImageOptions};
use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::cli::GlobalArgs;
use crate::exit;

/// Arguments of `agentscale images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ImagesCommand,
}

/// The image subcommands.
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build the offline base image (debootstrap + docker import); does nothing when it exists.
    BuildBase(BuildBaseArgs),
    /// Build an image from a context folder, tagged NAME:<content hash> (built once).
    Build(BuildArgs),
    /// The image of every SWE-bench instance: the official one when it is on the engine or can
    /// be pulled, else built offline in the official layout from repository mirrors (--repos).
    BuildSwe(super::images_swe::BuildSweArgs),
    /// Import a root-filesystem tarball as an image (`docker import`).
    Import(ImportArgs),
    /// List agentscale's images (label agentscale.image) on every host.
    List(ListArgs),
    /// Remove agentscale's images, least recently used first, down to a disk budget.
    Prune(PruneArgs),
}

/// `images build-base`.
#[derive(Debug, Args)]
pub struct BuildBaseArgs {
    /// Rebuild even when the image exists.
    #[arg(long)]
    pub force: bool,
    /// The tag (default agentscale/base:bookworm, or AGENTSCALE_BASE_IMAGE).
    #[arg(long)]
    pub tag: Option<String>,
    /// A Debian mirror (default http://deb.debian.org/debian, or AGENTSCALE_DEBIAN_MIRROR).
    #[arg(long)]
    pub mirror: Option<String>,
    /// The Debian suite.
    #[arg(long)]
    pub suite: Option<String>,
}

/// `images build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The context folder (holding the Dockerfile).
    pub context: PathBuf,
    /// The repository part of the tag, e.g. agentscale/task-fix-git.
    #[arg(long)]
    pub name: String,
    /// The Dockerfile, relative to the context.
    #[arg(long)]
    pub dockerfile: Option<String>,
    /// A build argument KEY=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Seconds the build may take.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

/// `images import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The root-filesystem tarball.
    pub tarball: PathBuf,
    /// The image reference to create.
    pub image: String,
    /// A Dockerfile instruction applied to the image, e.g. 'ENV LANG=C.UTF-8' (repeatable).
    #[arg(long = "change")]
    pub changes: Vec<String>,
}

/// `images list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `images prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The disk budget per host: bytes, or with a unit (500M, 20G, 1T; powers of 1024).
    #[arg(long)]
    pub budget: String,
    /// Show what would be removed without removing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Also allow removing the base images (agentscale/base and the offline SWE-bench bases
    /// agentscale/sweb.base:*).
    #[arg(long)]
    pub include_base: bool,
    /// Only consider images whose tag starts with this (e.g. agentscale/tb-).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Bytes from `20G`, `500M`, `1.5T`, `123` (units are powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                'B' => 1,
                _ => return Err(format!("unknown size unit in {s:?}: use K, M, G or T")),
            };
            (&t[..t.len() - 1], m)
        }
        _ => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?} (examples: 500M, 20G)"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("not a size: {s:?}"));
    }
    Ok((n * mult as f64) as u64)
}

/// The exit code for a sandbox error: infrastructure problems are 3.
pub fn code_for(e: &SandboxError) -> u8 {
    match e {
        SandboxError::EngineUnavailable { .. } | SandboxError::ImageUnavailable { .. } => {
            exit::INFRA
        }
        SandboxError::InvalidRequest(_) => exit::USAGE,
        _ => exit::FAILURE,
    }
}

/// Wrap a sandbox error with its exit code.
pub fn coded(e: SandboxError) -> anyhow::Error {
    let code = code_for(&e);
    exit::with_code(code, e)
}

fn human(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Run `agentscale images`.
pub async fn run(args: ImagesArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    match args.command {
        ImagesCommand::BuildSwe(a) => super::images_swe::run(a, global).await,
        ImagesCommand::BuildBase(a) => {
            let opts = BaseImageOptions {
                force: a.force,
                tag: a.tag,
                mirror: a.mirror,
                suite: a.suite,
                extra_packages: None,
                docker_host: None,
            };
            images::base::build_base_image(&opts).await.map_err(coded)?;
            Ok(exit::SUCCESS)
        }
        ImagesCommand::Build(a) => {
            let mut build_args = BTreeMap::new();
            for kv in &a.build_args {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    exit::with_code(
                        exit::USAGE,
                        anyhow::anyhow!("--build-arg {kv:?} is not KEY=VALUE"),
                    )
                })?;
                build_args.insert(k.to_string(), v.to_string());
            }
            let provider = agentscale_sandbox::DockerProvider::from_env().map_err(coded)?;
            let tag = provider
                .prepare_image(&ImageSource::Build {
                    context: a.context,
                    dockerfile: a.dockerfile,
                    build_args,
                    name: a.name,
                    timeout_sec: a.timeout,
                })
                .await
                .map_err(coded)?;
            println!("{tag}");
            Ok(exit::SUCCESS)
        }
        ImagesCommand::Import(a) => {
            let provider = agentscale_sandbox::DockerProvider::from_env().map_err(coded)?;
            let image = images::import_rootfs(&provider, &a.tarball, &a.image, &a.changes)
                .await
                .map_err(coded)?;
            println!("{image}");
            Ok(exit::SUCCESS)
        }
        ImagesCommand::List(a) => {
            let provider = agentscale_sandbox::DockerProvider::from_env().map_err(coded)?;
            let list = images::list(&provider).await.map_err(coded)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<10} {:<50} {:<9} {:>10} {:>10}",
                    "HOST", "IMAGE", "KIND", "SIZE", "UNIQUE"
                );
                for i in &list {
                    let name = i.tags.first().cloned().unwrap_or_else(|| i.id.clone());
                    println!(
                        "{:<10} {:<50} {:<9} {:>10} {:>10}",
                        i.host,
                        name,
                        i.kind,
                        human(i.size),
                        human(i.unique())
                    );
                }
            }
            Ok(exit::SUCCESS)
        }
        ImagesCommand::Prune(a) => {
            let budget = parse_size(&a.budget)
                .map_err(|e| exit::with_code(exit::USAGE, anyhow::anyhow!("--budget: {e}")))?;
            let provider = agentscale_sandbox::DockerProvider::from_env().map_err(coded)?;
            // The base images (agentscale's and the offline SWE-bench bases) are kept unless
            // --include-base: rebuilding them needs debootstrap and a Debian mirror.
            let keep = if a.include_base {
                Vec::new()
            } else {
                vec![
                    agentscale_core::testenv::base_image(),
                    PythonBase::Py39.tag(),
                    PythonBase::Py311.tag(),
                ]
            };
            let report = images::prune(&provider, budget, &keep, a.prefix.as_deref(), a.dry_run)
                .await
                .map_err(coded)
                .context("pruning images")?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let verb = if a.dry_run { "would remove" } else { "removed" };
                for i in &report.removed {
                    let name = i.tags.first().cloned().unwrap_or_else(|| i.id.clone());
                    println!("{verb} {name} ({})", human(i.unique()));
                }
                println!(
                    "{verb} {} images, {}",
                    report.removed.len(),
                    human(report.freed)
                );
                for (id, why) in &report.failed {
                    eprintln!("could not remove {id}: {why}");
                }
            }
            Ok(if report.failed.is_empty() {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("20G"), Ok(20 << 30));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("12X").unwrap_err().contains("unit"));
        assert!(parse_size("G").is_err());
        assert!(parse_size("-1G").is_err());
    }
}
