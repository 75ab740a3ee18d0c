//! tmux in the task image, installed when missing the way Harbor's Terminus does it: with the
//! image's own package manager (apt-get, apk, dnf, yum, zypper, pacman). Unlike Harbor, the
//! result is cached as a derived image ([`SandboxProvider::derive_image`]), so the rollouts of
//! a task (and later runs) install it once. The main function is [`image_with_tmux`].

use std::time::Duration;

use agentscale_core::sandbox::{
    DeriveRequest, ExecRequest, SandboxError, SandboxProvider, SandboxSpec,
};

/// The repository of derived images with tmux.
pub const TMUX_IMAGE_REPO: &str = "agentscale/with-tmux";

/// The `agentscale.image` label of those images.
pub const TMUX_IMAGE_KIND: &str = "with-tmux";

/// Time limit of the installation.
pub const INSTALL_TIMEOUT: Duration = Duration::from_mins(6);

/// Installs tmux with the image's package manager. On Debian-family images a tmux package
/// already in apt's cache (`/var/cache/apt/archives`) is used first, then the package
/// lists the image has, and only then `apt-get update` (the network).
pub const INSTALL_SCRIPT: &str = r#"set -u
if command -v tmux >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1; then
  pm=apt-get
  for deb in /var/cache/apt/archives/tmux_*.deb; do
    [ -f "$deb" ] && apt-get install -y --no-install-recommends "$deb" && break
  done
  command -v tmux >/dev/null 2>&1 || apt-get install -y --no-install-recommends tmux \
    || { apt-get update && apt-get install -y --no-install-recommends tmux; }
elif command -v apk >/dev/null 2>&1; then
  pm=apk; apk add --no-cache tmux
elif command -v dnf >/dev/null 2>&1; then
  pm=dnf; dnf install -y tmux
elif command -v yum >/dev/null 2>&1; then
  pm=yum; yum install -y tmux
elif command -v zypper >/dev/null 2>&1; then
  pm=zypper; zypper --non-interactive install tmux
elif command -v pacman >/dev/null 2>&1; then
  pm=pacman; pacman -Sy --noconfirm tmux
else
  echo "agentscale: the image has no known package manager (apt-get, apk, dnf, yum, zypper, pacman)" >&2
  exit 3
fi
if ! command -v tmux >/dev/null 2>&1; then
  echo "agentscale: tmux is not on PATH after installing it with $pm" >&2
  exit 4
fi
"#;

/// `image` if it has tmux on its PATH, else the image derived from it with tmux installed
/// (made once, then reused). `network`: whether the installation may reach the network.
/// A failure is an infrastructure error that says what to do.
pub async fn image_with_tmux(
    provider: &dyn SandboxProvider,
    image: &str,
    network: bool,
) -> Result<String, SandboxError> {
    let spec = SandboxSpec {
        image: image.to_string(),
        name_hint: Some("tmux-check".into()),
        labels: [("agentscale.role".to_string(), "tmux-check".to_string())].into(),
        ..SandboxSpec::default()
    };
    let sb = provider.start(&spec).await?;
    let found = sb
        .exec(&ExecRequest::shell(
            "command -v tmux",
            Duration::from_secs(30),
        ))
        .await;
    if let Err(e) = sb.close().await {
        tracing::warn!("removing the container that looked for tmux in {image}: {e}");
    }
    if found?.success() {
        return Ok(image.to_string());
    }
    let req = DeriveRequest {
        base: image.to_string(),
        repo: TMUX_IMAGE_REPO.into(),
        kind: TMUX_IMAGE_KIND.into(),
        script: INSTALL_SCRIPT.into(),
        network,
        timeout: INSTALL_TIMEOUT,
    };
    provider.derive_image(&req).await.map_err(|e| {
        let message = format!(
            "{image} has no tmux and installing it with the image's package manager failed \
             (network {}): {e}. Install tmux in the task's Dockerfile, give the task network \
             (terminal_bench.network), or use the bash agent",
            if network { "on" } else { "off" }
        );
        match e {
            SandboxError::BuildFailed { image, .. } => SandboxError::BuildFailed { image, message },
            SandboxError::Unsupported(_) => SandboxError::Unsupported(message),
            other => SandboxError::backend("installing tmux", format!("{message} ({other})")),
        }
    })
}
