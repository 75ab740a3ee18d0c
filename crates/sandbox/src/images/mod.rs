//! agentscale's images: preparing the image a sandbox needs on every host of the pool (check,
//! build from a context tagged by content hash, or pull where a registry is reachable),
//! importing a root filesystem, listing the images labelled `agentscale.image`, and pruning
//! them least-recently-used first down to a disk budget. The offline base image is built by
//! the embedded script of [`base`].

pub mod base;
pub mod build;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agentscale_core::sandbox::{ImageSource, SandboxError};
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder,
};
use futures_util::StreamExt as _;
use serde::Serialize;

use crate::DockerProvider;
use crate::connect::{classify, is_connection_error, message, status};
use crate::labels;

pub use build::{context_hash, split_ref};

/// Run `f` on every host that is up; hosts whose engine fails are marked down. Fails only when
/// no host succeeded.
async fn on_every_host<F, Fut>(p: &DockerProvider, f: F) -> Result<String, SandboxError>
where
    F: Fn(usize, Docker, String) -> Fut,
    Fut: std::future::Future<Output = Result<String, SandboxError>>,
{
    let mut first_ok = None;
    let mut last_err = None;
    for (i, h) in p.inner.hosts.iter().enumerate() {
        if p.inner.sched.is_down(i) {
            continue;
        }
        let d = match h.docker(&p.inner).await {
            Ok(d) => d.clone(),
            Err(e) => {
                p.inner.sched.mark_down(i, &e.to_string());
                last_err = Some(e);
                continue;
            }
        };
        match f(i, d, h.display.clone()).await {
            Ok(r) => {
                first_ok.get_or_insert(r);
            }
            Err(e @ SandboxError::EngineUnavailable { .. }) => {
                p.inner.sched.mark_down(i, &e.to_string());
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    first_ok.ok_or_else(|| {
        last_err.unwrap_or_else(|| SandboxError::EngineUnavailable {
            endpoint: "pool".into(),
            message: "every Docker host is down".into(),
        })
    })
}

/// Make sure the image of `source` exists on every host that is up; returns its reference.
pub async fn prepare(p: &DockerProvider, source: &ImageSource) -> Result<String, SandboxError> {
    match source {
        ImageSource::Existing { image } => {
            let image = image.clone();
            on_every_host(p, |i, d, ep| {
                let image = image.clone();
                async move { ensure_existing(p, i, &d, &ep, &image).await.map(|()| image) }
            })
            .await
        }
        ImageSource::Build {
            context,
            dockerfile,
            build_args,
            name,
            timeout_sec,
        } => {
            let dockerfile = dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
            let hash = context_hash(context, &dockerfile, build_args)?;
            let tag = format!("{}:{}", name.to_lowercase(), &hash[..16]);
            let timeout = Duration::from_secs((*timeout_sec).max(1));
            let lock = tag_lock(p, &tag);
            let _held = lock.lock().await;
            on_every_host(p, |_, d, ep| {
                let tag = tag.clone();
                let dockerfile = dockerfile.clone();
                let hash = hash.clone();
                async move {
                    if exists(&d, &ep, &tag).await? {
                        touch(&d, &tag).await;
                        return Ok(tag);
                    }
                    tracing::info!(image = %tag, engine = %ep, "building image");
                    build::build(
                        &d,
                        &ep,
                        context,
                        &dockerfile,
                        build_args,
                        &tag,
                        &hash,
                        timeout,
                    )
                    .await?;
                    Ok(tag)
                }
            })
            .await
        }
    }
}

/// One lock per tag in this process, so that concurrent prepares of one image build it once.
fn tag_lock(p: &DockerProvider, tag: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut m = p
        .inner
        .preparing
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(m.entry(tag.to_string()).or_default())
}

/// Whether an image exists on an engine.
pub async fn exists(d: &Docker, endpoint: &str, image: &str) -> Result<bool, SandboxError> {
    match d.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if status(&e) == Some(404) => Ok(false),
        Err(e) => Err(classify("inspect image", endpoint, e)),
    }
}

/// The id of an image on the hosts that are up: `Some` when every one of them has it (the
/// first host's id), `None` when any lacks it.
pub async fn id_everywhere(
    p: &DockerProvider,
    image: &str,
) -> Result<Option<String>, SandboxError> {
    if !everywhere(p, image).await? {
        return Ok(None);
    }
    let id = on_every_host(p, |_, d, ep| async move {
        d.inspect_image(image)
            .await
            .map(|i| i.id.unwrap_or_default())
            .map_err(|e| classify("inspect image", &ep, e))
    })
    .await?;
    Ok(Some(id))
}

/// Whether every host that is up has the image.
pub async fn everywhere(p: &DockerProvider, image: &str) -> Result<bool, SandboxError> {
    let missing = std::sync::atomic::AtomicBool::new(false);
    let missing_ref = &missing;
    on_every_host(p, |_, d, ep| async move {
        if !exists(&d, &ep, image).await? {
            missing_ref.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(String::new())
    })
    .await?;
    Ok(!missing.load(std::sync::atomic::Ordering::SeqCst))
}

/// Re-tag an image to itself: the engine records the time as its `LastTagTime`, which prune
/// uses as "last used".
async fn touch(d: &Docker, image: &str) {
    let (repo, tag) = split_ref(image);
    let opts = TagImageOptionsBuilder::default()
        .repo(repo)
        .tag(tag)
        .build();
    if let Err(e) = d.tag_image(image, Some(opts)).await {
        tracing::debug!(image, "could not record the use of the image: {e}");
    }
}

async fn ensure_existing(
    p: &DockerProvider,
    host: usize,
    d: &Docker,
    endpoint: &str,
    image: &str,
) -> Result<(), SandboxError> {
    if exists(d, endpoint, image).await? {
        return Ok(());
    }
    pull(p, host, d, endpoint, image).await
}

/// Registry credentials from the environment variables the config names (never from a file).
fn credentials(p: &DockerProvider) -> Option<DockerCredentials> {
    let names = p.inner.config.registry_auth_env.as_ref()?;
    Some(DockerCredentials {
        username: std::env::var(&names.username).ok(),
        password: std::env::var(&names.password).ok(),
        ..DockerCredentials::default()
    })
}

/// Pull an image (at most `pull_concurrency` at once per host). Where no registry is
/// reachable the engine fails at once, and the error says how to build offline.
async fn pull(
    p: &DockerProvider,
    host: usize,
    d: &Docker,
    endpoint: &str,
    image: &str,
) -> Result<(), SandboxError> {
    let _permit = p.inner.hosts[host].pulls.acquire().await.ok();
    let (repo, tag) = split_ref(image);
    let opts = CreateImageOptionsBuilder::default()
        .from_image(repo)
        .tag(tag)
        .build();
    let timeout = Duration::from_secs(p.inner.config.pull_timeout_sec.max(1));
    let run = async {
        let mut stream = d.create_image(Some(opts), None, credentials(p));
        while let Some(item) = stream.next().await {
            item?;
        }
        Ok(())
    };
    let offline_hint = format!(
        "it is not on engine {endpoint} and no registry answered; on an offline machine build it instead: `agentscale images build-base` for {}, or give the task a Dockerfile (built and cached by content hash)",
        agentscale_core::BASE_IMAGE
    );
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if is_connection_error(&e) => Err(classify("pull", endpoint, e)),
        Ok(Err(e)) => Err(SandboxError::ImageUnavailable {
            image: image.to_string(),
            message: format!("{offline_hint} (the engine said: {})", message(&e)),
        }),
        Err(_) => Err(SandboxError::ImageUnavailable {
            image: image.to_string(),
            message: format!(
                "the pull took longer than {} s; {offline_hint}",
                timeout.as_secs()
            ),
        }),
    }
}

/// Import a root-filesystem tarball as `image` on every host that is up.
pub async fn import_rootfs(
    p: &DockerProvider,
    tarball: &Path,
    image: &str,
    changes: &[String],
) -> Result<String, SandboxError> {
    if !tarball.is_file() {
        return Err(SandboxError::InvalidRequest(format!(
            "import: {} is not a file",
            tarball.display()
        )));
    }
    on_every_host(p, |_, d, ep| async move {
        build::import(&d, &ep, tarball, image, changes).await?;
        Ok(image.to_string())
    })
    .await
}

/// Remove an image from every host where it exists (missing is fine).
pub async fn remove_everywhere(p: &DockerProvider, image: &str) -> Result<(), SandboxError> {
    on_every_host(p, |_, d, ep| async move {
        let opts = RemoveImageOptionsBuilder::default().force(true).build();
        match d.remove_image(image, Some(opts), None).await {
            Ok(_) => Ok(String::new()),
            Err(e) if status(&e) == Some(404) => Ok(String::new()),
            Err(e) => Err(classify("remove image", &ep, e)),
        }
    })
    .await
    .map(|_| ())
}

/// One agentscale image on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    /// The host (engine) name.
    pub host: String,
    /// The image id.
    pub id: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// What kind (`base`, `build`, `import`, `snapshot`), from the `agentscale.image` label.
    pub kind: String,
    /// Total size in bytes (layers shared with other images included).
    pub size: u64,
    /// Bytes shared with other images.
    pub shared: u64,
    /// Created, Unix seconds.
    pub created: u64,
    /// Last use (last tag time or creation), Unix seconds.
    pub last_used: u64,
    /// Containers using it.
    pub containers: u64,
}

impl ImageInfo {
    /// Bytes that removing it frees.
    pub fn unique(&self) -> u64 {
        self.size.saturating_sub(self.shared)
    }
}

/// Every image labelled `agentscale.image` on every reachable host.
pub async fn list(p: &DockerProvider) -> Result<Vec<ImageInfo>, SandboxError> {
    let mut all = Vec::new();
    let mut last_err = None;
    let mut reached = 0;
    for (i, h) in p.inner.hosts.iter().enumerate() {
        let d = match h.docker(&p.inner).await {
            Ok(d) => d.clone(),
            Err(e) => {
                p.inner.sched.mark_down(i, &e.to_string());
                last_err = Some(e);
                continue;
            }
        };
        reached += 1;
        all.extend(list_on(&d, &h.name, &h.display).await?);
    }
    if reached == 0
        && let Some(e) = last_err
    {
        return Err(e);
    }
    Ok(all)
}

async fn list_on(d: &Docker, host: &str, endpoint: &str) -> Result<Vec<ImageInfo>, SandboxError> {
    // Every local image with its layers: an image shares with another exactly the layers of
    // the largest image whose layer list is a prefix of its own (its base).
    let opts = ListImagesOptionsBuilder::default().build();
    let images = d
        .list_images(Some(opts))
        .await
        .map_err(|e| classify("list images", endpoint, e))?;
    let mut detailed = Vec::new();
    for im in images {
        let Ok(i) = d.inspect_image(&im.id).await else {
            continue;
        };
        let layers = i
            .root_fs
            .as_ref()
            .and_then(|r| r.layers.clone())
            .unwrap_or_default();
        let last_tag = i
            .metadata
            .as_ref()
            .and_then(|m| m.last_tag_time.as_deref())
            .and_then(parse_rfc3339);
        detailed.push((im, layers, last_tag));
    }
    // the list call reports no container counts on older engines: count them ourselves
    let mut users: HashMap<String, u64> = HashMap::new();
    let copts = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .build();
    for c in d
        .list_containers(Some(copts))
        .await
        .map_err(|e| classify("list containers", endpoint, e))?
    {
        if let Some(id) = c.image_id {
            *users.entry(id).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (im, layers, last_tag) in &detailed {
        let Some(kind) = im.labels.get(labels::IMAGE) else {
            continue;
        };
        let shared = detailed
            .iter()
            .filter(|(o, ol, _)| {
                o.id != im.id && !ol.is_empty() && ol.len() < layers.len() && layers.starts_with(ol)
            })
            .map(|(o, _, _)| u64::try_from(o.size).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let created = u64::try_from(im.created).unwrap_or(0);
        out.push(ImageInfo {
            host: host.to_string(),
            id: im.id.clone(),
            tags: im.repo_tags.clone(),
            kind: kind.clone(),
            size: u64::try_from(im.size).unwrap_or(0),
            shared,
            created,
            last_used: last_tag.unwrap_or(0).max(created),
            containers: users.get(&im.id).copied().unwrap_or(0),
        });
    }
    Ok(out)
}

/// Unix seconds of an RFC 3339 UTC time (`2026-11-24T23:30:58.123456789Z`); `None` for the
/// engine's "never" (`0001-01-01T00:00:00Z`) or anything unparsable.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let date = s.get(0..10)?;
    let clock = s.get(11..19)?;
    let mut dparts = date.split('-').map(|x| x.parse::<i64>().ok());
    let (year, month, day) = (dparts.next()??, dparts.next()??, dparts.next()??);
    let mut cparts = clock.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (cparts.next()??, cparts.next()??, cparts.next()??);
    if year < 1970 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // days from civil (H. Hinnant)
    let y2 = if month <= 2 { year - 1 } else { year };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// Which images to remove so that the images of one host fit in `budget` bytes: least
/// recently used first, never one a container uses, never one in `keep`. Usage is counted as
/// the sum of the bytes unique to each image plus the largest shared part once (exact when
/// images share one base, as ours do).
pub fn plan_prune(images: &[ImageInfo], budget: u64, keep: &[String]) -> Vec<ImageInfo> {
    let usage = |set: &[&ImageInfo]| -> u64 {
        set.iter().map(|i| i.unique()).sum::<u64>()
            + set.iter().map(|i| i.shared).max().unwrap_or(0)
    };
    let mut remaining: Vec<&ImageInfo> = images.iter().collect();
    let mut candidates: Vec<&ImageInfo> = images
        .iter()
        .filter(|i| i.containers == 0 && !i.tags.iter().any(|t| keep.contains(t)))
        .collect();
    candidates.sort_by_key(|i| (i.last_used, i.created));
    let mut out = Vec::new();
    for c in candidates {
        if usage(&remaining) <= budget {
            break;
        }
        remaining.retain(|i| i.id != c.id);
        out.push(c.clone());
    }
    out
}

/// What a prune did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    /// Images removed (or that would be, in a dry run).
    pub removed: Vec<ImageInfo>,
    /// Bytes freed (unique bytes of the removed images).
    pub freed: u64,
    /// Images that could not be removed, with the reason.
    pub failed: Vec<(String, String)>,
}

/// Prune every host's agentscale images down to `budget` bytes (see [`plan_prune`]).
/// `keep` lists references never removed (the base image, by default); with `prefix`, only
/// images with a tag starting with it are considered (and counted).
pub async fn prune(
    p: &DockerProvider,
    budget: u64,
    keep: &[String],
    prefix: Option<&str>,
    dry_run: bool,
) -> Result<PruneReport, SandboxError> {
    let mut all = list(p).await?;
    if let Some(pre) = prefix {
        all.retain(|i| i.tags.iter().any(|t| t.starts_with(pre)));
    }
    let mut report = PruneReport::default();
    for (i, h) in p.inner.hosts.iter().enumerate() {
        let mine: Vec<ImageInfo> = all.iter().filter(|x| x.host == h.name).cloned().collect();
        let plan = plan_prune(&mine, budget, keep);
        if plan.is_empty() || dry_run {
            report.freed += plan.iter().map(ImageInfo::unique).sum::<u64>();
            report.removed.extend(plan);
            continue;
        }
        let d = h.docker(&p.inner).await?;
        for im in plan {
            let opts = RemoveImageOptionsBuilder::default().force(true).build();
            match d.remove_image(&im.id, Some(opts), None).await {
                Ok(_) => {
                    report.freed += im.unique();
                    report.removed.push(im);
                }
                Err(e) => {
                    if is_connection_error(&e) {
                        p.inner.sched.mark_down(i, &e.to_string());
                    }
                    report.failed.push((im.id.clone(), message(&e)));
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(id: &str, unique: u64, shared: u64, last: u64, containers: u64) -> ImageInfo {
        ImageInfo {
            host: "local".into(),
            id: id.into(),
            tags: vec![format!("agentscale/{id}:t")],
            kind: "build".into(),
            size: unique + shared,
            shared,
            created: 1,
            last_used: last,
            containers,
        }
    }

    #[test]
    fn rfc3339_parses_engine_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-24T23:30:58.123456789Z"),
            Some(1_795_563_058)
        );
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn prune_removes_least_recently_used_first() {
        let images = vec![
            img("old", 100, 50, 10, 0),
            img("used", 100, 50, 5, 1),
            img("new", 100, 50, 30, 0),
            img("mid", 100, 50, 20, 0),
        ];
        // usage: 400 unique + 50 shared = 450
        let plan = plan_prune(&images, 260, &[]);
        let ids: Vec<&str> = plan.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, vec!["old", "mid"], "in-use images are never removed");
        assert!(plan_prune(&images, 450, &[]).is_empty());
        let keep = vec!["agentscale/old:t".to_string()];
        let ids: Vec<String> = plan_prune(&images, 260, &keep)
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, vec!["mid", "new"]);
        // a budget that cannot be met removes every removable image and stops
        assert_eq!(plan_prune(&images, 0, &[]).len(), 3);
    }
}
