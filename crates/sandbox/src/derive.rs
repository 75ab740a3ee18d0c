//! Images derived from another by a script (e.g. the task image with tmux installed): made
//! once per engine and reused, tagged `<repo>:<hash>` where the hash covers the base image's
//! id and the script, and labelled (`agentscale.image = <kind>`) so that `agentscale images
//! list` shows them and `images prune` can remove them.

use agentscale_core::sandbox::{DeriveRequest, ExecRequest, Sandbox, SandboxError, SandboxSpec};

use crate::DockerProvider;
use crate::connect::classify;

/// Lines of the script's output kept in an error.
const TAIL_LINES: usize = 25;

/// The tag of the image derived from the base image `base_id` by `script`.
pub fn derived_tag(repo: &str, base_id: &str, script: &str) -> (String, String) {
    let hash = agentscale_core::hash::sha256_hex(format!("{base_id}\n{script}").as_bytes());
    let hash = agentscale_core::hash::short(&hash, 16).to_string();
    (format!("{repo}:{hash}"), hash)
}

/// Derive (or find) the image of `req` on every host of the pool; returns its reference.
pub async fn derive(p: &DockerProvider, req: &DeriveRequest) -> Result<String, SandboxError> {
    let mut tag = None;
    for host in p.host_names() {
        let d = p.client(&host).await?;
        let base =
            d.inspect_image(&req.base)
                .await
                .map_err(|e| SandboxError::ImageUnavailable {
                    image: req.base.clone(),
                    message: format!("on engine {host}: {}", classify("inspect image", &host, e)),
                })?;
        let id = base.id.unwrap_or_else(|| req.base.clone());
        let (t, hash) = derived_tag(&req.repo, &id, &req.script);
        if !crate::images::exists(&d, &host, &t).await? {
            make(p, req, &host, &t, &hash).await?;
        }
        tag = Some(t);
    }
    tag.ok_or_else(|| SandboxError::backend("derive image", "the pool has no host"))
}

async fn make(
    p: &DockerProvider,
    req: &DeriveRequest,
    host: &str,
    tag: &str,
    hash: &str,
) -> Result<(), SandboxError> {
    tracing::info!(image = %tag, base = %req.base, engine = %host, "deriving image");
    let mut spec = SandboxSpec {
        image: req.base.clone(),
        network: req.network,
        host: Some(host.to_string()),
        name_hint: Some(format!("derive-{}", req.kind)),
        ..SandboxSpec::default()
    };
    spec.labels
        .insert("agentscale.role".into(), "derive".into());
    let sb = p.start_docker(&spec).await?;
    let out = sb
        .exec(&ExecRequest::shell(req.script.clone(), req.timeout))
        .await;
    let result = match out {
        Ok(o) if o.success() => {
            let (repo, t) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
            sb.commit(
                repo,
                t,
                crate::labels::derived_labels(sb.id(), &req.base, &req.kind, hash),
            )
            .await
            .map(|_| ())
        }
        Ok(o) => {
            let text = o.combined();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
            Err(SandboxError::BuildFailed {
                image: tag.to_string(),
                message: format!(
                    "the script deriving it from {} {} (network {}); last lines:\n{tail}",
                    req.base,
                    if o.timed_out {
                        format!("timed out after {} s", req.timeout.as_secs())
                    } else {
                        format!("exited with {}", o.code_or_minus_one())
                    },
                    if req.network { "on" } else { "off" },
                ),
            })
        }
        Err(e) => Err(e),
    };
    if let Err(e) = sb.close().await {
        tracing::warn!("removing the container that derived {tag}: {e}");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_base_image_and_the_script() {
        let (a, h) = derived_tag("agentscale/with-tmux", "sha256:1", "apt-get install tmux");
        assert!(a.starts_with("agentscale/with-tmux:") && a.ends_with(&h));
        assert_eq!(h.len(), 16);
        assert_eq!(
            a,
            derived_tag("agentscale/with-tmux", "sha256:1", "apt-get install tmux").0
        );
        assert_ne!(
            a,
            derived_tag("agentscale/with-tmux", "sha256:2", "apt-get install tmux").0
        );
        assert_ne!(
            a,
            derived_tag("agentscale/with-tmux", "sha256:1", "apk add tmux").0
        );
    }
}
